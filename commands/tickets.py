"""``hotline tickets``: create tickets from JSON and take them through the workflow.

Personal data (citizen ID, phone, e-mail) is masked in every listing, and a confidential caller's
identity is hidden, unless ``--show-personal`` is given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from commands.db import actor_option, ticket_service, user_errors
from commands.errors import UserError
from commands.json_input import load_json
from reference import CITIES
from ticketing.domain import tracking
from ticketing.domain.model import AttachmentKind, Rating, Status, Ticket
from ticketing.ports import TicketQuery
from ticketing.privacy import caller_view, masked_ticket, ticket_view

_STATUS_NAMES = {s.name.lower(): s for s in Status}
_RATING_NAMES = {
    "satisfied": Rating.SATISFIED,
    "acceptable": Rating.ACCEPTABLE,
    "unsatisfied": Rating.UNSATISFIED,
}

show_personal_option = click.option(
    "--show-personal", is_flag=True, help="Print citizen ID, phone and confidential identities unmasked."
)


def ticket_json(t: Ticket, show_personal: bool) -> dict[str, Any]:
    return ticket_view(t, show_personal)


def _iso(dt: datetime | None) -> str:
    return dt.isoformat(timespec="minutes") if dt else "-"


def _parse_status(text: str) -> Status:
    key = text.strip()
    for s in Status:
        if key.casefold() == s.value.casefold():
            return s
    if key.lower() in _STATUS_NAMES:
        return _STATUS_NAMES[key.lower()]
    choices = ", ".join(f"{s.name.lower()} ({s.value})" for s in Status)
    raise UserError(f"Trạng thái không hợp lệ: {text!r} / unknown status {text!r}; one of: {choices}")


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"Ngày không hợp lệ ở {field}: {text!r} / "
            f"malformed date in {field}: {text!r}; expected YYYY-MM-DD"
        ) from None


def _code(code: str) -> str:
    norm = tracking.normalize(code)
    if not tracking.is_valid(norm):
        raise UserError(f"Mã số theo dõi không hợp lệ: {code!r} / invalid tracking code {code!r}")
    return norm


@click.group("tickets")
def tickets_group() -> None:
    """Tickets (phiếu phản ánh): create, list, show, and every workflow step."""


@tickets_group.command(
    "create",
    epilog="""\b
Example:
  hotline tickets create report.json
  echo '{"category":"VSMT","place":{"ward_code":"00070"},"content":"Rác tồn đọng"}' | hotline tickets create -

\b
JSON fields: channel (phone|web|email|app|sms|in_person), kind (field_report, procedure_report, ...),
category (e.g. VSMT), priority (urgent|normal|complex), caller {name, cccd, phone, address, email,
confidential}, place {address, ward_code}, content, incident_time (ISO 8601), transcript, city,
lead_agency (default: routing), complete (false keeps a draft for a call-back).""",
)
@click.argument("file", type=click.File("r", encoding="utf-8"))
@actor_option
def create_cmd(file: Any, actor: str) -> None:
    """Create a ticket from a JSON file (or - for stdin); prints the tracking code as the last line."""
    data = load_json(file)
    with user_errors():
        created = ticket_service().create(data, actor)
    t = created.ticket
    click.echo(f"trạng thái / status: {t.status.value}")
    click.echo(f"đơn vị chủ trì / lead agency: {t.lead_agency or '-'} ({created.routing_reason})")
    click.echo(f"hạn chuyển xử lý / dispatch due: {_iso(t.dispatch_due)}")
    for d in created.duplicates:
        click.echo(
            f"có thể trùng / possible duplicate: {d.code} ({d.status.value}, score {d.score})", err=True
        )
    click.echo(t.code)


@tickets_group.command(
    "complete-draft",
    epilog="""\b
Example:
  echo '{"content":"Rác tồn đọng","place":{"ward_code":"00070"}}' \\
    | hotline tickets complete-draft 000000013 -""",
)
@click.argument("code")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@actor_option
def complete_draft_cmd(code: str, file: Any, actor: str) -> None:
    """Complete a draft (an incomplete call report) with the missing fields from JSON; it becomes
    'Mới tạo'. Fields as for 'tickets create' (without city, complete, lead_agency)."""
    data = load_json(file)
    if not isinstance(data, dict):
        raise UserError("Dữ liệu phải là một đối tượng JSON / the data must be a JSON object")
    with user_errors():
        _done(ticket_service().complete_draft(_code(code), data, actor))


@tickets_group.command(
    "list",
    epilog="""\b
Examples:
  hotline tickets list --status "Mới tạo"
  hotline tickets list --agency UBND-00070 --overdue
  hotline tickets list --category VSMT --from 2026-03-01 --to 2026-03-31 --json""",
)
@click.option("--status", "statuses", multiple=True, help="Status label or name (new, in_progress, ...).")
@click.option("--agency", default="", help="Lead agency code.")
@click.option("--category", default="", help="Category code.")
@click.option("--ward", default="", help="Ward/commune code.")
@click.option("--city", type=click.Choice(CITIES), default=None, help="Only this city.")
@click.option("--from", "date_from", default=None, help="Created on or after this day (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Created on or before this day (YYYY-MM-DD).")
@click.option("--overdue", is_flag=True, help="Only overdue tickets (flagged or past a deadline now).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@show_personal_option
def list_cmd(
    statuses: tuple[str, ...],
    agency: str,
    category: str,
    ward: str,
    city: str | None,
    date_from: str | None,
    date_to: str | None,
    overdue: bool,
    limit: int,
    as_json: bool,
    show_personal: bool,
) -> None:
    """List tickets, newest first, with personal data masked."""
    parsed = [_parse_status(s) for s in statuses]
    d_from = _parse_day(date_from, "--from") if date_from else None
    d_to = _parse_day(date_to, "--to") if date_to else None
    with user_errors():
        svc = ticket_service()
        tz = svc.calendar_for(city or svc.city).tz
        query = TicketQuery(
            statuses=parsed,
            lead_agency=agency.strip(),
            category=category.strip(),
            ward_code=ward.strip(),
            city=city or "",
            created_from=datetime.combine(d_from, time(), tz) if d_from else None,
            created_to=datetime.combine(d_to + timedelta(days=1), time(), tz) if d_to else None,
            overdue_at=svc.now() if overdue else None,
            limit=limit,
        )
        rows = svc.find(query)
    if as_json:
        click.echo(json.dumps([ticket_json(t, show_personal) for t in rows], ensure_ascii=False, indent=2))
        return
    for t in rows:
        c = caller_view(t, show_personal)
        flag = " QUÁ HẠN" if t.overdue else ""
        click.echo(
            f"{t.code}  {t.status.value:<17} {t.category:<6} {t.place.ward_code or '-':<6} "
            f"{t.lead_agency or '-':<12} {_iso(t.created_at)}  hạn/due {_iso(t.due_at or t.dispatch_due)}"
            f"{flag}  {c['name'] or '-'} {c['phone']}"
        )
    click.echo(f"{len(rows)} tickets")


@tickets_group.command(
    "show", epilog="\b\nExamples:\n  hotline tickets show 000000013\n  hotline tickets show 000000013 --json"
)
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@show_personal_option
def show_cmd(code: str, as_json: bool, show_personal: bool) -> None:
    """Show a ticket with its history, coordinators and attachments."""
    with user_errors():
        t = ticket_service().get(_code(code))
    if as_json:
        click.echo(json.dumps(ticket_json(t, show_personal), ensure_ascii=False, indent=2))
        return
    c = caller_view(t, show_personal)
    t = t if show_personal else masked_ticket(t)
    overdue = f" (QUÁ HẠN / overdue: {t.overdue_reason})" if t.overdue else ""
    lines = [
        f"Mã số theo dõi / code: {tracking.grouped(t.code)}",
        f"Trạng thái / status:   {t.status.value}{overdue}",
        f"Loại / kind:           {t.kind.value}   lĩnh vực / category: {t.category}"
        f"   mức độ / priority: {t.priority.value}",
        f"Kênh / channel:        {t.channel.value}   thành phố / city: {t.city}",
        f"Người phản ánh:        {c['name'] or '-'}  CCCD {c['cccd'] or '-'}  ĐT {c['phone'] or '-'}"
        f"  {c['email']}",
        f"Địa điểm / place:      {t.place.address} — {t.place.ward_name or '-'} ({t.place.ward_code or '-'})",
        f"Thời điểm / incident:  {_iso(t.incident_time)}",
        f"Nội dung / content:    {t.content}",
        f"Chủ trì / lead:        {t.lead_agency or '-'}",
        f"Hạn chuyển / dispatch due: {_iso(t.dispatch_due)}   hạn xử lý / due: {_iso(t.due_at)}"
        f"   gia hạn / extensions: {t.extensions}",
    ]
    if t.result:
        lines.append(f"Kết quả / result:      {t.result}")
    if t.draft_result and t.status is Status.AWAITING_APPROVAL:
        lines.append(f"Dự thảo / draft:       {t.draft_result}")
    if t.rejection_reason:
        lines.append(f"Lý do từ chối / reason: {t.rejection_reason}")
    if t.rating:
        lines.append(f"Đánh giá / rating:     {t.rating.value}")
    if t.clarification_request:
        lines.append(f"Yêu cầu làm rõ:        {t.clarification_request} -> {t.clarification_answer or '...'}")
    for p in t.coordinators:
        lines.append(f"Phối hợp / coordinator: {p.agency}: {p.text or '(chưa gửi / not posted)'}")
    for a in t.attachments:
        lines.append(f"Tệp / attachment:      {a.kind.value} {a.filename} {a.size} B sha256:{a.sha256[:12]}")
    lines.append("Lịch sử / history:")
    for e in t.history:
        move = f"{e.from_status.value if e.from_status else ''} -> {e.to_status.value}" if e.to_status else ""
        lines.append(f"  {_iso(e.at)}  {e.actor:<12} {e.action:<22} {move}  {e.note}".rstrip())
    click.echo("\n".join(lines))


@tickets_group.command("audit", epilog="\b\nExample:\n  hotline tickets audit 000000013")
@click.argument("code")
def audit_cmd(code: str) -> None:
    """Show the audit log of a ticket: who changed it, when, and which fields (values not printed)."""
    with user_errors():
        entries = ticket_service().audit_trail(_code(code))
    for e in entries:
        before, after = e.before or {}, e.after or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        fields = ", ".join(changed) if e.before is not None else "(tạo mới / created)"
        click.echo(f"{_iso(e.at)}  {e.actor:<14} {e.action:<22} {fields}")
    click.echo(f"{len(entries)} entries")


def _done(t: Ticket) -> None:
    due = f"  hạn / due {_iso(t.due_at)}" if t.due_at else ""
    click.echo(f"{t.code}: {t.status.value}{due}")


def _step(name: str, example: str, help_text: str) -> Callable[[Callable[..., None]], click.Command]:
    """Register a workflow command with its one-line help and an example epilog."""
    return tickets_group.command(name, help=help_text, epilog=f"\b\nExample:\n  {example}")


@_step(
    "dispatch",
    "hotline tickets dispatch 000000013 --agency UBND-00070",
    "Send a new ticket to its lead agency (default: the routed one).",
)
@click.argument("code")
@click.option("--agency", default="", help="Lead agency code (default: the one chosen by routing).")
@click.option("--note", default="", help="Note for the history.")
@actor_option
def dispatch_cmd(code: str, agency: str, note: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().dispatch(_code(code), actor, agency, note))


@_step(
    "accept",
    "hotline tickets accept 000000013 --actor can-bo-hk",
    "The lead agency accepts: status becomes 'Đang xử lý'.",
)
@click.argument("code")
@click.option("--note", default="", help="Note for the history.")
@actor_option
def accept_cmd(code: str, note: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().accept(_code(code), actor, note))


@_step(
    "add-coordinator",
    "hotline tickets add-coordinator 000000013 --agency SO-XD",
    "Add a coordinating agency ('Thêm đơn vị liên quan').",
)
@click.argument("code")
@click.option("--agency", required=True, help="Coordinating agency code.")
@click.option("--note", default="", help="Note for the history.")
@actor_option
def add_coordinator_cmd(code: str, agency: str, note: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().add_coordinator(_code(code), agency, actor, note))


@_step(
    "post-part",
    "hotline tickets post-part 000000013 --agency SO-XD --text 'Đã kiểm tra'",
    "A coordinating agency posts its part.",
)
@click.argument("code")
@click.option("--agency", required=True, help="The coordinating agency posting.")
@click.option("--text", required=True, help="Its part of the answer.")
@actor_option
def post_part_cmd(code: str, agency: str, text: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().post_part(_code(code), agency, text, actor))


@_step(
    "transfer",
    "hotline tickets transfer 000000013 --to SO-XD --reason 'Thuộc thẩm quyền Sở'",
    "Transfer to another agency ('Thay đổi đơn vị tiếp nhận'), with a reason.",
)
@click.argument("code")
@click.option("--to", "to", required=True, help="New lead agency code.")
@click.option("--reason", default="", help="Why (required by the rules).")
@actor_option
def transfer_cmd(code: str, to: str, reason: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().transfer(_code(code), to, reason, actor))


def _files(paths: tuple[str, ...]) -> list[Path]:
    return [Path(p) for p in paths]


@_step(
    "draft-result",
    "hotline tickets draft-result 000000013 --text 'Đã thu gom' --evidence anh.jpg",
    "Submit a draft result for the head's approval (iHanoi).",
)
@click.argument("code")
@click.option("--text", required=True, help="The consolidated result.")
@click.option("--evidence", multiple=True, help="Evidence file (repeatable).")
@actor_option
def draft_result_cmd(code: str, text: str, evidence: tuple[str, ...], actor: str) -> None:
    with user_errors():
        _done(ticket_service().draft_result(_code(code), text, actor, _files(evidence)))


@_step(
    "approve",
    "hotline tickets approve 000000013 --actor truong-phong",
    "The head approves the draft result: the ticket is done.",
)
@click.argument("code")
@click.option("--note", default="", help="Note for the history.")
@actor_option
def approve_cmd(code: str, note: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().approve(_code(code), actor, note))


@_step(
    "send-back",
    "hotline tickets send-back 000000013 --reason 'Thiếu ảnh'",
    "The head sends the draft back for rework, with a reason.",
)
@click.argument("code")
@click.option("--reason", default="", help="Why (required by the rules).")
@actor_option
def send_back_cmd(code: str, reason: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().send_back(_code(code), reason, actor))


@_step(
    "complete",
    "hotline tickets complete 000000013 --result 'Đã thu gom' --evidence bien_ban.jpg",
    "Complete: a result text and at least one evidence file are required.",
)
@click.argument("code")
@click.option("--result", default="", help="The result of the handling.")
@click.option("--evidence", multiple=True, help="Evidence file (repeatable; at least one).")
@actor_option
def complete_cmd(code: str, result: str, evidence: tuple[str, ...], actor: str) -> None:
    with user_errors():
        _done(ticket_service().complete(_code(code), result, actor, _files(evidence)))


@_step(
    "attach",
    "hotline tickets attach 000000013 anh.jpg --kind photo",
    "Attach a file (stored by its sha256; never overwritten).",
)
@click.argument("code")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--kind", type=click.Choice([k.value for k in AttachmentKind]), default="document", show_default=True
)
@actor_option
def attach_cmd(code: str, file: str, kind: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().attach(_code(code), Path(file), kind, actor))


@_step(
    "reject",
    "hotline tickets reject 000000013 --reason 'Không thuộc phạm vi'",
    "Reject ('Từ chối') with a reason.",
)
@click.argument("code")
@click.option("--reason", default="", help="Why (required by the rules).")
@actor_option
def reject_cmd(code: str, reason: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().reject(_code(code), reason, actor))


@_step(
    "duplicate",
    "hotline tickets duplicate 000000021 --of 000000013",
    "Reject as a duplicate of an accepted ticket, linked to it.",
)
@click.argument("code")
@click.option("--of", "original", required=True, help="Tracking code of the original ticket.")
@actor_option
def duplicate_cmd(code: str, original: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().mark_duplicate(_code(code), _code(original), actor))


@_step(
    "extend",
    "hotline tickets extend 000000013 --days 10 --reason 'Cần phối hợp liên ngành'",
    "The one extension of the handling deadline, in working days.",
)
@click.argument("code")
@click.option("--days", type=int, required=True, help="Working days to add.")
@click.option("--reason", default="", help="Why (required by the rules).")
@actor_option
def extend_cmd(code: str, days: int, reason: str, actor: str) -> None:
    with user_errors():
        _done(ticket_service().extend(_code(code), days, reason, actor))


@_step(
    "rate",
    "hotline tickets rate 000000013 --rating 'Hài lòng'",
    "The citizen's rating: Hài lòng / Chấp nhận được / Chưa hài lòng.",
)
@click.argument("code")
@click.option(
    "--rating",
    required=True,
    help="Hài lòng | Chấp nhận được | Chưa hài lòng (or satisfied|acceptable|unsatisfied).",
)
@actor_option
def rate_cmd(code: str, rating: str, actor: str) -> None:
    value = _RATING_NAMES.get(rating.strip().lower(), rating.strip())
    with user_errors():
        _done(ticket_service().rate(_code(code), str(value), actor))


@_step(
    "clarify",
    "hotline tickets clarify 000000013 --text 'Đề nghị gửi ảnh'",
    "Request clarification of a result (within 2 days), or --answer it.",
)
@click.argument("code")
@click.option("--text", required=True, help="The request, or the answer with --answer.")
@click.option("--answer", is_flag=True, help="Answer the pending request instead of making one.")
@actor_option
def clarify_cmd(code: str, text: str, answer: bool, actor: str) -> None:
    with user_errors():
        svc = ticket_service()
        t = (
            svc.answer_clarification(_code(code), text, actor)
            if answer
            else svc.request_clarification(_code(code), text, actor)
        )
    _done(t)


@_step(
    "sweep",
    "hotline tickets sweep",
    "Flag overdue tickets and escalate along the city's ladder (run it periodically).",
)
@click.option("--city", type=click.Choice(CITIES), default=None, help="City (default: the configured city).")
def sweep_cmd(city: str | None) -> None:
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Kiểm tra hạn / checking deadlines", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        with user_errors():
            changed = ticket_service().sweep_deadlines(city or "", progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for code in changed:
        click.echo(code)
    click.echo(f"{len(changed)} tickets changed", err=True)

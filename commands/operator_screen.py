"""``hotline operator-screen``: what an operator sees when the AI hands a call over, and finishing
the draft ticket.

``watch`` follows AMI: the AI operator publishes each handed-over call's draft as the UserEvent
``HotlineDraft`` (and the dialplan's ``HotlineQueue`` names the draft id); when the queue delivers the
call (``AgentConnect``, or ``QueueCallerJoin`` while it waits) the draft is printed with the ticket's
current fields. ``finish CODE`` fills in what is missing and files the draft as a "Mới tạo" ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import click

from commands.db import ticket_service, user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from config.settings import SettingsError, require_secret
from pbx.ami import AmiError, AmiEvent, AmiMonitor

_SCREEN_EVENTS = ("AgentConnect", "QueueCallerJoin")


def _ticket_lines(code: str) -> list[str]:
    if not code or code.startswith("J-"):
        return [f"  (phiếu đang chờ cơ sở dữ liệu / journaled: {code})"] if code else []
    try:
        t = ticket_service().get(code)
    except Exception as exc:  # the screen keeps running whatever the database does
        return [f"  (không đọc được phiếu / cannot read ticket {code}: {exc})"]
    missing = [
        name
        for name, value in (
            ("họ tên", t.caller.name),
            ("điện thoại", t.caller.phone),
            ("phường/xã", t.place.ward_name),
            ("nội dung", t.content),
        )
        if not value
    ]
    return [
        f"  Phiếu / ticket: {t.code}  [{t.status}]  ưu tiên: {t.priority}  lĩnh vực: {t.category}",
        f"  Người gọi: {t.caller.name or '-'}  ĐT: {t.caller.phone or '-'}",
        f"  Địa điểm: {t.place.address or '-'}, {t.place.ward_name or '-'}",
        f"  Nội dung: {t.content}",
        f"  Còn thiếu / missing: {', '.join(missing) or '-'}",
    ]


def render_screen(event: AmiEvent, draft: dict[str, str]) -> str:
    """The text shown for one delivered (or waiting) call."""
    code = draft.get("Draft", "")
    where = event.fields.get("Interface") or event.fields.get("MemberName") or ""
    head = "CUỘC GỌI ĐƯỢC CHUYỂN / CALL DELIVERED" if event.name == "AgentConnect" else "ĐANG CHỜ / WAITING"
    lines = [
        f"=== {head} {where} ===",
        f"  Cuộc gọi / call: {event.fields.get('Uniqueid', '')}  từ / from: "
        f"{event.fields.get('CallerIDNum', '')}  hàng đợi / queue: {event.fields.get('Queue', '')}",
        f"  Lý do / reason: {draft.get('Reason', '-')}",
        f"  Bản nháp / draft: {code or '-'}",
    ]
    if draft.get("Summary"):
        lines.append(f"  Tóm tắt: {draft['Summary']}")
    lines += _ticket_lines(code)
    if code and not code.startswith("J-"):
        lines.append(f"  -> hotline operator-screen finish {code}")
    return "\n".join(lines)


async def _watch(count: int, timeout_s: float) -> int:
    s = settings()
    try:
        secret = require_secret(s.pbx.ami_password, "pbx.ami_password")
    except SettingsError as exc:
        raise UserError(f"AMI chưa cấu hình / AMI not configured: {exc}") from exc
    ami = AmiMonitor(s.pbx.local_host, s.pbx.ami_port, s.pbx.ami_user, secret)
    drafts: dict[str, dict[str, str]] = {}
    shown: set[tuple[str, str]] = set()
    delivered = 0
    done = asyncio.Event()

    async def on_event(event: AmiEvent) -> None:
        nonlocal delivered
        uid = event.fields.get("Uniqueid", "")
        kind = event.fields.get("UserEvent", "")
        if event.name == "UserEvent" and kind in ("HotlineDraft", "HotlineQueue"):
            known = drafts.setdefault(uid, {})
            known.update(
                {k: v for k, v in event.fields.items() if v and (kind == "HotlineDraft" or k not in known)}
            )
            return
        if event.name in _SCREEN_EVENTS and (uid, event.name) not in shown:
            shown.add((uid, event.name))
            click.echo(render_screen(event, drafts.get(uid, {})))
            if event.name == "AgentConnect":
                delivered += 1
                if count and delivered >= count:
                    done.set()

    ami.subscribe(on_event)
    try:
        await ami.connect()
    except AmiError as exc:
        raise UserError(f"Không kết nối được AMI / cannot connect to AMI: {exc}") from exc
    click.echo("Đang chờ cuộc gọi / waiting for calls (Ctrl+C to stop)", err=True)
    try:
        await asyncio.wait_for(done.wait(), timeout_s or None)
    except TimeoutError:
        pass
    finally:
        ami.close()
    return delivered


@click.group("operator-screen")
def operator_screen_group() -> None:
    """The operator's terminal: drafts of handed-over calls, and finishing them."""


@operator_screen_group.command(
    "watch",
    epilog="""\b
Examples:
  hotline operator-screen watch
  hotline operator-screen watch --count 1 --timeout 120""",
)
@click.option(
    "--count", default=0, show_default=True, help="Stop after this many delivered calls (0: never)."
)
@click.option("--timeout", "timeout_s", default=0.0, help="Stop after this many seconds (0: never).")
def watch_cmd(count: int, timeout_s: float) -> None:
    """Print the current draft whenever the queue delivers a call to an operator."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_watch(count, timeout_s))


def _finish_data(t: Any, given: dict[str, str], ask: bool) -> dict[str, Any]:
    def value(key: str, label: str, current: str) -> str:
        if given.get(key):
            return given[key]
        if current or not ask:
            return current
        return str(click.prompt(label, default="", show_default=False)).strip()

    data: dict[str, Any] = {
        "caller": {
            "name": value("name", "Họ tên / name", t.caller.name),
            "phone": value("phone", "Điện thoại / phone", t.caller.phone),
        },
        "place": {
            "address": value("address", "Địa chỉ / address", t.place.address),
            "ward_name": value("ward", "Phường/xã / ward", t.place.ward_name),
        },
        "content": value(
            "content", "Nội dung / content", t.content if "chưa ghi nhận" not in t.content else ""
        ),
    }
    if given.get("category"):
        data["category"] = given["category"]
    if given.get("time"):
        data["incident_time"] = given["time"]
    return data


@operator_screen_group.command(
    "finish",
    epilog="""\b
Examples:
  hotline operator-screen finish 000000172
  hotline operator-screen finish 000000172 --name "Trần Văn Bình" --ward "Phường Đống Đa" --no-input""",
)
@click.argument("code")
@click.option("--name", default="")
@click.option("--phone", default="")
@click.option("--address", default="")
@click.option("--ward", default="", help="Official ward/commune name, e.g. 'Phường Đống Đa'.")
@click.option("--content", default="")
@click.option("--category", default="", help="Category code, e.g. VSMT.")
@click.option("--time", "when", default="", help="Incident time, ISO (2026-11-22T21:00).")
@click.option("--no-input", is_flag=True, help="Do not prompt for missing fields.")
def finish_cmd(
    code: str,
    name: str,
    phone: str,
    address: str,
    ward: str,
    content: str,
    category: str,
    when: str,
    no_input: bool,
) -> None:
    """Complete the draft ticket CODE (asks for what is missing) and file it as "Mới tạo"."""
    given = {
        "name": name,
        "phone": phone,
        "address": address,
        "ward": ward,
        "content": content,
        "category": category,
        "time": when,
    }
    with user_errors():
        service = ticket_service()
        t = service.get(code)
        click.echo("\n".join(_ticket_lines(t.code)))
        data = _finish_data(t, given, ask=not no_input)
        done = service.complete_draft(t.code, data, "operator")
    click.echo(json.dumps({"code": done.code, "status": str(done.status)}, ensure_ascii=False))

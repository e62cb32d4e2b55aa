"""Use cases of the ticket system over the ports of :mod:`ticketing.ports`.

:class:`TicketService` creates tickets (tracking code, routing default, dispatch deadline, duplicate
candidates) and runs every workflow step; :class:`AdminService` keeps agencies and routing rules.
Each change runs in one transaction together with its ``audit_log`` row: the pure rules of
:mod:`ticketing.domain` decide, this module loads, stores and records. A refused step raises
:class:`~ticketing.domain.errors.DomainError` (or :class:`~ticketing.domain.sla.SlaError`) and
changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import reference
from ticketing.attachments import file_digest, guess_media_type
from ticketing.domain import duplicates, routing, sla, tracking, workflow
from ticketing.domain.calendar import WorkingCalendar
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import Attachment, AttachmentKind, Caller, Place, Status, Ticket
from ticketing.intake import NewReport, parse_changes, parse_report
from ticketing.ports import (
    AGENCY_KINDS,
    AgencyRecord,
    AttachmentStore,
    AuditEntry,
    Clock,
    RoutingRuleRecord,
    StoredBlob,
    TicketQuery,
    UnitOfWork,
)

UowFactory = Callable[[], UnitOfWork]
ChangeHook = Callable[[UnitOfWork, str, Ticket], None]
"""Called inside the transaction of every ticket change with (uow, action, ticket after the change),
e.g. to enqueue notifications atomically; raising aborts the change."""
CalendarFor = Callable[[str], WorkingCalendar]
PresetFor = Callable[[str], sla.SlaPreset]

_CALLER_FIELDS = {f.name for f in dataclasses.fields(Caller)}
_PLACE_FIELDS = {f.name for f in dataclasses.fields(Place)}
_TICKET_KEYS = {
    "channel",
    "kind",
    "category",
    "priority",
    "caller",
    "place",
    "content",
    "incident_time",
    "transcript",
    "city",
    "complete",
    "lead_agency",
}


class TicketNotFound(ValidationError):
    """No ticket with that tracking code."""


@dataclass(frozen=True)
class DuplicateCandidate:
    code: str
    score: float
    status: Status


@dataclass(frozen=True)
class NewAttachment:
    """A file to store with a ticket: in memory (``data``, e.g. a call recording) or on disk (``path``)."""

    filename: str
    kind: AttachmentKind
    data: bytes | None = None
    path: Path | None = None
    media_type: str = ""


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    duplicates: tuple[DuplicateCandidate, ...]
    routing_reason: str


def parse_datetime(value: object, field: str, tz: Any) -> datetime:
    """ISO 8601 text (or a datetime); a value without an offset is taken in the city's timezone."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                f"Ngày giờ không hợp lệ ở trường {field}: {value!r} / malformed date in {field}: {value!r} "
                "(expected ISO 8601, e.g. 2026-03-02T09:15+07:00)"
            ) from None
    else:
        raise ValidationError(f"Thiếu ngày giờ ở trường {field} / {field} must be an ISO 8601 date-time")
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


def _sub(data: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    raw = data.get(key) or {}
    if not isinstance(raw, Mapping):
        raise ValidationError(f"Trường {key} phải là một đối tượng / {key} must be an object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValidationError(
            f"Trường không hợp lệ trong {key}: {', '.join(unknown)} / "
            f"unknown fields in {key}: {', '.join(unknown)}"
        )
    return {k: _sub_value(key, k, v) for k, v in raw.items()}


def _sub_value(key: str, field: str, value: Any) -> Any:
    """``confidential`` is a JSON boolean (a string like "false" would silently mean true); ``lat`` and
    ``lon`` are numbers or null; every other field is text, a number is taken as its digits, and null
    is empty."""
    if field == "confidential":
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ValidationError(
                f"Trường {key}.{field} phải là true hoặc false / {key}.{field} must be true or false"
            )
        return value
    if field in ("lat", "lon"):  # a position in degrees (the intake contract checked its range)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"Trường {key}.{field} phải là số / {key}.{field} must be a number")
        return float(value)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"Trường {key}.{field} phải là chuỗi / {key}.{field} must be a string")
    return str(value).strip()


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The ticket's state for the audit log (its history lives in its own table)."""
    data = dataclasses.asdict(ticket)
    data.pop("history", None)
    return data


def audit_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What changed between two snapshots, as (old values, new values) of the changed fields only.

    Nested objects (caller, place) are compared field by field; a list that only grew (attachments)
    is recorded as its old and new length with the added items. One workflow step on a ticket with a
    10 MB transcript thus stores a few hundred bytes, not two copies of the ticket.
    """
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        if isinstance(was, Mapping) and isinstance(now, Mapping):
            old[key], new[key] = audit_diff(was, now)
        elif isinstance(was, list) and isinstance(now, list) and now[: len(was)] == was:
            old[key], new[key] = {"count": len(was)}, {"count": len(now), "added": now[len(was) :]}
        else:
            old[key], new[key] = was, now
    return old, new


def _check_code(code: str) -> str:
    norm = tracking.normalize(code)
    if not tracking.is_valid(norm):
        raise ValidationError(
            f"Mã số theo dõi không hợp lệ: {code!r} (sai chữ số kiểm tra?) / invalid tracking code {code!r}"
        )
    return norm


# The code a new ticket carries until its own is allocated at the end of filing: a valid code (the
# domain checks it) of the last sequence number, which is never handed out in practice.
_PENDING_CODE = tracking.make_code(tracking.MAX_SEQUENCE)


class TicketService:
    def __init__(
        self,
        uow: UowFactory,
        attachments: AttachmentStore,
        clock: Clock,
        calendar_for: CalendarFor,
        preset_for: PresetFor,
        *,
        city: str = "hanoi",
        duplicate_window: timedelta = duplicates.DEFAULT_WINDOW,
        duplicate_threshold: float = duplicates.DEFAULT_THRESHOLD,
        on_change: Sequence[ChangeHook] = (),
    ) -> None:
        self.uow = uow
        self.on_change = tuple(on_change)
        self.attachments = attachments
        self.clock = clock
        self.calendar_for = calendar_for
        self.preset_for = preset_for
        self.city = city
        self.duplicate_window = duplicate_window
        self.duplicate_threshold = duplicate_threshold

    # --- creation -----------------------------------------------------------------------------------

    def create(
        self, data: NewReport | Mapping[str, Any], actor: str, attachments: Sequence[NewAttachment] = ()
    ) -> Created:
        """Create a ticket from a JSON-like dict (see ``hotline tickets create --help`` for the shape),
        with its files (recording, transcript, photos) stored and attached in the same transaction."""
        data = parse_report(data).as_data()  # the intake contract: types, limits, clean text
        unknown = sorted(set(data) - _TICKET_KEYS)
        if unknown:
            raise ValidationError(
                f"Trường không hợp lệ: {', '.join(unknown)} / unknown fields: {', '.join(unknown)}"
            )
        city = str(data.get("city") or self.city)
        if city not in reference.CITIES:
            raise ValidationError(
                f"Thành phố không hợp lệ: {city!r} / unknown city {city!r} "
                f"(expected one of: {', '.join(reference.CITIES)})"
            )
        now = self.clock.now()
        calendar = self._calendar(city)
        caller = Caller(**_sub(data, "caller", _CALLER_FIELDS))
        place = Place(**_sub(data, "place", _PLACE_FIELDS))
        incident = data.get("incident_time")
        incident_time = parse_datetime(incident, "incident_time", calendar.tz) if incident else None
        with self.uow() as uow:
            # Everything that reads or checks comes first; the tracking code is allocated last, so
            # the counter's row lock (concurrent filings queue on it) is held only for the writes
            # and the commit, not for the routing reads and the duplicate search.
            ticket = workflow.new_ticket(
                _PENDING_CODE,
                data.get("channel", "phone"),
                data.get("kind", "field_report"),
                str(data.get("category", "")),
                data.get("priority", "normal"),
                caller,
                place,
                str(data.get("content", "")),
                actor,
                now,
                incident_time=incident_time,
                transcript=str(data.get("transcript", "")),
                city=city,
                complete=bool(data.get("complete", True)),
            )
            lead = str(data.get("lead_agency") or "").strip()
            if lead:
                self._require_agency(uow, lead)
                ticket.lead_agency, reason = lead, "chỉ định khi tạo / given at creation"
            else:
                rules = self._rules(uow, city, ticket.category, ticket.place.ward_code)
                decision = routing.explain(ticket.category, ticket.place.ward_code, rules, city)
                ticket.lead_agency, reason = decision.agency, decision.reason
            if ticket.status is Status.NEW:
                preset = self.preset_for(city)
                ticket.dispatch_due = sla.initial_deadlines(
                    ticket.priority, now, calendar, preset
                ).dispatch_due
            priors = uow.tickets.recent_priors(
                category=ticket.category, ward_code=ticket.place.ward_code, since=now - self.duplicate_window
            )
            found = duplicates.score_priors(ticket, priors, self.duplicate_window, self.duplicate_threshold)
            for item in attachments:
                self._store_new(ticket, item, actor, now)
            ticket.code = code = tracking.make_code(uow.tickets.next_sequence("ticket"))
            uow.tickets.add(ticket)
            self._audit(uow, now, actor, "ticket", code, "create", None, snapshot(ticket))
            for hook in self.on_change:
                hook(uow, "create", ticket)
            uow.commit()
        cands = tuple(DuplicateCandidate(t.code, round(score, 3), t.status) for t, score in found)
        return Created(ticket, cands, reason)

    def complete_draft(self, code: str, data: Mapping[str, Any], actor: str) -> Ticket:
        """Fill in a draft (an incomplete call report) after the call-back; it becomes "Mới tạo" with
        its dispatch deadline counted from now. ``data`` has the shape of :meth:`create`'s fields."""
        data = parse_changes(data).as_data()
        unknown = sorted(set(data) - (_TICKET_KEYS - {"city", "complete", "lead_agency"}))
        if unknown:
            raise ValidationError(
                f"Trường không sửa được: {', '.join(unknown)} / "
                f"fields that cannot be set: {', '.join(unknown)}"
            )

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            calendar = self._calendar(t.city)
            fields: dict[str, Any] = {
                k: v for k, v in data.items() if k not in ("caller", "place", "incident_time")
            }
            if "caller" in data:
                fields["caller"] = dataclasses.replace(t.caller, **_sub(data, "caller", _CALLER_FIELDS))
            if "place" in data:
                fields["place"] = dataclasses.replace(t.place, **_sub(data, "place", _PLACE_FIELDS))
            if data.get("incident_time"):
                fields["incident_time"] = parse_datetime(data["incident_time"], "incident_time", calendar.tz)
            workflow.complete_draft(t, actor, now, **fields)
            if "place" in data or "category" in data:
                rules = self._rules(uow, t.city, t.category, t.place.ward_code)
                decision = routing.explain(t.category, t.place.ward_code, rules, t.city)
                t.lead_agency = decision.agency
            preset = self.preset_for(t.city)
            t.dispatch_due = sla.initial_deadlines(t.priority, now, calendar, preset).dispatch_due

        return self._change(code, actor, "complete_draft", step)

    # --- reading ------------------------------------------------------------------------------------

    def get(self, code: str) -> Ticket:
        norm = _check_code(code)
        with self.uow() as uow:
            ticket = uow.tickets.get(norm)
        if ticket is None:
            raise TicketNotFound(f"Không có phiếu mã {norm} / no ticket with code {norm}")
        return ticket

    def find(self, query: TicketQuery) -> list[Ticket]:
        with self.uow() as uow:
            return uow.tickets.find(query)

    def audit_trail(self, code: str) -> list[AuditEntry]:
        norm = _check_code(code)
        with self.uow() as uow:
            return uow.audit.entries("ticket", norm)

    def now(self) -> datetime:
        return self.clock.now()

    # --- workflow steps -----------------------------------------------------------------------------

    def dispatch(self, code: str, actor: str, agency: str = "", note: str = "") -> Ticket:
        """Send to the lead agency (default: the routed one) and start the handling deadline."""

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            lead = agency.strip() or t.lead_agency
            if not lead:
                raise ValidationError("Thiếu đơn vị xử lý / an agency is required (--agency)")
            self._require_agency(uow, lead)
            workflow.dispatch(t, lead, actor, now, note)
            self._start_handling(t, now)

        return self._change(code, actor, "dispatch", step)

    def accept(self, code: str, actor: str, note: str = "") -> Ticket:
        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            workflow.accept(t, actor, now, note)
            if t.due_at is None:
                self._start_handling(t, t.dispatched_at or now)

        return self._change(code, actor, "accept", step)

    def add_coordinator(self, code: str, agency: str, actor: str, note: str = "") -> Ticket:
        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            self._require_agency(uow, agency)
            workflow.add_coordinator(t, agency, actor, now, note)

        return self._change(code, actor, "add_coordinator", step)

    def post_part(self, code: str, agency: str, text: str, actor: str) -> Ticket:
        return self._change(
            code,
            actor,
            "post_coordinator_part",
            lambda u, t, now: workflow.post_coordinator_part(t, agency, text, actor, now),
        )

    def transfer(self, code: str, to: str, reason: str, actor: str) -> Ticket:
        """Hand the ticket to another agency; its handling deadline restarts from the new assignment."""

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            self._require_agency(uow, to)
            workflow.transfer(t, to, reason, actor, now)
            self._start_handling(t, now)

        return self._change(code, actor, "transfer", step)

    def draft_result(self, code: str, text: str, actor: str, evidence: Sequence[Path] = ()) -> Ticket:
        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            workflow.check_allowed(t, workflow.Action.DRAFT_RESULT)
            staged = self._stage_files(t, evidence, AttachmentKind.EVIDENCE, actor, now)
            workflow.draft_result(t, text, actor, now)
            self._store_staged(staged)  # only once the domain accepted the step

        return self._change(code, actor, "draft_result", step)

    def approve(self, code: str, actor: str, note: str = "") -> Ticket:
        return self._change(
            code, actor, "approve_result", lambda u, t, now: workflow.approve_result(t, actor, now, note)
        )

    def send_back(self, code: str, reason: str, actor: str) -> Ticket:
        return self._change(
            code, actor, "send_back", lambda u, t, now: workflow.send_back(t, reason, actor, now)
        )

    def complete(self, code: str, result: str, actor: str, evidence: Sequence[Path] = ()) -> Ticket:
        """Done: the evidence files are hashed and attached, the rule "result + at least one evidence
        attachment" is checked by the domain, and only then are the files stored (a refused step
        leaves no blob behind)."""

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            workflow.check_allowed(t, workflow.Action.COMPLETE)
            staged = self._stage_files(t, evidence, AttachmentKind.EVIDENCE, actor, now)
            workflow.complete(t, result, actor, now)
            self._store_staged(staged)

        return self._change(code, actor, "complete", step)

    def attach(self, code: str, path: Path, kind: AttachmentKind | str, actor: str) -> Ticket:
        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            self._store_staged(self._stage_files(t, [path], AttachmentKind(kind), actor, now))

        return self._change(code, actor, "add_attachment", step)

    def attach_bytes(
        self,
        code: str,
        data: bytes,
        filename: str,
        kind: AttachmentKind | str,
        actor: str,
        media_type: str = "",
    ) -> Ticket:
        """Attach in-memory content (a call recording, a transcript) to a ticket."""
        item = NewAttachment(filename, AttachmentKind(kind), data=data, media_type=media_type)

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            self._store_new(t, item, actor, now)

        return self._change(code, actor, "add_attachment", step)

    def reject(self, code: str, reason: str, actor: str) -> Ticket:
        return self._change(code, actor, "reject", lambda u, t, now: workflow.reject(t, reason, actor, now))

    def mark_duplicate(self, code: str, original: str, actor: str) -> Ticket:
        orig_code = _check_code(original)

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            orig = uow.tickets.get(orig_code)
            if orig is None:
                raise TicketNotFound(f"Không có phiếu gốc mã {orig_code} / no original ticket {orig_code}")
            workflow.mark_duplicate(t, orig, actor, now)

        return self._change(code, actor, "mark_duplicate", step)

    def extend(self, code: str, days: int, reason: str, actor: str) -> Ticket:
        """The one extension: the new deadline and its caps come from the city's SLA preset."""

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            new_due = sla.extension_due(t, days, self._calendar(t.city), self.preset_for(t.city))
            workflow.extend(t, new_due, reason, actor, now)

        return self._change(code, actor, "extend", step)

    def rate(self, code: str, rating: str, actor: str) -> Ticket:
        return self._change(code, actor, "rate", lambda u, t, now: workflow.rate(t, rating, actor, now))

    def request_clarification(self, code: str, text: str, actor: str) -> Ticket:
        return self._change(
            code,
            actor,
            "request_clarification",
            lambda u, t, now: workflow.request_clarification(t, text, actor, now),
        )

    def answer_clarification(self, code: str, text: str, actor: str) -> Ticket:
        return self._change(
            code,
            actor,
            "answer_clarification",
            lambda u, t, now: workflow.answer_clarification(t, text, actor, now),
        )

    def sweep_deadlines(
        self, city: str = "", progress: Callable[[int, int], None] | None = None
    ) -> list[str]:
        """Climb the escalation ladder and flag overdue tickets; returns the codes that changed.

        Open tickets are checked in memory (pure rules at one instant); only those with something to
        record are changed, each in its own audited transaction. ``progress(done, total)`` is called
        after each of those. Safe to run repeatedly: an up-to-date ticket is not touched.
        """
        city = city or self.city
        calendar, preset = self._calendar(city), self.preset_for(city)
        open_statuses = [s for s in Status if not s.is_closed and s is not Status.DRAFT]
        at = self.clock.now()

        def due(t: Ticket, now: datetime) -> bool:
            if sla.next_escalation_step(t, now, calendar, preset) is not None:
                return True
            return bool(sla.is_overdue(t, now, calendar, preset)) and not t.overdue

        with self.uow() as uow:
            query = TicketQuery(statuses=open_statuses, city=city, limit=1_000_000)
            codes = [t.code for t in uow.tickets.find(query) if due(t, at)]

        changed: list[str] = []

        def step(uow: UnitOfWork, t: Ticket, now: datetime) -> None:
            # Re-checked under the row lock: another sweep may have got there first.
            events = len(t.history)
            while (nxt := sla.next_escalation_step(t, now, calendar, preset)) is not None:
                workflow.escalate(t, nxt.level, nxt.who.value, now)
            status = sla.is_overdue(t, now, calendar, preset)
            if status and not t.overdue:
                workflow.mark_overdue(t, status.reason, now)
            if len(t.history) != events:
                changed.append(t.code)

        for done, code in enumerate(codes, start=1):
            self._change(code, workflow.SYSTEM_ACTOR, "sweep", step, only_if_changed=True)
            if progress is not None:
                progress(done, len(codes))
        return changed

    # --- internals ----------------------------------------------------------------------------------

    def _calendar(self, city: str) -> WorkingCalendar:
        return self.calendar_for(city)

    def _start_handling(self, t: Ticket, assigned_at: datetime) -> None:
        t.due_at = sla.handling_due(t.priority, assigned_at, self._calendar(t.city), self.preset_for(t.city))

    @staticmethod
    def _rules(uow: UnitOfWork, city: str, category: str, ward_code: str) -> list[routing.RoutingRule]:
        return [
            routing.RoutingRule(r.category, r.ward_code, r.agency, r.priority)
            for r in uow.routing.matching(city, category, ward_code)
        ]

    @staticmethod
    def _require_agency(uow: UnitOfWork, code: str) -> None:
        if uow.agencies.get(code.strip()) is None:
            raise ValidationError(
                f"Không có đơn vị mã {code!r} (nhập bằng 'hotline agencies import' hoặc 'agencies add') / "
                f"unknown agency {code!r}"
            )

    def _store_new(self, t: Ticket, item: NewAttachment, actor: str, now: datetime) -> None:
        if (item.data is None) == (item.path is None):
            raise ValidationError(
                "Tệp đính kèm cần nội dung hoặc đường dẫn / an attachment needs either data or a path"
            )
        media = item.media_type or guess_media_type(item.filename)
        kind = AttachmentKind(item.kind)
        if item.data is not None:
            data = item.data
            digest = StoredBlob(hashlib.sha256(data).hexdigest(), len(data))
            att = Attachment(digest.sha256, kind, item.filename, media, digest.size, now, actor)
            workflow.add_attachment(t, att, actor, now)  # the domain's rules first, then the bytes
            self.attachments.put_bytes(data)
            return
        path = Path(str(item.path))
        if not path.is_file():
            raise ValidationError(f"Không tìm thấy tệp {path} / file not found: {path}")
        digest = file_digest(path)
        att = Attachment(digest.sha256, kind, item.filename, media, digest.size, now, actor)
        workflow.add_attachment(t, att, actor, now)
        self._store_staged([(path, digest.sha256)])

    def _stage_files(
        self, t: Ticket, paths: Sequence[Path], kind: AttachmentKind, actor: str, now: datetime
    ) -> list[tuple[Path, str]]:
        """Hash each file and attach it to the ticket in memory; nothing is stored yet. Returns the
        files to store with :meth:`_store_staged` once every rule of the step has passed."""
        staged: list[tuple[Path, str]] = []
        for path in paths:
            path = Path(path)
            if not path.is_file():
                raise ValidationError(f"Không tìm thấy tệp {path} / file not found: {path}")
            digest = file_digest(path)
            att = Attachment(
                digest.sha256, kind, path.name, guess_media_type(path.name), digest.size, now, actor
            )
            workflow.add_attachment(t, att, actor, now)
            staged.append((path, digest.sha256))
        return staged

    def _store_staged(self, staged: list[tuple[Path, str]]) -> None:
        for path, sha256 in staged:
            blob = self.attachments.put_file(path)
            if blob.sha256 != sha256:
                raise ValidationError(f"Tệp {path} vừa bị thay đổi / {path} changed while it was attached")

    def _change(
        self,
        code: str,
        actor: str,
        action: str,
        step: Callable[[UnitOfWork, Ticket, datetime], None],
        *,
        only_if_changed: bool = False,
    ) -> Ticket:
        norm = _check_code(code)
        with self.uow() as uow:
            ticket = uow.tickets.get(norm, for_update=True)
            if ticket is None:
                raise TicketNotFound(f"Không có phiếu mã {norm} / no ticket with code {norm}")
            before = snapshot(ticket)
            events = len(ticket.history)
            now = self.clock.now()
            step(uow, ticket, now)
            if only_if_changed and len(ticket.history) == events:
                return ticket
            uow.tickets.save(ticket)
            changed_from, changed_to = audit_diff(before, snapshot(ticket))
            self._audit(uow, now, actor, "ticket", norm, action, changed_from, changed_to)
            for hook in self.on_change:
                hook(uow, action, ticket)
            uow.commit()
        return ticket

    @staticmethod
    def _audit(
        uow: UnitOfWork,
        at: datetime,
        actor: str,
        entity: str,
        entity_id: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        uow.audit.record(AuditEntry(at, actor, entity, entity_id, action, before, after))


class AdminService:
    """Agencies (with focal officers) and routing rules, each change audited."""

    def __init__(self, uow: UowFactory, clock: Clock, *, city: str = "hanoi") -> None:
        self.uow = uow
        self.clock = clock
        self.city = city

    # --- agencies -----------------------------------------------------------------------------------

    def import_agencies(self, city: str, actor: str) -> tuple[int, int]:
        """Load the shipped agencies of ``city``; returns (inserted, updated). Contacts already set
        (focal officer, head) are kept: re-running the import is safe."""
        if city not in reference.CITIES:
            raise ValidationError(f"Thành phố không hợp lệ: {city!r} / unknown city {city!r}")
        now = self.clock.now()
        inserted = updated = 0
        with self.uow() as uow:
            for ref in reference.agencies(city):
                kind = "ward_committee" if ref.kind == "commune" else ref.kind
                old = uow.agencies.get(ref.code)
                new = AgencyRecord(ref.code, ref.name, kind, city, ref.ward_code)
                if old is not None:
                    new = dataclasses.replace(
                        old, name=ref.name, kind=kind, city=city, ward_code=ref.ward_code
                    )
                    if new == old:
                        continue
                uow.agencies.upsert(new)
                before = dataclasses.asdict(old) if old else None
                uow.audit.record(
                    AuditEntry(now, actor, "agency", ref.code, "import", before, dataclasses.asdict(new))
                )
                if old is None:
                    inserted += 1
                else:
                    updated += 1
            uow.commit()
        return inserted, updated

    def set_duty_phone(self, code: str, phone: str, actor: str) -> AgencyRecord:
        """Set (or clear, with "") the duty phone that takes the agency's urgent calls and SMS."""
        from ticketing.domain.urgent import normalize_duty_phone

        number = normalize_duty_phone(phone)
        with self.uow() as uow:
            old = uow.agencies.get(code.strip())
            if old is None:
                raise ValidationError(f"Không có đơn vị mã {code!r} / unknown agency {code!r}")
            new = dataclasses.replace(old, duty_phone=number)
            uow.agencies.upsert(new)
            uow.audit.record(
                AuditEntry(
                    self.clock.now(),
                    actor,
                    "agency",
                    old.code,
                    "set_duty_phone",
                    dataclasses.asdict(old),
                    dataclasses.asdict(new),
                )
            )
            uow.commit()
        return new

    def duty_for(self, category: str, ward_code: str, city: str = "") -> tuple[str, str]:
        """(competent agency, its duty phone or "") for an urgent report of ``category`` in
        ``ward_code``, by the routing rules; ("", "") when the category is unknown."""
        try:
            agency = self.test_route(category, ward_code, city).agency
        except ValidationError:
            return "", ""
        with self.uow() as uow:
            found = uow.agencies.get(agency)
        return agency, (found.duty_phone if found is not None else "")

    def agencies(self, city: str = "", kind: str = "") -> list[AgencyRecord]:
        with self.uow() as uow:
            return uow.agencies.find(city=city, kind=kind)

    def add_agency(self, agency: AgencyRecord, actor: str) -> AgencyRecord:
        code = agency.code.strip()
        if not code or any(c.isspace() for c in code):
            raise ValidationError(f"Mã đơn vị không hợp lệ: {agency.code!r} / invalid agency code")
        if not agency.name.strip():
            raise ValidationError("Thiếu tên đơn vị / the agency name is required")
        if agency.kind not in AGENCY_KINDS:
            raise ValidationError(
                f"Loại đơn vị không hợp lệ: {agency.kind!r} / "
                f"unknown agency kind (expected {', '.join(AGENCY_KINDS)})"
            )
        if agency.city not in reference.CITIES:
            raise ValidationError(f"Thành phố không hợp lệ: {agency.city!r} / unknown city {agency.city!r}")
        if agency.ward_code and not any(u.code == agency.ward_code for u in reference.units(agency.city)):
            raise ValidationError(
                f"Không có xã/phường mã {agency.ward_code!r} ở {agency.city} / "
                f"unknown ward {agency.ward_code!r}"
            )
        with self.uow() as uow:
            if uow.agencies.get(code) is not None:
                raise ValidationError(f"Đơn vị {code} đã tồn tại / agency {code} already exists")
            rec = dataclasses.replace(agency, code=code, name=agency.name.strip())
            uow.agencies.upsert(rec)
            uow.audit.record(
                AuditEntry(self.clock.now(), actor, "agency", code, "add", None, dataclasses.asdict(rec))
            )
            uow.commit()
        return rec

    def set_contact(
        self,
        code: str,
        actor: str,
        *,
        role: str = "focal",
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> AgencyRecord:
        """Set the focal officer's (``role="focal"``) or the head's (``role="head"``) contact."""
        if role not in ("focal", "head"):
            raise ValidationError(f"Vai trò không hợp lệ: {role!r} / role must be focal or head")
        if email is not None and email and "@" not in email:
            raise ValidationError(f"Email không hợp lệ: {email!r} / malformed email")
        if phone is not None and phone and not phone.replace("+", "", 1).replace(" ", "").isdigit():
            raise ValidationError(f"Số điện thoại không hợp lệ: {phone!r} / malformed phone number")
        with self.uow() as uow:
            old = uow.agencies.get(code)
            if old is None:
                raise ValidationError(f"Không có đơn vị mã {code!r} / unknown agency {code!r}")
            changes = {
                f"{role}_{k}": v.strip()
                for k, v in (("name", name), ("phone", phone), ("email", email))
                if v is not None
            }
            new = dataclasses.replace(old, **changes)
            uow.agencies.upsert(new)
            uow.audit.record(
                AuditEntry(
                    self.clock.now(),
                    actor,
                    "agency",
                    code,
                    f"set_{role}",
                    dataclasses.asdict(old),
                    dataclasses.asdict(new),
                )
            )
            uow.commit()
        return new

    # --- routing ------------------------------------------------------------------------------------

    def add_rule(
        self, category: str, ward_code: str, agency: str, actor: str, *, city: str = "", priority: int = 0
    ) -> RoutingRuleRecord:
        city = city or self.city
        ward = ward_code.strip() or routing.ANY
        rule = routing.validate_rule(
            routing.RoutingRule(category.strip() or routing.ANY, ward, agency.strip(), priority), city
        )
        rec = RoutingRuleRecord(city, rule.category, rule.ward_code, rule.agency, rule.priority)
        now = self.clock.now()
        with self.uow() as uow:
            TicketService._require_agency(uow, rec.agency)
            before = uow.routing.upsert(rec, at=now, actor=actor)
            key = f"{city}:{rec.category}:{rec.ward_code}"
            uow.audit.record(
                AuditEntry(
                    now,
                    actor,
                    "routing_rule",
                    key,
                    "replace" if before else "add",
                    dataclasses.asdict(before) if before else None,
                    dataclasses.asdict(rec),
                )
            )
            uow.commit()
        return rec

    def rules(self, city: str = "") -> list[RoutingRuleRecord]:
        with self.uow() as uow:
            return uow.routing.find(city or self.city)

    def test_route(self, category: str, ward_code: str, city: str = "") -> routing.RouteDecision:
        city = city or self.city
        with self.uow() as uow:
            rules = [
                routing.RoutingRule(r.category, r.ward_code, r.agency, r.priority)
                for r in uow.routing.find(city)
            ]
        return routing.explain(category.strip(), ward_code.strip(), rules, city)

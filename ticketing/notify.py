"""Which ticket events queue which notifications, rendered from the message templates.

:class:`TicketNotifier` is a change hook of :class:`ticketing.service.TicketService` (``on_change``):
the service calls it inside the unit of work of every change, so the messages are written to the
outbox in the same transaction as the change (transactional outbox).

* ``create`` (a complete report) -> the tracking code to the citizen by SMS (HN Art. 7.1);
* ``dispatch`` / ``transfer`` -> the assignment to the new lead agency's focal officer (CT Art. 9);
* the escalation ladder climbing (the scheduler's sweep) -> the new holder: the focal officer, the head
  of the agency, or city leadership, each rung once (CT Art. 9 step 3-4, HP Art. 9.4, HN Art. 9.7);
* a ticket flagged overdue before it was dispatched -> city leadership;
* ``complete``, ``approve_result`` (the head approves an iHanoi draft), ``reject`` and
  ``mark_duplicate`` -> the result to the citizen with the public lookup reference (CT Art. 10);
* ``answer_clarification`` -> the citizen (iHN Art. 13);
* outside any ticket: the guidance of a procedure the caller asked to receive by SMS
  (:func:`procedure_answer_sms`).

Personal data: messages to agencies and leadership carry the report (category, ward, content) but never
the caller's name, phone, ID number or address; only messages to the citizen go to the citizen's phone.
Every message has a dedupe key, so a change replayed (or two schedulers racing) never queues it twice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import reference
from ticketing.domain import sla
from ticketing.domain.calendar import WorkingCalendar
from ticketing.domain.model import Priority, Status, Ticket
from ticketing.notifications.messages import Channel, MessageKind, render
from ticketing.notifications.outbox import NewMessage
from ticketing.ports import AgencyRecord, UnitOfWork

PresetFor = Callable[[str], sla.SlaPreset]
OutboxWriter = Callable[[UnitOfWork, NewMessage, datetime], None]
"""Writes one message to the outbox inside the unit of work's transaction (ignores a known dedupe key)."""

PRIORITY_LABELS = {
    Priority.URGENT: "Khẩn",
    Priority.NORMAL: "Bình thường",
    Priority.COMPLEX: "Phức tạp",
}
_LEADERSHIP_ROLES = frozenset({sla.Role.CITY_LEADERSHIP, sla.Role.COMPETENT_AUTHORITY})


@dataclass(frozen=True)
class Contact:
    """Someone to notify: a name for the e-mail greeting, and a phone and/or an e-mail address."""

    name: str = ""
    phone: str = ""
    email: str = ""


def ascii_sms(text: str) -> str:
    """Vietnamese without diacritics for SMS (docs/decisions/011): "Phường Hà Đông" -> "Phuong Ha Dong"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stamp(at: datetime | None) -> str:
    return f"{at:%H:%M %d/%m/%Y}" if at is not None else "-"


def holder_role(level: int, preset: sla.SlaPreset) -> sla.Role:
    """Who holds the ticket at ladder ``level`` (0 = the first handling stage)."""
    return preset.handler if level <= 0 else preset.escalation[level - 1].who


@dataclass
class TicketNotifier:
    write: OutboxWriter
    preset_for: PresetFor
    calendar_for: Callable[[str], WorkingCalendar]
    hotline: str = "1022"
    lookup_url: str = "https://1022.example.gov.vn/tra-cuu"
    leadership: Mapping[str, Sequence[Contact]] = field(default_factory=dict)  # city -> contacts

    # --- the hook ------------------------------------------------------------------------------------

    def __call__(self, uow: UnitOfWork, action: str, ticket: Ticket) -> None:
        """The :data:`ticketing.service.ChangeHook`: called with the ticket after ``action``."""
        t, now = ticket, self._now(ticket)
        if action in ("create", "complete_draft"):
            if t.status is not Status.DRAFT:
                self._tracking_code(uow, t, now)
        elif action in ("dispatch", "transfer"):
            self._assignment(uow, t, now)
        elif action == "sweep":
            # every rung reached so far; the dedupe keys make the ones already queued no-ops
            for level in range(1, t.escalation_level + 1):
                self._escalation(uow, t, level, now)
            if t.overdue and t.escalation_level == 0:
                self._overdue_without_step(uow, t, now)
        elif action in ("complete", "approve_result", "reject", "mark_duplicate"):
            self._to_citizen(uow, t, MessageKind.RESULT, now)
        elif action == "answer_clarification":
            self._to_citizen(uow, t, MessageKind.CLARIFICATION_ANSWER, now)
        elif action in ("rate", "request_clarification"):
            self._follow_up(uow, t, action, now)

    @staticmethod
    def _now(t: Ticket) -> datetime:
        # the change's own time: the newest history event (the service records one per change)
        return t.history[-1].at if t.history else t.created_at

    # --- messages ------------------------------------------------------------------------------------

    def _lookup(self, code: str) -> str:
        return f"{self.lookup_url.rstrip('/')}/{code}"

    def _tracking_code(self, uow: UnitOfWork, t: Ticket, now: datetime) -> None:
        if not t.caller.phone:
            return
        ctx = {"hotline": self.hotline, "code": t.code, "lookup_url": self._lookup(t.code)}
        self._send(uow, MessageKind.TRACKING_CODE, Channel.SMS, t.caller.phone, ctx, t.code, now, "")

    def _to_citizen(self, uow: UnitOfWork, t: Ticket, kind: MessageKind, now: datetime) -> None:
        if not t.caller.phone:
            return
        ctx = {
            "hotline": self.hotline,
            "code": t.code,
            "agency_name": self._agency(uow, t.lead_agency).name,
            "lookup_url": self._lookup(t.code),
        }
        self._send(uow, kind, Channel.SMS, t.caller.phone, ctx, t.code, now, "")

    def _report_context(self, uow: UnitOfWork, t: Ticket, agency: AgencyRecord) -> dict[str, Any]:
        category = reference.categories().get(t.category)
        return {
            "hotline": self.hotline,
            "code": t.code,
            "agency_name": agency.name,
            "category_name": category.name if category else t.category,
            "ward_name": t.place.ward_name or t.place.ward_code or "-",
            "priority_label": PRIORITY_LABELS.get(t.priority, str(t.priority)),
            "content": t.content,
            "created": stamp(t.created_at),
        }

    def _assignment(self, uow: UnitOfWork, t: Ticket, now: datetime) -> None:
        agency = self._agency(uow, t.lead_agency)
        focal = Contact(agency.focal_name, agency.focal_phone, agency.focal_email)
        # one assignment message per assignment: dispatch, then each transfer
        seq = sum(1 for e in t.history if e.action in ("dispatch", "transfer"))
        ctx = {**self._report_context(uow, t, agency), "due": stamp(t.due_at), "officer_name": focal.name}
        self._to_contact(uow, MessageKind.ASSIGNMENT, focal, ctx, t.code, now, f"{agency.code}:{seq}")

    def _follow_up(self, uow: UnitOfWork, t: Ticket, action: str, now: datetime) -> None:
        """The citizen's rating or clarification request reaches the lead agency's focal officer."""
        agency = self._agency(uow, t.lead_agency)
        focal = Contact(agency.focal_name, agency.focal_phone, agency.focal_email)
        ctx = {
            **self._report_context(uow, t, agency),
            "officer_name": focal.name,
            "rating": t.rating.value if t.rating is not None else "",
            "clarification": t.clarification_request if action == "request_clarification" else "",
        }
        self._to_contact(uow, MessageKind.CITIZEN_FOLLOW_UP, focal, ctx, t.code, now, action)

    def _escalation(self, uow: UnitOfWork, t: Ticket, level: int, now: datetime) -> None:
        preset = self.preset_for(t.city)
        steps = {s.level: s for s in sla.ladder(t, self.calendar_for(t.city), preset)}
        step = steps.get(level)
        role = holder_role(level, preset)
        agency = self._agency(uow, t.lead_agency)
        reason = t.overdue_reason if step is not None and step.overdue else ""
        if step is not None and not reason:
            reason = (
                f"{holder_role(level - 1, preset)} chưa xử lý xong trước hạn {stamp(step.at)}; "
                f"chuyển {role.lower()}"
            )
        label = f"đã quá hạn, báo cáo {role.lower()}" if step and step.overdue else f"chuyển {role.lower()}"
        ctx = {
            **self._report_context(uow, t, agency),
            "step_label": label,
            "due": stamp(step.until if step is not None and step.until else (step.at if step else None)),
            "reason": reason or "-",
        }
        for i, contact in enumerate(self._contacts(agency, role, t.city)):
            extra = {"recipient_name": contact.name or role.value, "officer_name": contact.name}
            self._to_contact(
                uow,
                MessageKind.ESCALATION,
                contact,
                {**ctx, **extra},
                t.code,
                now,
                f"{level}:{role.name}:{i}",
            )

    def _overdue_without_step(self, uow: UnitOfWork, t: Ticket, now: datetime) -> None:
        """Flagged overdue while no ladder rung applies (not dispatched in time): city leadership."""
        agency = self._agency(uow, t.lead_agency)
        ctx = {
            **self._report_context(uow, t, agency),
            "step_label": "quá hạn chuyển xử lý, báo cáo lãnh đạo thành phố",
            "due": stamp(t.dispatch_due),
            "reason": t.overdue_reason or "-",
        }
        for i, contact in enumerate(self.leadership.get(t.city, ())):
            extra = {"recipient_name": contact.name or sla.Role.CITY_LEADERSHIP.value}
            self._to_contact(
                uow, MessageKind.ESCALATION, contact, {**ctx, **extra}, t.code, now, f"overdue:{i}"
            )

    # --- plumbing ------------------------------------------------------------------------------------

    def _contacts(self, agency: AgencyRecord, role: sla.Role, city: str) -> list[Contact]:
        focal = Contact(agency.focal_name, agency.focal_phone, agency.focal_email)
        head = Contact(agency.head_name, agency.head_phone, agency.head_email)
        if role in (sla.Role.FOCAL_OFFICER, sla.Role.AGENCY):
            return [focal]
        if role is sla.Role.HEAD:
            return [head]
        if role in _LEADERSHIP_ROLES:
            # reported upward: the agency's head is told too
            return [head, *self.leadership.get(city, ())]
        return []

    @staticmethod
    def _agency(uow: UnitOfWork, code: str) -> AgencyRecord:
        found = uow.agencies.get(code) if code else None
        return found or AgencyRecord(code=code, name=code or "-", kind="", city="")

    def _to_contact(
        self,
        uow: UnitOfWork,
        kind: MessageKind,
        contact: Contact,
        ctx: Mapping[str, Any],
        code: str,
        now: datetime,
        key: str,
    ) -> None:
        if contact.phone:
            self._send(uow, kind, Channel.SMS, contact.phone, ctx, code, now, key)
        if contact.email:
            self._send(uow, kind, Channel.EMAIL, contact.email, ctx, code, now, key)

    def _send(
        self,
        uow: UnitOfWork,
        kind: MessageKind,
        channel: Channel,
        recipient: str,
        ctx: Mapping[str, Any],
        code: str,
        now: datetime,
        key: str,
    ) -> None:
        values = dict(ctx)
        if channel is Channel.SMS:
            values = {k: ascii_sms(v) if isinstance(v, str) else v for k, v in values.items()}
        rendered = render(kind, channel, values)
        dedupe = ":".join(p for p in (kind.value, code, key, channel.value) if p)
        message = NewMessage(
            kind=kind.value,
            channel=channel.value,
            recipient=recipient,
            subject=rendered.subject,
            body=rendered.body,
            dedupe_key=dedupe,
            ticket_code=code,
        )
        self.write(uow, message, now)


def procedure_answer_sms(phone: str, title: str, summary: str, key: str) -> NewMessage:
    """The guidance on a procedure that a caller asked to receive by SMS; ``key`` makes it unique."""
    rendered = render(
        MessageKind.PROCEDURE_ANSWER, Channel.SMS, {"title": ascii_sms(title), "summary": ascii_sms(summary)}
    )
    return NewMessage(
        kind=MessageKind.PROCEDURE_ANSWER.value,
        channel=Channel.SMS.value,
        recipient=phone,
        subject="",
        body=rendered.body,
        dedupe_key=f"{MessageKind.PROCEDURE_ANSWER.value}:{key}:{Channel.SMS.value}",
    )

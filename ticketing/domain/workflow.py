"""The ticket workflow: every allowed step of a ticket's life, and the rules that guard it.

Each function changes the given :class:`~ticketing.domain.model.Ticket` in place and appends one
:class:`~ticketing.domain.model.Event` (who, when, what, from which status to which, note) to its history.
When a step is not allowed it raises :class:`TransitionError` (wrong status) or :class:`ValidationError`
(missing reason, evidence, unknown ward...) and changes nothing: every check runs before any mutation.

Sources (``/seeds``): HN = Hanoi AI-hotline regulation, iHN = iHanoi regulation, CT = Cần Thơ 1022.

* creation in "Mới tạo" (HN Art. 7.1); complaints and denunciations are out of scope (HN Art. 1.3);
  an incomplete call report is kept as a draft for an operator call-back (HP Art. 8.3);
* dispatch to the lead agency (HN Art. 8), acceptance -> "Đang xử lý" (HN Art. 9.1a);
* "Thêm đơn vị liên quan": coordinators post their part, the lead consolidates (HN Art. 9.2);
* "Thay đổi đơn vị tiếp nhận": transfer with a reason (HN Art. 9.3);
* done needs a result and evidence (HN Art. 10.1, 10.3; iHN Art. 12.2); reject needs a reason
  (HN Art. 10.2; iHN Art. 7.2), allowed at intake (draft, new), on receipt (dispatched) and after
  checking (in progress); duplicates are rejected and linked to an accepted original (HN Art. 6.2b);
* iHanoi approval: officer's draft -> head approves or sends back (iHN Art. 12.1);
* one extension (HN Art. 9.5, CT Art. 9 step 2; its length is checked by :mod:`ticketing.domain.sla`);
* "Quá hạn" is a flag, not a status (HN Art. 9.7); escalation steps (CT Art. 9 steps 3-4);
* rating and a clarification request within 2 days of the result (iHN Art. 13, CT Art. 10.2).

Events that do not change the status (coordinators, attachments, extension, rating...) are recorded
with ``from_status`` and ``to_status`` both ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import reference
from ticketing.domain.errors import TransitionError, ValidationError
from ticketing.domain.model import (
    Attachment,
    AttachmentKind,
    Caller,
    Channel,
    CoordinatorPart,
    Event,
    Kind,
    Place,
    Priority,
    Rating,
    Status,
    Ticket,
)
from ticketing.domain.tracking import is_valid as is_valid_code

SYSTEM_ACTOR = "system"
COMPLAINT_CATEGORY = "KNTC"  # khiếu nại, tố cáo: not a report (HN Art. 1.3)
CLARIFICATION_DAYS = 2  # iHN Art. 13: within 02 days of receiving the result
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CCCD = re.compile(r"\d{12}")


class Action(StrEnum):
    """The ``action`` recorded in a ticket's history."""

    CREATE = "create"
    COMPLETE_DRAFT = "complete_draft"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    ADD_COORDINATOR = "add_coordinator"
    POST_COORDINATOR_PART = "post_coordinator_part"
    TRANSFER = "transfer"
    DRAFT_RESULT = "draft_result"
    APPROVE_RESULT = "approve_result"
    SEND_BACK = "send_back"
    COMPLETE = "complete"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    EXTEND = "extend"
    MARK_OVERDUE = "mark_overdue"
    ESCALATE = "escalate"
    RATE = "rate"
    REQUEST_CLARIFICATION = "request_clarification"
    ANSWER_CLARIFICATION = "answer_clarification"
    ADD_ATTACHMENT = "add_attachment"


_OPEN = frozenset(s for s in Status if not s.is_closed)
_ACCEPTED = frozenset({Status.IN_PROGRESS, Status.AWAITING_APPROVAL, Status.DONE})

ALLOWED_FROM: Mapping[Action, frozenset[Status]] = {
    Action.COMPLETE_DRAFT: frozenset({Status.DRAFT}),
    Action.DISPATCH: frozenset({Status.NEW}),
    Action.ACCEPT: frozenset({Status.DISPATCHED}),
    Action.ADD_COORDINATOR: frozenset({Status.DISPATCHED, Status.IN_PROGRESS}),
    Action.POST_COORDINATOR_PART: frozenset({Status.IN_PROGRESS}),
    Action.TRANSFER: frozenset({Status.DISPATCHED, Status.IN_PROGRESS}),
    Action.DRAFT_RESULT: frozenset({Status.IN_PROGRESS}),
    Action.APPROVE_RESULT: frozenset({Status.AWAITING_APPROVAL}),
    Action.SEND_BACK: frozenset({Status.AWAITING_APPROVAL}),
    Action.COMPLETE: frozenset({Status.IN_PROGRESS}),
    Action.REJECT: frozenset({Status.DRAFT, Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS}),
    Action.MARK_DUPLICATE: frozenset({Status.DRAFT, Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS}),
    Action.EXTEND: frozenset({Status.DISPATCHED, Status.IN_PROGRESS, Status.AWAITING_APPROVAL}),
    Action.MARK_OVERDUE: _OPEN,
    Action.ESCALATE: _OPEN,
    Action.RATE: frozenset({Status.DONE, Status.REJECTED}),
    Action.REQUEST_CLARIFICATION: frozenset({Status.DONE}),
    Action.ANSWER_CLARIFICATION: frozenset({Status.DONE}),
    Action.ADD_ATTACHMENT: frozenset(Status),
}
"""Which statuses each step may start from (creation has no "from")."""

_LABELS: Mapping[Action, tuple[str, str]] = {
    Action.COMPLETE_DRAFT: ("hoàn thiện phiếu nháp", "complete the draft"),
    Action.DISPATCH: ("chuyển xử lý", "dispatch"),
    Action.ACCEPT: ("tiếp nhận xử lý", "accept"),
    Action.ADD_COORDINATOR: ("thêm đơn vị liên quan", "add a coordinating agency to"),
    Action.POST_COORDINATOR_PART: ("cập nhật phần phối hợp", "post a coordinator's part on"),
    Action.TRANSFER: ("thay đổi đơn vị tiếp nhận", "transfer"),
    Action.DRAFT_RESULT: ("trình kết quả xử lý", "submit a draft result for"),
    Action.APPROVE_RESULT: ("phê duyệt kết quả", "approve the result of"),
    Action.SEND_BACK: ("trả lại để xử lý lại", "send back"),
    Action.COMPLETE: ("hoàn thành", "complete"),
    Action.REJECT: ("từ chối", "reject"),
    Action.MARK_DUPLICATE: ("đánh dấu trùng", "mark as duplicate"),
    Action.EXTEND: ("gia hạn", "extend"),
    Action.MARK_OVERDUE: ("đánh dấu quá hạn", "flag as overdue"),
    Action.ESCALATE: ("chuyển cấp xử lý", "escalate"),
    Action.RATE: ("đánh giá", "rate"),
    Action.REQUEST_CLARIFICATION: ("yêu cầu làm rõ", "request clarification of"),
    Action.ANSWER_CLARIFICATION: ("trả lời làm rõ", "answer the clarification of"),
    Action.ADD_ATTACHMENT: ("đính kèm tệp", "attach a file to"),
}


def allowed_actions(ticket: Ticket) -> list[Action]:
    """The steps the ticket's status allows (other rules may still refuse them)."""
    return [action for action, statuses in ALLOWED_FROM.items() if ticket.status in statuses]


def check_allowed(ticket: Ticket, action: Action) -> None:
    """Raise :class:`TransitionError` if the ticket's status does not allow ``action`` (a pre-check,
    e.g. before storing the files a step would attach)."""
    _check_status(ticket, action)


# --- checks (raise, never mutate) -------------------------------------------------------------------


def _check_status(ticket: Ticket, action: Action) -> None:
    if ticket.status not in ALLOWED_FROM[action]:
        vi, en = _LABELS[action]
        raise TransitionError(
            f"Không thể {vi} phiếu {ticket.code} đang ở trạng thái «{ticket.status.value}» / "
            f"cannot {en} ticket {ticket.code} in status '{ticket.status.value}'"
        )


def _check_now(now: datetime, name: str = "now") -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError(f"Thời điểm {name} phải có múi giờ / {name} must be a timezone-aware datetime")


def _text(value: str, vi: str, en: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"Thiếu {vi} / {en} is required")
    return text


def _actor(actor: str) -> str:
    return _text(actor, "người thực hiện", "actor")


def _agency(agency: str) -> str:
    return _text(agency, "mã đơn vị", "agency code")


def _has_evidence(ticket: Ticket) -> bool:
    return any(a.kind == AttachmentKind.EVIDENCE for a in ticket.attachments)


def _check_evidence(ticket: Ticket) -> None:
    if not _has_evidence(ticket):
        raise ValidationError(
            "Cần đính kèm ít nhất một tài liệu chứng minh kết quả xử lý (HN Điều 10.1) / "
            "at least one evidence attachment is required before completion"
        )


def _check_coordinators_posted(ticket: Ticket) -> None:
    waiting = [p.agency for p in ticket.coordinators if p.posted_at is None]
    if waiting:
        raise ValidationError(
            f"Đơn vị phối hợp chưa gửi kết quả: {', '.join(waiting)} (HN Điều 9.2) / "
            f"coordinating agencies have not posted their part yet: {', '.join(waiting)}"
        )


def _coerce(enum: type[Any], value: object, vi: str, en: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise ValidationError(
            f"{vi} không hợp lệ: {value!r} / unknown {en} {value!r} (expected one of: {choices})"
        ) from None


def _check_category(category: str, known: Collection[str] | None) -> str:
    code = (category or "").strip()
    known_codes = reference.categories() if known is None else known
    if code not in known_codes:
        raise ValidationError(f"Lĩnh vực không hợp lệ: {code!r} / unknown category {code!r}")
    if code == COMPLAINT_CATEGORY:
        raise ValidationError(
            "Khiếu nại, tố cáo không được tiếp nhận như phản ánh, kiến nghị; đề nghị thực hiện theo quy "
            "trình tiếp công dân (Luật Khiếu nại, Luật Tố cáo; HN Điều 1.3) / complaints and "
            "denunciations are not accepted as reports: they must go through the citizen-reception procedure"
        )
    return code


def _check_place(place: Place, city: str) -> Place:
    if place.city and place.city != city:
        raise ValidationError(
            f"Địa bàn {place.city!r} khác thành phố của phiếu {city!r} / "
            f"place city {place.city!r} differs from the ticket city {city!r}"
        )
    if not place.ward_code:
        if not place.ward_name.strip():
            return replace(place, city=city)
        named = _unit_named(place.ward_name, city)
        if named is None:
            raise ValidationError(
                f"Không có xã/phường {place.ward_name!r} ở {city} / "
                f"unknown ward {place.ward_name!r} in {city}"
            )
        return replace(place, city=city, ward_code=named.code, ward_name=named.name)
    unit = reference.all_units().get(place.ward_code)
    if unit is None or unit.city != city:
        raise ValidationError(
            f"Không có xã/phường mã {place.ward_code!r} ở {city} / unknown ward {place.ward_code!r} in {city}"
        )
    if place.ward_name and _unit_named(place.ward_name, city) not in (None, unit):
        raise ValidationError(
            f"Mã {place.ward_code} là {unit.name}, không phải {place.ward_name!r} / "
            f"ward code {place.ward_code} is {unit.name}, not {place.ward_name!r}"
        )
    return replace(place, city=city, ward_name=unit.name)


def _unit_named(name: str, city: str) -> reference.Unit | None:
    """The unit whose official name ("Phường Hoàn Kiếm") or short name ("Hoàn Kiếm") is ``name``."""
    wanted = " ".join(name.split()).casefold()
    for unit in reference.units(city):
        if wanted in (unit.name.casefold(), unit.short_name.casefold()):
            return unit
    return None


def _check_caller(caller: Caller) -> None:
    if caller.cccd and not _CCCD.fullmatch(caller.cccd):
        raise ValidationError(
            "Số căn cước công dân phải gồm 12 chữ số / a citizen ID (CCCD) has exactly 12 digits"
        )


def _check_city(city: str) -> None:
    if city not in reference.CITIES:
        raise ValidationError(
            f"Thành phố không hợp lệ: {city!r} / unknown city {city!r} "
            f"(expected one of: {', '.join(reference.CITIES)})"
        )


def _record(
    ticket: Ticket,
    now: datetime,
    actor: str,
    action: Action,
    to_status: Status | None = None,
    note: str = "",
) -> None:
    """Append the event and move the status (``to_status=None``: the status does not change)."""
    from_status = ticket.status if to_status is not None else None
    ticket.history.append(Event(now, actor, action.value, from_status, to_status, note.strip()))
    if to_status is not None:
        ticket.status = to_status


# --- creation ---------------------------------------------------------------------------------------


def new_ticket(
    code: str,
    channel: Channel | str,
    kind: Kind | str,
    category: str,
    priority: Priority | str,
    caller: Caller,
    place: Place,
    content: str,
    created_by: str,
    now: datetime,
    *,
    incident_time: datetime | None = None,
    transcript: str = "",
    city: str = "hanoi",
    complete: bool = True,
    known_categories: Collection[str] | None = None,
) -> Ticket:
    """A new ticket in "Mới tạo" (HN Art. 7.1), or in draft when ``complete=False`` (HP Art. 8.3).

    Refuses an invalid tracking code, an unknown category, city or ward, complaints/denunciations
    (KNTC, HN Art. 1.3) and, for a complete report, empty content.
    """
    _check_now(now)
    actor = _actor(created_by)
    if not is_valid_code(code):
        raise ValidationError(f"Mã số theo dõi không hợp lệ: {code!r} / invalid tracking code {code!r}")
    _check_city(city)
    channel_v = _coerce(Channel, channel, "Kênh tiếp nhận", "channel")
    kind_v = _coerce(Kind, kind, "Loại phản ánh", "kind")
    priority_v = _coerce(Priority, priority, "Mức độ", "priority")
    category_v = _check_category(category, known_categories)
    place_v = _check_place(place, city)
    _check_caller(caller)
    if incident_time is not None:
        _check_now(incident_time, "incident_time")
    text = (content or "").strip()
    if complete and not text:
        raise ValidationError("Thiếu nội dung phản ánh / the report content is required")
    first = Status.NEW if complete else Status.DRAFT
    ticket = Ticket(
        code=code,
        channel=channel_v,
        kind=kind_v,
        category=category_v,
        priority=priority_v,
        caller=caller,
        place=place_v,
        content=text,
        created_at=now,
        created_by=actor,
        incident_time=incident_time,
        transcript=transcript,
        status=first,
        city=city,
    )
    ticket.history.append(Event(now, actor, Action.CREATE.value, None, first, channel_v.value))
    return ticket


_DRAFT_FIELDS = frozenset(
    {"content", "caller", "place", "incident_time", "category", "kind", "priority", "transcript", "channel"}
)


def complete_draft(ticket: Ticket, actor: str, now: datetime, **fields: Any) -> None:
    """Fill in a draft's missing fields and move it to "Mới tạo" once the content is there."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.COMPLETE_DRAFT)
    unknown = sorted(set(fields) - _DRAFT_FIELDS)
    if unknown:
        raise ValidationError(
            f"Trường không sửa được: {', '.join(unknown)} / fields that cannot be set: {', '.join(unknown)}"
        )
    values: dict[str, Any] = {}
    if "category" in fields:
        values["category"] = _check_category(fields["category"], None)
    if "channel" in fields:
        values["channel"] = _coerce(Channel, fields["channel"], "Kênh tiếp nhận", "channel")
    if "kind" in fields:
        values["kind"] = _coerce(Kind, fields["kind"], "Loại phản ánh", "kind")
    if "priority" in fields:
        values["priority"] = _coerce(Priority, fields["priority"], "Mức độ", "priority")
    if "place" in fields:
        values["place"] = _check_place(fields["place"], ticket.city)
    if "caller" in fields:
        _check_caller(fields["caller"])
        values["caller"] = fields["caller"]
    if fields.get("incident_time") is not None:
        _check_now(fields["incident_time"], "incident_time")
        values["incident_time"] = fields["incident_time"]
    if "transcript" in fields:
        values["transcript"] = fields["transcript"] or ""
    if "content" in fields:
        values["content"] = (fields["content"] or "").strip()
    if not values.get("content", ticket.content):
        raise ValidationError("Thiếu nội dung phản ánh / the report content is required")
    for name, value in values.items():
        setattr(ticket, name, value)
    _record(ticket, now, who, Action.COMPLETE_DRAFT, Status.NEW, ", ".join(sorted(values)))


# --- dispatch, acceptance, coordination, transfer ------------------------------------------------------


def dispatch(ticket: Ticket, agency: str, actor: str, now: datetime, note: str = "") -> None:
    """Send a new ticket to its lead agency (HN Art. 8); it then awaits the agency's acceptance."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.DISPATCH)
    lead = _agency(agency)
    ticket.lead_agency = lead
    ticket.dispatched_at = now
    _record(ticket, now, who, Action.DISPATCH, Status.DISPATCHED, f"{lead}: {note}" if note else lead)


def accept(ticket: Ticket, actor: str, now: datetime, note: str = "") -> None:
    """The lead agency accepts: "Đang xử lý" at once (HN Art. 9.1a)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.ACCEPT)
    ticket.accepted_at = now
    _record(ticket, now, who, Action.ACCEPT, Status.IN_PROGRESS, note)


def add_coordinator(ticket: Ticket, agency: str, actor: str, now: datetime, note: str = "") -> None:
    """ "Thêm đơn vị liên quan" (HN Art. 9.2a): a coordinating agency, neither the lead nor one twice."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.ADD_COORDINATOR)
    code = _agency(agency)
    if code == ticket.lead_agency:
        raise ValidationError(
            f"{code} là đơn vị chủ trì, không thể là đơn vị phối hợp / "
            f"{code} is the lead agency, not a coordinator"
        )
    if any(p.agency == code for p in ticket.coordinators):
        raise ValidationError(f"{code} đã là đơn vị phối hợp / {code} is already a coordinating agency")
    ticket.coordinators.append(CoordinatorPart(agency=code))
    _record(ticket, now, who, Action.ADD_COORDINATOR, None, f"{code}: {note}" if note else code)


def post_coordinator_part(ticket: Ticket, agency: str, text: str, actor: str, now: datetime) -> None:
    """A coordinating agency posts (or updates) its part of the answer (HN Art. 9.2b)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.POST_COORDINATOR_PART)
    code = _agency(agency)
    body = _text(text, "nội dung phối hợp", "the coordinator's text")
    index = next((i for i, p in enumerate(ticket.coordinators) if p.agency == code), None)
    if index is None:
        raise ValidationError(
            f"{code} không phải đơn vị phối hợp của phiếu {ticket.code} / "
            f"{code} is not a coordinating agency of ticket {ticket.code}"
        )
    ticket.coordinators[index] = CoordinatorPart(agency=code, text=body, posted_at=now, actor=who)
    _record(ticket, now, who, Action.POST_COORDINATOR_PART, None, f"{code}: {body}")


def transfer(ticket: Ticket, new_agency: str, reason: str, actor: str, now: datetime) -> None:
    """ "Thay đổi đơn vị tiếp nhận" (HN Art. 9.3): to the competent agency, with a reason.

    The ticket goes back to "dispatched" until the new agency accepts it.
    """
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.TRANSFER)
    code = _agency(new_agency)
    why = _text(reason, "lý do chuyển", "a transfer reason")
    if code == ticket.lead_agency:
        raise ValidationError(f"Phiếu đã thuộc đơn vị {code} / the ticket is already with {code}")
    if any(p.agency == code for p in ticket.coordinators):
        raise ValidationError(
            f"{code} đang là đơn vị phối hợp của phiếu / {code} is a coordinating agency of this ticket"
        )
    old = ticket.lead_agency
    ticket.lead_agency = code
    ticket.dispatched_at = now
    ticket.accepted_at = None
    _record(ticket, now, who, Action.TRANSFER, Status.DISPATCHED, f"{old} -> {code}: {why}")


# --- result: direct completion or the iHanoi draft/approval -------------------------------------------


def draft_result(ticket: Ticket, text: str, actor: str, now: datetime) -> None:
    """The officer submits the consolidated result for the head's approval (iHN Art. 8.1d, 12.1)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.DRAFT_RESULT)
    body = _text(text, "nội dung kết quả xử lý", "a result text")
    _check_coordinators_posted(ticket)
    ticket.draft_result = body
    _record(ticket, now, who, Action.DRAFT_RESULT, Status.AWAITING_APPROVAL, body)


def approve_result(ticket: Ticket, actor: str, now: datetime, note: str = "") -> None:
    """The head approves the draft: done, with the same evidence rule as :func:`complete`."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.APPROVE_RESULT)
    _text(ticket.draft_result, "nội dung kết quả xử lý", "a result text")
    _check_evidence(ticket)
    ticket.result = ticket.draft_result
    ticket.closed_at = now
    _record(ticket, now, who, Action.APPROVE_RESULT, Status.DONE, note)


def send_back(ticket: Ticket, reason: str, actor: str, now: datetime) -> None:
    """The head refuses the draft and sends it back for rework, with a reason (iHN Art. 12.1)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.SEND_BACK)
    why = _text(reason, "lý do trả lại", "a reason for sending back")
    _record(ticket, now, who, Action.SEND_BACK, Status.IN_PROGRESS, why)


def complete(ticket: Ticket, result: str, actor: str, now: datetime) -> None:
    """Done: needs a result text, >= 1 evidence attachment and every coordinator's part (HN Art. 9.2c, 10)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.COMPLETE)
    body = _text(result, "kết quả xử lý", "a result text")
    _check_evidence(ticket)
    _check_coordinators_posted(ticket)
    ticket.result = body
    ticket.closed_at = now
    _record(ticket, now, who, Action.COMPLETE, Status.DONE, body)


def reject(ticket: Ticket, reason: str, actor: str, now: datetime) -> None:
    """ "Từ chối" with a specific reason (HN Art. 10.2; iHN Art. 7.2), before the result is drafted."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.REJECT)
    why = _text(reason, "lý do từ chối", "a rejection reason")
    ticket.rejection_reason = why
    ticket.closed_at = now
    _record(ticket, now, who, Action.REJECT, Status.REJECTED, why)


def mark_duplicate(ticket: Ticket, original: Ticket, actor: str, now: datetime) -> None:
    """Reject as a duplicate of an already accepted report, linked to it (HN Art. 6.2b)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.MARK_DUPLICATE)
    if original is ticket or original.code == ticket.code:
        raise ValidationError("Phiếu không thể trùng với chính nó / a ticket cannot duplicate itself")
    if original.status not in _ACCEPTED:
        raise ValidationError(
            f"Phiếu gốc {original.code} chưa được tiếp nhận xử lý (trạng thái «{original.status.value}») / "
            f"the original {original.code} has not been accepted (status '{original.status.value}')"
        )
    why = (
        f"Trùng với phản ánh {original.code} đã được tiếp nhận (HN Điều 6.2b) / "
        f"duplicate of {original.code}, already accepted"
    )
    ticket.duplicate_of = original.code
    ticket.rejection_reason = why
    ticket.closed_at = now
    _record(ticket, now, who, Action.MARK_DUPLICATE, Status.REJECTED, why)


# --- deadlines: extension, overdue flag, escalation ----------------------------------------------------


def extend(ticket: Ticket, new_due_at: datetime, reason: str, actor: str, now: datetime) -> None:
    """Record the one allowed extension (HN Art. 9.5; CT Art. 9: "không quá 01 lần").

    ``new_due_at`` is computed and capped by :mod:`ticketing.domain.sla`; here: open, not yet overdue,
    no earlier extension, a reason, and a due time later than the current one.
    """
    _check_now(now)
    _check_now(new_due_at, "new_due_at")
    who = _actor(actor)
    _check_status(ticket, Action.EXTEND)
    why = _text(reason, "lý do gia hạn", "an extension reason")
    if ticket.extensions >= 1:
        raise ValidationError(
            f"Phiếu {ticket.code} đã được gia hạn một lần; chỉ được gia hạn một lần / "
            f"ticket {ticket.code} was already extended once; only one extension is allowed"
        )
    if ticket.overdue:
        raise ValidationError(
            f"Phiếu {ticket.code} đã quá hạn, không thể gia hạn / ticket {ticket.code} is already overdue"
        )
    if new_due_at <= now or (ticket.due_at is not None and new_due_at <= ticket.due_at):
        raise ValidationError(
            "Hạn mới phải sau hạn hiện tại / the new due time must be later than the current one"
        )
    old = ticket.due_at
    ticket.due_at = new_due_at
    ticket.extensions += 1
    old_text = old.isoformat() if old else "-"
    _record(ticket, now, who, Action.EXTEND, None, f"{old_text} -> {new_due_at.isoformat()}: {why}")


def mark_overdue(ticket: Ticket, reason: str, now: datetime) -> None:
    """Flag "Quá hạn" (HN Art. 9.7; CT Art. 9 step 4): a flag on an open ticket, not a status."""
    _check_now(now)
    _check_status(ticket, Action.MARK_OVERDUE)
    why = _text(reason, "lý do quá hạn", "an overdue reason")
    if ticket.overdue:
        raise TransitionError(
            f"Phiếu {ticket.code} đã ở trạng thái quá hạn / ticket {ticket.code} is already overdue"
        )
    ticket.overdue = True
    ticket.overdue_reason = why
    _record(ticket, now, SYSTEM_ACTOR, Action.MARK_OVERDUE, None, why)


def escalate(ticket: Ticket, level: int, note: str, now: datetime) -> None:
    """Move an open ticket up the city's escalation ladder (CT Art. 9 step 3); levels only go up."""
    _check_now(now)
    _check_status(ticket, Action.ESCALATE)
    if isinstance(level, bool) or not isinstance(level, int) or level <= ticket.escalation_level:
        raise ValidationError(
            f"Cấp chuyển phải cao hơn cấp hiện tại {ticket.escalation_level} / "
            f"the escalation level must be above the current level {ticket.escalation_level}"
        )
    old = ticket.escalation_level
    ticket.escalation_level = level
    _record(ticket, now, SYSTEM_ACTOR, Action.ESCALATE, None, f"{old} -> {level}: {note}".rstrip(": "))


# --- citizen side: rating and clarification ------------------------------------------------------------


def rate(ticket: Ticket, rating: Rating | str, actor: str, now: datetime) -> None:
    """The citizen rates the handling once the result or rejection is known (iHN Art. 13; CT Art. 10.2)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.RATE)
    value = _coerce(Rating, rating, "Mức đánh giá", "rating")
    if ticket.rating is not None:
        raise ValidationError(
            f"Phiếu {ticket.code} đã được đánh giá / ticket {ticket.code} was already rated"
        )
    ticket.rating = value
    ticket.rated_at = now
    _record(ticket, now, who, Action.RATE, None, value.value)


def clarification_deadline(closed_at: datetime) -> date:
    """Last local calendar day on which a clarification may be requested (iHN Art. 13: 02 days)."""
    return closed_at.astimezone(LOCAL_TZ).date() + timedelta(days=CLARIFICATION_DAYS)


def request_clarification(ticket: Ticket, text: str, actor: str, now: datetime) -> None:
    """The citizen asks for the result to be clarified, within 2 days of receiving it (iHN Art. 13)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.REQUEST_CLARIFICATION)
    body = _text(text, "nội dung cần làm rõ", "the clarification request")
    if ticket.clarification_request:
        raise ValidationError(
            f"Phiếu {ticket.code} đã có yêu cầu làm rõ / "
            f"ticket {ticket.code} already has a clarification request"
        )
    closed_at = ticket.closed_at or ticket.created_at  # set by complete/approve_result on every DONE ticket
    if now.astimezone(LOCAL_TZ).date() > clarification_deadline(closed_at):
        raise ValidationError(
            "Đã quá 02 ngày kể từ khi nhận kết quả, không thể yêu cầu làm rõ (iHN Điều 13) / "
            "clarification can only be requested within 2 days of the result"
        )
    ticket.clarification_request = body
    ticket.clarification_requested_at = now
    _record(ticket, now, who, Action.REQUEST_CLARIFICATION, None, body)


def answer_clarification(ticket: Ticket, text: str, actor: str, now: datetime) -> None:
    """The agency answers the pending clarification request (within 2 working days, iHN Art. 13)."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.ANSWER_CLARIFICATION)
    body = _text(text, "nội dung trả lời", "an answer")
    if not ticket.clarification_request:
        raise ValidationError(
            f"Phiếu {ticket.code} không có yêu cầu làm rõ / ticket {ticket.code} has no clarification request"
        )
    if ticket.clarification_answer:
        raise ValidationError(
            f"Yêu cầu làm rõ của phiếu {ticket.code} đã được trả lời / "
            f"the clarification request of {ticket.code} was already answered"
        )
    ticket.clarification_answer = body
    _record(ticket, now, who, Action.ANSWER_CLARIFICATION, None, body)


# --- attachments ---------------------------------------------------------------------------------------


def add_attachment(ticket: Ticket, attachment: Attachment, actor: str, now: datetime) -> None:
    """Attach a stored file (recording, photo, evidence...); the same file twice as one kind is refused."""
    _check_now(now)
    who = _actor(actor)
    _check_status(ticket, Action.ADD_ATTACHMENT)
    if not _SHA256.fullmatch(attachment.sha256):
        raise ValidationError(
            "Mã sha256 của tệp không hợp lệ / an attachment needs a 64-character lowercase hex sha256"
        )
    kind = _coerce(AttachmentKind, attachment.kind, "Loại tệp", "attachment kind")
    if attachment.size < 0:
        raise ValidationError("Kích thước tệp không hợp lệ / the attachment size cannot be negative")
    if any(a.sha256 == attachment.sha256 and a.kind == kind for a in ticket.attachments):
        raise ValidationError(
            f"Tệp {attachment.filename} đã được đính kèm / "
            f"{attachment.filename} is already attached as {kind}"
        )
    ticket.attachments.append(replace(attachment, kind=kind))
    _record(ticket, now, who, Action.ADD_ATTACHMENT, None, f"{kind.value}: {attachment.filename}")

"""The REST API's answer shapes (documented in the OpenAPI schema) and their builders from the staff
service's views. Personal data arrives already masked by the service; nothing is unmasked here."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ticketing.access import Actor
from ticketing.staff import QueuePage, TicketView


class GrantOut(BaseModel):
    role: str
    agency: str | None


class Me(BaseModel):
    username: str
    display_name: str
    grants: list[GrantOut]


class QueueItemOut(BaseModel):
    code: str
    status: str
    priority: str
    category: str
    ward_name: str
    address: str
    summary: str
    lead_agency: str
    created_at: datetime
    due: datetime | None
    hours_left: float | None
    state: str
    assignee: str


class QueuePageOut(BaseModel):
    items: list[QueueItemOut]
    total: int
    page: int
    pages: int
    agency: str


class CallerOut(BaseModel):
    name: str
    cccd: str
    phone: str
    address: str
    email: str
    confidential: bool
    masked: bool
    hidden: bool


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class AttachmentOut(BaseModel):
    sha256: str
    kind: str
    filename: str
    media_type: str
    size: int


class TicketOut(BaseModel):
    code: str
    status: str
    channel: str
    kind: str
    category: str
    priority: str
    content: str
    address: str
    ward_code: str
    ward_name: str
    lat: float | None
    long: float | None
    lead_agency: str
    coordinators: list[str]
    created_at: datetime
    dispatch_due: datetime | None
    due_at: datetime | None
    overdue: bool
    draft_result: str
    result: str
    rejection_reason: str
    rating: str | None
    clarification_request: str
    clarification_answer: str
    caller: CallerOut
    attachments: list[AttachmentOut]
    history: list[EventOut]
    actions: list[str]
    assignee: str
    published: bool


class MovedOut(BaseModel):
    code: str
    status: str
    lead_agency: str


class CreatedOut(BaseModel):
    code: str
    status: str


class DossierOut(BaseModel):
    code: str
    status: str
    procedure: str
    due_date: str


def me(actor: Actor) -> dict[str, Any]:
    return {
        "username": actor.username,
        "display_name": actor.display_name,
        "grants": [{"role": g.role.value, "agency": g.agency} for g in actor.grants],
    }


def _hours(left: timedelta | None) -> float | None:
    return round(left.total_seconds() / 3600, 2) if left is not None else None


def queue_page(page: QueuePage) -> dict[str, Any]:
    items = []
    for i in page.items:
        items.append(
            {
                "code": i.code,
                "status": i.status.value,
                "priority": i.priority.value,
                "category": i.category,
                "ward_name": i.ward_name,
                "address": i.address,
                "summary": i.summary,
                "lead_agency": i.lead_agency,
                "created_at": i.created_at,
                "due": i.due,
                "hours_left": _hours(i.left),
                "state": i.state,
                "assignee": i.assignee,
            }
        )
    return {
        "items": items,
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "agency": page.agency,
    }


def ticket(view: TicketView) -> dict[str, Any]:
    t = view.ticket
    c = view.caller
    return {
        "code": t.code,
        "status": t.status.value,
        "channel": t.channel.value,
        "kind": t.kind.value,
        "category": t.category,
        "priority": t.priority.value,
        "content": t.content,
        "address": t.place.address,
        "ward_code": t.place.ward_code,
        "ward_name": t.place.ward_name,
        "lat": t.place.lat,
        "long": t.place.lon,
        "lead_agency": t.lead_agency,
        "coordinators": [p.agency for p in t.coordinators],
        "created_at": t.created_at,
        "dispatch_due": t.dispatch_due,
        "due_at": t.due_at,
        "overdue": t.overdue,
        "draft_result": t.draft_result,
        "result": t.result,
        "rejection_reason": t.rejection_reason,
        "rating": t.rating.value if t.rating else None,
        "clarification_request": t.clarification_request,
        "clarification_answer": t.clarification_answer,
        "caller": {**c.as_dict(), "masked": c.masked, "hidden": c.hidden},
        "attachments": [
            {
                "sha256": a.sha256,
                "kind": a.kind.value,
                "filename": a.filename,
                "media_type": a.media_type,
                "size": a.size,
            }
            for a in t.attachments
        ],
        "history": [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value if e.to_status else None,
                "note": e.note,
            }
            for e in t.history
        ],
        "actions": list(view.actions),
        "assignee": view.assignee,
        "published": view.published,
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def report(rep: Any) -> dict[str, Any]:
    """A report (no personal data) as plain JSON."""
    out: dict[str, Any] = _plain(rep)
    return out

"""What the public doors (Open311, the public pages, webhooks) may show of a ticket.

:func:`public_view` is the one projection: it never carries the caller (name, CCCD, phone, e-mail,
address) and strips the caller's own name, phone and CCCD out of the free texts (the report, the
result) where a caller or an operator wrote them in. A result, its evidence photos and the
clarification exchange are public only once the agency's head approved its publication (which
tickets are published comes from :class:`Publication`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

import reference
from ticketing.domain.model import Attachment, AttachmentKind, Caller, Status, Ticket
from ticketing.ports import TicketQuery
from ticketing.privacy import redact_text

REDACTED = "***"
PUBLIC_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class PublicTicket:
    code: str
    status: Status
    is_open: bool
    category: str
    category_name: str
    channel: str
    content: str
    address: str
    ward_code: str
    ward_name: str
    city: str
    lat: float | None  # where the issue is (the reporter's given position), WGS 84
    lon: float | None
    lead_agency: str
    created_at: datetime
    updated_at: datetime
    expected_at: datetime | None  # the running deadline: dispatch, then handling
    closed_at: datetime | None
    published: bool
    result: str  # the published result
    evidence: tuple[Attachment, ...]  # public photos of the approved result
    rating: str
    clarification_request: str
    clarification_answer: str
    overdue: bool


@lru_cache(maxsize=4096)
def _identity_pattern(name: str, phone: str, cccd: str) -> re.Pattern[str] | None:
    """One pattern for a caller's name, phone and CCCD (cached: lists show the same callers often)."""
    parts: list[str] = []
    name = " ".join(name.split())
    if len(name) >= 3:
        parts.append(r"\s+".join(map(re.escape, name.split())))
    for number in (phone, cccd):
        digits = re.sub(r"\D", "", number)
        if len(digits) >= 6:
            # the same digits written with spaces, dots or dashes between them, and +84 for a leading 0
            body = r"[\s.\-]?".join(digits.lstrip("0"))
            lead = r"(?:\+?84[\s.\-]?|0)?" if digits.startswith("0") else ""
            parts.append(rf"(?<!\d){lead}{body}(?!\d)")
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


# Whoever's they are, a citizen ID (12 digits) or a mobile/landline number never goes public.
_ANY_ID = re.compile(r"(?<!\d)\d{3}[\s.\-]?\d{3}[\s.\-]?\d{6}(?!\d)")
_ANY_PHONE = re.compile(r"(?<![\d+])(?:\+?84[\s.\-]?|0)[1-9](?:[\s.\-]?\d){8,9}(?!\d)")


def scrub(text: str, caller: Caller) -> str:
    """``text`` with the caller's name, phone and CCCD, and any citizen ID or phone number, replaced
    by ``***``."""
    if not text:
        return text
    return _scrubbed(text, caller.name, caller.phone, caller.cccd, caller.email)


@lru_cache(maxsize=8192)
def _scrubbed(text: str, name: str, phone: str, cccd: str, email: str) -> str:
    """:func:`scrub` of everything it depends on, kept: the public lists are re-rendered whenever
    anything changes, and then mask the same texts of the same callers again."""
    caller = Caller(name=name, cccd=cccd, phone=phone, email=email)
    # the one masking policy, as for a confidential caller: the public never learns who reported
    text = redact_text(text, dataclasses.replace(caller, confidential=True))
    pat = _identity_pattern(caller.name, caller.phone, caller.cccd)
    if pat is not None:
        text = pat.sub(REDACTED, text)
    return _ANY_PHONE.sub(REDACTED, _ANY_ID.sub(REDACTED, text))


class Publication(Protocol):
    def stamp(self) -> tuple[object, ...]:
        """A value that changes whenever a public view may have changed (for answer caches)."""
        ...

    def kept_stamp(self) -> tuple[object, ...] | None:
        """What :meth:`stamp` would return without reading the database, else None."""
        ...

    def published(self, codes: Sequence[str]) -> set[str]:
        """The codes among ``codes`` whose result is public."""
        ...

    def find(self, query: TicketQuery) -> list[Ticket]:
        """Published tickets matching ``query``, newest first."""
        ...

    def views(self, query: TicketQuery, *, published_only: bool = False) -> list[PublicTicket]:
        """The public views of the tickets matching ``query`` (drafts never), newest first."""
        ...


def is_public_attachment(att: Attachment, published: bool) -> bool:
    return published and att.kind is AttachmentKind.EVIDENCE and att.media_type in PUBLIC_IMAGE_TYPES


def public_view(ticket: Ticket, published: bool = False, updated_at: datetime | None = None) -> PublicTicket:
    """The public face of ``ticket``; ``published``: its head approved publishing the result;
    ``updated_at``: its last change when its history is not loaded."""
    t = ticket
    cat = reference.categories().get(t.category)
    if t.status in (Status.NEW, Status.DRAFT):
        expected = t.dispatch_due
    elif t.status.is_closed:
        expected = None
    else:
        expected = t.due_at or t.dispatch_due
    published = published and t.status is Status.DONE
    return PublicTicket(
        code=t.code,
        status=t.status,
        is_open=not t.status.is_closed,
        category=t.category,
        category_name=cat.name if cat else t.category,
        channel=t.channel.value,
        content=scrub(t.content, t.caller),
        address=scrub(t.place.address, t.caller),
        ward_code=t.place.ward_code,
        ward_name=t.place.ward_name,
        city=t.city,
        lat=t.place.lat,
        lon=t.place.lon,
        lead_agency=t.lead_agency,
        created_at=t.created_at,
        updated_at=updated_at or (t.history[-1].at if t.history else t.created_at),
        expected_at=expected,
        closed_at=t.closed_at,
        published=published,
        result=scrub(t.result, t.caller) if published else "",
        evidence=tuple(a for a in t.attachments if is_public_attachment(a, published)),
        rating=t.rating.value if t.rating else "",
        clarification_request=scrub(t.clarification_request, t.caller) if published else "",
        clarification_answer=scrub(t.clarification_answer, t.caller) if published else "",
        overdue=t.overdue,
    )

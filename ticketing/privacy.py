"""The one masking policy for callers' personal data (CCCD, phone, e-mail, confidential identities).

Every front door shows a caller through :func:`caller_view`: the CLI (``--show-personal`` or not), the
staff portal (by the acting user's permissions, see :mod:`ticketing.staff`) and the public pages.
A confidential caller (iHN Art. 5.7) is hidden entirely unless the viewer may see that identity, and
such a view is audited by the service that grants it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ticketing.domain.model import Caller, Ticket

HIDDEN = "(ẩn danh / confidential)"


def mask(value: str, keep: int = 2) -> str:
    """``0912345678`` -> ``09******78``; short values are fully masked."""
    value = value.strip()
    if not value:
        return ""
    if len(value) <= 2 * keep + 1:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    return mask(local) + (at + domain if at else "")


@dataclass(frozen=True)
class CallerView:
    """What a viewer sees of a caller; ``masked``/``hidden`` say what was withheld."""

    name: str
    cccd: str
    phone: str
    address: str
    email: str
    confidential: bool
    masked: bool  # contact data masked
    hidden: bool  # a confidential identity withheld

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cccd": self.cccd,
            "phone": self.phone,
            "address": self.address,
            "email": self.email,
            "confidential": self.confidential,
        }


def view_caller(caller: Caller, *, contact: bool, confidential: bool) -> CallerView:
    """The caller as a viewer sees it: ``contact`` - may see phone/CCCD/e-mail unmasked;
    ``confidential`` - may see a confidential caller's identity at all."""
    c = caller
    if c.confidential and not confidential:
        return CallerView(HIDDEN, "", "", "", "", True, masked=True, hidden=True)
    if contact:
        return CallerView(c.name, c.cccd, c.phone, c.address, c.email, c.confidential, False, False)
    return CallerView(
        c.name, mask(c.cccd), mask(c.phone), c.address, mask_email(c.email), c.confidential, True, False
    )


def caller_view(t: Ticket, show_personal: bool) -> dict[str, Any]:
    """The CLI's view: everything with ``show_personal``, else masked with confidential callers hidden."""
    if show_personal:
        return dataclasses.asdict(t.caller)
    return view_caller(t.caller, contact=False, confidential=False).as_dict()


def reveals_confidential(caller: Caller, view: CallerView) -> bool:
    """Whether showing ``view`` shows a confidential caller's identity (to be audited)."""
    return caller.confidential and not view.hidden

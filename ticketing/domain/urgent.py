"""Urgent reports (HP Art. 9.1): where an urgent call goes, and the duty phone numbers that take it.

An urgent report still goes to the head of the operator queue. When the competent agency (routing by
category and ward) has a duty phone, the caller is forwarded there if no operator answers within
``wait_s`` seconds, and out of operators' hours the call goes straight to the duty phone. The draft is
sent to the duty phone by SMS at once, whatever happens to the call. Pure rules, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ticketing.domain.errors import ValidationError

_SEPARATORS = re.compile(r"[\s.\-()]")
# Mobile: 0 + 9 digits starting 3/5/7/8/9; landline: 02 + 9 digits (area code 2xx + subscriber).
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")


def normalize_duty_phone(phone: str) -> str:
    """A Vietnamese mobile or landline number in national form (``0...``); ``+84``/``84`` prefixes
    are accepted. Raises :class:`ValidationError` otherwise. Empty clears the duty phone."""
    compact = _SEPARATORS.sub("", phone.strip())
    if not compact:
        return ""
    if compact.startswith("+84"):
        compact = "0" + compact[3:]
    elif compact.startswith("84") and len(compact) in (11, 12):
        compact = "0" + compact[2:]
    if _MOBILE.fullmatch(compact) or _LANDLINE.fullmatch(compact):
        return compact
    raise ValidationError(
        f"Số điện thoại trực không hợp lệ: {phone!r} (cần số di động 10 chữ số hoặc số cố định "
        f"11 chữ số, ví dụ 0912345678, 02253123456) / not a Vietnamese mobile or landline number"
    )


class UrgentRoute(StrEnum):
    QUEUE = "queue"  # operators only (no duty phone known)
    QUEUE_THEN_DUTY = "queue_then_duty"  # head of the queue; the duty phone after wait_s
    DUTY = "duty"  # straight to the duty phone (out of operators' hours, or none logged in)


@dataclass(frozen=True)
class UrgentPlan:
    route: UrgentRoute
    duty_phone: str = ""
    agency: str = ""
    wait_s: int = 0  # seconds the caller waits for an operator before the duty phone

    @property
    def sms_to_duty(self) -> bool:
        """The draft goes to the duty phone by SMS at once whenever there is one."""
        return bool(self.duty_phone)


def plan_urgent(*, operators_on_duty: bool, agency: str, duty_phone: str, wait_s: int) -> UrgentPlan:
    """Where an urgent call goes. ``operators_on_duty``: within operators' hours with an operator
    logged in; ``duty_phone`` of the competent ``agency`` ("" when none is set)."""
    if wait_s < 0:
        raise ValidationError(f"wait_s must be >= 0, got {wait_s}")
    if not duty_phone:
        return UrgentPlan(UrgentRoute.QUEUE, "", agency, 0)
    if not operators_on_duty:
        return UrgentPlan(UrgentRoute.DUTY, duty_phone, agency, 0)
    return UrgentPlan(UrgentRoute.QUEUE_THEN_DUTY, duty_phone, agency, wait_s)

"""Whether an operator can take a call now (operators' hours, AMI queue state), and the draft
summary published for operator screens as the AMI UserEvent ``HotlineDraft``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from nlu.dialogue.draft import Draft
from pbx.ami import AmiError, AmiMonitor

log = logging.getLogger(__name__)

DRAFT_EVENT = "HotlineDraft"
QUEUES = ("operators", "operators-urgent")


def parse_hours(spans: list[str]) -> list[tuple[time, time]]:
    """``["07:00-22:00"]`` -> time pairs; "24:00" is the end of the day."""
    out = []
    for span in spans:
        start, _, end = span.partition("-")
        t1 = time.fromisoformat(start.strip())
        t2 = time.max if end.strip() == "24:00" else time.fromisoformat(end.strip())
        out.append((t1, t2))
    return out


def within(spans: list[tuple[time, time]], now: datetime) -> bool:
    if not spans:
        return True
    t = now.time()
    return any(a <= t < b if a <= b else (t >= a or t < b) for a, b in spans)


def draft_summary(draft: Draft | None) -> dict[str, str]:
    if draft is None:
        return {"Summary": "(không có bản nháp)"}
    parts = [
        ("Loại", draft.kind),
        ("Lĩnh vực", draft.category),
        ("Khẩn", "có" if draft.urgent else "không"),
        ("Họ tên", draft.name),
        ("Điện thoại", draft.phone or draft.caller_id),
        ("Phường/xã", draft.ward),
        ("Địa điểm", draft.address),
        ("Thời gian", draft.incident_time or draft.time_text),
        ("Nội dung", draft.content),
        ("Còn thiếu", ", ".join(draft.missing())),
    ]
    return {
        "Summary": "; ".join(f"{k}: {v}" for k, v in parts if v),
        "Missing": ",".join(draft.missing()),
        "Category": draft.category,
        "Ward": draft.ward,
        "Urgent": "1" if draft.urgent else "0",
    }


class AmiOperatorDesk:
    def __init__(
        self,
        ami: Callable[[], AmiMonitor | None],
        hours: list[str],
        tz: str = "Asia/Ho_Chi_Minh",
        require_operator: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._ami = ami
        self._hours = parse_hours(hours)
        self._tz = ZoneInfo(tz)
        self._require = require_operator
        self._clock = clock or (lambda: datetime.now(self._tz))

    async def unavailable(self, urgent: bool) -> str:
        if not within(self._hours, self._clock().astimezone(self._tz)):
            return "after_hours"
        ami = self._ami()
        if not self._require:
            return ""
        if ami is None:
            log.warning("no AMI connection: cannot tell whether an operator is logged in; queueing")
            return ""
        try:
            states = await ami.queue_states()
        except AmiError as exc:
            log.warning("queue state unavailable (%s); queueing the caller", exc)
            return ""
        wanted = QUEUES[1] if urgent else QUEUES[0]
        logged = sum(q.operators_logged_in for q in states if q.name == wanted)
        return "" if logged > 0 else "no_operator"

    async def announce(self, channel_id: str, draft_id: str, draft: Draft | None, reason: str) -> None:
        ami = self._ami()
        if ami is None:
            log.warning("no AMI connection: the draft %s is not published to operator screens", draft_id)
            return
        fields = {"Uniqueid": channel_id, "Draft": draft_id, "Reason": reason, **draft_summary(draft)}
        await ami.user_event(DRAFT_EVENT, fields)

"""The report's arithmetic (pure): rates, thresholds of HN Art. 12.7, durations as text."""

from __future__ import annotations

LATE_SHARE_FLAG = 0.30  # HN Art. 12.7: agencies with more than 30 % late tickets in the month
REPEAT_FLAG = 5  # HN Art. 12.7: issues reported 5 or more times without resolution


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide (shown as "-")."""
    return part / whole if whole else None


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def late_flag(overdue: int, received: int) -> bool:
    """More than 30 % of the agency's tickets are late (strictly more, as the regulation says)."""
    share = rate(overdue, received)
    return share is not None and share > LATE_SHARE_FLAG


def minutes_seconds(seconds: float | None) -> str:
    """``185.4`` -> ``"3:05"`` (m:ss); None -> ``"-"``."""
    if seconds is None:
        return "-"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"

"""Times and dates in Vietnamese speech, resolved against the caller's "now".

Understands relative days (hôm nay, hôm qua, hôm kia, tối qua, đêm qua, sáng nay, ngày mai),
weekdays (thứ hai tuần này, chủ nhật tuần trước), dates (ngày hai mươi tháng mười một [năm ...],
mùng năm tháng ba, 20/11), clock times (tám giờ, chín giờ rưỡi, mười giờ ba mươi, tám giờ kém mười lăm,
8h30, 21:00) with the part of the day (sáng, trưa, chiều, tối, đêm, khuya), and offsets (cách đây mười
phút, hai tiếng trước, ba hôm trước).

The slot value is "YYYY-MM-DDTHH:MM" when a time of day is known, else "YYYY-MM-DD"; with nothing
recognisable the answer is None. A date without a year is taken in the current year unless that puts
it more than half a year ahead, then in the previous one (callers report what already happened).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from nlu.normalize.numbers import numeralize
from nlu.normalize.text import fold, tokens


def _f(*words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


_NGAY, _THANG, _NAM = fold("ngày"), fold("tháng"), fold("năm")
_MUNG = _f("mùng", "mồng")
_HOM = _f("hôm", "bữa")
_GIO = _f("giờ", "h")
_PHUT = fold("phút")
_TIENG = fold("tiếng")
_RUOI = _f("rưỡi", "rưởi")
_KEM = fold("kém")
_THU = fold("thứ")
_CHU, _NHAT = fold("chủ"), fold("nhật")
_TUAN = fold("tuần")
_CACH, _DAY = fold("cách"), fold("đây")
_TRUOC = _f("trước")
_NUA = fold("nửa")
# "mấy hôm nay", "các tối", "hằng đêm": a span of days or a habit, not one time.
_VAGUE_BEFORE = _f("mấy", "các", "những", "mọi", "hằng", "hàng", "vài", "suốt")
# "cách đây khoảng mười phút", "cách đây độ nửa tiếng".
_HEDGES = _f("khoảng", "tầm", "độ", "chừng", "cỡ", "gần", "hơn", "được", "mới", "có")
# Streets named after dates: "đường ba tháng hai", "phố mười chín tháng năm".
_STREET = _f("đường", "phố")
_ORDINAL_BEFORE = _f("lần", "người", "hạng", "số", "giải", "tầng", "con", "đứa", "cái", "vợ", "chồng")
_DAY_WORDS = {
    (fold("hôm"), fold("nay")): 0,
    (fold("bữa"), fold("nay")): 0,
    (fold("hôm"), fold("qua")): -1,
    (fold("bữa"), fold("qua")): -1,
    (fold("hôm"), fold("kia")): -2,
    (fold("hôm"), fold("kìa")): -3,
    (fold("ngày"), fold("mai")): 1,
    (fold("ngày"), fold("kia")): 2,
}
_AFTER_PART = {fold("nay"): 0, fold("qua"): -1, fold("mai"): 1}
_PARTS = {
    fold("sáng"): "sáng",
    fold("trưa"): "trưa",
    fold("chiều"): "chiều",
    fold("tối"): "tối",
    fold("đêm"): "đêm",
    fold("khuya"): "đêm",
}
_NOT_PART_BEFORE = (
    _f("ngược", "một", "hai", "1", "2", "đèn", "chiếu", "ánh", "phát", "bật", "nuông", "thắp") | _VAGUE_BEFORE
)
_NOT_PART_AFTER = _f("dài", "rộng", "cao", "sâu", "đa", "thiểu", "ưu", "mật", "tăm", "om", "sủa", "suốt")
_WEEK_SHIFT = {
    (fold("này"),): 0,
    (fold("nay"),): 0,
    (fold("trước"),): -7,
    (fold("rồi"),): -7,
    (fold("vừa"), fold("rồi")): -7,
    (fold("vừa"), fold("qua")): -7,
    (fold("trước"), fold("nữa")): -14,
    (fold("sau"),): 7,
    (fold("tới"),): 7,
}
_MONTH_WORDS = {fold("giêng"): 1, fold("chạp"): 12}
_THIS = _f("này")
_UNIT_MINUTES = {fold("phút"): 1, fold("tiếng"): 60, fold("giờ"): 60}
_UNIT_DAYS = {fold("ngày"): 1, fold("hôm"): 1, fold("tuần"): 7}

# Written dossier codes ("000.00.12.H26-260929-0045", "H26-260929-0045") hold no date or time of day.
_CODE_RE = re.compile(r"(?:\b\d{3}\.\d{2}\.\d{2}\.)?\b[a-z]\d{2}-\d{6}-\d{4}\b")
_COLON_RE = re.compile(r"\b(\d{1,2})\s*[:hg]\s*(\d{2})\b")
_H_RE = re.compile(r"\b(\d{1,2})h\b")
_SLASH_DATE_RE = re.compile(r"\b(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{4}))?\b")


def _num(tok: str) -> int | None:
    return int(tok) if tok.isascii() and tok.isdigit() else None


def _slash_date(m: re.Match[str]) -> str:
    before = m.string[: m.start()].split()
    if before and fold(before[-1]) in _STREET:
        return f" {m[0]} "  # a street named after a date ("đường 3/2"), not a date
    return f" ngày {m[1]} tháng {m[2]}" + (f" năm {m[3]} " if m[3] else " ")


def _prepare(text: str) -> list[str]:
    text = _CODE_RE.sub(" ", text.lower())
    text = _COLON_RE.sub(r" \1 giờ \2 ", text)
    text = _H_RE.sub(r" \1 giờ ", text)
    text = _SLASH_DATE_RE.sub(_slash_date, text)
    return numeralize([fold(t) for t in tokens(text)])


@dataclass
class _Found:
    day: date | None = None
    relative_day: bool = False  # the day came from "qua", "hôm qua"... (a night belongs to it)
    part: str | None = None
    hour: int | None = None
    minute: int = 0


def _offset(toks: list[str], now: datetime) -> datetime | date | None:
    """ "cách đây N phút", "N tiếng (rưỡi) trước", "ba hôm trước", "nửa tiếng trước"."""
    n = len(toks)
    for i in range(n - 1):
        if toks[i] == _NUA:
            amount = 0.5
        else:
            v = _num(toks[i])
            if v is None or (i > 0 and (toks[i - 1] in (_THU, _NGAY) or toks[i - 1] in _MUNG)):
                continue
            amount = float(v)
        unit = toks[i + 1]
        if unit not in _UNIT_MINUTES and unit not in _UNIT_DAYS:
            continue
        j = i + 2
        half = j < n and toks[j] in _RUOI and unit in (_TIENG, _GIO_WORD)
        if half:
            j += 1
        k = i - 1
        while k >= 2 and toks[k] in _HEDGES:
            k -= 1
        before = k >= 1 and toks[k - 1] == _CACH and toks[k] == _DAY
        after = j < n and toks[j] in _TRUOC
        if not (before or after):
            continue
        try:  # "hai tỷ ngày trước": an offset past the calendar's range is no time at all
            if unit in _UNIT_MINUTES:
                minutes = amount * _UNIT_MINUTES[unit] + (30 if half else 0)
                return (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
            if amount == int(amount):
                return now.date() - timedelta(days=int(amount) * _UNIT_DAYS[unit])
        except (OverflowError, ValueError):
            return None
    return None


_GIO_WORD = fold("giờ")


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit_date(toks: list[str], i: int, today: date) -> tuple[date | None, int] | None:
    """Date starting at i: "ngày D [tháng M [năm Y]]", "mùng D ...", "D tháng M"."""
    n = len(toks)
    j = i
    counted = False  # "ngày"/"mùng" said: a bare day of the month is a date
    if toks[j] in _HOM and j + 1 < n and toks[j + 1] in _MUNG:
        j += 1
    if toks[j] == _NGAY or toks[j] in _MUNG:
        counted = True
        j += 1
        if j < n and toks[j] in _MUNG:
            j += 1
        if j >= n or _num(toks[j]) is None:
            return None
        d = _num(toks[j])
        if j + 1 < n and (toks[j + 1] in _UNIT_DAYS or toks[j + 1] in _TRUOC):
            return None
    else:
        d = _num(toks[j])
        if d is None or not (j + 1 < n and toks[j + 1] == _THANG):
            return None
    assert d is not None
    j += 1
    month: int | None = None
    year: int | None = None
    if j + 1 < n and toks[j] == _THANG:
        month = _num(toks[j + 1]) if toks[j + 1] not in _MONTH_WORDS else _MONTH_WORDS[toks[j + 1]]
        if toks[j + 1] in _THIS:
            month = today.month  # "mười lăm tháng này"
        if month is not None:
            j += 2
            if j + 1 < n and toks[j] == _NAM and _num(toks[j + 1]) is not None:
                y = _num(toks[j + 1])
                assert y is not None
                year = y if y >= 1900 else (2000 + y if y < 100 else None)
                j += 2
    if not 1 <= d <= 31:
        return None
    if month is None and not counted:
        return None  # "hai tháng nay", "ba tháng": a duration, not a date
    if month is None:
        found = _date_or_none(today.year, today.month, d)
        if found is not None and found > today:
            prev = today.replace(day=1) - timedelta(days=1)
            found = _date_or_none(prev.year, prev.month, d)
        return found, j
    if year is None:
        found = _date_or_none(today.year, month, d)
        if found is not None and found > today + timedelta(days=183):
            found = _date_or_none(today.year - 1, month, d)
        return found, j
    return _date_or_none(year, month, d), j


def _weekday(toks: list[str], i: int, today: date) -> tuple[date, int] | None:
    n = len(toks)
    if toks[i] == _THU and i + 1 < n and (i == 0 or toks[i - 1] not in _ORDINAL_BEFORE):
        v = _num(toks[i + 1])
        if v is None or not 2 <= v <= 7:
            return None
        index, j = v - 2, i + 2
    elif toks[i] == _CHU and i + 1 < n and toks[i + 1] == _NHAT:
        index, j = 6, i + 2
    else:
        return None
    if j < n and toks[j] == _TUAN:
        for words, shift in sorted(_WEEK_SHIFT.items(), key=lambda kv: -len(kv[0])):
            if tuple(toks[j + 1 : j + 1 + len(words)]) == words:
                monday = today - timedelta(days=today.weekday())
                return monday + timedelta(days=index + shift), j + 1 + len(words)
    return today - timedelta(days=(today.weekday() - index) % 7), j


def _clock(toks: list[str], k: int) -> tuple[int, int] | None:
    """Clock time whose hour number is at k: "8 giờ", "9 giờ rưỡi", "10 giờ 30", "8 giờ kém 15"."""
    n = len(toks)
    h = _num(toks[k])
    if h is None or h > 24 or k + 1 >= n:
        return None
    if toks[k + 1] in _RUOI:
        return h, 30
    if toks[k + 1] not in _GIO:
        return None
    j = k + 2
    if j < n and toks[j] in _TRUOC:
        return None
    if j < n and toks[j] in _RUOI:
        return h, 30
    if j + 1 < n and toks[j] == _KEM and _num(toks[j + 1]) is not None:
        m = _num(toks[j + 1])
        assert m is not None
        if 0 < m < 60 and h > 0:
            return h - 1, 60 - m
        return None
    if j < n:
        m = _num(toks[j])
        if m is not None and m < 60:
            return h, m
    return h, 0


def _part_at(toks: list[str], i: int) -> str | None:
    part = _PARTS.get(toks[i])
    if part is None:
        return None
    if i > 0 and toks[i - 1] in _NOT_PART_BEFORE:
        return None
    if i + 1 < len(toks) and toks[i + 1] in _NOT_PART_AFTER:
        return None
    return part


def parse_time(text: str, now: datetime) -> datetime | date | None:
    """A datetime (time of day known, in now's time zone) or a date, or None."""
    toks = _prepare(text)
    if not toks:
        return None
    offset = _offset(toks, now)
    if offset is not None:
        return offset
    today = now.date()
    found = _Found()
    i = 0
    n = len(toks)
    while i < n:
        pair = tuple(toks[i : i + 2])
        # "mấy hôm nay", "ba bốn hôm nay" (for three or four days now): a span, not a day
        if pair in _DAY_WORDS and i > 0 and (toks[i - 1] in _VAGUE_BEFORE or _num(toks[i - 1]) is not None):
            i += 2
            continue
        if found.day is None and pair in _DAY_WORDS:
            found.day = today + timedelta(days=_DAY_WORDS[pair])
            found.relative_day = True
            i += 2
            continue
        if found.day is None:
            explicit = _explicit_date(toks, i, today)
            if explicit is not None and i > 0 and toks[i - 1] in _STREET and _num(toks[i]) is not None:
                i = explicit[1]  # a street name, not a date
                continue
            if explicit is not None:
                day, i2 = explicit
                if day is None:
                    return None  # a date was said but it does not exist: do not guess
                found.day = day
                i = i2
                continue
            week = _weekday(toks, i, today)
            if week is not None:
                found.day, i = week
                continue
        part = _part_at(toks, i)
        if part is not None:
            if found.part is None:
                found.part = part
            if found.day is None and i + 1 < n and toks[i + 1] in _AFTER_PART:
                found.day = today + timedelta(days=_AFTER_PART[toks[i + 1]])
                found.relative_day = True
                i += 2
                continue
            i += 1
            continue
        in_digit_string = i >= 2 and _num(toks[i - 1]) is not None and _num(toks[i - 2]) is not None
        if found.hour is None and not in_digit_string:
            clock = _clock(toks, i)
            if clock is not None:
                found.hour, found.minute = clock
                i += 2
                continue
        i += 1
    return _combine(found, now)


_FUTURE_SLACK = timedelta(hours=1)
_AMBIGUOUS_SLACK = timedelta(minutes=15)


def _combine(found: _Found, now: datetime) -> datetime | date | None:
    if found.hour is None:
        return found.day
    day = found.day or now.date()
    h, part = found.hour, found.part
    if h == 24:
        h = 0
        day += timedelta(days=1)
    if (part == "trưa" and 1 <= h <= 4) or (part == "chiều" and 1 <= h <= 11):
        h += 12
    elif part in ("tối", "đêm"):
        if 7 <= h <= 11 or (part == "tối" and 5 <= h <= 6):
            h += 12
        elif h == 12 or h <= 4:
            h = 0 if h == 12 else h
            if found.relative_day or found.day is not None:
                day += timedelta(days=1)
    at = datetime(day.year, day.month, day.day, h, found.minute, tzinfo=now.tzinfo)
    if found.day is None and not found.relative_day:
        if part is None and 1 <= h <= 11:
            # "từ tám giờ" with no part of the day: 8 or 20 o'clock, whichever came last (a few
            # minutes ahead still counts as "just now", not as a reason to go back a day)
            return max(_past_or_soon(t, now, _AMBIGUOUS_SLACK) for t in (at, at + timedelta(hours=12)))
        return _past_or_soon(at, now, _FUTURE_SLACK)  # callers report what happened
    return at


def _past_or_soon(at: datetime, now: datetime, slack: timedelta) -> datetime:
    """A time of day alone: that time, or the same time a day earlier when it is more than ``slack``
    ahead of ``now``."""
    return at - timedelta(days=1) if at - now > slack else at


def format_time(value: datetime | date) -> str:
    """Slot value form: "2026-11-22T21:00" for a datetime, "2026-11-20" for a date."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def normalize_time(text: str, now: datetime) -> str | None:
    """The time or date said in ``text`` as a slot value, relative to ``now``, or None.

    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 11, 22, 22, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    >>> normalize_time("lúc chín giờ rưỡi tối", now)
    '2026-11-22T21:30'
    >>> normalize_time("tối hôm qua", now)
    '2026-11-21'
    """
    value = parse_time(text, now)
    return None if value is None else format_time(value)

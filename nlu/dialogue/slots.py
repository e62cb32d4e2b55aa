"""Small pure helpers for slot filling: yes/no words, names from free answers, keypad numbers,
which field a correction talks about, and reading numbers aloud in Vietnamese."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from nlu.dialogue.draft import Draft

_ASCII_DIGITS = frozenset("0123456789")
_DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SPOKEN_DIGITS = {w: str(i) for i, w in enumerate(_DIGIT_WORDS)} | {
    "linh": "0",
    "lẻ": "0",
    "mốt": "1",
    "tư": "4",
    "lăm": "5",
    "bẩy": "7",
}

_AFFIRM = ("đúng rồi", "chính xác", "đồng ý", "vâng", "đúng", "phải", "được", "có", "ừ", "ok", "dạ")
_DENY = ("không phải", "không đúng", "chưa đúng", "không có", "sai", "không", "chưa", "nhầm")

# Correction targets, most specific phrases first.
_FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("phone", ("số điện thoại", "điện thoại", "số máy", "số liên hệ", "sđt")),
    ("cccd", ("căn cước", "cccd", "chứng minh")),
    ("name", ("họ tên", "họ và tên", "tên")),
    ("ward", ("địa chỉ", "địa điểm", "phường", "xã", "chỗ", "nơi")),
    ("time", ("thời gian", "thời điểm", "lúc", "giờ", "ngày")),
    ("content", ("nội dung", "sự việc", "vụ việc")),
)

_NAME_PREFIXES = re.compile(
    r"^(dạ|vâng|à|ừ|ờ)?\s*(tôi|tui|em|anh|chị|cháu|con|mình|tớ|bác|cô|chú)?\s*"
    r"(tên\s+(của\s+)?(tôi\s+|tui\s+|em\s+|mình\s+|cháu\s+)?(là\s+)?|là\s+|"
    r"họ tên\s+(là\s+)?|họ và tên\s+(là\s+)?)",
)
_NAME_WORD = re.compile(r"^[^\W\d_]+$")


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w]+", " ", text.lower()).strip() + " "


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the answer is neither; "không phải" wins over "phải"."""
    t = _words(text)
    for phrase in _DENY:
        if f" {phrase} " in t:
            return False
    for phrase in _AFFIRM:
        if f" {phrase} " in t:
            return True
    return None


# "Anything else?" answered with "that's all": "thế thôi", "vậy thôi ạ", "hết rồi", "không còn gì nữa".
_NOTHING_MORE = re.compile(
    r"^(?:(?:dạ|vâng|ừ|ờ|à|thế|vậy|vậy là|thế là|thì)\s+)*"
    r"(?:thôi|hết(?:\s+rồi)?|xong(?:\s+rồi)?|hết\s+chuyện|"
    r"(?:không|hông|hổng|hết)\s+(?:còn\s+)?(?:gì|chi|việc\s+gì)(?:\s+nữa|\s+khác)?)"
    r"(?:\s+(?:ạ|nhé|nha|nhen|em|chị|anh|bạn|cháu|rồi|đó|đấy|cảm ơn|cám ơn|chào)\b)*$"
)


def nothing_more(text: str) -> bool:
    """The answer to "anything else?" says that was all ("thế thôi", "dạ hết rồi ạ")."""
    return bool(_NOTHING_MORE.match(" ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())))


def field_named(text: str) -> str | None:
    """The draft field a correction talks about ("số điện thoại sai rồi" -> "phone"), if any."""
    t = _words(text)
    for slot, phrases in _FIELD_WORDS:
        if any(f" {p} " in t for p in phrases):
            return slot
    return None


_NOT_NAME_WORDS = frozenset(
    ("phường", "xã", "quận", "huyện", "đường", "phố", "ngõ", "ngách", "hẻm", "kiệt", "thôn", "xóm", "ấp",
     "số", "khu", "tổ", "không", "có", "rồi", "đúng", "sai")
)  # fmt: skip
_HESITATIONS = re.compile(r"(?<!\w)(?:ờ+|ừ+m*|ừm+|ậm|à|ạ)(?!\w)")


def name_from_answer(text: str) -> str:
    """A person's name from an answer to "what is your name", title-cased, or "" if it is not one.
    Hesitations go ("tên là ờ phan văn lợi"); a name said again after a comma is taken as said last
    ("tôi tên lâm, lâm văn quý")."""
    pieces = [p for p in text.split(",") if p.strip()]
    if len(pieces) > 1:
        last = _name_in(pieces[-1])
        if last:
            return last
    return _name_in(text)


def _name_in(text: str) -> str:
    t = re.sub(r"[^\w\s]", " ", text.lower()).strip()
    t = " ".join(_HESITATIONS.sub(" ", t).split())
    t = _NAME_PREFIXES.sub("", t).strip()
    t = re.sub(r"\s+(ạ|nhé|nha|đấy)$", "", t)
    words = t.split()
    if not 2 <= len(words) <= 5 or not all(_NAME_WORD.match(w) for w in words):
        return ""
    if yes_no(t) is not None or _NOT_NAME_WORDS & set(words):
        return ""
    return " ".join(w.capitalize() for w in words)


def spoken_digits(text: str) -> str:
    """Digits said one by one ("không chín một hai") or written ("0912"), and a run of zeros said as
    a count ("bảy số không" -> "0000000"); other words are ignored."""
    out = []
    toks = re.findall(r"[0-9]+|[^\W\d_]+", text.lower())
    i = 0
    while i < len(toks):
        token = toks[i]
        if token in _SPOKEN_DIGITS and toks[i + 1 : i + 3] == ["số", "không"]:
            out.append("0" * int(_SPOKEN_DIGITS[token]))
            i += 3
            continue
        if token[0] in _ASCII_DIGITS:
            out.append(token)
        elif token in _SPOKEN_DIGITS:
            out.append(_SPOKEN_DIGITS[token])
        i += 1
    return "".join(out)


def keyed_digits(digits: str) -> str:
    """Keypad input without the terminating ``#`` or ``*``; only digits survive."""
    return "".join(ch for ch in digits if ch in _ASCII_DIGITS)


def is_phone(digits: str) -> bool:
    """A Vietnamese subscriber number: 10-digit mobile (0[35789]...) or 11-digit landline (02...)."""
    return bool(re.fullmatch(r"0[35789][0-9]{8}|02[0-9]{9}", digits))


def is_dossier_tail(digits: str, today: date | None = None) -> bool:
    """The keyed ``YYMMDDXXXX`` tail of a dossier code: a real date, not in the future, and a number."""
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    try:
        received = date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return today is None or received <= today


def digits_vi(digits: str) -> str:
    """Read a digit string one digit at a time: "109" -> "một không chín"."""
    return " ".join(_DIGIT_WORDS[int(ch)] for ch in digits if ch in _ASCII_DIGITS)


def code_vi(code: str) -> str:
    """Read a tracking code so it can be written down from one hearing: three groups of three, digit by
    digit, with a pause between groups ("ba tám hai, chín một bảy, bốn sáu năm"); the leading zeros of
    a first-format code are counted, not said one by one ("bảy số không, một ba")."""
    d = keyed_digits(code)
    zeros = len(d) - len(d.lstrip("0"))
    if zeros >= 3 and zeros < len(d):
        rest = d[zeros:]
        groups = [rest[i : i + 3] for i in range(0, len(rest), 3)]
        return ", ".join([f"{_DIGIT_WORDS[zeros]} số không", *(digits_vi(g) for g in groups)])
    return ", ".join(digits_vi(d[i : i + 3]) for i in range(0, len(d), 3))


def phone_vi(phone: str) -> str:
    """Read a phone number in the usual 4-3-3 groups, digit by digit."""
    d = keyed_digits(phone)
    groups = [d[:4], d[4:7], d[7:]] if len(d) == 10 else [d[:3], d[3:7], d[7:]]
    return ", ".join(digits_vi(g) for g in groups if g)


def apply_entities(draft: Draft, entities: dict[str, str]) -> Draft:
    """A new draft with the interpreter's entities merged in; a later value corrects an earlier one."""
    changes: dict[str, object] = {}
    if entities.get("name"):
        changes["name"] = entities["name"]
    if entities.get("phone"):
        changes["phone"] = entities["phone"]
        changes["phone_confirmed"] = True  # said explicitly; the read-back confirms it again
    if entities.get("cccd"):
        changes["cccd"] = entities["cccd"]
    if entities.get("ward"):
        changes["ward"] = entities["ward"]
    if entities.get("time"):
        changes["incident_time"] = entities["time"]
        changes["time_text"] = ""
    if entities.get("category"):
        changes["category"] = entities["category"]
        changes["kind"] = "procedure_report" if entities["category"] == "HCC" else "field_report"
    if entities.get("urgent") == "true":
        changes["urgent"] = True
    if not changes:
        return draft
    return replace(draft, **changes)  # type: ignore[arg-type]


# -- what one turn gives, at any point of the report ------------------------------------------------

# Words after which the caller puts the right value ("phường an hòa à không phường tân an"); after
# "chứ không phải" comes the wrong one ("tối nay chứ không phải hôm qua").
_CORRECTION_MARKS = re.compile(
    r"\s(?:à|ờ|ý)?\s*(?:không|hông|hổng|ko)\s+phải(?:\s+là)?\s|\s(?:à|ờ)\s+(?:không|hông|hổng|nhầm|quên)\s|"
    r"\snhầm(?:\s+rồi)?\s|\sý\s+(?:tôi|em|tui|mình)?\s*là\s|\ssai\s+rồi\s|\smà\s+là\s|,"
)
_WRONG_AFTER = re.compile(r"\s(?:chứ|chớ)\s+(?:không|hông|hổng|ko)\s+phải\s")

# Answers to "when did it happen?" that say the caller does not know, or that it is still going on.
_TIME_UNKNOWN = re.compile(
    r"\b(?:không|hông|hổng|ko|chẳng|chả)\s+(?:nhớ|rõ|biết|để ý)|\bquên\s+(?:rồi|mất)|"
    r"\bđang\s+(?:diễn\s+ra|xảy\s+ra|còn|tiếp\s+diễn|hát|làm|thi\s+công|xây|đổ|chảy|cháy|ngập|kêu)|"
    r"\bvẫn\s+(?:đang|còn)|\b(?:ngay\s+)?bây\s+giờ|\bgiờ\s+này|\bhiện\s+(?:giờ|tại|nay)|"
    r"\blâu\s+(?:rồi|lắm|nay)|\bmấy\s+(?:hôm|bữa|ngày|tuần|tháng|năm)|\bcả\s+(?:tuần|tháng|năm)|"
    r"\bdạo\s+(?:này|gần\s+đây)|\bthường\s+xuyên|\bliên\s+tục|\bsuốt|\b(?:ngày|đêm|tối|sáng)\s+nào\s+cũng|"
    r"\bhồi\s+(?:nãy|sáng|chiều|tối|trưa|hôm)|\bvừa\s+(?:nãy|rồi|mới)|\blúc\s+nãy|\bmới\s+(?:đây|thấy)|"
    r"\b(?:tuần|tháng|năm)\s+(?:này|rồi|trước|qua)|\btừ\s+(?:sáng|chiều|tối|trưa|hôm|bữa|tuần|tháng)"
)
_TIME_WORDS = frozenset(
    ("hôm", "bữa", "ngày", "tuần", "tháng", "năm", "giờ", "phút", "sáng", "trưa", "chiều", "tối", "đêm",
     "khuya", "nay", "qua", "ni", "lâu", "mới", "vừa", "nãy", "đang", "hồi", "từ", "lúc", "khoảng", "tầm")
)  # fmt: skip
_PLACE_WORDS = frozenset(
    ("số", "ngõ", "ngách", "hẻm", "kiệt", "đường", "phố", "khu", "tổ", "thôn", "xóm", "ấp", "chợ", "cầu",
     "bến", "chung", "tòa", "tập", "gần", "trước", "đầu", "cuối", "cạnh", "ngã", "đối", "diện",
     "công", "viên", "trường", "bệnh", "quận", "huyện")
)  # fmt: skip
_PLACE_LEAD = re.compile(
    r"^(?:(?:dạ|vâng|ờ|ừ|à|ạ)\s+)*(?:(?:nhà\s+)?(?:tôi|em|tui|mình|chị|anh|cháu)\s+)?(?:ở|tại)\s+"
)


def correction_pieces(text: str) -> list[str]:
    """The turn cut at correction marks and commas, the right value last ("phường an hòa, à không,
    phường tân an" -> [..., "phường tân an"]); what follows "chứ không phải" is dropped."""
    t = " " + " ".join(text.lower().split()) + " "
    wrong = _WRONG_AFTER.search(t)
    if wrong:
        t = t[: wrong.start()] + " "
    return [p.strip(" ,.") for p in _CORRECTION_MARKS.split(t) if p and p.strip(" ,.")]


# A time or a span said inside a longer turn ("mất nước từ sáng đến giờ", "đèn tắt mấy hôm nay rồi"): the
# answer to "when?", volunteered with the incident. Narrower than :data:`_TIME_UNKNOWN` ("đang chảy" is
# how things are, not when they began).
_TIME_SPAN = re.compile(
    r"\b(?:từ\s+(?:(?:sáng|chiều|tối|trưa|đêm|khuya)(?:\s+(?:nay|qua|hôm\s+qua))?|(?:hôm|bữa)\s+(?:qua|kia|trước)|"
    r"(?:tuần|tháng)\s+(?:trước|rồi)|mấy\s+(?:hôm|bữa|ngày|tuần|tháng)\s+(?:trước|nay)|đầu\s+(?:tuần|tháng|năm)|"
    r"mùng\s+\w+)(?:\s+(?:đến|tới)\s+(?:giờ|nay|bây\s+giờ))?|"
    r"(?:mấy|vài|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|\d+)\s+(?:hôm|bữa|ngày|tuần|tháng)\s+(?:nay|rồi|liền)|"
    r"cả\s+(?:tuần|tháng|năm)\s+(?:nay|rồi)|hồi\s+(?:nãy|sáng|chiều|tối|trưa|hôm\s+qua)|(?:vừa|lúc)\s+nãy|"
    r"lâu\s+(?:rồi|lắm\s+rồi|nay)|(?:ngày|đêm|tối|sáng|chiều|hôm)\s+nào\s+cũng)\b"
)


# "mấy hôm nay", "vài bữa rồi", "lâu rồi", "ngày nào cũng": an answer when "when?" is asked, too vague
# to skip the question when said in passing.
_VAGUE_SPAN = re.compile(r"\b(?:mấy|vài|lâu|nào)\b")


def time_span(text: str, specific: bool = False) -> str:
    """The time phrase said inside a turn ("từ sáng đến giờ", "mấy hôm nay", "hồi chiều"), or "";
    ``specific``: not a vague one ("mấy hôm nay", "lâu rồi")."""
    found = _TIME_SPAN.search(" ".join(text.lower().split()))
    if not found or (specific and _VAGUE_SPAN.search(found.group(0))):
        return ""
    return found.group(0)


def time_unknown(text: str) -> bool:
    """The answer to "when?" says the caller does not know, or that it is ongoing or recurring."""
    return bool(_TIME_UNKNOWN.search(" ".join(text.lower().split())))


def time_words(text: str) -> bool:
    return bool(set(re.findall(r"[^\W\d_]+", text.lower())) & _TIME_WORDS)


def place_words(text: str) -> bool:
    return bool(set(re.findall(r"[^\W\d_]+", text.lower())) & _PLACE_WORDS)


def address_from_place(text: str, ward: str) -> str:
    """The street part of a place answer ("ở số 20 ngõ 40 đường xuân thủy phường cầu giấy" -> "số 20
    ngõ 40 đường xuân thủy"); "" when the utterance holds no street words."""
    t = " ".join(text.split()).strip(" ,.")
    low = t.lower()
    cut = len(t)
    for anchor in ("phường ", "xã ", "đặc khu "):
        at = low.find(anchor)
        if at > 0:
            cut = min(cut, at)
    if ward and cut == len(t):
        short = ward.split(" ", 1)[-1].lower()
        at = low.find(short)
        if at > 0:
            cut = at
    head = _PLACE_LEAD.sub("", t[:cut].strip(" ,.").lower()).strip(" ,.")
    if not head or not place_words(head):
        return ""
    start = len(t[:cut].strip(" ,.")) - len(head)
    return t[:cut].strip(" ,.")[start:]


_OPERATOR_WORDS = re.compile(
    r"\b(?:tổng\s+đài\s+viên|nhân\s+viên|người\s+thật|điện\s+thoại\s+viên|tư\s+vấn\s+viên|gặp|nói\s+chuyện|"
    r"chuyển\s+máy|nối\s+máy|cán\s+bộ)\b"
)


def asks_operator(text: str) -> bool:
    """The turn names a person to talk to ("cho tôi gặp tổng đài viên", "nối máy cho tôi")."""
    return bool(_OPERATOR_WORDS.search(" ".join(text.lower().split())))


_NAME_CORRECTION_LEAD = re.compile(r"^(?:(?:tên|họ tên|họ và tên)\s+)?(?:(?:đúng|phải)\s+)?(?:là\s+)?")


def name_in_correction(text: str) -> str:
    """The right name said with the correction ("tên sai rồi, là nguyễn văn hai"), or ""."""
    for piece in reversed(correction_pieces(text)):
        name = name_from_answer(_NAME_CORRECTION_LEAD.sub("", piece.lower()))
        if name and field_named(name) is None:
            return name
    return ""

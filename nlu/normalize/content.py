"""The content of a report: what happened, from the caller's own words, without what is not content.

Callers wrap the incident in a greeting, a self-introduction, their phone or ID number, a "tôi muốn
phản ánh" preamble and hesitations ("ờ", "ừm"). :func:`report_content` keeps the rest in the caller's
wording (the transcript keeps everything); it returns "" when nothing of substance is left.
"""

from __future__ import annotations

import re
import unicodedata

_PRONOUNS = r"(?:tôi|em|chị|anh|cháu|con|mình|tui|tớ|bác|cô|chú|ông|bà)"
_DIGIT_WORD = r"(?:không|một|mốt|hai|ba|bốn|tư|năm|lăm|sáu|bảy|bẩy|tám|chín|linh|lẻ|mười|\d+)"
_NUMBER_RUN = rf"(?:{_DIGIT_WORD}[\s,.\-]*){{7,}}"
# "số điện thoại của tôi là 09...", "căn cước 001...", "số của em là ..."
_NUMBER_CUE = (
    r"(?:(?:số\s+)?(?:điện\s+thoại|đt|sđt|sdt|máy|căn\s+cước(?:\s+công\s+dân)?|cccd|cmnd|chứng\s+minh"
    rf"(?:\s+nhân\s+dân|\s+thư)?|định\s+danh)|số)(?:\s+(?:của\s+)?{_PRONOUNS})?(?:\s+là)?\s+"
)
_NUMBER = re.compile(rf"(?:{_NUMBER_CUE})?{_NUMBER_RUN}")
# What opens a call and carries no content.
_OPENING = re.compile(
    r"^(?:(?:alo|a\s+lô|lô|ờ+|ừ+m?|ừm|ậm|à|dạ|vâng|thưa|xin\s+chào|chào|ơi|tổng\s+đài(?:\s+viên)?|"
    r"hotline|em|chị|anh|bạn|cô|chú|bác|ạ|à|nhé|nha|ơi|ha|hả|ừ|thì|là|này|nè|"
    r"(?:o|dì|cậu|mợ|thím|ông|bà|cháu|con|bé|cưng)\s+ơi)[\s,.!?]+)+"  # "o ơi", "dì ơi": who is called
)
# Where the caller lives, said before the incident: "tôi ở xã đông anh, muốn phản ánh ...".
_RESIDENCE = re.compile(
    rf"^(?:(?:nhà\s+)?{_PRONOUNS}\s+)?(?:ở|tại|sống\s+ở)\s+(?:phường|xã|đặc\s+khu)\s+[^,.]+?"
    r"(?:[,.]+\s*|\s+(?=(?:muốn|cần|xin|gọi|định)\s))"
)
# A word said twice over a comma while finding the next one: "cái, cái rãnh".
_STUTTER = re.compile(r"\b(\w+),\s+\1\b")
_PREAMBLE_SOURCE = (
    rf"^(?:(?:cho|giúp|để)\s+{_PRONOUNS}\s+|{_PRONOUNS}\s+)?(?:(?:muốn|cần|xin|gọi|gọi\s+điện|gọi\s+để|"
    r"đang|có|định|được)\s+)*(?:phản\s+ánh|kiến\s+nghị|báo\s+cáo|trình\s+báo|báo|thông\s+báo|hỏi)"
    rf"(?:\s+(?:giúp|giùm|dùm|hộ)(?:\s+{_PRONOUNS})?)?(?:\s+(?:với|cho))?"
    r"(?:\s+(?:về|là|rằng|cái|việc|vụ|chuyện|tình\s+trạng|sự\s+việc|với\s+tổng\s+đài|tổng\s+đài))*"
    r"[\s,.:]+"
)
_PREAMBLE = re.compile(_PREAMBLE_SOURCE.replace(r"\s+", r"[\s,]+"))  # "tôi muốn, ờ, phản ánh"
_HESITATION = re.compile(r"(?:(?<=\s)|^)(?:ờ+|ừm+|ậm|hừm|à\s+ừm|ừ+)(?=[\s,.!?]|$)[,.]?")
_SPACES = re.compile(r"\s+")
_MIN_WORDS = 2


def _intro_pattern(name: str) -> re.Pattern[str]:
    """The self-introduction around ``name``: "chị tên là lê thị hồng", "tôi là ...", "tên ...:"."""
    lead = (
        rf"(?:{_PRONOUNS}\s+)?(?:(?:tên|họ\s+tên|họ\s+và\s+tên)(?:\s+đầy\s+đủ)?(?:\s+(?:của\s+)?{_PRONOUNS})?"
        r"(?:\s+là)?|là)\s+"
    )
    return re.compile(rf"(?:{lead})?{re.escape(name.lower())}(?:\s+(?:ạ|nhé|nha|đây))?")


def _peel(pattern: re.Pattern[str], text: str) -> str:
    """``text`` without what ``pattern`` matches at its start (matched in lower case, case kept)."""
    found = pattern.match(text.lower() + " ")
    return text[found.end() :].strip(" ,.") if found else text


def report_content(text: str, name: str = "") -> str:
    """The incident as told, without greeting, self-introduction (``name`` is the caller's name when
    known), phone or ID numbers, preamble and hesitations; "" when fewer than two words are left."""
    body = unicodedata.normalize("NFC", text).strip()
    low = body.lower()
    if len(low) != len(body):  # a case mapping that changes length: work on the lower case text
        body = low
    cuts: list[tuple[int, int]] = []
    if name:
        cuts.extend(m.span() for m in _intro_pattern(name).finditer(low))
    cuts.extend(m.span() for m in _NUMBER.finditer(low))
    cuts.extend(m.span() for m in _HESITATION.finditer(low))
    keep = []
    last = 0
    for start, end in sorted(cuts):
        if start >= last:
            keep.append(body[last:start])
            last = end
        else:
            last = max(last, end)
    keep.append(body[last:])
    rest = _SPACES.sub(" ", " ".join(keep))
    rest = re.sub(r"\s+([,.])", r"\1", rest)
    rest = re.sub(r"([,.])(?:\s*[,.])+", r"\1", rest).strip(" ,.")
    rest = _STUTTER.sub(r"\1", rest)
    for _ in range(3):  # "alo tổng đài à, tôi muốn báo là ..." peels off in turns
        before = rest
        rest = _peel(_OPENING, rest)
        rest = _peel(_RESIDENCE, rest)
        rest = _peel(_PREAMBLE, rest)
        if rest == before:
            break
    if len(rest.split()) < _MIN_WORDS:
        return ""
    return rest[:1].upper() + rest[1:]

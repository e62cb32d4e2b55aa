"""Person names from ASR output: strip the lead-in ("tên tôi là", "em là"...) and politeness words,
stop at the next clause ("... ở phường ...", "... số điện thoại ..."), title-case each syllable.

``normalize_name`` reads an answer to "what is your name?" (the whole text is the name);
``find_name`` looks for a name introduced by a lead-in phrase inside a longer utterance and, after a
weak lead-in such as "tôi là", only accepts it when it starts with a common Vietnamese surname.
"""

from __future__ import annotations

from nlu.normalize.numbers import is_number_token
from nlu.normalize.text import PhraseIndex, fold, tokens

# Lead-ins that always introduce a name.
_STRONG_LEADS = (
    "tên tôi là", "tôi tên là", "tên tôi", "tôi tên", "tên em là", "em tên là", "tên em", "em tên",
    "tên cháu là", "cháu tên là", "tên cháu", "cháu tên", "tên mình là", "mình tên là", "mình tên",
    "tên của tôi là", "tên của em là", "họ tên là", "họ tên tôi là", "họ tên của tôi là", "họ và tên là",
    "họ và tên", "họ tên", "tên đầy đủ là", "tên đầy đủ của tôi là", "tên là", "tên anh là", "tên chị là",
    "tên con là", "con tên là", "tên bác là", "bác tên là", "tên cô là", "cô tên là",
    "tên chú là", "chú tên là", "anh tên là", "chị tên là", "ông tên là", "bà tên là",
    "tên tui là", "tui tên là", "tên tui", "tui tên", "tên tớ là", "tớ tên là", "tớ tên", "tên tao là",
    "anh tên", "chị tên", "bác tên", "cô tên", "chú tên", "ông tên", "bà tên", "con tên",
)  # fmt: skip
# Lead-ins that introduce a name only when a surname follows ("tôi là người dân..." is not a name).
_WEAK_LEADS = (
    "tôi là", "em là", "cháu là", "mình là", "con là", "bác là", "cô là", "chú là", "anh là", "chị là",
    "đây là", "tui là", "tớ là", "tôi là bà", "tôi là ông", "tôi là anh", "tôi là chị", "tôi là cô",
    "tôi là chú",
)  # fmt: skip
# Lead-ins that give the surname only when one follows ("tôi họ nguyễn"; not "nhà em họ xây nhà").
_SURNAME_LEADS = (
    "tôi họ", "em họ", "mình họ", "cháu họ", "tui họ", "đứng tên", "mang tên", "người phản ánh",
    "người báo tin",
)  # fmt: skip
# A bare "tên" ("Tên: Đặng Quang Huy") introduces a name only when a surname follows, and only when no
# other lead-in did.
_BARE_LEADS = ("tên",)
_FILLERS = {
    fold(w)
    for w in (
        "dạ", "vâng", "ạ", "à", "ừ", "ờ", "ơi", "thì", "nhé", "nha", "ha", "ấy", "đó", "đấy", "ạh", "vâng ạ",
        "xin", "chào", "alo", "a", "lô", "ừm", "ừ", "ậm", "hả",
    )
}  # fmt: skip
# Words that end a name: the next clause begins.
_STOPS = {
    fold(w)
    for w in (
        "ở", "sống", "nhà", "số", "tên", "họ", "sđt", "điện", "thoại", "sinh", "tuổi", "muốn", "cần", "gọi",
        "phản", "báo", "hỏi", "xin", "cảm", "ơn", "và", "với", "thường", "trú", "tại", "đang", "có", "là",
        "hiện", "địa", "chỉ", "phường", "xã", "quận", "huyện", "tôi", "em", "mình",
        "cháu", "của", "ạ", "nhé", "nha", "đây", "đó", "thì", "vâng", "dạ", "gần", "bên", "khu", "ngõ",
        "đường", "căn", "cước", "mã", "người", "muốn", "được", "không", "chưa", "rồi",
        "cccd", "cmnd", "cmt", "sđt", "sdt", "tui", "tớ", "giúp", "giùm", "dùm", "hộ", "tra", "xem", "coi",
        "làm", "thế", "nào", "sao", "gì", "khi", "nhờ", "kiểm",
        "bị", "vừa", "mới", "hôm", "nay", "qua", "lúc", "giờ", "sáng", "chiều", "tối", "đêm", "trưa",
        "chị", "chú", "bác", "ông", "bà", "cô", "con", "nè", "nhen", "luôn", "đấy", "nhá",
    )
}  # fmt: skip
_SURNAMES = {
    fold(w)
    for w in (
        "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ", "hồ",
        "ngô", "dương", "lý", "lí", "đinh", "đoàn", "trịnh", "lương", "mai", "cao", "đào", "hà", "lâm",
        "tạ", "tô", "trương", "chu", "kiều", "quách", "thái", "văn", "vương", "đàm", "lưu", "khúc", "phùng",
        "tăng", "giang", "nghiêm", "hứa", "mạc", "la", "triệu", "tiêu", "từ", "thân", "lại", "doãn", "âu",
        "kim", "lã", "ninh", "quan", "tống", "vi", "hầu", "khổng", "đồng", "diệp", "bạch", "châu", "cù",
    )
}  # fmt: skip
# Words that never end a person's name: a short utterance made of them is not a bare name ("hồ sơ gì").
_NOT_IN_NAMES = {
    fold(w)
    for w in (
        "gì", "sơ", "nào", "đâu", "quá", "lắm", "nữa", "luôn", "đi", "ơi", "vậy", "thế", "này", "kia", "giúp",
        "hộ", "với", "cho", "ra", "vào", "lên", "xuống", "sao", "chứ", "mà", "nhưng", "hay", "hoặc", "rất",
        "đã", "sẽ", "cũng", "vẫn", "còn", "bao", "nhiêu", "lâu", "ai", "cái", "con", "những", "các", "mấy",
    )
}  # fmt: skip
_BARE_MIN, _BARE_MAX = 3, 5
_STRONG: PhraseIndex[str] = PhraseIndex(
    [(p, "strong") for p in _STRONG_LEADS] + [(p, "surname") for p in _SURNAME_LEADS]
)
_WEAK: PhraseIndex[str] = PhraseIndex((p, "weak") for p in _WEAK_LEADS)
_BARE: PhraseIndex[str] = PhraseIndex((p, "surname") for p in _BARE_LEADS)
_MIN_SYLLABLES, _MAX_SYLLABLES = 2, 6


def _title(word: str) -> str:
    return word[:1].upper() + word[1:]


def _take_name(raw: list[str], folded: list[str], start: int) -> tuple[list[str], int]:
    out: list[str] = []
    i = start
    while i < len(raw) and folded[i] in _FILLERS and folded[i] not in _SURNAMES:
        i += 1
    while i < len(raw) and len(out) < _MAX_SYLLABLES:
        tok, key = raw[i], folded[i]
        if key in _STOPS or (is_number_token(key) and not out) or not tok.isalpha():
            break
        if key in _FILLERS and key not in _SURNAMES:
            break
        out.append(tok)
        i += 1
    return out, i


def _is_name(words: list[str]) -> bool:
    return _MIN_SYLLABLES <= len(words) <= _MAX_SYLLABLES and all(w.isalpha() for w in words)


def normalize_name(text: str) -> str | None:
    """The name in an answer to "what is your name?": "dạ tên tôi là nguyễn văn an ạ" -> "Nguyễn Văn An"."""
    raw = tokens(text)
    folded = [fold(t) for t in raw]
    found = find_name_in_tokens(raw, folded)
    if found is not None:
        return found
    words, end = _take_name(raw, folded, 0)
    rest = [f for f in folded[end:] if f not in _FILLERS]
    if _is_name(words) and not rest:
        return " ".join(_title(w) for w in words)
    return None


def find_name_in_tokens(raw: list[str], folded: list[str]) -> str | None:
    for index, strength in ((_STRONG, "strong"), (_WEAK, "weak"), (_BARE, "weak")):
        found = sorted(index.matches(folded), key=lambda m: (m[0], -m[1]))
        for start, end, payload in found:
            if any(start < s2 <= end for s2, _e2, _p2 in found):
                continue  # a longer lead-in follows ("họ tên đầy đủ của tôi là ...")
            j = end
            while j < len(folded) and folded[j] in _FILLERS:
                j += 1
            needs_surname = strength == "weak" or payload == "surname"
            if needs_surname and (j >= len(folded) or folded[j] not in _SURNAMES):
                continue
            words, _end = _take_name(raw, folded, j)
            if _is_name(words) or (strength == "strong" and len(words) == 1 and words[0].isalpha()):
                return " ".join(_title(w) for w in words)
    return None


def bare_name_in_tokens(raw: list[str], folded: list[str]) -> str | None:
    """The whole utterance, fillers aside, is a full name starting with a common surname
    ("dạ nguyễn thị hoa ạ", "ờ phạm thị thu trang"): the caller answered with the name alone."""
    keep = [k for k, f in enumerate(folded) if f not in _FILLERS or (k > 0 and f in _SURNAMES)]
    if not _BARE_MIN <= len(keep) <= _BARE_MAX or keep[-1] - keep[0] + 1 != len(keep):
        return None
    words = [raw[k] for k in keep]
    keys = [folded[k] for k in keep]
    if keys[0] not in _SURNAMES or not all(w.isalpha() for w in words):
        return None
    if any(k in _STOPS or k in _NOT_IN_NAMES or is_number_token(k) for k in keys):
        return None
    return " ".join(_title(w) for w in words)


# Words that start the next slot right after a name said first ("bùi văn long số căn cước ...").
_NEXT_SLOT = {fold(w) for w in ("số", "căn", "cccd", "cmnd", "sđt", "sdt", "điện", "ở", "nhà", "sinh", "địa")}


def leading_name_in_tokens(raw: list[str], folded: list[str]) -> str | None:
    """A full name said first, then another slot ("bùi văn long số căn cước không không một ..."):
    a surname and two to five name syllables, ended by the next slot's cue word."""
    i = 0
    while i < len(folded) and folded[i] in _FILLERS and folded[i] not in _SURNAMES:
        i += 1
    if i >= len(folded) or folded[i] not in _SURNAMES:
        return None
    words, end = _take_name(raw, folded, i)
    if not _BARE_MIN <= len(words) <= _BARE_MAX or end >= len(folded) or folded[end] not in _NEXT_SLOT:
        return None
    if any(fold(w) in _NOT_IN_NAMES for w in words):
        return None
    return " ".join(_title(w) for w in words)


def find_name(text: str) -> str | None:
    """A name introduced by a lead-in phrase inside a longer utterance, or None."""
    raw = tokens(text)
    return find_name_in_tokens(raw, [fold(t) for t in raw])

"""Urgency: does the caller describe a danger that must go to a person now (fire, accident, injury,
crime in progress, live wires, an open manhole, dangerous flooding, a collapse)?

Returns ``(True, reason)`` with an English reason key, or ``(False, "")``. Phrases are matched on
tone-folded syllables; a phrase preceded closely by a negation ("không có ai bị thương", "chưa cháy")
or by a word of what might happen ("lỡ có cháy", "sợ cháy nổ", "suýt đâm vào") does not count, nor
do safety-equipment phrases that merely contain a keyword ("phòng cháy chữa cháy", "bình cứu hỏa",
"nguy cơ cháy nổ").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nlu.normalize.text import PhraseIndex, fold, tokens

_RULES: dict[str, tuple[str, ...]] = {
    "fire": (
        "cháy", "đang cháy", "bốc cháy", "cháy nhà", "cháy lớn", "đám cháy", "hỏa hoạn", "hoả hoạn",
        "khói mù mịt", "khói bốc", "bốc khói", "ngọn lửa", "lửa bốc", "cháy nổ", "nổ bình ga",
        "nổ lớn", "phát nổ", "rò rỉ ga", "rò ga", "mùi ga", "mùi khét", "rò rỉ khí ga", "rò khí ga",
        "rò rỉ gas", "rò gas", "xì ga", "xì gas", "mùi gas", "rò rỉ khí gas", "nổ bình gas",
    ),
    "accident": (
        "tai nạn", "tai nạn giao thông", "va chạm", "đâm xe", "xe đâm", "tông xe", "xe tông", "lật xe",
        "xe lật", "đâm vào", "đâm phải",
    ),
    "injury": (
        "bị thương", "chảy máu", "bất tỉnh", "ngất", "ngất xỉu", "gãy chân", "gãy tay", "cấp cứu",
        "người chết", "tử vong", "nguy kịch", "đuối nước", "chết đuối", "bị đánh", "ngã xuống",
    ),
    "crime_in_progress": (
        "cướp", "cướp giật", "đang trộm", "đang có trộm", "trộm đang", "đang ăn trộm", "đang cạy",
        "phá khóa", "đột nhập", "hỗn chiến", "cầm dao", "có dao", "vung dao",
        "chém nhau", "chém người", "đâm người", "bắt cóc", "đe dọa giết", "nổ súng", "có súng",
        "đang đánh nhau", "đang đánh người", "đánh vợ", "đánh con", "đang đập phá", "đập phá",
        "vừa bị giật", "vừa giật", "vừa bị cướp", "vừa bị trộm", "vừa trộm", "đang bỏ chạy", "đang chạy trốn",
        "vừa bỏ chạy", "đang tẩu thoát",
    ),
    "live_wire": (
        "dây điện đứt", "đứt dây điện", "dây điện bị đứt", "dây điện rơi", "dây điện rũ", "dây điện võng",
        "dây điện sà", "điện giật", "bị giật", "rò điện", "rò rỉ điện", "chập điện", "tóe lửa", "toé lửa",
        "cột điện đổ", "cột điện nghiêng", "cột điện gãy", "chập cháy", "cột điện bị đổ", "cột điện bị gãy",
        "dây điện nằm", "dây điện rớt", "dây điện bị rơi", "dây điện rơi xuống", "dây điện bị rớt",
    ),
    "open_manhole": (
        "mất nắp cống", "mất nắp hố ga", "hố ga hở", "hố ga không có nắp", "cống hở", "cống không có nắp",
        "nắp cống bị mất", "nắp hố ga bị mất", "hở nắp cống", "hố sụt", "sụt hố", "hố tử thần",
        "miệng cống hở", "hở miệng cống", "mất nắp ga", "sụt thành hố", "sụt thành cái hố",
        "hố sâu giữa đường",
    ),
    "flood_danger": (
        "nước dâng", "ngập sâu", "nước lên nhanh", "lũ", "lũ quét", "vỡ đê", "tràn đê", "sạt lở",
        "lở đất", "nước cuốn", "bị cuốn trôi", "mắc kẹt", "bị kẹt", "kẹt trên", "kẹt dưới", "kẹt lại",
        "đê bị sạt", "bờ bao bị sạt", "đê bao bị sạt", "vỡ bờ bao",
    ),
    "collapse": (
        "sập", "sập nhà", "nhà sập", "đổ sập", "sập đổ", "sập trần", "sập giàn giáo", "sập tường",
        "tường đổ", "sập cầu", "đang đổ", "sắp đổ", "sắp sập", "cây đè", "đè lên người", "cây đổ đè",
        "đè lên một người", "đè trúng người", "đè người", "đè lên xe",
    ),
}  # fmt: skip
# Phrases containing a keyword that are not emergencies; they use up their syllables.
_BLOCKERS = (
    "phòng cháy", "chữa cháy", "phòng cháy chữa cháy", "bình cứu hỏa", "bình chữa cháy", "nguy cơ cháy",
    "nguy cơ cháy nổ", "nguy cơ", "lối thoát hiểm", "diễn tập", "cháy nắng", "cháy hàng", "cháy vé",
    "sập cầu dao", "cầu dao", "sập bẫy", "lũ trẻ", "lũ trẻ con", "lũ học sinh", "cấp cứu xong",
    "đâm đơn", "tai nạn lao động cũ", "trước đây", "năm ngoái", "sập vào", "sụp vào", "sập ổ gà",
    "đổ bê tông", "đổ rác", "đổ trộm", "đổ đất", "đổ phế thải", "đổ nước", "đổ cát", "đổ xà bần",
    "đang đổ bê tông", "đang đổ rác", "đang đổ trộm", "đang đổ đất", "đang đổ phế thải", "đang đổ nước",
    "đang đổ cát", "đang đổ xà bần",
)  # fmt: skip
_NEGATIONS = {fold(w) for w in ("không", "chưa", "chẳng", "chả", "tắt", "dập")}
# What might happen is a hazard, not an emergency: "lỡ có cháy", "sợ cháy nổ", "suýt đâm vào".
_HYPOTHETICAL = {fold(w) for w in ("lỡ", "nhỡ", "nếu", "sợ", "lo", "suýt", "kẻo", "ngộ", "hễ", "giả", "dễ")}
# Dangers told in two parts a few words apart: (reason, anchors, triggers, window in syllables).
# "nắp hố ga trên vỉa hè ở phường ... bị vỡ", "vừa bị hai thằng đi xe máy giật điện thoại".
_SPLIT_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], int], ...] = (
    ("open_manhole", ("nắp hố ga", "nắp cống", "hố ga", "nắp ga"), ("mất", "hở", "sập"), 12),
    ("crime_in_progress", ("vừa",), ("giật", "cướp", "trộm", "móc", "đánh"), 8),
)
_SPLIT_ANCHORS: PhraseIndex[tuple[str, frozenset[str], int]] = PhraseIndex(
    (anchor, (reason, frozenset(fold(t) for t in triggers), window))
    for reason, anchors, triggers, window in _SPLIT_RULES
    for anchor in anchors
)


_NOT_JUST_NOW = frozenset(fold(w) for w in ("rồi", "qua"))  # "tuần vừa rồi", "tháng vừa qua": a while ago


def _split_matches(folded: Sequence[str]) -> list[UrgencyMatch]:
    out = []
    for start, end, (reason, triggers, window) in _SPLIT_ANCHORS.matches(folded):
        if end < len(folded) and folded[end] in _NOT_JUST_NOW:
            continue
        for k in range(end, min(len(folded), end + window)):
            if folded[k] in triggers and not _negated(folded, k, k + 1):
                out.append(UrgencyMatch(reason, " ".join(folded[start : k + 1]), start, k + 1))
                break
    return out


# Smoke or a burning smell from something burnt on purpose ("đốt rác", "đốt rơm") is pollution.
_SMOKE_ONLY = frozenset(("mùi khét", "khói mù mịt", "khói bốc", "bốc khói"))
_BURNING_ON_PURPOSE = fold("đốt")
_PUT_OUT_AFTER = {fold(w) for w in ("dập", "tắt")}  # "đám cháy đã dập tắt"
_NOT_NEGATION_AFTER = {fold(w) for w in ("may", "biết", "hiểu", "rõ", "ngờ", "kịp")}
_NEGATION_WINDOW = 3


@dataclass(frozen=True)
class UrgencyMatch:
    reason: str
    phrase: str
    start: int
    end: int


def _index() -> PhraseIndex[tuple[str, str]]:
    entries = [(p, (reason, p)) for reason, phrases in _RULES.items() for p in phrases]
    entries += [(p, ("", p)) for p in _BLOCKERS]
    return PhraseIndex(entries)


_INDEX = _index()


def _negated(folded: Sequence[str], start: int, end: int) -> bool:
    if any(t in _PUT_OUT_AFTER for t in folded[end : end + _NEGATION_WINDOW]):
        return True
    for k in range(max(0, start - _NEGATION_WINDOW), start):
        if folded[k] in _HYPOTHETICAL:
            return True
        if folded[k] in _NEGATIONS and (k + 1 >= len(folded) or folded[k + 1] not in _NOT_NEGATION_AFTER):
            return True
    return False


def urgency_matches(folded: Sequence[str]) -> list[UrgencyMatch]:
    out = []
    used_until = 0
    for start, end, (reason, phrase) in _INDEX.matches(folded):
        if start < used_until:
            continue
        used_until = end
        if reason and not _negated(folded, start, end):
            out.append(UrgencyMatch(reason, phrase, start, end))
    if not out:
        out = _split_matches(folded)
    if _BURNING_ON_PURPOSE in folded:
        out = [m for m in out if m.phrase not in _SMOKE_ONLY]
    return out


def detect_urgency_tokens(folded: Sequence[str]) -> tuple[bool, str]:
    found = urgency_matches(folded)
    return (True, found[0].reason) if found else (False, "")


def detect_urgency(text: str) -> tuple[bool, str]:
    """(True, reason) when the text describes an emergency, else (False, "").

    >>> detect_urgency("có cháy ở chung cư")
    (True, 'fire')
    >>> detect_urgency("không có ai bị thương")
    (False, '')
    """
    return detect_urgency_tokens([fold(t) for t in tokens(text)])

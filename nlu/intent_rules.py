"""Intent rules over the folded text: the whole decision of the rule-based fallback interpreter
(:func:`rule_intent`), and the few high-precision cues that override a statistical model's intent
(:func:`strong_intent`): words like "khiếu nại", "thủ tục", "hồ sơ ... đến đâu rồi" or "em chào chị"
say what the caller wants whatever else the sentence holds.

Patterns run on lowercase text without diacritics, padded with spaces (" word "): see :func:`fold_text`.
"""

from __future__ import annotations

import re

from nlu.normalize.text import clean, strip_diacritics


def fold_text(text: str) -> str:
    return " " + strip_diacritics(clean(text)).replace("đ", "d") + " "


_NUMBER_WORDS = frozenset(
    ("khong", "mot", "hai", "ba", "bon", "tu", "nam", "sau", "bay", "tam", "chin", "muoi", "moi", "lam",
     "nham", "tram", "linh", "le", "nghin", "ngan", "trieu", "ty", "chuc", "cong", "hat", "gach", "cham")
)  # fmt: skip


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Patterns run on lowercase text without diacritics, padded with spaces (" word ").
_OPERATOR = _rx(
    r" (gap|noi chuyen voi|noi chuyen|chuyen may|chuyen cho|chuyen sang|noi may|cho toi gap|xin gap|ket noi)"
    r" .*(nguoi|nhan vien|tong dai vien|dien thoai vien|tu van vien|can bo|dieu phoi vien|chi|anh|may|ai)",
    r" (tong dai vien|dien thoai vien|tu van vien|dieu phoi vien|nguoi that) ",
    r" khong muon noi( chuyen)? voi (may|tong dai)",
    r" noi may ",
    r" chuyen may ",
    r" (nhan vien|nguoi|ai) (nao )?(nghe may|truc) ",
    r" gap (ai do|truc tiep|nguoi) ",
)
_COMPLAINT = _rx(
    r" khieu nai ", r" to cao ", r" to giac ", r" khieu kien ", r" don thu ",
    r" (muon|se|di|lam don) thua ",  # southern "thưa" (sue), not "thưa anh"
)  # fmt: skip
_DOSSIER = _rx(
    r" (tra cuu|tra|kiem tra|xem|coi|check|do) .*ho so",
    r" ho so .*(den dau|toi dau|xong chua|co ket qua|ket qua chua|biet ket qua|tinh trang|tien do|khau nao"
    r"|buoc nao|giai quyet chua|xu ly toi|xu ly den|duyet chua|ra sao|the nao roi|bao gio|sao roi"
    r"|nhan duoc chua|lam xong|trang thai|chua thay|van chua|hen tra|bo sung"
    r"|dang xu ly|la sao|dang o dau)",
    r" ho so .* (tra cuu|tra|kiem tra) (theo|bang|giup|gium|dum|duoc) ",
    r" ho so .* (bi )?qua han (khong|chua)( (vay|a|ha|nhi|em|chi|anh))* $",
    r" ho so .* chua (co|nhan duoc) (thong bao|ket qua|tin tuc|phan hoi|tra loi) ",
    r" (ma so ho so|tinh trang ho so|tien do ho so) ",
)
# Asking about a dossier whose code was said (without "hồ sơ": "em có cái mã ... muốn xem tình hình").
_DOSSIER_ASK = _rx(
    r" (tra|tra cuu|kiem tra|xem|hoi) ",
    r" (den dau|toi dau|buoc nao|khau nao|tinh hinh|tinh trang|tien do|trang thai|bo sung|dang xu ly) ",
    r" (chua|sao roi|ra sao) $",
)
_ASKED_ABOUT_DOSSIER = _rx(r" hoi .*ho so")
_PROCEDURE = _rx(
    r" thu tuc ",
    r" (can|gom|mang) (nhung |nhung loai |cac )?(giay to|ho so|gi)",
    r" nop (o|tai) dau ",
    r" le phi ",
    r" (het|mat|ton) bao (nhieu|lau)",
    r" bao lau ",
    r" bao nhieu tien ",
    r" (huong dan|tu van) ",
    r" phai lam (sao|gi|the nao)",
    r" lam (the nao|sao) de ",
    r" (muon|can) (lam|dang ky|xin|doi|cap) .* thi ",
    r" (giay to|ho so|thu tuc|giay) gi ",
    r" (nop|lam|xin|dang ky|doi|cap)( \w+){0,5} (o|tai) dau ",
    r" (lam|nop|dang ky|xin)( \w+){0,3} (qua mang|online|truc tuyen) duoc khong ",
    r" thi (lam|phai lam) (sao|the nao|nhu nao|ra sao) ",
    r" (lam|the) (nhu nao|nhu the nao) ",
    r" (online|truc tuyen|qua mang) duoc ",
    r" can (dieu kien|giay to|nhung gi) ",
)
# A question form at the end of the utterance ("... thì làm sao", "... cần giấy gì ạ").
_QUESTION_END = _rx(
    r" (gi|dau|nao|sao|the nao|ra sao|bao nhieu|bao lau|duoc khong|khong)"
    r"( (a|vay|ha|nhi|chi|anh|em|the|day))* $"
)
_PROCEDURE_NOUNS = _rx(
    r" (khai sinh|khai tu|thuong tru|tam tru|ho khau|ket hon|chung thuc|cong chung|ly lich tu phap"
    r"|giay phep xay dung|ho kinh doanh|giay phep lai xe|bang lai|can cuoc|dang ky xe|ho chieu|so do"
    r"|tinh trang hon nhan|sang ten|ca vet|cap lai|dich vu cong|tach thua|con nuoi|tro cap|giay phep"
    r"|bao hiem|dang ky kinh doanh|thanh lap doanh nghiep|xac nhan cu tru|cap phep) "
)
# A question anywhere in the sentence ("có phải ... không", "... được không hay ...").
_QUESTION_ANY = _rx(
    r" co phai .* khong ",
    r" duoc khong ",
    r" (the nao|nhu nao|ra sao|o dau|bao lau|bao nhieu) ",
    r" co can .* khong ",
    r" lam sao ",
    r" may gio ",
    r" (may|bao nhieu) (ngay|hom|tuan|thang) (?!(nay|roi|qua|truoc|lien|lien tuc) )",  # not "mấy tháng nay"
    r" thi (len|den|toi|ra|o) dau ",
)
# "báo" folds like "bao lâu", "bao nhiêu", "bao giờ", "bao gồm", "bảo vệ", "bảo hiểm": those are not reports.
_REPORT_WORDS = _rx(
    r" phan anh ",
    r" kien nghi ",
    r" (bao|trinh bao|bao cao) (?!(lau|nhieu|gio|gom|ve|hiem|lanh|che|dam|quan|ho|tri) )",
    r" de nghi .* xu ly",
)
_GREET_CORE = frozenset(("alo", "chao", "hello", "lo"))
_GREET_WORDS = _GREET_CORE | frozenset(
    ("da", "a", "e", "xin", "ban", "em", "chi", "anh", "bac", "tong", "dai", "vien", "co", "ai", "khong",
     "nghe", "ro", "day", "do", "oi", "buoi", "sang", "chieu", "mot", "hai", "ha", "thua", "phai", "o", "u",
     "nhen", "nha", "nhe", "ne", "thanh", "pho", "hotline", "duong", "day", "nong", "toi", "minh", "cho",
     "hoi", "ca", "nha")
)  # fmt: skip
_GOODBYE = _rx(
    r" tam biet ",
    r" (cam on|cam ơn)( .*)? $",
    r" bye ",
    r" cup may ",
    r"^ (chao nhe|thoi chao nhe) $",
    r" (thoi|vay|the|duoc roi|xong roi|het roi)( \w+){0,3} chao( (nhe|nha|em|chi|anh|ban|a))* $",
    r" (the thoi|vay thoi|thoi nhe|thoi nha|het roi|khong con gi|xong roi)( \w+){0,6} chao ",
    r" chuc .*(ngay tot lanh|suc khoe|vui ve|buoi toi|cuoi tuan) ",
    r" bai bai ",
    r" bye bye ",
    # "thôi để lúc khác tôi gọi lại", "em gọi lại sau nha": the caller leaves for now
    r" (goi lai|noi tiep|bao lai) (sau|luc khac|hom khac|bua khac|khi khac|dip khac)"
    r"( (nhe|nha|nhen|a|nghe))* $",
    r"^ (thoi |da )?(de )?(luc|hom|bua|khi|dip) khac( (toi|em|tui|minh|chau))?( goi lai| noi)?"
    r"( (sau|nhe|nha|nhen|a))* $",
    r"^ (thoi |da )?de (toi|em|tui|minh|chau) goi lai( (sau|nhe|nha|nhen|a))* $",
    r"^ (thoi )?((toi|em|tui|minh|chau) )?(dang )?ban (roi|lam|qua)( (nhe|nha|a|em|chi|anh|ban))* $",
    r"^ (da )?thoi ((toi|em|tui|minh|chau) )?(dang )?ban (roi|lam|qua) ",  # "thôi em bận rồi, ... gọi lại"
    r"^ (da )?thoi .* goi lai( (sau|nhe|nha|nhen|a|chi|em|anh))* $",
)
_AFFIRM_CORE = frozenset(
    ("dung", "vang", "u", "ua", "phai", "chinh", "ok", "oke", "okay", "duoc", "co", "chuan", "dong", "xac",
     "da", "dza")
)  # fmt: skip
_AFFIRM_WORDS = _AFFIRM_CORE | frozenset(
    ("roi", "a", "vay", "the", "nhu", "xac", "nhan", "y", "day", "do", "nhe", "nha", "luon", "em", "chi",
     "anh", "ban", "tao", "gui", "di", "ha", "o", "um", "uh", "chinh", "thong", "tin", "ghi", "la", "nhen",
     "ne", "nghen", "het", "chinh", "xac", "ca", "so", "dia", "giup", "gium", "minh", "cu", "lai", "ten",
     "ma", "con")
)  # fmt: skip
_DENY = _rx(
    r"^ (da |thoi |o |u )?(khong|ko|hong|sai|nham|chua|dau co|khoi)( .*)? $",
    r" (nghe nham|sai roi|khong phai|khong dung|chua dung|nham roi|sai thong tin|trat roi) ",
    r"^ (da )?(lam gi co|dau co|co dau|trat)( .*)? $",
)
# Words that carry no report content; what is left after them and the slot values tells a report
# ("cơn lốc làm tốc mái mấy nhà") from an answer ("tên em là ... em ở phường ...").
_ANSWER_WORDS = frozenset(
    ("da", "vang", "a", "o", "u", "thi", "la", "toi", "em", "minh", "chau", "anh", "chi", "ten", "ho",
     "cua", "so", "dien", "thoai", "may", "nha", "tai", "thuoc", "phuong", "xa", "dac", "khu", "ben", "dia",
     "ban", "luc", "khoang", "tam", "vao", "tu", "ngay", "thang", "nam", "gio", "phut", "tieng", "sang",
     "trua", "chieu", "dem", "khuya", "hom", "qua", "nay", "mai", "kia", "thu", "chu", "nhat", "tuan",
     "truoc", "sau", "cach", "day", "nua", "ruoi", "kem", "mung", "ma", "can", "cuoc", "cong", "dan", "dinh",
     "danh", "cccd", "sdt", "va", "con", "cho", "ghi", "lai", "hien", "song", "ngo", "pho", "duong", "to",
     "nhe", "voi", "do", "ay", "ne", "nhen", "tui", "ha", "hen", "o", "nghen", "bat", "dau")
)  # fmt: skip
_REPORT_CONTENT_MIN = 4
_ADDRESS_START = _rx(r"^ (da |o |u )?(o|tai|nha (toi|em|minh|tui|chau) o) (so|ngo|ngach|hem|kiet|duong|pho) ")
_ADDRESS_CONTENT_MAX = 2


def rule_intent(folded: str, entities: dict[str, str]) -> tuple[str, float]:
    """The fallback interpreter's decision: intent and confidence from the folded text (see
    :func:`fold_text`) and the entities found in it."""
    toks = folded.split()
    words = len(toks)
    slot_values = {k for k in entities if k not in ("category", "urgent")}
    if entities.get("urgent") == "true":
        return "report", 0.8
    if _COMPLAINT.search(folded):
        return "complaint_denunciation", 0.8
    if _OPERATOR.search(folded):
        return "request_operator", 0.8
    if _STRONG_PROCEDURE.search(folded) and not _REPORT_WORDS.search(folded):
        return "procedure_question", 0.7
    if "dossier_code" in entities:
        if _DOSSIER.search(folded) or _DOSSIER_ASK.search(folded):
            return "dossier_lookup", 0.75
        return "inform", 0.7  # the code alone answers "what is the dossier code?"
    if _DOSSIER.search(folded):
        return "dossier_lookup", 0.75
    asked = _PROCEDURE.search(folded)
    question = _PROCEDURE_NOUNS.search(folded) or _QUESTION_END.search(folded)
    if asked and ("category" not in entities or question):
        return "procedure_question", 0.7
    if _ASKED_ABOUT_DOSSIER.search(folded):
        return "dossier_lookup", 0.6
    if procedure_asked(folded, entities):
        return "procedure_question", 0.6
    if words <= 12 and _GOODBYE.search(folded):
        return "goodbye", 0.75
    if words <= 12 and set(toks) <= _GREET_WORDS and set(toks) & _GREET_CORE:
        return "greet", 0.8
    if _only_yes_words(toks, 8):
        return "affirm", 0.75
    if words <= 8 and _DENY.search(folded) and not slot_values:
        return "deny", 0.7
    if _REPORT_WORDS.search(folded) or ("category" in entities and words > 3):
        return "report", 0.6
    if slot_values:
        if content_words(toks, entities) >= _REPORT_CONTENT_MIN:
            return "report", 0.5
        return "inform", 0.6
    if _PROCEDURE_NOUNS.search(folded):
        return "procedure_question", 0.5
    if _ADDRESS_START.search(folded) and content_words(toks, entities) <= _ADDRESS_CONTENT_MAX:
        return "inform", 0.5  # an address given as an answer: "ở số mười hai ngõ bốn lăm phố hào nam"
    if words >= 5:
        return "report", 0.4
    return "inform", 0.3


def procedure_asked(folded: str, entities: dict[str, str]) -> bool:
    """A procedure named and asked about ("đăng ký khai sinh ở phường ... được không"), with no danger
    and no report words in the sentence."""
    if entities.get("urgent") == "true" or _REPORT_WORDS.search(folded):
        return False
    return bool(_PROCEDURE_NOUNS.search(folded) and _QUESTION_ANY.search(folded))


_STRONG_PROCEDURE = _rx(
    r" thu tuc ",
    r" le phi ",
    r" can (nhung )?giay to gi ",
    r" nop (ho so )?(o|tai) (dau|cho nao) ",
    r" (can|phai) mang (theo )?(gi|nhung gi) ",
    r" huong dan (toi |em |minh |chau )?(cach|thu tuc|lam) ",
    r" gio lam viec ",
    r" co lam viec .* khong ",
)
_STRONG_OPERATOR = _rx(r" (tong dai vien|dien thoai vien|tu van vien|dieu phoi vien|nguoi that) ")
# A short turn that says no ("hổng phải", "không đúng đâu").
_STRONG_DENY = _rx(r"^ (da |u |o )?(khong|hong|ko) (phai|dung)( (dau|a|nha|nhe|roi|em|chi|anh))* $")
_RULE_OVER_MODEL: dict[str, frozenset[str]] = {  # cue -> the model's intents it may replace
    "complaint_denunciation": frozenset(("report", "procedure_question", "dossier_lookup", "inform")),
    "dossier_lookup": frozenset(("report", "inform", "procedure_question")),
    "procedure_question": frozenset(("report", "inform", "dossier_lookup")),
    "goodbye": frozenset(("report", "inform", "greet")),
    "request_operator": frozenset(("report", "inform", "procedure_question", "dossier_lookup")),
    "deny": frozenset(("affirm", "inform")),
    "affirm": frozenset(("deny", "inform")),
}


def strong_intent(folded: str, entities: dict[str, str], model_intent: str) -> str | None:
    """An intent the words themselves settle, to override ``model_intent`` with, or None.

    Only cues that are rarely wrong: the complaint words, a dossier's status asked about, a procedure
    asked about without report words, a short closing ("dạ em không còn gì nữa ạ em chào chị").
    """
    cue: str | None = None
    if entities.get("urgent") == "true":
        return None
    if _COMPLAINT.search(folded):
        cue = "complaint_denunciation"
    elif _DOSSIER.search(folded) or ("dossier_code" in entities and _DOSSIER_ASK.search(folded)):
        cue = "dossier_lookup"
    elif not _REPORT_WORDS.search(folded) and (
        _STRONG_PROCEDURE.search(folded) or procedure_asked(folded, entities)
    ):
        cue = "procedure_question"
    elif len(folded.split()) <= 12 and _GOODBYE.search(folded):
        cue = "goodbye"
    elif _STRONG_OPERATOR.search(folded):
        cue = "request_operator"
    elif _STRONG_DENY.search(folded):
        cue = "deny"
    elif _only_yes_words(folded.split(), 6):
        cue = "affirm"
    if cue is None or cue == model_intent or model_intent not in _RULE_OVER_MODEL[cue]:
        return None
    return cue


def _only_yes_words(toks: list[str], max_words: int) -> bool:
    """A short turn of yes-words only ("đúng thông tin rồi", "vâng ạ"); no word of negation is one."""
    words = set(toks)
    return len(toks) <= max_words and words <= _AFFIRM_WORDS and bool(words & _AFFIRM_CORE)


def content_words(toks: list[str], entities: dict[str, str]) -> int:
    """Words left once answer words, numbers and the slot values' own words are set aside."""
    value_words = {w for key in ("name", "ward") for w in fold_text(entities.get(key, "")).split()}
    return sum(
        1
        for t in toks
        if t not in _ANSWER_WORDS
        and t not in value_words
        and t not in _NUMBER_WORDS
        and not any(c.isdigit() for c in t)
    )


def asks_for_operator(text: str) -> bool:
    """The words ask for a person ("cho tôi gặp tổng đài viên", "nối máy cho tôi")."""
    folded = fold_text(text)
    return bool(_OPERATOR.search(folded) or _STRONG_OPERATOR.search(folded))


def says_goodbye(text: str) -> bool:
    """A short closing ("thôi chào nhé", "cảm ơn em", "tạm biệt")."""
    folded = fold_text(text)
    return len(folded.split()) <= 12 and bool(_GOODBYE.search(folded))

"""Out-of-scope content the hotline must refuse with a reason (HN Art. 1.3, 6.2; CT Art. 3.6).

Complaints and denunciations come from the interpreter's ``complaint_denunciation`` intent; advertising,
insults and state secrets are recognised here by phrase, since callers rarely say them any other way.
"""

from __future__ import annotations

import re

_ADVERTISING = re.compile(
    r"\b(bên (em|mình|chúng tôi|tôi|anh|chị|tui|tụi tôi|bọn tôi|công ty (em|tôi|mình|anh|chị|tui)) "
    r"(đang )?có (chương trình|sản phẩm|dịch vụ|gói)|khuyến mãi|giảm giá|"
    r"mời (anh|chị|anh chị|quý khách) (mua|đăng ký|tham gia)|cho vay|vay tiêu dùng|bán hàng online|"
    r"muốn quảng cáo|đăng quảng cáo|quảng cáo (giúp|giùm|dùm|hộ)|nhờ (\w+ ){0,2}quảng cáo|"
    r"(giới thiệu|quảng bá) (sản phẩm|dịch vụ) (của|bên|cho))\b"
)
_INSULT = re.compile(
    r"\b(đồ ngu|ngu như|ngu thế|ngu vậy|ngu à|mẹ mày|bố mày|con mẹ|đm|đmm|vcl|vl|địt|đéo|cút đi|"
    r"lũ ăn hại|đồ ăn hại|đồ điên|thằng điên|con điên|súc vật)\b"
)
_SECRET = re.compile(r"\b(bí mật nhà nước|bí mật quốc gia|tài liệu mật|bí mật quân sự)\b")


def out_of_scope(text: str) -> str | None:
    """ "advertising", "insult" or "state_secret" when the utterance is out of scope, else None."""
    t = " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
    if _INSULT.search(t):
        return "insult"
    if _SECRET.search(t):
        return "state_secret"
    if _ADVERTISING.search(t):
        return "advertising"
    return None


_REPORT_STATUS = re.compile(
    r"\b(mã (số )?theo dõi|(tình trạng|kết quả|tiến độ|xử lý đến đâu)\b.*\b(phản ánh|kiến nghị)|"
    r"(phản ánh|kiến nghị)\b.*\b(tình trạng|kết quả|tiến độ|đến đâu|tới đâu)|"
    r"(phản ánh|kiến nghị)\b.*\b(đã|được|có ai)( \w+){0,3} (xử lý|giải quyết|khắc phục|làm|sửa)( \w+){0,2} "
    r"chưa( (ạ|vậy|vay|em|chị|anh|nhỉ|hả|ha|nhờ))*$)"
)
# "phản ánh về tình trạng xe tải chạy vào đường cấm" reports something: "tình trạng" names the problem.
_REPORTS_A_STATE = re.compile(r"\b(phản ánh|kiến nghị|báo)( \w+){0,2} (về )?tình trạng (?!xử lý|giải quyết)")


def asks_report_status(text: str) -> bool:
    """True when the caller asks how an earlier report is going (service a2: lookup by tracking code)."""
    t = " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
    if _REPORTS_A_STATE.search(t) and not re.search(r"\b(mã (số )?theo dõi|đến đâu|tới đâu|kết quả)\b", t):
        return False
    return bool(_REPORT_STATUS.search(t))

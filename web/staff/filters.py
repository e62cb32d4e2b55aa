"""Jinja2 filters of the staff pages: Vietnamese dates, working time left, labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment

VN = ZoneInfo("Asia/Ho_Chi_Minh")

PRIORITY = {"urgent": "Khẩn", "normal": "Thường", "complex": "Phức tạp"}
STATE = {"overdue": "Quá hạn", "due_soon": "Sắp đến hạn", "ok": "Trong hạn", "closed": "Đã đóng"}
HANDOVER = {
    "caller_request": "Người gọi yêu cầu gặp tổng đài viên",
    "urgent": "Sự việc khẩn cấp",
    "not_understood": "Tổng đài viên AI không hiểu được người gọi",
    "no_response": "Người gọi không trả lời",
    "procedure_unknown": "Thủ tục chưa có trong dữ liệu",
    "no_asr": "Không nhận dạng được giọng nói",
}
ACTIONS = {
    "create": "Tạo phiếu",
    "complete_draft": "Hoàn thiện phiếu nháp",
    "dispatch": "Chuyển xử lý",
    "accept": "Tiếp nhận",
    "add_coordinator": "Thêm đơn vị phối hợp",
    "post_coordinator_part": "Cập nhật phần phối hợp",
    "transfer": "Chuyển đơn vị",
    "draft_result": "Trình kết quả",
    "approve_result": "Phê duyệt kết quả",
    "send_back": "Trả lại",
    "complete": "Hoàn thành",
    "reject": "Từ chối",
    "mark_duplicate": "Đánh dấu trùng",
    "extend": "Gia hạn",
    "mark_overdue": "Quá hạn",
    "escalate": "Chuyển cấp",
    "rate": "Đánh giá",
    "request_clarification": "Yêu cầu làm rõ",
    "answer_clarification": "Trả lời làm rõ",
    "add_attachment": "Đính kèm tệp",
}


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(VN).strftime("%H:%M %d/%m/%Y")


def left(value: timedelta | None) -> str:
    """Working time as "còn 3 giờ 20 phút" / "quá 1 giờ"."""
    if value is None:
        return "-"
    minutes = int(abs(value.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours} giờ {mins:02d} phút" if hours else f"{mins} phút"
    return f"quá {text}" if value.total_seconds() < 0 else f"còn {text}"


def size(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} MB"
    return f"{max(1, value // 1000)} kB"


def install(env: Environment) -> None:
    env.filters["when"] = when
    env.filters["left"] = left
    env.filters["size"] = size
    env.globals["PRIORITY"] = PRIORITY
    env.globals["STATE"] = STATE
    env.globals["ACTIONS"] = ACTIONS
    env.globals["HANDOVER"] = HANDOVER

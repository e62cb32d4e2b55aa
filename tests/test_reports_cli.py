"""``hotline reports`` end to end on SQLite and PostgreSQL, and the HTML report rendered by the real
headless Chromium to a PNG that must show the page (not a blank sheet)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image, ImageStat

from cli import main as cli
from config.settings import get_settings
from tests.scheduler_world import world
from tests.test_reports import at, seed_february


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    with world(db_url, tmp_path, at(20, month=1)) as w:
        seed_february(w)
    data = tmp_path / "data"
    data.mkdir()
    get_settings.cache_clear()
    yield {
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_DATA_DIR": str(data),
        "HOTLINE_CITY": "hanoi",
        "HOTLINE_CONFIG": str(data / "none.toml"),
    }
    get_settings.cache_clear()


def test_monthly_xlsx_csv_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "thang02.xlsx"
    r = runner.invoke(
        cli, ["reports", "monthly", "--month", "2026-02", "--format", "xlsx", "--out", str(out)], env=env
    )
    assert r.exit_code == 0, r.output
    assert "7 tickets, 5 calls, 2 agencies over 30 % late, 0 repeated issues" in r.output
    assert "Theo đơn vị xử lý" in load_workbook(io.BytesIO(out.read_bytes())).sheetnames

    r = runner.invoke(
        cli,
        ["reports", "range", "--from", "2026-02-01", "--to", "2026-02-28", "--format", "csv", "--out", "-"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    assert "Tiếp nhận,7" in r.output and "MT-HN," in r.output

    r = runner.invoke(
        cli,
        ["reports", "quarterly", "--quarter", "2026Q1", "--format", "csv", "--out", "-", "--agency", "SO-XD"],
        env=env,
    )
    assert r.exit_code == 0 and "Tiếp nhận,2" in r.output

    r = runner.invoke(cli, ["reports", "yearly", "--year", "2025", "--format", "csv", "--out", "-"], env=env)
    assert r.exit_code == 0 and "Tiếp nhận,0" in r.output

    bad = runner.invoke(cli, ["reports", "monthly", "--month", "2026-13"], env=env)
    assert bad.exit_code == 1 and "malformed month" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(
        cli, ["reports", "monthly", "--month", "2026-02", "--format", "html", "--out", "-"], env=env
    )
    assert bad.exit_code == 1 and "only csv" in bad.output


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is required (Debian package 'chromium', installed by scripts/setup.sh --dev)"
    )


def test_html_report_renders_in_headless_chromium(env: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "thang02.html"
    r = CliRunner().invoke(cli, ["reports", "monthly", "--month", "2026-02", "--out", str(page)], env=env)
    assert r.exit_code == 0, r.output
    png = tmp_path / "thang02.png"
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--screenshot={png}",
        "--window-size=1240,1754",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert png.is_file(), proc.stderr.decode(errors="replace")[-2000:]
    image = Image.open(png).convert("L")
    assert image.size == (1240, 1754)
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 20, "the screenshot is blank"
    dark = sum(image.histogram()[:128]) / (image.width * image.height)
    assert 0.005 < dark < 0.5, dark  # text, table rules and bars on a white page
    # the charts are drawn: some pixels have the bars' blue
    rgb = Image.open(png).convert("RGB").resize((310, 438))
    assert any(b > 140 and r < 80 for r, _g, b in rgb.get_flattened_data())


def test_the_monthly_report_shows_what_the_ai_learned(env: dict[str, str], tmp_path: Path) -> None:
    from datetime import datetime

    from nlu.dialogue.review import ReviewItem
    from nlu.gate import compare
    from nlu.learning import TrainingLog
    from nlu.review import ReviewQueue

    data = Path(env["HOTLINE_DATA_DIR"])
    queue = ReviewQueue(data)
    turns = queue.add(
        [
            ReviewItem("not_understood", "ờ cái chỗ đó", "", 0.1, turn=1),
            ReviewItem("not_understood", "bãi rác sau nhà văn hóa", "", 0.2, turn=2),
            ReviewItem("handoff", "cho tôi gặp người", "request_operator", 0.9, turn=3),
        ],
        city="hanoi",
        now=datetime(2026, 2, 10, 9, 0),
    )
    queue.label(turns[1].id, "report", reviewer="giamsat", now=datetime(2026, 2, 11, 9, 0))
    queue.discard(turns[0].id, reviewer="giamsat", now=datetime(2026, 2, 11, 9, 5))
    sets = ["hotline_eval", "independent_a"]
    before = {"intent_accuracy": 0.91, "slot_f1": 0.84}
    refused = compare(sets, lambda _: before, lambda n: {"intent_accuracy": 0.85, "slot_f1": 0.84}, 0.01)
    passed = compare(sets, lambda _: before, lambda n: {"intent_accuracy": 0.93, "slot_f1": 0.85}, 0.01)
    log = TrainingLog(data)
    log.record("nlu-1a2b3c.tar.gz", refused, promoted=False, forced=False, labelled=1, tolerance=0.01,
               now=datetime(2026, 2, 12, 8, 0))  # fmt: skip
    log.record("nlu-4d5e6f.tar.gz", passed, promoted=True, forced=False, labelled=1, tolerance=0.01,
               now=datetime(2026, 2, 20, 8, 0))  # fmt: skip

    page = tmp_path / "thang02.html"
    r = CliRunner().invoke(cli, ["reports", "monthly", "--month", "2026-02", "--out", str(page)], env=env)
    assert r.exit_code == 0, r.output
    html = page.read_text(encoding="utf-8")
    assert "Những gì AI đã học" in html and "Các lần huấn luyện lại" in html
    assert 'Đưa vào hàng đợi rà soát: Câu nói AI không hiểu</td><td class="num">2' in html
    assert 'Đã gán nhãn (thành dữ liệu huấn luyện)</td><td class="num">1' in html
    assert "nlu-1a2b3c.tar.gz" in html and "Từ chối" in html and "91.0 %" in html and "85.0 %" in html
    r = CliRunner().invoke(
        cli, ["reports", "monthly", "--month", "2026-02", "--format", "csv", "--out", "-"], env=env
    )
    assert "# Những gì AI đã học" in r.output and "Đã loại bỏ,1" in r.output
    assert "nlu-4d5e6f.tar.gz,1,independent_a,91.0 %,93.0 %,84.0 %,85.0 %,Đưa vào sử dụng" in r.output
    r = CliRunner().invoke(
        cli,
        ["reports", "monthly", "--month", "2026-02", "--format", "csv", "--out", "-", "--agency", "SO-XD"],
        env=env,
    )
    assert r.exit_code == 0 and "Những gì AI đã học" not in r.output  # city-wide only
    r = CliRunner().invoke(
        cli, ["reports", "monthly", "--month", "2026-03", "--format", "csv", "--out", "-"], env=env
    )
    assert "Số lần huấn luyện lại,0" in r.output  # another month: nothing learned

    from playwright.sync_api import sync_playwright

    from tests.portal_server import CHROMIUM, CHROMIUM_ARGS, OUTPUT

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            view = b.new_page(viewport={"width": 900, "height": 1200})
            view.goto(page.resolve().as_uri())
            section = view.locator("section", has=view.get_by_role("heading", name="Những gì AI đã học"))
            section.scroll_into_view_if_needed()
            (OUTPUT / "review").mkdir(parents=True, exist_ok=True)
            training = view.locator("section", has=view.get_by_role("heading", name="Các lần huấn luyện lại"))
            view.screenshot(
                path=str(OUTPUT / "review" / "04-report-learning.png"), clip=_union(section, training)
            )
        finally:
            b.close()


def _union(a: object, b: object) -> dict[str, float]:
    box_a, box_b = a.bounding_box(), b.bounding_box()  # type: ignore[attr-defined]
    x, y = min(box_a["x"], box_b["x"]), box_a["y"]
    return {
        "x": x,
        "y": y,
        "width": max(box_a["width"], box_b["width"]),
        "height": box_b["y"] + box_b["height"] - y,
    }

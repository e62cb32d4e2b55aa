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

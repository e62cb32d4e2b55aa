"""``hotline calendar``: the deadline contract (last line = ISO 8601 with offset), days-off, check; and the
calendar built from the settings (sessions, extra days file), through CliRunner and the installed script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from config.settings import Settings, get_settings
from ticketing.calendar_config import CalendarConfigError, calendar_for, day_entries, parse_days


@pytest.fixture(autouse=True)
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No developer config leaks in: an empty config path and no HOTLINE_* variables."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    config = tmp_path / "hotline.toml"
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    get_settings.cache_clear()
    yield config
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["calendar", *args])
    return result.exit_code, result.output


def test_deadline_contract_example() -> None:
    code, out = run("deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4")
    assert code == 0, out
    assert out.splitlines()[-1] == "2026-11-23T11:00:00+07:00"


@pytest.mark.parametrize(
    ("args", "last"),
    [
        (["--start", "2026-11-20T16:00", "--hours", "4"], "2026-11-23T11:00:00+07:00"),  # no offset: Hanoi
        (["--start", "2026-11-20T09:00Z", "--hours", "4"], "2026-11-23T11:00:00+07:00"),
        (["--start", "2026-11-20T09:00:00+00:00", "--hours", "4"], "2026-11-23T11:00:00+07:00"),
        (["--start", "2026-02-12T08:00+07:00", "--days", "7"], "2026-02-27T17:00:00+07:00"),  # Tết
        (["--start", "2026-01-09T16:00+07:00", "--hours", "2"], "2026-01-10T09:00:00+07:00"),  # Sat 10/01
        (["--start", "2026-04-29T16:00", "--hours", "2", "--city", "cantho"], "2026-05-04T09:00:00+07:00"),
        (["--start", "2030-01-30T16:00+07:00", "--hours", "2"], "2030-02-07T09:00:00+07:00"),  # Tết 2030
        (["--start", "2026-11-23T11:00+07:00", "--hours", "1"], "2026-11-23T12:00:00+07:00"),
        (["--start", "2026-11-23T12:30+07:00", "--hours", "0"], "2026-11-23T13:00:00+07:00"),
        (["--start", "2026-11-23T08:00+07:00", "--days", "0.5"], "2026-11-23T12:00:00+07:00"),
    ],
)
def test_deadline_outputs(args: list[str], last: str) -> None:
    code, out = run("deadline", *args)
    assert code == 0, out
    assert out.splitlines()[-1] == last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-11-20 16h", "--hours", "4"], "malformed start time"),
        (["--start", "20/11/2026", "--hours", "4"], "malformed start time"),
        (["--start", "2026-11-20T16:00+07:00"], "exactly one of --hours or --days"),
        (["--start", "2026-11-20T16:00+07:00", "--hours", "1", "--days", "1"], "exactly one of"),
        (["--start", "2026-11-20T16:00+07:00", "--hours", "-1"], "non-negative"),
        (["--start", "2026-11-20T16:00+07:00", "--hours", "nan"], "non-negative"),
        (["--start", "9999-12-31T16:00+07:00", "--days", "2"], "cannot compute the deadline"),
    ],
)
def test_deadline_bad_input_is_one_line_and_exit_1(args: list[str], message: str) -> None:
    code, out = run("deadline", *args)
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi / Error: ") and message in lines[0]
    assert "Traceback" not in out


def test_days_off_2026_lists_confirmed_rows_and_the_make_up_saturday() -> None:
    code, out = run("days-off", "--year", "2026")
    assert code == 0, out
    lines = out.splitlines()
    days = [line.split()[0] for line in lines]
    assert days == sorted(days)
    assert "2026-01-02" in days and "2026-04-27" in days
    assert all(d in days for d in ("2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"))
    assert "2026-11-24" not in days  # Culture Day: not confirmed
    makeup = [line for line in lines if line.startswith("2026-01-10")]
    assert makeup and "làm bù" in makeup[0] and "working day" in makeup[0]


def test_days_off_fallback_year_has_vietnamese_names() -> None:
    code, out = run("days-off", "--year", "2030")
    assert code == 0, out
    assert any(line.startswith("2030-02-02") and "Tết" in line for line in out.splitlines())
    assert any(line.startswith("2030-04-12") and "Hùng Vương" in line for line in out.splitlines())


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-01-10", "working day"),
        ("2026-01-02", "day off"),
        ("2026-02-17", "day off"),
        ("2026-11-24", "working day"),
        ("2026-11-21", "day off"),
        ("2030-02-04", "day off"),
    ],
)
def test_check(day: str, expected: str) -> None:
    code, out = run("check", day)
    assert code == 0, out
    assert out.strip().startswith(day) and expected in out


def test_check_malformed_date() -> None:
    code, out = run("check", "2026-02-30")
    assert code == 1 and "malformed date" in out


def test_help_renders_with_examples() -> None:
    for args in (["--help"], ["deadline", "--help"], ["days-off", "--help"], ["check", "--help"]):
        code, out = run(*args)
        assert code == 0 and "Usage:" in out
    example = "hotline calendar deadline --start 2026-11-20T16:00+07:00 --hours 4"
    assert example in run("deadline", "--help")[1]


# --- settings: sessions and the extra days file --------------------------------------------------------


def test_extra_days_file_from_the_config_file(clean_settings: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "# local decision\ndate,weekday,kind,name_vi,status\n2026-11-23,Mon,swap_off,Nghỉ thử,confirmed\n",
        encoding="utf-8",
    )
    clean_settings.write_text(f'[calendar]\nextra_days_file = "{extra}"\n', encoding="utf-8")
    code, out = run("deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4")
    assert code == 0, out
    assert out.splitlines()[-1] == "2026-11-24T11:00:00+07:00"
    assert "Nghỉ thử" in run("check", "2026-11-23")[1]


def test_missing_extra_days_file_is_a_one_line_error(clean_settings: Path, tmp_path: Path) -> None:
    clean_settings.write_text(f'[calendar]\nextra_days_file = "{tmp_path / "nope.csv"}"\n', encoding="utf-8")
    code, out = run("deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4")
    assert code == 1 and "invalid calendar configuration" in out and "nope.csv" in out


def test_sessions_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CALENDAR__SESSIONS", '["07:30-11:30", "13:30-17:30"]')
    get_settings.cache_clear()
    code, out = run("deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4")
    assert code == 0, out
    assert out.splitlines()[-1] == "2026-11-23T10:00:00+07:00"  # 1.5 h Friday, 2.5 h from 07:30 Monday
    monkeypatch.setenv("HOTLINE_CALENDAR__SESSIONS", '["7h30-11h30"]')
    get_settings.cache_clear()
    code, out = run("deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4")
    assert code == 1 and "malformed office session" in out


def test_calendar_for_uses_explicit_settings_and_city_defaults() -> None:
    default = calendar_for("hanoi", Settings())
    assert [f"{s:%H:%M}-{e:%H:%M}" for s, e in default.sessions] == ["08:00-12:00", "13:00-17:00"]
    assert calendar_for("cantho", Settings()) is calendar_for("haiphong", Settings())  # cached, same config
    custom = calendar_for("hanoi", Settings(calendar={"sessions": ["07:00-11:00"]}))
    assert [f"{s:%H:%M}-{e:%H:%M}" for s, e in custom.sessions] == ["07:00-11:00"]
    with pytest.raises(CalendarConfigError, match="unknown city"):
        calendar_for("danang", Settings())
    with pytest.raises(CalendarConfigError, match="unknown time zone"):
        calendar_for("hanoi", Settings(calendar={"timezone": "Asia/Nowhere"}))


def test_day_entries_match_the_calendar() -> None:
    cal = calendar_for("hanoi", Settings())
    for year in (2025, 2026, 2027):
        for entry in day_entries(year, cal, Settings()):
            assert cal.is_working_day(entry.day) is (not entry.is_day_off)
            assert entry.name


def test_shipped_file_rules() -> None:
    from importlib import resources

    text = resources.files("ticketing.data").joinpath("days_off.csv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")][1:]
    assert rows and all(row.endswith(",confirmed") for row in rows)
    entries = parse_days(text.splitlines(), "days_off.csv")  # also checks every weekday
    assert {e.day.year for e in entries} == {2025, 2026}
    assert date(2026, 11, 24) not in {e.day for e in entries}
    assert {e.day for e in entries if not e.is_day_off} == {date(2025, 4, 26), date(2026, 1, 10)}
    assert all(e.day.weekday() == 5 for e in entries if not e.is_day_off)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-02-30,Mon,statutory,x,confirmed", "malformed date"),
        ("2026-11-23,Mon,holiday,x,confirmed", "unknown kind"),
        ("2026-11-23,Tue,statutory,x,confirmed", "is a Mon, not Tue"),
    ],
)
def test_malformed_days_files_are_refused(row: str, message: str) -> None:
    with pytest.raises(CalendarConfigError, match=message):
        parse_days(["date,weekday,kind,name_vi,status", row], "extra.csv")


def test_installed_hotline_script_prints_the_deadline_last(clean_settings: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("hotline")
    assert script.is_file(), f"the console script is not installed next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_CONFIG"] = str(clean_settings)
    proc = subprocess.run(
        [str(script), "calendar", "deadline", "--start", "2026-11-20T16:00+07:00", "--hours", "4"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "2026-11-23T11:00:00+07:00"
    bad = subprocess.run(
        [str(script), "calendar", "deadline", "--start", "tomorrow", "--hours", "4"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "malformed start time" in bad.stderr
    assert "Traceback" not in bad.stderr

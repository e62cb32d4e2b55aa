"""``hotline calls list/show`` over a real migrated SQLite database, and ``--help`` of the app commands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from config.settings import get_settings
from ticketing.calls import CallLog, Outcome
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    # a chroot Asterisk root: recordings are translated to host paths under it
    root = tmp_path / "asterisk-root"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/asterisk").write_text("")
    (root / ".hotline-installed").write_text("test\n")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_list_newest_first_with_host_recording_paths(data_dir: Path) -> None:
    url = f"sqlite:///{data_dir / 'hotline.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    log = CallLog(SqlCallRepository(make_session_factory(engine)))
    inner = "/var/spool/asterisk-main/monitor/hotline/2026/11/23/a.wav"
    log.start("a", "0912345678", "1022", recording=inner)
    log.finish("a", Outcome.ABANDONED)
    log.start("b", "0243", "1022")
    log.mark_outcome("b", Outcome.TRANSFERRED)
    engine.dispose()
    host = data_dir / "asterisk-root" / inner.lstrip("/")
    host.parent.mkdir(parents=True)
    host.write_bytes(b"RIFF")

    result = CliRunner().invoke(main, ["calls", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["caller"] for r in rows] == ["****", "09******78"]  # personal data masked by default
    full = json.loads(CliRunner().invoke(main, ["calls", "list", "--json", "--show-personal"]).output)
    assert [r["caller"] for r in full] == ["0243", "0912345678"]
    assert rows[1]["outcome"] == "abandoned" and rows[0]["outcome"] == "transferred"
    assert rows[1]["recording"] == str(host.resolve()) and rows[1]["recording_exists"] is True
    assert rows[0]["ended_at"] is None

    shown = CliRunner().invoke(main, ["calls", "show", str(rows[1]["id"])])
    assert shown.exit_code == 0 and json.loads(shown.output)["channel_id"] == "a"
    text = CliRunner().invoke(main, ["calls", "list"])
    assert "09******78" in text.output and "0912345678" not in text.output and "abandoned" in text.output
    assert "0912345678" in CliRunner().invoke(main, ["calls", "list", "--show-personal"]).output


def test_errors_are_one_line(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["calls", "list"])  # database never migrated
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "Error" in result.output
    migrate.upgrade(f"sqlite:///{data_dir / 'hotline.db'}")
    missing = CliRunner().invoke(main, ["calls", "show", "999"])
    assert missing.exit_code == 1 and "no call with id 999" in missing.output


@pytest.mark.parametrize("args", [["calls", "list"], ["calls", "show"], ["app", "run"], ["agi", "run"]])
def test_help_renders_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_app_refuses_a_missing_ari_password(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["app", "run"])
    assert result.exit_code == 1 and "ari_password" in result.output

"""Operator accounts are audited (who added or removed which operator, never the password digest), and
rendering the PBX config on a fresh data directory does not create an empty database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from config.settings import get_settings
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.models import AuditLogRow

SECRET = "Kq7-vZ2pL9xW4nR8tY3mB6cH"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOTLINE_CONFIG": str(tmp_path / "absent.toml"),
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_DATABASE__URL": "",
        "HOTLINE_PBX__ASTERISK_ROOT": str(tmp_path / "no-root"),
        "HOTLINE_PBX__ARI_PASSWORD": SECRET,
        "HOTLINE_PBX__AMI_PASSWORD": SECRET[::-1],
    }


def _run(env: dict[str, str], *args: str) -> str:
    get_settings.cache_clear()
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_render_on_a_fresh_data_dir_creates_no_database(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert "rendered the Asterisk configuration" in _run(env, "pbx", "render")
    assert not (tmp_path / "data" / "hotline.db").exists()


def test_operators_add_and_remove_are_audited(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _run(env, "db", "upgrade")
    _run(env, "operators", "add", "op1001", "--display", "Nguyễn Thị Lan", "--actor", "quan-tri")
    _run(env, "operators", "remove", "op1001", "--actor", "quan-tri")
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'hotline.db'}")
    try:
        with make_session_factory(engine)() as session:
            rows = list(session.scalars(select(AuditLogRow).where(AuditLogRow.entity == "operator")))
    finally:
        engine.dispose()
    assert [(r.action, r.actor, r.entity_id) for r in rows] == [
        ("add", "quan-tri", "op1001"),
        ("remove", "quan-tri", "op1001"),
    ]
    assert (
        rows[0].after == {"name": "op1001", "display_name": "Nguyễn Thị Lan"} and rows[1].before is not None
    )
    assert "password" not in str(rows[0].after) + str(rows[1].before)

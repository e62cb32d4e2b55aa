"""``hotline users`` end to end on a temporary SQLite data directory: add with a generated or a
piped password, list, reset, disable; the bad-input list; every change audited as the OS user."""

from __future__ import annotations

import getpass
from pathlib import Path

from config.settings import Settings
from tests.test_cli_tickets import Hotline


def test_users_cli(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_DATABASE__URL": "", "HOTLINE_CITY": "hanoi"}
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    out = h(
        "users", "add", "lan.nt", "--role", "officer", "--agency", "UBND-00070", "--name", "Nguyễn Thị Lan"
    )
    generated = out.stdout.strip().splitlines()[-1].split(": ")[-1]
    assert len(generated) >= 20
    out = h(
        "users",
        "add",
        "hung.pv",
        "--role",
        "head",
        "--agency",
        "UBND-00070",
        "--password-stdin",
        input="mot-mat-khau-du-dai\n",
    )
    assert "shown once" not in out.stdout
    listing = h("users", "list").stdout
    assert "lan.nt" in listing and "officer@UBND-00070" in listing and "$argon2" not in listing

    assert "--agency" in h.fails("users", "add", "a.b", "--role", "officer")
    assert "NOPE" in h.fails("users", "add", "a.b", "--role", "head", "--agency", "NOPE")
    assert "already exists" in h.fails("users", "add", "lan.nt", "--role", "operator")
    assert "12" in h.fails("users", "add", "a.c", "--role", "admin", "--password-stdin", input="short\n")
    assert "no user" in h.fails("users", "disable", "ghost")

    h("users", "reset-password", "lan.nt")
    h("users", "disable", "lan.nt")
    assert "disabled" in h("users", "list").stdout

    import wiring

    services = wiring.build(Settings(data_dir=tmp_path / "var"))
    try:
        assert services.users.authenticate("hung.pv", "mot-mat-khau-du-dai") is not None
        assert services.users.authenticate("lan.nt", generated) is None
        with services.unit_of_work() as uow:
            entries = uow.audit.entries("user", "lan.nt")
    finally:
        services.close()
    assert [e.action for e in entries] == ["add", "reset_password", "disable"]
    assert {e.actor for e in entries} == {f"cli:{getpass.getuser()}"}

"""The ``hotline`` CLI end to end through click's CliRunner, on a temporary data directory (SQLite)
and on the real PostgreSQL: migrations, agencies, routing, the ticket workflow, masking of personal
data, and the bad-input list (one-line error, exit 1, nothing changed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main
from config.settings import get_settings

REPORT = {
    "channel": "phone",
    "category": "VSMT",
    "priority": "normal",
    "caller": {"name": "Phạm Thị Hoa", "phone": "0987654321", "cccd": "001190012345"},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày",
    "incident_time": "2026-03-01T18:30+07:00",
}


class Hotline:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        get_settings.cache_clear()
        result = self.runner.invoke(main, list(args), env=self.env, input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def fails(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input, ok=False)
        assert result.exit_code == 1, result.output
        err = result.stderr.strip()
        assert err.startswith("Lỗi / Error: "), err
        assert "\n" not in err and "Traceback" not in result.output
        return err

    def create(self, report: dict[str, Any] = REPORT) -> str:
        out = self("tickets", "create", "-", input=json.dumps(report)).stdout
        return out.strip().splitlines()[-1]

    def state(self, code: str) -> str:
        return self("tickets", "show", code, "--json", "--show-personal").stdout


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_DATABASE__URL": "", "HOTLINE_CITY": "hanoi"}
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hotline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hotline]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    if request.param == "postgresql":
        env["HOTLINE_DATABASE__URL"] = request.getfixturevalue("pg_url")
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    h("agencies", "import")
    yield h
    get_settings.cache_clear()


def test_db_upgrade_creates_sqlite_and_is_idempotent(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    h = Hotline(sqlite_env, tmp_path)
    err = h.fails("tickets", "list")
    assert "database not found" in err and "hotline db upgrade" in err
    assert not (tmp_path / "var" / "hotline.db").exists(), "a failed command must not create the database"
    first = h("db", "upgrade").stdout
    assert (tmp_path / "var" / "hotline.db").is_file() and (tmp_path / "var" / "attachments").is_dir()
    again = h("db", "upgrade").stdout
    assert again.splitlines()[0] == first.splitlines()[0]  # same revision
    assert "agencies (hanoi): 0 added, 0 updated" in again and "0 added" not in first
    assert "agencies (hanoi)" not in h("db", "upgrade", "--no-agencies").stdout
    assert "up to date" in h("db", "current").stdout


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    env = {
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_DATABASE__URL": "postgresql+psycopg://postgres@127.0.0.1:1/x",
    }
    h = Hotline(env, tmp_path)
    assert "database unreachable" in h.fails("tickets", "list")
    assert "database unreachable" in h.fails("db", "upgrade")


def test_workflow_through_the_cli(hotline: Hotline, tmp_path: Path) -> None:
    h = hotline
    code = h.create()
    assert len(code) == 9 and code.isdigit()
    listing = h("tickets", "list").stdout
    assert code in listing and "Phạm Thị Hoa" in listing
    assert "0987654321" not in listing and "09******21" in listing
    shown = h("tickets", "show", code).stdout
    assert "001190012345" not in shown and "00********45" in shown
    h("tickets", "dispatch", code, "--actor", "dieu-phoi")
    h("tickets", "accept", code, "--actor", "ubnd-hk")
    h("tickets", "add-coordinator", code, "--agency", "SO-XD", "--actor", "ubnd-hk")
    h(
        "tickets",
        "post-part",
        code,
        "--agency",
        "SO-XD",
        "--text",
        "Không có vi phạm xây dựng",
        "--actor",
        "sxd",
    )
    evidence = tmp_path / "anh_sau_xu_ly.jpg"
    evidence.write_bytes(b"\xff\xd8 jpeg")
    out = h(
        "tickets", "complete", code, "--result", "Đã thu gom", "--evidence", str(evidence), "--actor", "hk"
    )
    assert "Đã hoàn thành" in out.stdout
    h("tickets", "rate", code, "--rating", "satisfied", "--actor", "citizen")
    data = json.loads(h.state(code))
    assert data["status"] == "Đã hoàn thành" and data["rating"] == "Hài lòng"
    assert [(e["actor"], e["action"]) for e in data["history"]][1:3] == [
        ("dieu-phoi", "dispatch"),
        ("ubnd-hk", "accept"),
    ]
    assert data["caller"]["cccd"] == "001190012345"
    (att,) = data["attachments"]
    stored = (
        Path(h.env["HOTLINE_DATA_DIR"])
        / "attachments"
        / att["sha256"][:2]
        / att["sha256"][2:4]
        / att["sha256"]
    )
    assert stored.read_bytes() == b"\xff\xd8 jpeg"
    audit = h("tickets", "audit", code).stdout
    assert "dispatched_at, due_at, status" in audit and "0987654321" not in audit
    assert audit.strip().endswith("7 entries")
    listed = json.loads(h("tickets", "list", "--status", "done", "--json").stdout)
    assert [t["code"] for t in listed] == [code] and listed[0]["caller"]["phone"] == "09******21"


def test_confidential_caller_hidden(hotline: Hotline) -> None:
    code = hotline.create({**REPORT, "caller": {**REPORT["caller"], "confidential": True}})
    listing = hotline("tickets", "list").stdout + hotline("tickets", "show", code).stdout
    assert "Phạm Thị Hoa" not in listing and "ẩn danh" in listing
    assert "Phạm Thị Hoa" in hotline("tickets", "show", code, "--show-personal").stdout


def test_routing_commands(hotline: Hotline) -> None:
    h = hotline
    assert (
        h("routing", "test", "--category", "VSMT", "--ward", "00070").stdout.splitlines()[-1] == "UBND-00070"
    )
    h("routing", "add", "--category", "VSMT", "--agency", "MT-HN")
    assert "MT-HN" in h("routing", "list").stdout
    assert h("routing", "test", "--category", "VSMT", "--ward", "00070").stdout.splitlines()[-1] == "MT-HN"
    assert "unknown ward" in h.fails(
        "routing", "add", "--category", "VSMT", "--ward", "99999", "--agency", "MT-HN"
    )
    assert "unknown category" in h.fails("routing", "test", "--category", "XYZ", "--ward", "00070")


def test_agency_commands(hotline: Hotline) -> None:
    h = hotline
    assert "0 added, 0 updated" in h("agencies", "import").stdout
    h(
        "agencies",
        "set-focal",
        "SO-XD",
        "--name",
        "Trần Thị Bình",
        "--phone",
        "0243825366",
        "--email",
        "b@hn.vn",
    )
    rows = json.loads(h("agencies", "list", "--kind", "department", "--json").stdout)
    sxd = next(r for r in rows if r["code"] == "SO-XD")
    assert sxd["focal_name"] == "Trần Thị Bình" and sxd["focal_email"] == "b@hn.vn"
    h("agencies", "add", "CTY-TN2", "--name", "Công ty Thoát nước số 2", "--kind", "utility")
    assert "already exists" in h.fails("agencies", "add", "CTY-TN2", "--name", "X", "--kind", "utility")
    assert "unknown agency" in h.fails("agencies", "set-focal", "KHONG-CO", "--name", "X")


def test_bad_input_changes_nothing(hotline: Hotline, tmp_path: Path) -> None:
    h = hotline
    code = h.create()
    before = h.state(code)
    total = len(json.loads(h("tickets", "list", "--json").stdout))
    # unknown ward
    assert "unknown ward" in h.fails(
        "tickets", "create", "-", input=json.dumps({**REPORT, "place": {"ward_code": "99999"}})
    )
    # malformed JSON and malformed date
    assert "malformed JSON" in h.fails("tickets", "create", "-", input="{not json")
    assert "malformed date" in h.fails(
        "tickets", "create", "-", input=json.dumps({**REPORT, "incident_time": "hôm qua"})
    )
    assert "malformed date" in h.fails("tickets", "list", "--from", "2026-02-30")
    # a transition that is not allowed (not dispatched yet)
    h.fails("tickets", "accept", code)
    h.fails("tickets", "approve", code)
    # completing without evidence
    h("tickets", "dispatch", code)
    h("tickets", "accept", code)
    before = h.state(code)
    assert "evidence" in h.fails("tickets", "complete", code, "--result", "Xong")
    assert "file not found" in h.fails(
        "tickets", "complete", code, "--result", "Xong", "--evidence", str(tmp_path / "no.jpg")
    )
    # reasons are required; unknown agencies and codes are refused
    h.fails("tickets", "reject", code)
    assert "unknown agency" in h.fails("tickets", "transfer", code, "--to", "KHONG-CO", "--reason", "x")
    assert "invalid tracking code" in h.fails("tickets", "show", "000000011")
    assert "no ticket" in h.fails("tickets", "show", "000000021")
    assert "unknown status" in h.fails("tickets", "list", "--status", "finished")
    assert h.state(code) == before
    assert len(json.loads(h("tickets", "list", "--json").stdout)) == total


def test_draft_completed_from_the_cli(hotline: Hotline) -> None:
    code = hotline.create({**REPORT, "complete": False, "content": "", "place": {}})
    assert json.loads(hotline.state(code))["status"] == "Chưa đủ thông tin"
    out = hotline(
        "tickets",
        "complete-draft",
        code,
        "-",
        input=json.dumps({"content": "Rác tồn đọng", "place": {"ward_code": "00070"}}),
    ).stdout
    assert "Mới tạo" in out
    assert json.loads(hotline.state(code))["lead_agency"] == "UBND-00070"
    assert "malformed JSON" in hotline.fails("tickets", "complete-draft", code, "-", input="[")


def test_sweep_runs_and_changes_nothing_fresh(hotline: Hotline) -> None:
    code = hotline.create()
    before = hotline.state(code)
    result = hotline("tickets", "sweep")
    assert "0 tickets changed" in result.stderr
    assert hotline.state(code) == before

"""Acceptance, as a city admin and an agency would use the CLI, on SQLite and the real PostgreSQL:

* the agencies of all three cities live side by side in one database (codes never collide, a re-import
  changes nothing, each city's routing defaults point at its own departments);
* every way a ticket reaches its result (plain completion, the head approving an iHanoi draft, rejection
  as a duplicate) queues the result SMS to the citizen, and agency-facing messages carry no personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import reference
from config.settings import get_settings
from tests.test_cli_tickets import REPORT, Hotline


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hotline]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    if request.param == "postgresql":
        env["HOTLINE_DATABASE__URL"] = request.getfixturevalue("pg_url")
    h = Hotline(env, tmp_path)
    h("db", "upgrade", "--no-agencies")
    yield h
    get_settings.cache_clear()


def _agencies(h: Hotline, city: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(h("agencies", "list", "--city", city, "--json").stdout)
    return {r["code"]: r for r in rows}


def test_three_cities_share_one_database_without_taking_each_others_agencies(admin: Hotline) -> None:
    h = admin
    first = h("agencies", "import", "--all").stdout.splitlines()
    shipped = {city: len(reference.agencies(city)) for city in reference.CITIES}
    assert first == [f"{city}: {shipped[city]} added, 0 updated" for city in reference.CITIES]
    h("agencies", "set-focal", "SO-XD", "--name", "Trần Thị Bình", "--phone", "0912000111")
    again = h("agencies", "import", "--all").stdout.splitlines()
    assert again == [f"{city}: 0 added, 0 updated" for city in reference.CITIES]

    for city in reference.CITIES:
        rows = _agencies(h, city)
        assert len(rows) == shipped[city], city
        assert {r["city"] for r in rows.values()} == {city}
    assert _agencies(h, "hanoi")["SO-XD"]["focal_name"] == "Trần Thị Bình"
    assert _agencies(h, "haiphong")["HP-SO-XD"]["name"] == "Sở Xây dựng Thành phố Hải Phòng"
    assert _agencies(h, "cantho")["CT-SO-XD"]["name"] == "Sở Xây dựng Thành phố Cần Thơ"

    # each city's defaults lead to its own department
    out = h("routing", "test", "--category", "DIEN", "--city", "haiphong").stdout
    assert out.strip().splitlines()[-1] == "HP-SO-CT"
    out = h("routing", "test", "--category", "XD", "--city", "hanoi").stdout
    assert out.strip().splitlines()[-1] == "SO-XD"


def test_shipped_agency_codes_are_unique_across_cities() -> None:
    codes = [a.code for city in reference.CITIES for a in reference.agencies(city)]
    assert len(codes) == len(set(codes))
    for city in reference.CITIES:
        own = {a.code for a in reference.agencies(city)}
        assert set(reference.default_agencies(city).values()) <= own, city


def _messages(h: Hotline, code: str) -> list[dict[str, Any]]:
    rows = json.loads(h("outbox", "list", "--json", "--show-personal", "--limit", "500").stdout)
    return [m for m in rows if m["ticket"] == code]


def test_every_way_to_a_result_tells_the_citizen(admin: Hotline, tmp_path: Path) -> None:
    h = admin
    h("agencies", "import")
    h("agencies", "set-focal", "UBND-00070", "--name", "Cán bộ Hoàn Kiếm", "--phone", "0901000001")
    evidence = tmp_path / "bien-ban.jpg"
    evidence.write_bytes(b"\xff\xd8\xff\xe0 cleaned alley")

    # iHanoi: the officer drafts, the head sends back, then approves -> done
    drafted = h.create()
    h("tickets", "dispatch", drafted)
    h("tickets", "accept", drafted, "--actor", "ubnd-hk")
    h("tickets", "draft-result", drafted, "--text", "Đã thu gom", "--evidence", str(evidence))
    assert not [m for m in _messages(h, drafted) if m["kind"] == "result"], "no result before approval"
    h("tickets", "send-back", drafted, "--reason", "Thiếu ảnh sau thu gom")
    h("tickets", "draft-result", drafted, "--text", "Đã thu gom, có ảnh", "--actor", "ubnd-hk")
    h("tickets", "approve", drafted, "--actor", "chu-tich-phuong")
    result = [m for m in _messages(h, drafted) if m["kind"] == "result"]
    assert [(m["channel"], m["recipient"]) for m in result] == [("sms", REPORT["caller"]["phone"])]

    # a second report of the same issue, rejected as a duplicate of the accepted one
    other = dict(REPORT, caller={"name": "Lê Văn Cường", "phone": "0977000123"})
    duplicate = h.create(other)
    h("tickets", "duplicate", duplicate, "--of", drafted)
    result = [m for m in _messages(h, duplicate) if m["kind"] == "result"]
    assert [(m["channel"], m["recipient"]) for m in result] == [("sms", "0977000123")]

    # delivered by the development file adapter; agencies never see the caller's identity
    h("outbox", "deliver")
    sent = [json.loads(line) for line in (tmp_path / "var" / "outbox" / "sms.jsonl").read_text().splitlines()]
    to_agency = [m["body"] for m in sent if m["recipient"] == "0901000001"]
    assert to_agency and all(drafted in body for body in to_agency)
    for body in to_agency:
        for secret in ("0987654321", "Phạm Thị Hoa", "Pham Thi Hoa", "001190012345"):
            assert secret not in body
    to_citizen = [m["body"] for m in sent if m["recipient"] == REPORT["caller"]["phone"]]
    assert any(f"tra-cuu/{drafted}" in body for body in to_citizen)


def test_report_filters_refuse_unknown_codes_and_xlsx_to_stdout(admin: Hotline, tmp_path: Path) -> None:
    h = admin
    h("agencies", "import")
    h.create()
    out = tmp_path / "thang.csv"
    for args, needle in (
        (("--agency", "SO-KHONG-CO"), "unknown agency 'SO-KHONG-CO'"),
        (("--category", "ZZ"), "unknown category 'ZZ'"),
        (("--format", "xlsx", "--out", "-"), "only csv can go to stdout"),
    ):
        target = () if "--out" in args else ("--out", str(out))
        err = h.fails("reports", "monthly", "--month", "2026-03", *args, *target)
        assert needle in err
        assert not out.exists(), "a refused report writes nothing"
    # the same filters with real codes work (lower-case category accepted); the ticket is from today
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    text = h(
        "reports",
        "monthly",
        "--month",
        month,
        "--agency",
        "UBND-00070",
        "--category",
        "vsmt",
        "--format",
        "csv",
        "--out",
        "-",
    ).stdout
    assert "Ủy ban nhân dân phường Hoàn Kiếm" in text


@pytest.mark.parametrize(
    ("caller", "needle"),
    [
        ({"name": "An", "confidential": "false"}, "caller.confidential must be true or false"),
        ({"name": "An", "confidential": 1}, "caller.confidential must be true or false"),
        ({"name": {"first": "An"}}, "caller.name must be a string"),
        ({"phone": ["0912345678"]}, "caller.phone must be a string"),
    ],
)
def test_malformed_caller_fields_are_refused_and_create_nothing(
    admin: Hotline, caller: dict[str, Any], needle: str
) -> None:
    h = admin
    h("agencies", "import")
    err = h.fails("tickets", "create", "-", input=json.dumps(dict(REPORT, caller=caller)))
    assert needle in err
    assert h("tickets", "list").stdout.strip().splitlines()[-1] == "0 tickets"


def test_null_caller_fields_are_empty_not_the_word_none(admin: Hotline) -> None:
    h = admin
    h("agencies", "import")
    caller = {"name": None, "phone": "0912345678", "email": None, "confidential": None}
    code = h.create(dict(REPORT, caller=caller))
    shown = json.loads(h.state(code))["caller"]
    assert shown["name"] == "" and shown["email"] == "" and shown["confidential"] is False
    assert "None" not in h("tickets", "show", code).stdout


def test_completing_a_closed_ticket_stores_no_file(admin: Hotline, tmp_path: Path) -> None:
    h = admin
    h("agencies", "import")
    code = h.create()
    h("tickets", "reject", code, "--reason", "Không thuộc phạm vi")
    store = tmp_path / "var" / "attachments"
    before = sorted(p for p in store.rglob("*") if p.is_file())
    proof = tmp_path / "bien-ban-moi.pdf"
    proof.write_bytes(b"%PDF-1.4 a new proof")
    for args in (("complete", code, "--result", "Đã xử lý"), ("draft-result", code, "--text", "Đã xử lý")):
        err = h.fails("tickets", *args, "--evidence", str(proof))
        assert "Từ chối" in err
    assert sorted(p for p in store.rglob("*") if p.is_file()) == before

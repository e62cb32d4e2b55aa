"""Urgent reports to the agency that acts (HP Art. 9.1): the pure plan, the duty SMS, the duty phone
on agencies (CLI, audit), and the dispatch against a real database and outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import reference
from config.settings import Settings, get_settings
from nlu.dialogue.draft import Draft
from pbx.ai_operator.urgent import UrgentDesk, channel_variables, report_of
from tests.test_cli_tickets import Hotline
from ticketing.domain.errors import ValidationError
from ticketing.domain.urgent import UrgentPlan, UrgentRoute, normalize_duty_phone, plan_urgent
from ticketing.notifications.outbox import NewMessage
from ticketing.urgent import UrgentDispatch, UrgentReport, duty_sms

WARD = reference.units("haiphong")[0]  # Phường Thành Đông, Hải Phòng


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("091-234-5678", "0912345678"),
        ("0225 3123 456", "02253123456"),
        ("", ""),
    ],
)
def test_duty_phone_is_normalised(given: str, expected: str) -> None:
    assert normalize_duty_phone(given) == expected


@pytest.mark.parametrize("bad", ["113", "12345", "0112345678", "09123456789", "abc", "+1 415 555 0100"])
def test_a_duty_phone_that_is_not_vietnamese_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="không hợp lệ"):
        normalize_duty_phone(bad)


def test_no_duty_phone_keeps_the_call_with_the_operators() -> None:
    for on_duty in (True, False):
        plan = plan_urgent(operators_on_duty=on_duty, agency="UBND-10510", duty_phone="", wait_s=30)
        assert plan.route is UrgentRoute.QUEUE and not plan.sms_to_duty


def test_operators_on_duty_get_the_call_first_then_the_duty_phone() -> None:
    plan = plan_urgent(operators_on_duty=True, agency="A", duty_phone="0912345678", wait_s=25)
    assert plan == UrgentPlan(UrgentRoute.QUEUE_THEN_DUTY, "0912345678", "A", 25)
    assert plan.sms_to_duty


def test_out_of_hours_goes_straight_to_the_duty_phone() -> None:
    plan = plan_urgent(operators_on_duty=False, agency="A", duty_phone="0912345678", wait_s=25)
    assert plan.route is UrgentRoute.DUTY and plan.wait_s == 0 and plan.sms_to_duty


def test_negative_wait_is_refused() -> None:
    with pytest.raises(ValidationError):
        plan_urgent(operators_on_duty=True, agency="A", duty_phone="0912345678", wait_s=-1)


def test_duty_sms_is_ascii_with_the_code_and_caller_and_one_per_call() -> None:
    report = UrgentReport(
        "VSMT", WARD.code, "Cây đổ chắn ngang đường - Phường Thành Đông", "0987654321", "123456789"
    )
    msg = duty_sms("0912345678", report, "1022", key="chan-1")
    assert msg.recipient == "0912345678" and msg.channel == "sms" and msg.kind == "urgent_duty"
    assert msg.body.startswith("KHAN - Tong dai 1022: Cay do chan ngang duong - Phuong Thanh Dong")
    assert "123456789" in msg.body and "0987654321" in msg.body
    assert msg.body.isascii()
    assert msg.dedupe_key == duty_sms("0912345678", report, "1022", key="chan-1").dedupe_key
    assert msg.dedupe_key != duty_sms("0912345678", report, "1022", key="chan-2").dedupe_key


def _dispatch(phone: str) -> tuple[UrgentDispatch, list[NewMessage], list[tuple[str, str]]]:
    sent: list[NewMessage] = []
    asked: list[tuple[str, str]] = []

    def duty_for(category: str, ward: str) -> tuple[str, str]:
        asked.append((category, ward))
        return "UBND-" + ward, phone

    return UrgentDispatch(duty_for, sent.append, wait_s=20, hotline="1022"), sent, asked


@pytest.mark.parametrize("on_duty", [True, False])
def test_the_sms_goes_at_once_whatever_the_route(on_duty: bool) -> None:
    dispatch, sent, asked = _dispatch("0912345678")
    report = UrgentReport("VSMT", WARD.code, "Cháy nhỏ ở bãi rác", "0987654321")
    plan = dispatch.dispatch(report, operators_on_duty=on_duty, key="c1")
    assert asked == [("VSMT", WARD.code)]
    assert [m.recipient for m in sent] == ["0912345678"]
    assert plan.route is (UrgentRoute.QUEUE_THEN_DUTY if on_duty else UrgentRoute.DUTY)


def test_no_sms_without_a_duty_phone_or_a_category() -> None:
    dispatch, sent, _ = _dispatch("")
    assert (
        dispatch.dispatch(UrgentReport("VSMT", "", "x"), operators_on_duty=True, key="c").route
        is UrgentRoute.QUEUE
    )
    dispatch, sent2, asked = _dispatch("0912345678")
    assert (
        dispatch.dispatch(UrgentReport("", "", "x"), operators_on_duty=True, key="c").route
        is UrgentRoute.QUEUE
    )
    assert sent == sent2 == [] and asked == []


def test_channel_variables_for_the_dialplan() -> None:
    queue_first = UrgentPlan(UrgentRoute.QUEUE_THEN_DUTY, "0912345678", "A", 20)
    assert channel_variables(queue_first, "trunk-viettel") == {
        "HOTLINE_DUTY_DIAL": "PJSIP/0912345678@trunk-viettel",
        "HOTLINE_DUTY_WAIT": "20",
        "HOTLINE_DUTY_NOW": "0",
    }
    assert (
        channel_variables(UrgentPlan(UrgentRoute.DUTY, "0912345678", "A"), "dev-local")["HOTLINE_DUTY_NOW"]
        == "1"
    )
    assert channel_variables(UrgentPlan(UrgentRoute.QUEUE), "dev-local") == {}
    assert channel_variables(queue_first, "") == {}  # no way out: the operators keep it


def test_report_of_a_draft_finds_the_ward_code() -> None:
    draft = Draft(
        caller_id="0987654321",
        city="haiphong",
        category="VSMT",
        urgent=True,
        ward=WARD.name,
        address="số 5 phố Lạch Tray",
        content="Cây đổ đè lên xe máy",
    )
    report = report_of(draft, "123456789")
    assert report.ward_code == WARD.code and report.caller == "0987654321" and report.code == "123456789"
    assert "Cây đổ" in report.summary and WARD.name in report.summary


async def test_a_failing_database_leaves_the_call_with_the_operators() -> None:
    def broken(category: str, ward: str) -> tuple[str, str]:
        raise OSError("database down")

    desk = UrgentDesk(UrgentDispatch(broken, print, wait_s=5, hotline="1022"), "dev-local")
    assert await desk.route(Draft(category="VSMT", urgent=True), "c", "", operators=True) == {}


# ---- against a real database: CLI, audit, routing and the outbox ------------------------------------


@pytest.fixture
def hp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hotline]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "haiphong", "HOTLINE_DATABASE__URL": ""}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    yield h
    get_settings.cache_clear()


def test_set_duty_phone_is_validated_audited_and_listed(hp: Hotline) -> None:
    agency = f"UBND-{WARD.code}"
    out = hp("agencies", "set-duty-phone", agency, "+84 912 345 678").stdout
    assert out.strip() == f"{agency}: duty phone = 0912345678"
    rows = {r["code"]: r for r in json.loads(hp("agencies", "list", "--json").stdout)}
    assert rows[agency]["duty_phone"] == "0912345678"
    assert "[trực / duty: 0912345678]" in hp("agencies", "list").stdout
    err = hp.fails("agencies", "set-duty-phone", agency, "12345")
    assert "không hợp lệ" in err
    assert "unknown agency" in hp.fails("agencies", "set-duty-phone", "NO-SUCH", "0912345678")
    rows = {r["code"]: r for r in json.loads(hp("agencies", "list", "--json").stdout)}
    assert rows[agency]["duty_phone"] == "0912345678"  # bad input lost nothing
    hp("agencies", "set-duty-phone", agency, "")
    rows = {r["code"]: r for r in json.loads(hp("agencies", "list", "--json").stdout)}
    assert rows[agency]["duty_phone"] == ""
    settings = Settings()
    from wiring import build

    with build(settings).unit_of_work() as uow:
        trail = [e for e in uow.audit.entries("agency", agency) if e.action == "set_duty_phone"]
    assert [((e.before or {})["duty_phone"], (e.after or {})["duty_phone"]) for e in trail] == [
        ("", "0912345678"),
        ("0912345678", ""),
    ]


def test_dispatch_routes_by_category_and_ward_and_queues_the_sms(hp: Hotline) -> None:
    from wiring import build
    from wiring.calls import urgent_desk

    agency = f"UBND-{WARD.code}"
    assert hp("routing", "test", "--category", "VSMT", "--ward", WARD.code).stdout.count(agency) >= 1
    hp("agencies", "set-duty-phone", agency, "0912345678")
    root = build(Settings())
    desk = urgent_desk(root)
    draft = Draft(
        caller_id="0987654321",
        city="haiphong",
        category="VSMT",
        urgent=True,
        ward=WARD.name,
        content="Cây đổ đè lên xe máy",
    )
    plan = desk.dispatch.dispatch(report_of(draft, ""), operators_on_duty=False, key="chan-x")
    assert (plan.route, plan.agency, plan.duty_phone) == (UrgentRoute.DUTY, agency, "0912345678")
    queued = [m for m in root.outbox.list(None, 50) if m.kind == "urgent_duty"]
    assert [(m.recipient, m.channel) for m in queued] == [("0912345678", "sms")]
    assert "Cay do de len xe may" in queued[0].body
    # a sector category elsewhere has no duty phone: the operators keep the call, no SMS
    plan = desk.dispatch.dispatch(UrgentReport("CS", WARD.code, "x"), operators_on_duty=True, key="chan-y")
    assert plan.route is UrgentRoute.QUEUE
    assert len([m for m in root.outbox.list(None, 50) if m.kind == "urgent_duty"]) == 1

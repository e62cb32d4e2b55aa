"""Open311 GeoReport v2: every endpoint and error, JSON and XML, against the spec's field lists, on
SQLite and the real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import reference
from tests.public_world import World, make_world
from ticketing.domain.model import Status
from web.open311 import spec

REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
CALLER = {"first_name": "Trần Văn", "last_name": "Bình", "phone": "0987654321"}


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    yield from make_world(tmp_path, db_url)


def _post(world: World, key: str | None, **extra: str):  # type: ignore[no-untyped-def]
    form = {
        "service_code": "VSMT",
        "description": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom.",
        "address_string": "Ngõ 5 Hàng Bông",
        "attribute[ward]": "Phường Hoàn Kiếm",
        **CALLER,
        **extra,
    }
    if key is not None:
        form["api_key"] = key
    return world.client.post("/open311/v2/requests.json", data=form)


def test_services_list_every_category(world: World) -> None:
    r = world.client.get("/open311/v2/services.json")
    assert r.status_code == 200
    services = r.json()
    assert {s["service_code"] for s in services} == set(reference.categories())
    for s in services:
        assert set(s) == SERVICE_FIELDS
        assert s["metadata"] is True and s["type"] == "realtime"
    root = ET.fromstring(world.client.get("/open311/v2/services.xml").content)
    assert root.tag == "services"
    assert {e.findtext("service_code") for e in root.findall("service")} == set(reference.categories())


def test_service_definition_json_and_xml(world: World) -> None:
    d = world.client.get("/open311/v2/services/VSMT.json").json()
    assert d["service_code"] == "VSMT"
    codes = {a["code"]: a for a in d["attributes"]}
    assert {"ward", "incident_time", "urgency", "confidential"} <= set(codes)
    assert {"key": "Phường Hoàn Kiếm", "name": "Phường Hoàn Kiếm"} in codes["ward"]["values"]
    for a in d["attributes"]:
        assert {"variable", "code", "datatype", "required", "datatype_description", "order"} <= set(a)
    root = ET.fromstring(world.client.get("/open311/v2/services/VSMT.xml").content)
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key") is not None
    missing = world.client.get("/open311/v2/services/NOPE.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404 and missing.json()[0]["description"]


def test_discovery(world: World) -> None:
    d = world.client.get("/open311/v2/discovery.json").json()
    assert d["endpoints"][0]["url"].endswith("/open311/v2")
    root = ET.fromstring(world.client.get("/open311/v2/discovery.xml").content)
    assert root.find("endpoints/endpoint/formats/format") is not None


def test_post_creates_ticket_then_reads_back_without_identity(world: World) -> None:
    r = _post(world, world.key())
    assert r.status_code == 201, r.text
    body = r.json()
    code = body[0]["service_request_id"]
    assert body[0]["service_notice"]
    t = world.services.tickets.get(code)
    assert t.channel.value == "api" and t.created_by == "api:lgsp"
    assert t.place.ward_code == "00070" and t.caller.phone == "0987654321"
    assert t.caller.name == "Trần Văn Bình"
    one = world.client.get(f"/open311/v2/requests/{code}.json")
    assert one.status_code == 200
    req = one.json()[0]
    assert set(req) == REQUEST_FIELDS
    assert req["service_request_id"] == code and req["status"] == "open"
    assert req["agency_responsible"] and req["expected_datetime"]
    assert req["service_code"] == "VSMT" and "Phường Hoàn Kiếm" in req["address"]
    for secret in ("0987654321", "Trần Văn", "Bình"):
        assert secret not in one.text
    xml = world.client.get(f"/open311/v2/requests/{code}.xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == code
    assert root.findtext("request/status") == "open"
    # the token of a synchronous filing is the request itself
    tok = world.client.get(f"/open311/v2/tokens/{code}.json").json()
    assert tok == [{"service_request_id": code, "token": code}]


def test_post_xml_answer(world: World) -> None:
    key = world.key()
    r = world.client.post(
        "/open311/v2/requests.xml",
        data={"api_key": key, "service_code": "GT-HT", "description": "Ổ gà lớn giữa đường",
              "lat": "21.0285", "long": "105.8542"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    code = root.findtext("request/service_request_id")
    assert code and world.services.tickets.get(code).place.address.startswith("(toạ độ 21.028500")


@pytest.mark.parametrize("key", [None, "", "hk_wrong", "nonsense"])
def test_post_without_valid_key_is_refused_and_files_nothing(world: World, key: str | None) -> None:
    r = _post(world, key)
    assert r.status_code in (401, 403)
    assert r.json()[0]["code"] == r.status_code
    assert world.services.tickets.find(_any()) == []


def test_revoked_key_is_refused(world: World) -> None:
    from ticketing.credentials import CredentialKind

    cred, secret = world.services.credentials.create(CredentialKind.API_KEY, "old", "admin")
    world.services.credentials.revoke(CredentialKind.API_KEY, cred.id, "admin")
    assert _post(world, secret).status_code == 403


@pytest.mark.parametrize(
    ("extra", "status", "needle"),
    [
        ({"service_code": "NOPE"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"description": ""}, 400, "description"),
        ({"attribute[ward]": "Phường Không Có"}, 400, "ward"),
        ({"attribute[ward]": "", "address_string": ""}, 400, "location"),
        ({"lat": "abc", "long": "1"}, 400, "lat/long"),
        ({"attribute[urgency]": "asap"}, 400, "urgency"),
        ({"attribute[incident_time]": "yesterday"}, 400, "incident_time"),
        ({"favourite_colour": "blue"}, 400, "unknown parameters"),
    ],
)
def test_post_errors_in_spec_shape(world: World, extra: dict[str, str], status: int, needle: str) -> None:
    r = _post(world, world.key(), **extra)
    assert r.status_code == status, r.text
    [err] = r.json()
    assert err["code"] == status and needle in err["description"]
    assert "Traceback" not in r.text
    assert world.services.tickets.find(_any()) == []


def test_post_json_body_is_refused(world: World) -> None:
    r = world.client.post("/open311/v2/requests.json", json={"api_key": world.key()})
    assert r.status_code == 400 and "form" in r.json()[0]["description"]


def test_xml_errors(world: World) -> None:
    r = world.client.get("/open311/v2/requests/000000000.xml")
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    bad = world.client.get("/open311/v2/services.csv")
    assert bad.status_code == 404 and bad.json()[0]["code"] == 404


def _any():  # type: ignore[no-untyped-def]
    from ticketing.ports import TicketQuery

    return TicketQuery(limit=1000)


def test_list_filters_and_defaults(world: World) -> None:
    key = world.key()
    codes = [_post(world, key).json()[0]["service_request_id"] for _ in range(2)]
    gt = _post(world, key, service_code="GT-HT").json()[0]["service_request_id"]
    world.services.tickets.reject(codes[0], "Không thuộc thẩm quyền", "tester")
    all_ = world.client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"] for r in all_} == {*codes, gt}
    for r in all_:
        assert set(r) == REQUEST_FIELDS
    closed = world.client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [codes[0]]
    assert closed[0]["status_notes"] == "Trạng thái: Từ chối"  # a rejection's reason is not published
    opened = world.client.get("/open311/v2/requests.json", params={"status": "open"}).json()
    assert {r["service_request_id"] for r in opened} == {codes[1], gt}
    only_gt = world.client.get("/open311/v2/requests.json", params={"service_code": "GT-HT"}).json()
    assert [r["service_request_id"] for r in only_gt] == [gt]
    by_id = world.client.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{gt},{codes[1]},000000000"}
    ).json()
    assert [r["service_request_id"] for r in by_id] == [gt, codes[1]]
    now = world.services.clock.now()
    old = world.client.get(
        "/open311/v2/requests.json",
        params={
            "start_date": (now - timedelta(days=200)).isoformat(),
            "end_date": (now - timedelta(days=150)).isoformat(),
        },
    ).json()
    assert old == []
    xml = ET.fromstring(world.client.get("/open311/v2/requests.xml").content)
    assert len(xml.findall("request")) == 3


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"start_date": "2026-01-01T00:00+07:00", "end_date": "2026-06-01T00:00+07:00"}, "90"),
        ({"start_date": "2026-06-01T00:00+07:00", "end_date": "2026-01-01T00:00+07:00"}, "before"),
        ({"start_date": "last week"}, "start_date"),
        ({"status": "pending"}, "status"),
        ({"service_code": "NOPE"}, "service_code"),
    ],
)
def test_list_errors(world: World, params: dict[str, str], needle: str) -> None:
    r = world.client.get("/open311/v2/requests.json", params=params)
    assert r.status_code == 400
    assert needle in r.json()[0]["description"]


def test_list_caps_at_1000(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.open311.router.MAX_RESULTS", 2)
    key = world.key()
    for _ in range(3):
        _post(world, key)
    assert len(world.client.get("/open311/v2/requests.json").json()) == 2
    assert spec.MAX_RESULTS == 1000 and spec.MAX_DAYS == 90


def test_drafts_are_not_public(world: World) -> None:
    created = world.services.tickets.create(
        {"channel": "phone", "category": "VSMT", "content": "chưa đủ", "complete": False}, "bot"
    )
    assert created.ticket.status is Status.DRAFT
    r = world.client.get(f"/open311/v2/requests/{created.ticket.code}.json")
    assert r.status_code == 404


def test_confidential_caller_never_in_any_body(world: World) -> None:
    key = world.key()
    name, phone, cccd = "Phạm Thị Hoa", "0912345678", "001190012345"
    r = world.client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key, "service_code": "VSMT", "address_string": "Phố Huế",
            "description": f"Tôi là {name}, số {phone[:4]} {phone[4:7]} {phone[7:]}, "
            f"CCCD {cccd}: rác ở Phố Huế",
            "attribute[ward]": "00070", "attribute[confidential]": "true",
            "first_name": "Phạm Thị", "last_name": "Hoa", "phone": phone,
        },
    )  # fmt: skip
    code = r.json()[0]["service_request_id"]
    world.services.tickets.dispatch(code, "tester")
    world.client.get("/open311/v2/requests.json")
    world.client.get("/open311/v2/requests.xml")
    world.client.get(f"/open311/v2/requests/{code}.json")
    world.client.get(f"/open311/v2/requests/{code}.xml")
    seen = b"".join(world.client.kept).decode("utf-8")
    assert code in seen
    for secret in (name, phone, cccd, "0912 345 678"):
        assert secret not in seen, secret
    shown = json.loads(world.client.get(f"/open311/v2/requests/{code}.json").text)[0]["description"]
    assert "ẩn danh" in shown and "rác ở Phố Huế" in shown


def test_published_result_and_evidence_in_status_notes(world: World, tmp_path: Path) -> None:
    from tests.test_public_pages import _done

    code = _post(world, world.key()).json()[0]["service_request_id"]
    _done(world, code, tmp_path, result="Đã thu gom rác.", publish=False)
    before = world.client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert before["status"] == "closed" and "Đã thu gom rác" not in before["status_notes"]
    assert before["media_url"] == "" and before["expected_datetime"] is None
    lead = world.services.tickets.get(code).lead_agency
    head, _ = world.services.users.add(
        "truong", "head", "test", agency=lead, password="mat-khau-thu-nghiem-12"
    )
    world.services.staff.publish(head.actor(), code)
    after = world.client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert after["status_notes"] == "Đã thu gom rác."
    assert after["media_url"].startswith(f"/ket-qua/{code}/anh/")
    assert world.client.get(after["media_url"]).headers["content-type"] == "image/jpeg"


def test_kept_list_answers_follow_every_change(world: World, tmp_path: Path) -> None:
    """The list's answer is kept between requests; a new request, a status change and a publication
    each show in the very next answer."""
    from tests.test_public_pages import _done

    key = world.key()
    first = _post(world, key).json()[0]["service_request_id"]
    listed = world.client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [first]
    assert world.client.get("/open311/v2/requests.json").json() == listed  # the kept answer
    second = _post(world, key).json()[0]["service_request_id"]
    listed = world.client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"] for r in listed} == {first, second}
    world.services.tickets.reject(second, "Không thuộc thẩm quyền", "tester")
    listed = world.client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in listed] == [second]
    _done(world, first, tmp_path, result="Đã thu gom rác.", publish=False)
    page = world.client.get("/ket-qua").text
    assert first not in page
    lead = world.services.tickets.get(first).lead_agency
    head, _ = world.services.users.add(
        "truong", "head", "test", agency=lead, password="mat-khau-thu-nghiem-12"
    )
    world.services.staff.publish(head.actor(), first)
    listed = world.client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"]: r["status_notes"] for r in listed}[first] == "Đã thu gom rác."
    assert first in world.client.get("/ket-qua").text


def test_a_kept_list_is_revalidated_by_etag_and_changes_with_a_new_request(world: World) -> None:
    key = world.key()
    assert _post(world, key).status_code == 201
    first = world.client.get("/open311/v2/requests.json")
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag and first.headers["cache-control"] == "no-cache"
    again = world.client.get("/open311/v2/requests.json", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    code = _post(world, key).json()[0]["service_request_id"]  # filed by this process: seen at once
    after = world.client.get("/open311/v2/requests.json", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["etag"] != tag
    assert code in {r["service_request_id"] for r in after.json()}


def test_lat_long_kept_as_numbers_and_answered(world: World) -> None:
    key = world.key()
    r = _post(world, key, lat="21.0285", long="105.8542")
    assert r.status_code == 201, r.text
    code = r.json()[0]["service_request_id"]
    place = world.services.tickets.get(code).place
    assert (place.lat, place.lon) == (21.0285, 105.8542)
    assert "toạ độ 21.028500, 105.854200" in place.address  # still readable in the address
    one = world.client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert (one["lat"], one["long"]) == (21.0285, 105.8542)
    root = ET.fromstring(world.client.get(f"/open311/v2/requests/{code}.xml").content)
    assert root.findtext("request/lat") == "21.0285" and root.findtext("request/long") == "105.8542"
    without = _post(world, key).json()[0]["service_request_id"]
    assert world.client.get(f"/open311/v2/requests/{without}.json").json()[0]["lat"] is None

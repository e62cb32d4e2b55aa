"""The REST API (/api/v1) with personal access tokens: authentication, the agency workflow through
the staff service's permissions, evidence upload, reports, dossier lookup, the OpenAPI document and
the docs page."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.public_world import World, make_world
from tests.test_public_pages import _jpeg_with_gps
from ticketing.credentials import CredentialKind
from ticketing.domain.model import Status

A, B = "UBND-00070", "UBND-00004"
PASSWORD = "mat-khau-thu-nghiem-12"
REPORT = {
    "channel": "phone",
    "category": "VSMT",
    "caller": {"name": "Phạm Thị Hoa", "phone": "0987654321", "cccd": "001190012345"},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa được thu gom",
}


class Api:
    def __init__(self, world: World) -> None:
        self.world = world
        self.tokens: dict[str, str] = {}

    def user(self, name: str, role: str, agency: str | None = None) -> str:
        self.world.services.users.add(name, role, "test", agency=agency, password=PASSWORD)
        _, secret = self.world.services.credentials.create(CredentialKind.TOKEN, name, "test", owner=name)
        self.tokens[name] = secret
        return secret

    def __call__(self, method: str, path: str, who: str | None, **kw):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.world.client.request(method, f"/api/v1{path}", headers=headers, **kw)

    def ticket(self, ward: str = "00070", agency: str = A, **changes: object) -> str:
        data = {**REPORT, "place": {"address": "Ngõ 5", "ward_code": ward}, **changes}
        code = self.world.services.tickets.create(data, "ai-operator").ticket.code
        self.world.services.tickets.dispatch(code, "giamsat", agency)
        return code


@pytest.fixture
def api(tmp_path: Path, sqlite_url: str) -> Iterator[Api]:
    for world in make_world(tmp_path, sqlite_url):
        a = Api(world)
        a.user("canbo.a", "officer", A)
        a.user("truong.a", "head", A)
        a.user("canbo.b", "officer", B)
        a.user("dtv", "operator")
        a.user("lanhdao", "leader")
        yield a


def test_authentication(api: Api) -> None:
    assert api("GET", "/me", None).status_code == 401
    r = api.world.client.get("/api/v1/me", headers={"Authorization": "Bearer hpat_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and r.json()["detail"]
    me = api("GET", "/me", "canbo.a")
    assert me.status_code == 200
    assert me.json() == {
        "username": "canbo.a",
        "display_name": "canbo.a",
        "grants": [{"role": "officer", "agency": A}],
    }
    creds = api.world.services.credentials
    cred = next(c for c in creds.list(CredentialKind.TOKEN) if c.owner == "canbo.b")
    creds.revoke(CredentialKind.TOKEN, cred.id, "test")
    assert api("GET", "/me", "canbo.b").status_code == 401
    api.world.services.users.disable("dtv", "test")
    assert api("GET", "/me", "dtv").status_code == 401
    _, short = creds.create(
        CredentialKind.TOKEN, "x", "test", owner="lanhdao", expires_in=timedelta(milliseconds=1)
    )
    time.sleep(0.01)
    r = api.world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {short}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_agency_scope_and_masking(api: Api) -> None:
    mine, theirs = api.ticket(), api.ticket("00004", B)
    lst = api("GET", "/tickets", "canbo.a").json()
    assert [i["code"] for i in lst["items"]] == [mine] and lst["total"] == 1
    assert api("GET", f"/tickets/{theirs}", "canbo.a").status_code == 404
    t = api("GET", f"/tickets/{mine}", "canbo.a").json()
    assert t["code"] == mine and "accept" in t["actions"]
    assert t["caller"]["phone"] != "0987654321" or not t["caller"]["masked"]
    assert api("GET", "/tickets", "canbo.a", params={"status": "bogus"}).status_code == 400


def test_workflow_with_evidence_approval_and_publication(api: Api) -> None:
    code = api.ticket()
    assert (
        api("POST", f"/tickets/{code}/accept", "canbo.a", json={"note": "nhận"}).json()["status"]
        == Status.IN_PROGRESS.value
    )
    assert api("POST", f"/tickets/{code}/reject", "canbo.a", json={"reason": ""}).status_code == 400
    r = api(
        "POST",
        f"/tickets/{code}/draft-result",
        "canbo.a",
        data={"text": "Đã thu gom rác và vệ sinh ngõ."},
        files=[("evidence", ("IMG_9.jpg", _jpeg_with_gps(), "image/jpeg"))],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == Status.AWAITING_APPROVAL.value
    [ev] = [a for a in r.json()["attachments"] if a["kind"] == "evidence"]
    stored = api.world.services.attachments.read(ev["sha256"])
    assert b"SecretCam" not in stored and not Image.open(io.BytesIO(stored)).getexif()
    assert api("POST", f"/tickets/{code}/approve", "canbo.a", json={}).status_code == 403  # officer cannot
    assert api("POST", f"/tickets/{code}/approve", "truong.a", json={}).json()["status"] == Status.DONE.value
    assert code not in api.world.client.get("/ket-qua").text
    published = api("POST", f"/tickets/{code}/publish", "truong.a")
    assert published.status_code == 200 and published.json()["published"] is True
    assert code in api.world.client.get("/ket-qua").text


def test_bad_evidence_and_other_steps(api: Api) -> None:
    code = api.ticket()
    api("POST", f"/tickets/{code}/accept", "canbo.a", json={})
    bad = api("POST", f"/tickets/{code}/draft-result", "canbo.a", data={"text": "x"},
              files=[("evidence", ("a.jpg", b"nope", "image/jpeg"))])  # fmt: skip
    assert bad.status_code == 400 and "ảnh" in bad.json()["detail"]
    co = api("POST", f"/tickets/{code}/coordinate", "canbo.a", json={"agency": "SO-XD", "note": "phối hợp"})
    assert co.status_code == 200 and co.json()["coordinators"] == ["SO-XD"], co.text
    tr = api("POST", f"/tickets/{code}/transfer", "canbo.a", json={"to": B, "reason": "Không thuộc địa bàn"})
    assert tr.status_code == 200 and tr.json()["lead_agency"] == B
    assert api("GET", f"/tickets/{code}", "canbo.a").status_code == 404  # no longer ours
    assert api("GET", f"/tickets/{code}", "canbo.b").status_code == 200


def test_create_ticket_through_the_api(api: Api) -> None:
    body = {"category": "VSMT", "content": "Rác ở ngõ 7", "ward_code": "00070", "caller_phone": "0912000111"}
    assert api("POST", "/tickets", "canbo.a", json=body).status_code == 403
    r = api("POST", "/tickets", "dtv", json=body)
    assert r.status_code == 201, r.text
    t = api.world.services.tickets.get(r.json()["code"])
    assert t.channel.value == "api" and t.created_by == "dtv"
    assert api("POST", "/tickets", "dtv", json={"category": "VSMT"}).status_code == 400


def test_a_position_goes_in_and_comes_out_as_numbers(api: Api) -> None:
    body = {
        "category": "VSMT",
        "content": "Rác ở ngõ 9",
        "ward_code": "00070",
        "lat": 21.0285,
        "long": 105.8542,
    }
    r = api("POST", "/tickets", "dtv", json=body)
    assert r.status_code == 201, r.text
    shown = api("GET", f"/tickets/{r.json()['code']}", "dtv").json()
    assert (shown["lat"], shown["long"]) == (21.0285, 105.8542)
    assert api("POST", "/tickets", "dtv", json={**body, "long": None}).status_code == 400  # both or neither
    assert api("POST", "/tickets", "dtv", json={**body, "lat": 91}).status_code == 400
    plain = api("POST", "/tickets", "dtv", json={k: v for k, v in body.items() if k not in ("lat", "long")})
    assert api("GET", f"/tickets/{plain.json()['code']}", "dtv").json()["lat"] is None


def test_reports_json_and_xlsx(api: Api) -> None:
    api.ticket()
    month = api.world.services.clock.now().strftime("%Y-%m")
    r = api("GET", f"/reports/{month}", "lanhdao")
    assert r.status_code == 200 and r.json()["tickets"]["received"] >= 1
    x = api("GET", f"/reports/{month}", "lanhdao", params={"fmt": "xlsx"})
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).sheetnames
    assert api("GET", "/reports/2026-13", "lanhdao").status_code == 400
    assert api("GET", f"/reports/{month}", "canbo.a", params={"agency": B}).status_code == 403


def test_dossier_lookup(api: Api) -> None:
    path = api.world.settings.data_dir / "dossiers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "code,status,procedure,due_date\nH01.23-2612-0001,Đang xử lý,Cấp phép xây dựng,2026-12-20\n"
    )
    r = api("GET", "/dossiers/H01.23-2612-0001", "dtv")
    assert r.status_code == 200 and r.json()["status"] == "Đang xử lý"
    assert api("GET", "/dossiers/NOPE", "dtv").status_code == 404


def test_openapi_and_docs(api: Api) -> None:
    doc = api.world.client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Hotline REST API"
    for path in ("/v1/tickets", "/v1/tickets/{code}/accept", "/v1/tickets/{code}/draft-result", "/v1/me"):
        assert path in doc["paths"], path
    page = api.world.client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "unsafe-inline" in page.headers["content-security-policy"]
    js = api.world.client.get("/api/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert api.world.client.get("/api/docs/../../etc/passwd").status_code == 404

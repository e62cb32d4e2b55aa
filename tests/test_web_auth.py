"""The portal's login contract and protections through the ASGI app (no server): CSRF on every form,
the session cookie only after a good password, throttling, security headers, scope of /tickets/{code}."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web_world import PASSWORD, A, B, WebWorld, make_world
from web.app import create_app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


@pytest.fixture
def app(world: WebWorld):  # type: ignore[no-untyped-def]
    return create_app(world.services)


def _token(html: str) -> str:
    m = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> None:
    token = _token(client.get("/login").text)
    r = client.post(
        "/login", data={"username": user, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def test_login_contract(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert "hotline_session" not in page.headers.get("set-cookie", "")
    token = _token(page.text)

    bad = client.post("/login", data={"username": "canbo.a", "password": "sai", "csrf_token": token})
    assert bad.status_code == 200 and "không đúng" in bad.text and 'name="csrf_token"' in bad.text
    assert "hotline_session" not in bad.headers.get("set-cookie", "")

    no_csrf = client.post(
        "/login",
        data={"username": "canbo.a", "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 200 and "hotline_session" not in no_csrf.headers.get("set-cookie", "")

    good = client.post(
        "/login",
        data={"username": "canbo.a", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    assert "hotline_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "Max-Age=" in cookie

    headers = client.get("/queue").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_ticket_scope(world: WebWorld, app) -> None:  # type: ignore[no-untyped-def]
    code = world.ticket(A)
    anon = TestClient(app)
    r = anon.get(f"/tickets/{code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for user, status in (
        ("canbo.a", 200),
        ("truong.a", 200),
        ("canbo.b", 404),
        ("truong.b", 404),
        ("dtv.lan", 200),
    ):
        client = TestClient(app)
        login(client, user)
        assert client.get(f"/tickets/{code}").status_code == status, user
    # routed to A but not dispatched yet: A may look (read-only), B may not; a draft is the centre's
    new = world.ticket(dispatched_to=None)
    draft = world.services.tickets.create(
        {"category": "VSMT", "content": "Rác", "complete": False, "place": {"ward_code": "00070"}}, "ai"
    ).ticket.code
    for user, expected in (("canbo.a", (200, 404)), ("canbo.b", (404, 404)), ("dtv.lan", (200, 200))):
        client = TestClient(app)
        login(client, user)
        got = (client.get(f"/tickets/{new}").status_code, client.get(f"/tickets/{draft}").status_code)
        assert got == expected, user
    assert TestClient(app).get("/tickets/12345", follow_redirects=False).status_code == 303
    client = TestClient(app)
    login(client, "canbo.b")
    assert client.get("/tickets/000000000").status_code == 404
    assert client.get(f"/queue?agency={A}").status_code == 403
    _ = B


def test_forms_need_csrf_and_login_is_throttled(world: WebWorld, app) -> None:  # type: ignore[no-untyped-def]
    code = world.ticket(A)
    client = TestClient(app)
    login(client, "canbo.a")
    r = client.post(f"/tickets/{code}/accept", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert world.services.tickets.get(code).status.value == "Đã chuyển xử lý"
    token = _token(client.get(f"/tickets/{code}").text)
    r = client.post(f"/tickets/{code}/accept", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert world.services.tickets.get(code).status.value == "Đang xử lý"

    other = TestClient(app)
    token = _token(other.get("/login").text)
    for _ in range(5):
        other.post("/login", data={"username": "truong.a", "password": "sai-mat-khau", "csrf_token": token})
    r = other.post("/login", data={"username": "truong.a", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "hotline_session" not in r.headers.get("set-cookie", "")


def test_disabled_user_loses_the_session(world: WebWorld, app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    login(client, "canbo.a")
    assert client.get("/queue").status_code == 200
    world.services.users.disable("canbo.a", "test")
    assert client.get("/queue", follow_redirects=False).status_code == 303

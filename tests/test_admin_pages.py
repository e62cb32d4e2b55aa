"""The administrator's pages through the ASGI app over a real SQLite database: users (create with a
password shown once, disable, reset), agencies' contacts, routing rules and the route tester, the
read-only SLA and categories page; CSRF on every form; other roles refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web_world import PASSWORD, A, WebWorld, csrf_token, logged_in_client, make_world

ADMIN = "quantri"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    w.services.users.add(ADMIN, "admin", "test", password=PASSWORD)
    yield w
    w.services.close()


def client_for(world: WebWorld, user: str = ADMIN) -> TestClient:
    client: TestClient = logged_in_client(world, user)
    return client


def post(client: TestClient, url: str, data: dict[str, str], page: str = "/admin/users"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def audit_actions(world: WebWorld, entity: str) -> list[tuple[str, str, str]]:
    from sqlalchemy import text

    with world.services.session_factory() as s:
        rows = s.execute(
            text("SELECT actor, entity_id, action FROM audit_log WHERE entity = :e ORDER BY id"),
            {"e": entity},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_admin_lands_on_users_and_sees_admin_nav(world: WebWorld) -> None:
    client = client_for(world)
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/admin/users"
    page = client.get("/admin/users")
    assert page.status_code == 200
    for label in ("Người dùng", "Đơn vị", "Định tuyến", "Thời hạn &amp; lĩnh vực", "canbo.a", "Cán bộ xử lý"):
        assert label in page.text
    assert "password_hash" not in page.text and "$argon2" not in page.text


def test_create_user_shows_password_once_and_it_works(world: WebWorld) -> None:
    client = client_for(world)
    r = post(
        client,
        "/admin/users",
        {"username": "moi.cb", "role": "officer", "agency": A, "display_name": "Nguyễn Văn Mới"},
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    m = re.search(r'id="new-password" class="secret" readonly value="([^"]+)"', r.text)
    assert m and len(m.group(1)) >= 12
    assert "chỉ hiện một lần" in r.text
    assert m.group(1) not in client.get("/admin/users").text
    user = world.services.users.get("moi.cb")
    assert user.grants[0].agency == A and user.display_name == "Nguyễn Văn Mới"
    assert world.services.users.authenticate("moi.cb", m.group(1)) is not None
    assert (ADMIN, "moi.cb", "add") in audit_actions(world, "user")


def test_create_user_errors_keep_the_form(world: WebWorld) -> None:
    client = client_for(world)
    form = {"username": "Sai Ten", "role": "operator", "display_name": "Lê Thị Mai"}
    r = post(client, "/admin/users", form)
    assert r.status_code == 400 and "Tên đăng nhập không hợp lệ" in r.text and "Lê Thị Mai" in r.text
    r = post(client, "/admin/users", {"username": "cb.x", "role": "officer", "agency": ""})
    assert r.status_code == 400 and "cần mã đơn vị" in r.text
    r = post(client, "/admin/users", {"username": "canbo.a", "role": "operator"})
    assert r.status_code == 400 and "đã tồn tại" in r.text
    bad = client.post("/admin/users", data={"username": "x.y", "role": "operator", "csrf_token": "sai"})
    assert bad.status_code == 403
    with pytest.raises(Exception):  # noqa: B017 - the user must not exist
        world.services.users.get("x.y")


def test_disable_enable_reset_password(world: WebWorld) -> None:
    victim = client_for(world, "canbo.a")
    assert victim.get("/queue").status_code == 200
    client = client_for(world)
    r = post(client, "/admin/users/canbo.a/disable", {})
    assert r.status_code == 303
    assert "Đã khóa tài khoản canbo.a" in client.get("/admin/users").text
    assert victim.get("/queue", follow_redirects=False).status_code == 303  # the session ended
    assert world.services.users.authenticate("canbo.a", PASSWORD) is None
    post(client, "/admin/users/canbo.a/enable", {})
    assert world.services.users.get("canbo.a").active
    r = post(client, "/admin/users/canbo.a/reset-password", {})
    m = re.search(r'id="new-password" class="secret" readonly value="([^"]+)"', r.text)
    assert r.status_code == 200 and m
    assert world.services.users.authenticate("canbo.a", m.group(1)) is not None
    actions = [a for a in audit_actions(world, "user") if a[0] == ADMIN]
    assert [a[2] for a in actions] == ["disable", "enable", "reset_password"]
    r = post(client, f"/admin/users/{ADMIN}/disable", {})
    assert "Không thể tự khóa" in client.get(r.headers["location"]).text
    assert world.services.users.get(ADMIN).active


@pytest.mark.parametrize("user", ["canbo.a", "truong.a", "dtv.lan", "giamsat", "lanhdao"])
def test_other_roles_are_refused(world: WebWorld, user: str) -> None:
    client = client_for(world, user)
    pages = ("/admin/users", "/admin/agencies", f"/admin/agencies/{A}", "/admin/routing", "/admin/settings")
    for url in pages:
        r = client.get(url)
        assert r.status_code == 403 and "Không có quyền" in r.text, url
    assert "/admin/" not in client.get("/account").text
    token = csrf_token(client.get("/account").text)
    client.post("/admin/users", data={"username": "lau.vao", "role": "admin", "csrf_token": token})
    assert all(u.username != "lau.vao" for u in world.services.users.list())


def test_agencies_list_and_edit_focal_contact(world: WebWorld) -> None:
    client = client_for(world)
    page = client.get("/admin/agencies?q=Hoàn Kiếm")
    assert page.status_code == 200 and A in page.text and "Chưa có" in page.text
    assert "UBND-00004" not in page.text
    r = post(
        client,
        f"/admin/agencies/{A}",
        {"focal_name": "Trần Thị Thu", "focal_phone": "0243 825 1234", "focal_email": "thu@hoankiem.gov.vn"},
        page=f"/admin/agencies/{A}",
    )
    assert r.status_code == 303
    assert "Đã lưu đầu mối" in client.get(r.headers["location"]).text
    agency = world.services.admin_portal.agency(world.services.users.get(ADMIN).actor(), A)
    assert (agency.focal_name, agency.focal_phone, agency.focal_email) == (
        "Trần Thị Thu",
        "0243 825 1234",
        "thu@hoankiem.gov.vn",
    )
    assert "Trần Thị Thu" in client.get("/admin/agencies?q=Hoàn Kiếm").text
    bad = post(client, f"/admin/agencies/{A}", {"focal_phone": "gọi tôi"}, page=f"/admin/agencies/{A}")
    assert "Số điện thoại không hợp lệ" in client.get(bad.headers["location"]).text
    assert world.services.admin_portal.agency(world.services.users.get(ADMIN).actor(), A).focal_name
    assert (ADMIN, A, "set_focal") in audit_actions(world, "agency")
    assert client.get("/admin/agencies/KHONG-CO").status_code == 404


def test_routing_add_and_test(world: WebWorld) -> None:
    client = client_for(world)
    page = client.get("/admin/routing")
    assert page.status_code == 200 and "Chưa có quy tắc riêng" in page.text
    tested = client.get("/admin/routing?category=VSMT&ward=00070")
    assert "Đơn vị chủ trì" in tested.text and A in tested.text and "Theo định tuyến mặc định" in tested.text
    r = post(
        client,
        "/admin/routing",
        {"category": "VSMT", "ward": "00070", "agency": "UBND-00004", "priority": "0"},
        page="/admin/routing",
    )
    assert r.status_code == 303
    assert "Đã lưu quy tắc" in client.get("/admin/routing").text
    tested = client.get("/admin/routing?category=VSMT&ward=00070")
    assert "Theo quy tắc VSMT × 00070" in tested.text
    assert world.services.admin.test_route("VSMT", "00070").agency == "UBND-00004"
    assert next(a for a in audit_actions(world, "routing_rule") if a[0] == ADMIN)[2] == "add"
    unknown = {"category": "KHONGCO", "ward": "*", "agency": A}
    bad = post(client, "/admin/routing", unknown, page="/admin/routing")
    assert "flash error" in client.get(bad.headers["location"]).text
    assert len(world.services.admin.rules()) == 1
    assert "flash error" in client.get("/admin/routing?category=KHONGCO").text


def test_settings_page_shows_the_preset_in_force_and_where_it_is_configured(world: WebWorld) -> None:
    client = client_for(world)
    page = client.get("/admin/settings")
    assert page.status_code == 200
    text = page.text
    assert "Hà Nội — Tổng đài thông minh (AI)" in text and "sla_presets.toml" in text
    assert "Khẩn</td><td>4 giờ làm việc" in text and "Thường</td><td>7 ngày làm việc (56 giờ)" in text
    assert "trong 1 ngày làm việc (8 giờ) kể từ khi tạo phiếu" in text
    assert "08:00-12:00, 13:00-17:00" in text and "categories.csv" in text
    assert "VSMT" in text and 'method="post"' not in text.split("<main", 1)[1].split("</main>")[0]

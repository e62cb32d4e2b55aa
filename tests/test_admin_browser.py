"""The administrator's pages in a real browser (Playwright + the Debian Chromium) against a real uvicorn
server: create a user (password shown once), edit an agency's focal contact, add and test a routing
rule, view the SLA settings; desktop and phone screenshots go to test-output/admin/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.portal_server import OUTPUT, browser, login, serve, shot
from tests.web_world import PASSWORD, A, WebWorld, make_world

ADMIN = "quantri"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    w.services.users.add(ADMIN, "admin", "test", password=PASSWORD, display_name="Quản trị viên")
    yield w
    w.services.close()


def admin_shot(page: Any, name: str) -> None:
    path = shot(page, name)
    folder = OUTPUT / "admin"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)


def test_admin_pages_in_a_browser(world: WebWorld) -> None:
    with serve(world.services) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        login(page, base, ADMIN, PASSWORD)
        assert page.url.endswith("/admin/users")
        page.get_by_label("Tên đăng nhập").fill("moi.cb")
        page.get_by_label("Họ và tên").fill("Nguyễn Văn Mới")
        page.get_by_label("Vai trò").select_option("officer")
        page.get_by_label("Đơn vị (chỉ cho").select_option(A)
        admin_shot(page, "01-users")
        page.get_by_role("button", name="Tạo tài khoản").click()
        password = page.get_by_label("Mật khẩu (chỉ hiện một lần)").input_value()
        assert len(password) >= 12
        assert world.services.users.authenticate("moi.cb", password) is not None
        admin_shot(page, "02-password-once")

        page.goto(f"{base}/admin/agencies?q=Hoàn+Kiếm")
        admin_shot(page, "03-agencies")
        page.get_by_role("link", name="Sửa liên hệ của Ủy ban nhân dân phường Hoàn Kiếm").click()
        page.locator("#focal_name").fill("Trần Thị Thu")
        page.locator("#focal_phone").fill("0243 825 1234")
        page.get_by_role("button", name="Lưu liên hệ").click()
        expect(page.get_by_text("Đã lưu đầu mối liên hệ")).to_be_visible()
        admin_shot(page, "04-agency-edit")

        page.goto(f"{base}/admin/routing")
        page.locator("#category").select_option("VSMT")
        page.locator("#ward").select_option("00070")
        page.locator("#agency").select_option("UBND-00004")
        page.get_by_role("button", name="Lưu quy tắc").click()
        expect(page.get_by_text("Đã lưu quy tắc")).to_be_visible()
        page.locator("#test-category").select_option("VSMT")
        page.locator("#test-ward").select_option("00070")
        page.get_by_role("button", name="Thử").click()
        expect(page.get_by_text("Theo quy tắc VSMT × 00070")).to_be_visible()
        admin_shot(page, "05-routing")

        page.goto(f"{base}/admin/settings")
        expect(page.get_by_text("sla_presets.toml").first).to_be_visible()
        admin_shot(page, "06-settings")

        phone = b.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        login(phone, base, ADMIN, PASSWORD)
        for name, url in (
            ("07-users-phone", "/admin/users"),
            ("08-agencies-phone", "/admin/agencies?kind=department"),
            ("09-routing-phone", "/admin/routing?category=VSMT&ward=00070"),
            ("10-settings-phone", "/admin/settings"),
        ):
            phone.goto(base + url)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (url, width)
            admin_shot(phone, name)

"""The public pages in a real browser (Playwright + the Debian Chromium) against a real uvicorn server:
a citizen files a report with a photo on a phone-sized screen, tracks it, verifies with the SMS code,
rates the published result and asks for a clarification; the published list and page show the
result without the reporter. Screenshots go to test-output/public/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.portal_server import OUTPUT, browser, serve
from tests.test_public_pages import _jpeg_with_gps
from tests.web_world import PASSWORD, WebWorld, make_world
from ticketing.domain.model import AttachmentKind, Status

NAME, PHONE = "Lê Thị Mai", "0903123456"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


def shot(page: Any, name: str) -> Path:
    folder = OUTPUT / "public"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _otp(world: WebWorld, code: str) -> str:
    bodies = [e.body for e in world.services.outbox.list(None, 100) if e.kind == "one_time_code"]
    return re.findall(r"\b(\d{6})\b", bodies[-1])[-1]


def test_citizen_files_tracks_rates_and_sees_published_result(world: WebWorld, tmp_path: Path) -> None:
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(_jpeg_with_gps())
    with serve(world.services) as base, browser() as b:
        page = b.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{base}/phan-anh")
        shot(page, "01-home-phone")
        page.locator("#name").fill(NAME)
        page.locator("#phone").fill("0903 123 456")
        page.locator("#category").select_option("VSMT")
        page.locator("#ward").select_option("00070")
        page.locator("#address").fill("Đầu ngõ 5 Hàng Bông")
        page.locator("#content").fill("Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom.")
        page.locator("#photos").set_input_files(str(photo))
        page.get_by_label(re.compile("Giữ bí mật danh tính")).check()
        shot(page, "02-form-filled")
        page.get_by_role("button", name="Gửi phản ánh").click()
        expect(page.get_by_text("Đã tiếp nhận phản ánh của bạn")).to_be_visible()
        code = page.locator(".received .code").inner_text().strip()
        assert re.fullmatch(r"\d{9}", code)
        assert NAME not in page.content()
        shot(page, "03-received")
        t = world.services.tickets.get(code)
        assert t.channel.value == "web" and t.caller.confidential
        assert [a.kind for a in t.attachments] == [AttachmentKind.PHOTO]

        # tracking: the one-time code opens the reporter's own details
        page.goto(f"{base}/tra-cuu")
        page.locator("#ma").fill(code)
        page.get_by_role("button", name="Tra cứu").click()
        assert page.url.endswith(f"/tra-cuu/{code}")
        page.get_by_role("button", name="Gửi mã xác minh qua SMS").click()
        expect(page.get_by_text("Đã gửi mã xác minh")).to_be_visible()
        shot(page, "04-track-code-sent")
        page.locator("#otp").fill(_otp(world, code))
        page.get_by_role("button", name="Xác minh", exact=True).click()
        expect(page.get_by_text(PHONE)).to_be_visible()
        expect(page.get_by_text(NAME)).to_be_visible()
        shot(page, "05-track-verified")

        # the agency completes, the head approves publication
        evidence = tmp_path / "ket-qua.jpg"
        evidence.write_bytes(_jpeg_with_gps())
        svc = world.services
        svc.tickets.dispatch(code, "giamsat", "UBND-00070")
        svc.tickets.accept(code, "canbo.a")
        svc.tickets.complete(code, "Đã thu gom toàn bộ rác, vệ sinh đầu ngõ.", "canbo.a", evidence=[evidence])
        svc.staff.publish(svc.users.get("truong.a").actor(), code)
        assert svc.tickets.get(code).status is Status.DONE

        page.reload()
        page.get_by_label("Chưa hài lòng").check()
        page.get_by_role("button", name="Gửi đánh giá").click()
        expect(page.get_by_text("Cảm ơn bạn đã đánh giá")).to_be_visible()
        page.locator("#text").fill("Cuối ngõ vẫn còn một đống rác.")
        page.get_by_role("button", name="Gửi yêu cầu làm rõ").click()
        expect(page.get_by_text("đã được gửi tới đơn vị xử lý")).to_be_visible()
        shot(page, "06-rated-clarification")
        t = svc.tickets.get(code)
        assert t.rating is not None and t.clarification_request

        # published results, on a desktop screen, without the reporter
        desk = b.new_page(viewport={"width": 1280, "height": 900})
        desk.goto(f"{base}/ket-qua")
        expect(desk.get_by_text(f"Mã {code}", exact=False)).to_be_visible()
        shot(desk, "07-published-list")
        desk.get_by_role("link", name=re.compile("Vệ sinh môi trường")).first.click()
        expect(desk.get_by_text("Đã thu gom toàn bộ rác")).to_be_visible()
        img = desk.locator(".photos img").first
        assert img.evaluate("i => i.naturalWidth") > 0
        assert NAME not in desk.content() and PHONE not in desk.content()
        shot(desk, "08-published-page")
        desk.goto(f"{base}/phan-anh")
        shot(desk, "09-home-desktop")
        desk.goto(f"{base}/api/docs")
        desk.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        shot(desk, "10-api-docs")


def test_form_errors_in_browser(world: WebWorld) -> None:
    with serve(world.services) as base, browser() as b:
        page = b.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{base}/phan-anh")
        page.locator("#name").fill(NAME)
        page.locator("#phone").fill("123")
        page.locator("#category").select_option("VSMT")
        page.locator("#ward").select_option("00070")
        page.locator("#content").fill("Rác thải tồn đọng ở đầu ngõ.")
        page.get_by_role("button", name="Gửi phản ánh").click()
        expect(page.get_by_text("Số điện thoại không hợp lệ")).to_be_visible()
        assert page.locator("#name").input_value() == NAME
        shot(page, "11-form-error")
    assert PASSWORD

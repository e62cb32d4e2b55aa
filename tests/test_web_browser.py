"""The portal in a real browser (Playwright + the Debian Chromium) against a real uvicorn server:
an officer of agency A logs in, sees A's queue, accepts and completes with a photo (its metadata
stripped), the head approves, an officer of agency B gets "not found" on A's ticket; the hotline
centre, dashboard and phone-sized pages render. Screenshots go to test-output/portal/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.portal_server import browser, login, serve, shot
from tests.web_world import PASSWORD, WebWorld, make_world
from ticketing.domain.model import AttachmentKind, Status


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


def _photo_with_exif(path: Path) -> Path:
    img = Image.new("RGB", (64, 48), (40, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "MayAnhBiMat"  # Make
    exif[0x0131] = "SerialSoftware-123"  # Software
    img.save(path, "JPEG", exif=exif.tobytes())
    assert b"MayAnhBiMat" in path.read_bytes()
    return path


def test_officer_completes_head_approves_other_agency_not_found(world: WebWorld, tmp_path: Path) -> None:
    code = world.ticket()
    world.ticket(priority="urgent", content="Cây đổ chắn ngang đường Hàng Bông, nguy hiểm")
    world.ticket(dispatched_to=None)  # a new ticket for the hotline centre
    photo = _photo_with_exif(tmp_path / "anh-hien-truong.jpg")

    with serve(world.services) as base, browser() as b:
        officer = b.new_page(viewport={"width": 1280, "height": 900})
        login(officer, base, "canbo.a", PASSWORD)
        assert officer.url.endswith("/queue")
        expect(officer.get_by_role("link", name=code)).to_be_visible()
        shot(officer, "01-queue-officer")

        officer.get_by_role("link", name=code).click()
        officer.get_by_role("button", name="Tiếp nhận xử lý").click()
        expect(officer.get_by_text("Đã tiếp nhận phiếu.")).to_be_visible()
        officer.get_by_label("Kết quả xử lý").fill("Đã thu gom toàn bộ rác tại đầu ngõ 5 Hàng Bông.")
        officer.get_by_label("Ảnh/tài liệu minh chứng").set_input_files(str(photo))
        officer.get_by_role("button", name="Trình kết quả").click()
        expect(officer.get_by_text("chờ lãnh đạo đơn vị phê duyệt")).to_be_visible()
        assert officer.get_by_role("button", name="Phê duyệt kết quả").count() == 0
        shot(officer, "02-ticket-drafted")

        head = b.new_page(viewport={"width": 1280, "height": 900})
        login(head, base, "truong.a", PASSWORD)
        head.goto(f"{base}/tickets/{code}")
        expect(head.locator("img[alt^='Ảnh']").first).to_be_visible()
        head.get_by_role("button", name="Phê duyệt kết quả").click()
        expect(head.get_by_text("Đã phê duyệt kết quả.")).to_be_visible()
        head.get_by_role("button", name="Duyệt công khai kết quả").click()
        shot(head, "03-ticket-approved")

        other = b.new_page()
        login(other, base, "canbo.b", PASSWORD)
        answer = other.goto(f"{base}/tickets/{code}")
        assert answer is not None and answer.status == 404
        expect(other.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
        shot(other, "04-other-agency-not-found")

        phone = b.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        login(phone, base, "canbo.a", PASSWORD)
        shot(phone, "05-queue-phone")
        phone.goto(f"{base}/tickets/{code}")
        shot(phone, "06-ticket-phone")

        centre = b.new_page(viewport={"width": 1280, "height": 900})
        login(centre, base, "giamsat", PASSWORD)
        assert centre.url.endswith("/centre")
        shot(centre, "07-centre")
        expect(centre.get_by_role("heading", name="Tổng đài: phiếu mới và phiếu chờ gọi lại")).to_be_visible()
        dash = centre.goto(f"{base}/dashboard")
        assert dash is not None and dash.status == 200
        expect(centre.get_by_text("tiếp nhận").first).to_be_visible()
        shot(centre, "08-dashboard-city")

    t = world.services.tickets.get(code)
    assert t.status is Status.DONE and t.result.startswith("Đã thu gom")
    evidence = [a for a in t.attachments if a.kind is AttachmentKind.EVIDENCE]
    assert len(evidence) == 1 and evidence[0].media_type == "image/jpeg"
    stored = world.services.attachments.path_for(evidence[0].sha256).read_bytes()
    assert b"MayAnhBiMat" not in stored and b"Exif" not in stored
    assert Image.open(io.BytesIO(stored)).size == (64, 48)
    actors = {e.action: e.actor for e in t.history}
    assert actors["draft_result"] == "canbo.a" and actors["approve_result"] == "truong.a"

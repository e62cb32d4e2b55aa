"""The public pages through HTTP: the web form (photos re-encoded, metadata gone, honeypot, limits),
tracking with the one-time SMS code, the reporter's rating and clarification, published results; and
that a confidential reporter's identity appears in no public body."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.public_world import World, make_world
from ticketing.domain.model import AttachmentKind, Status
from web.public.guard import RateLimits

NAME, PHONE = "Lê Thị Mai", "0903123456"
FORM = {
    "name": NAME,
    "phone": "0903 123 456",
    "category": "VSMT",
    "ward": "00070",
    "address": "Số 12 phố Hàng Bông",
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom.",
}


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    yield from make_world(tmp_path, sqlite_url)


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 42.0), 3: "E", 4: (105.0, 51.0, 12.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _submit(world: World, form: dict[str, str] | None = None, files: list | None = None):  # type: ignore[no-untyped-def,type-arg]
    return world.client.post("/phan-anh", data=form or FORM, files=files, follow_redirects=False)


def _code_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    m = re.match(r"/tra-cuu/(\d{9})\?moi=1", response.headers["location"])
    assert m, response.headers["location"]
    return m.group(1)


def _otp(world: World, code: str) -> str:
    bodies = [e.body for e in world.services.outbox.list(None, 100) if e.kind == "one_time_code"]
    assert bodies and code in bodies[-1]
    return re.findall(r"\b(\d{6})\b", bodies[-1])[-1]


def _done(
    world: World,
    code: str,
    tmp_path: Path,
    result: str = "Đã thu gom rác, vệ sinh ngõ.",
    publish: bool = True,
) -> None:
    t = world.services.tickets
    photo = tmp_path / "ket-qua.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(_jpeg_with_gps())
    t.dispatch(code, "supervisor")
    t.accept(code, "officer")
    t.complete(code, result, "officer", evidence=[photo])
    if publish:  # the agency's head approves publication (the staff service's step)
        lead = t.get(code).lead_agency
        name = f"head-{lead}".lower()
        users = world.services.users
        head = users.get(name) if name in {u.username for u in users.list()} else None
        if head is None:
            head, _ = users.add(name, "head", "test", agency=lead, password="mat-khau-thu-nghiem-12")
        world.services.staff.publish(head.actor(), code)


def test_home_page_lists_categories_wards_and_hotline(world: World) -> None:
    r = world.client.get("/phan-anh")
    assert r.status_code == 200
    assert "1022" in r.text and "Phường Hoàn Kiếm" in r.text and "Vệ sinh môi trường" in r.text
    assert 'name="website"' in r.text and 'name="confidential"' in r.text


def test_form_files_a_web_ticket_with_clean_photos_and_queues_sms(world: World) -> None:
    raw = _jpeg_with_gps()
    assert b"SecretCam" in raw
    r = _submit(world, files=[("photos", ("IMG_1.jpg", raw, "image/jpeg"))])
    code = _code_of(r)
    t = world.services.tickets.get(code)
    assert t.channel.value == "web" and t.created_by == "citizen:web"
    assert t.caller.phone == PHONE and t.place.ward_name == "Phường Hoàn Kiếm"
    [photo] = [a for a in t.attachments if a.kind is AttachmentKind.PHOTO]
    stored = world.services.attachments.read(photo.sha256)
    assert b"SecretCam" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    sms = [e for e in world.services.outbox.list(None, 100) if e.kind == "tracking_code"]
    assert sms and sms[0].recipient == PHONE and code in sms[0].body
    page = world.client.get(r.headers["location"])
    assert "Đã tiếp nhận phản ánh" in page.text and code in page.text and "09******56" in page.text
    assert NAME not in page.text and PHONE not in page.text


def test_form_errors_keep_the_values(world: World) -> None:
    bad = {**FORM, "phone": "12", "ward": "99999", "content": "ngắn"}
    r = _submit(world, bad)
    assert r.status_code == 400
    assert "Số điện thoại không hợp lệ" in r.text and "xã/phường" in r.text and "10 ký tự" in r.text
    assert NAME in r.text and "Số 12 phố Hàng Bông" in r.text  # nothing typed is lost
    assert world.services.tickets.find(_all()) == []


def test_bad_photo_and_too_many_photos(world: World) -> None:
    r = _submit(world, files=[("photos", ("x.jpg", b"not an image", "image/jpeg"))])
    assert r.status_code == 400 and "không phải ảnh hợp lệ" in r.text and "chọn lại ảnh" in r.text
    six = [("photos", (f"{i}.jpg", _jpeg_with_gps(), "image/jpeg")) for i in range(6)]
    r = _submit(world, files=six)
    assert r.status_code in (400, 413) and "Tối đa 5 ảnh" in r.text
    assert world.services.tickets.find(_all()) == []


def test_honeypot_and_size_limit(world: World) -> None:
    r = _submit(world, {**FORM, "website": "http://spam"})
    assert r.status_code == 400 and world.services.tickets.find(_all()) == []
    big = world.client.post("/phan-anh", content=b"x" * 10, headers={"content-length": str(40 * 1024 * 1024)})
    assert big.status_code == 413 and "Traceback" not in big.text


def test_form_rate_limit_per_address(world: World) -> None:
    world.app.state.rate_limits = RateLimits({"form": "2/minute"})
    assert _submit(world).status_code == 303
    assert _submit(world).status_code == 303
    third = _submit(world)
    assert third.status_code == 429 and "quá nhiều" in third.text.lower()


def _all():  # type: ignore[no-untyped-def]
    from ticketing.ports import TicketQuery

    return TicketQuery(limit=1000)


def test_tracking_with_one_time_code_rating_and_clarification(world: World, tmp_path: Path) -> None:
    world.services.admin.set_contact("UBND-00070", "admin", phone="0901000001", email="hk@example.vn")
    code = _code_of(_submit(world))
    page = world.client.get(f"/tra-cuu/{code}")
    assert page.status_code == 200 and "Mới tạo" in page.text and "Gửi mã xác minh" in page.text
    assert NAME not in page.text
    assert world.client.get(f"/tra-cuu?ma={code[:3]} {code[3:]}", follow_redirects=False).status_code == 303
    assert world.client.get("/tra-cuu?ma=123456789").status_code == 404
    assert world.client.get("/tra-cuu/000000000").status_code == 404
    # a wrong code, then the right one
    assert world.client.post(f"/tra-cuu/{code}/gui-ma", follow_redirects=False).status_code == 303
    otp = _otp(world, code)
    wrong = "000000" if otp != "000000" else "111111"
    assert world.client.post(f"/tra-cuu/{code}/xac-minh", data={"otp": wrong}).status_code == 400
    # no follow-up before the grant
    assert world.client.post(f"/tra-cuu/{code}/danh-gia", data={"rating": "Hài lòng"}).status_code == 403
    ok = world.client.post(f"/tra-cuu/{code}/xac-minh", data={"otp": otp}, follow_redirects=False)
    assert ok.status_code == 303 and "hotline_theo_doi" in ok.headers["set-cookie"]
    assert "samesite=strict" in ok.headers["set-cookie"].lower()
    mine = world.client.get(f"/tra-cuu/{code}")
    assert NAME in mine.text and PHONE in mine.text
    # the code is single-use
    assert world.client.post(f"/tra-cuu/{code}/xac-minh", data={"otp": otp}).status_code == 400
    # rating before a result is refused with the rule's reason
    early = world.client.post(f"/tra-cuu/{code}/danh-gia", data={"rating": "Hài lòng"})
    assert early.status_code == 400
    _done(world, code, tmp_path)
    page = world.client.get(f"/tra-cuu/{code}")
    assert "Đã thu gom rác" in page.text and "Gửi đánh giá" in page.text and "Gửi yêu cầu làm rõ" in page.text
    r = world.client.post(f"/tra-cuu/{code}/danh-gia", data={"rating": "Chưa hài lòng"})
    assert r.status_code == 200 and "Cảm ơn" in r.text
    r = world.client.post(f"/tra-cuu/{code}/lam-ro", data={"text": "Ngõ vẫn còn rác ở cuối ngõ."})
    assert r.status_code == 200 and "đã được gửi" in r.text
    t = world.services.tickets.get(code)
    assert t.rating is not None and t.rating.value == "Chưa hài lòng"
    assert t.clarification_request == "Ngõ vẫn còn rác ở cuối ngõ."
    assert any(e.actor == "citizen:web" for e in t.history)
    # both reach the agency: a message to the lead agency's focal officer for each
    follow_ups = [e for e in world.services.outbox.list(None, 200) if e.kind == "citizen_follow_up"]
    assert {e.dedupe_key.split(":")[2] for e in follow_ups} >= {"rate", "request_clarification"}
    again = world.client.post(f"/tra-cuu/{code}/danh-gia", data={"rating": "Hài lòng"})
    assert again.status_code == 400


def test_grant_opens_only_its_own_ticket(world: World) -> None:
    a = _code_of(_submit(world))
    b = _code_of(_submit(world, {**FORM, "name": "Người Khác", "phone": "0911222333"}))
    world.client.post(f"/tra-cuu/{a}/gui-ma")
    world.client.post(f"/tra-cuu/{a}/xac-minh", data={"otp": _otp(world, a)})
    assert NAME in world.client.get(f"/tra-cuu/{a}").text
    assert "Người Khác" not in world.client.get(f"/tra-cuu/{b}").text


def test_code_requests_are_limited(world: World) -> None:
    code = _code_of(_submit(world))
    for _ in range(5):
        world.client.post(f"/tra-cuu/{code}/gui-ma")
    assert world.client.post(f"/tra-cuu/{code}/gui-ma").status_code == 429


def test_code_guessing_is_limited(world: World) -> None:
    code = _code_of(_submit(world))
    world.app.state.rate_limits = RateLimits({"code": "100/minute"})
    world.client.post(f"/tra-cuu/{code}/gui-ma")
    otp = _otp(world, code)
    wrong = "000000" if otp != "000000" else "111111"
    for _ in range(5):
        world.client.post(f"/tra-cuu/{code}/xac-minh", data={"otp": wrong})
    # after five wrong tries even the right code no longer opens the ticket
    assert world.client.post(f"/tra-cuu/{code}/xac-minh", data={"otp": otp}).status_code == 400


def test_published_list_page_and_photo(world: World, tmp_path: Path) -> None:
    done = _code_of(_submit(world))
    other = _code_of(_submit(world, {**FORM, "category": "GT-HT", "ward": "00004"}))
    unpublished = _code_of(_submit(world))
    _done(world, unpublished, tmp_path / "u", result="Kết quả chưa công khai.", publish=False)
    _done(world, done, tmp_path)
    assert unpublished not in world.client.get("/ket-qua").text
    assert world.client.get(f"/ket-qua/{unpublished}").status_code == 404
    assert "Kết quả chưa công khai" not in world.client.get(f"/tra-cuu/{unpublished}").text
    lst = world.client.get("/ket-qua")
    assert lst.status_code == 200 and done in lst.text and other not in lst.text
    assert done not in world.client.get("/ket-qua?linh_vuc=GT-HT").text
    assert done in world.client.get("/ket-qua?phuong=00070").text
    month = world.services.clock.now().strftime("%Y-%m")
    assert done in world.client.get(f"/ket-qua?thang={month}").text
    assert done not in world.client.get("/ket-qua?thang=2020-01").text
    page = world.client.get(f"/ket-qua/{done}")
    assert page.status_code == 200 and "Đã thu gom rác" in page.text
    src = re.search(r'src="(/ket-qua/\d+/anh/[0-9a-f]+)"', page.text)
    assert src
    img = world.client.get(src.group(1))
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in img.content and not Image.open(io.BytesIO(img.content)).getexif()
    assert world.client.get(f"/ket-qua/{other}").status_code == 404
    t = world.services.tickets.get(done)
    assert t.status is Status.DONE


def test_confidential_reporter_never_in_public_bodies(world: World, tmp_path: Path) -> None:
    cccd = "001190012345"
    form = {**FORM, "confidential": "1", "content": f"Tôi là {NAME}, CCCD {cccd}, gọi {PHONE}: rác ở ngõ 5."}
    code = _code_of(_submit(world, form))
    _done(world, code, tmp_path, result=f"Đã liên hệ bà {NAME} ({PHONE}) và thu gom rác.")
    for url in (f"/tra-cuu/{code}", "/ket-qua", f"/ket-qua/{code}", f"/tra-cuu/{code}?moi=1"):
        assert world.client.get(url).status_code == 200
    world.client.get(f"/open311/v2/requests/{code}.json")
    world.client.get("/open311/v2/requests.xml")
    seen = b"\n".join(world.client.kept).decode("utf-8", "replace")
    assert code in seen
    for secret in (NAME, PHONE, cccd, "0903 123 456"):
        assert secret not in seen, secret


def test_database_down_report_is_journaled_and_acknowledged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.errors import StorageUnavailable

    def down(*args: object, **kwargs: object) -> None:
        raise StorageUnavailable("database unavailable")

    monkeypatch.setattr(world.services.tickets, "create", down)
    r = _submit(world)
    assert r.status_code == 200 and "sẽ được gửi qua SMS" in r.text
    assert len(world.services.journal.pending()) == 1
    key = world.key()
    posted = world.client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "VSMT", "description": "Rác", "attribute[ward]": "00070"},
    )
    assert posted.status_code == 201 and posted.json()[0]["token"].startswith("J-")
    token = posted.json()[0]["token"]
    waiting = world.client.get(f"/open311/v2/tokens/{token}.json")
    assert waiting.status_code == 200 and waiting.json() == [{"service_request_id": None, "token": token}]
    monkeypatch.undo()
    world.services.replay_journals()
    code = world.client.get(f"/open311/v2/tokens/{token}.json").json()[0]["service_request_id"]
    assert code and world.services.tickets.get(code).channel.value == "api"
    assert world.client.get("/open311/v2/tokens/J-nope.json").status_code == 404

"""Evidence uploads (type by content, size limit, metadata stripped) and the recording served with HTTP
range requests to the roles that may hear it (an officer gets "not found" for a confidential caller's
recording; the operator's listening is audited)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.test_web_auth import login
from tests.web_world import A, WebWorld, make_world
from ticketing.domain.errors import ValidationError
from web.app import create_app
from web.staff.uploads import clean


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CameraCo"
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 2.0)}  # GPS IFD
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_clean_strips_metadata_and_checks_type_and_size() -> None:
    data = _jpeg_with_gps()
    assert b"CameraCo" in data
    name, out = clean("C:\\Users\\x\\ảnh hiện trường.JPG", data, 1_000_000)
    assert name == "ảnh hiện trường.jpg" and b"CameraCo" not in out and b"Exif" not in out
    assert not Image.open(io.BytesIO(out)).getexif()
    png = io.BytesIO()
    Image.new("RGBA", (4, 4)).save(png, "PNG")
    assert clean("a.png", png.getvalue(), 1_000_000)[0] == "a.png"
    assert clean("bien-ban.pdf", b"%PDF-1.7\n...", 1_000_000)[0] == "bien-ban.pdf"
    with pytest.raises(ValidationError, match="JPEG"):
        clean("virus.jpg", b"MZ\x90\x00 not an image", 1_000_000)
    with pytest.raises(ValidationError, match="larger"):
        clean("big.jpg", data, 100)
    with pytest.raises(ValidationError, match="empty"):
        clean("nothing.jpg", b"", 100)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


def test_recording_range_requests_and_confidential_callers(world: WebWorld) -> None:
    app = create_app(world.services)
    audio = bytes(range(256)) * 64  # 16 kB stand-in for a WAV
    open_code = world.ticket(A)
    secret_code = world.ticket(A, caller={"name": "Trần Bí Mật", "phone": "0900000001", "confidential": True})
    for code in (open_code, secret_code):
        world.services.tickets.attach_bytes(code, audio, "call.wav", "recording", "ai", "audio/wav")
    sha = next(a.sha256 for a in world.services.tickets.get(open_code).attachments)

    officer = TestClient(app)
    login(officer, "canbo.a")
    page = officer.get(f"/tickets/{open_code}").text
    assert f"/tickets/{open_code}/files/{sha}" in page and "<audio" in page
    part = officer.get(f"/tickets/{open_code}/files/{sha}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == audio[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(audio)}"

    secret_page = officer.get(f"/tickets/{secret_code}").text
    assert (
        "Trần Bí Mật" not in secret_page and "<audio" not in secret_page and "0900000001" not in secret_page
    )
    assert officer.get(f"/tickets/{secret_code}/files/{sha}").status_code == 404

    operator = TestClient(app)
    login(operator, "dtv.lan")
    assert "Trần Bí Mật" in operator.get(f"/tickets/{secret_code}").text
    assert operator.get(f"/tickets/{secret_code}/files/{sha}").status_code == 200
    views = [
        e for e in world.services.tickets.audit_trail(secret_code) if e.action == "view_confidential_identity"
    ]
    assert [e.actor for e in views] == ["dtv.lan", "dtv.lan"]

"""Model download against a real local HTTP server: progress, resume, checksum, atomic unpack."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlu.asr.download import DownloadError, download, unpack
from nlu.asr.models import fetch_model, installed_models, resolve_model_path

DIRNAME = "vosk-model-small-vn-0.4"


def make_zip(top: str = DIRNAME, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/am/final.mdl", b"\x00" * 50_000 + b"acoustic")
        zf.writestr(f"{top}/conf/model.conf", b"--endpoint.rule1.min-trailing-silence=0.5\n")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


class Server:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.cut_after: int | None = None  # send only this many bytes of the next response
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng))
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(data):
                    self.send_response(416)
                    self.end_headers()
                    return
                body = data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.cut_after is not None:
                    body = body[: outer.cut_after]
                    outer.cut_after = None
                    self.wfile.write(body)
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()


def test_fetch_verifies_and_unpacks(server: Server, tmp_path: Path) -> None:
    data = make_zip()
    server.files[f"/{DIRNAME}.zip"] = data
    seen: list[tuple[int, int | None]] = []
    model = fetch_model(
        "vi-small",
        tmp_path,
        site=server.url,
        sha256=hashlib.sha256(data).hexdigest(),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert model.path == tmp_path / DIRNAME
    assert (model.path / "conf" / "model.conf").read_bytes().startswith(b"--endpoint")
    assert seen[-1] == (len(data), len(data))
    assert [m.key for m in installed_models(tmp_path)] == ["vi-small"]
    assert resolve_model_path("", tmp_path) == model.path
    # idempotent: a second fetch does not hit the server
    before = len(server.requests)
    fetch_model("vi-small", tmp_path, site=server.url)
    assert len(server.requests) == before


def test_interrupted_download_resumes_with_range(server: Server, tmp_path: Path) -> None:
    data = make_zip()
    server.files["/m.zip"] = data
    server.cut_after = 20_000
    dest = tmp_path / "m.zip"
    with pytest.raises(DownloadError, match="resume"):
        download(f"{server.url}/m.zip", dest)
    part = tmp_path / "m.zip.part"
    assert 0 < part.stat().st_size < len(data)
    download(f"{server.url}/m.zip", dest)
    assert dest.read_bytes() == data
    assert server.requests[-1][1] == "bytes=20000-"


def test_checksum_mismatch_is_refused_and_nothing_unpacked(server: Server, tmp_path: Path) -> None:
    server.files[f"/{DIRNAME}.zip"] = make_zip()
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch_model("vi-small", tmp_path, site=server.url, sha256="0" * 64)
    assert not (tmp_path / DIRNAME).exists()
    assert installed_models(tmp_path) == []


def test_unpinned_checksum_requires_the_user_to_pin_it(server: Server, tmp_path: Path) -> None:
    data = make_zip()
    server.files[f"/{DIRNAME}.zip"] = data
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(DownloadError, match=f"--sha256 {digest}"):
        fetch_model("vi-small", tmp_path, site=server.url)
    assert not (tmp_path / DIRNAME).exists()
    requests = len(server.requests)
    fetch_model("vi-small", tmp_path, site=server.url, sha256=digest)  # cached archive: no new download
    assert len(server.requests) == requests
    assert (tmp_path / DIRNAME / "am").is_dir()


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip(extra={"../escape.txt": b"x"}))
    with pytest.raises(DownloadError, match="unsafe"):
        unpack(archive, tmp_path / "out" / DIRNAME, DIRNAME)
    assert not (tmp_path / "escape.txt").exists()


def test_http_error_is_one_line(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{server.url}/missing.zip", tmp_path / "x.zip")


def test_cli_fetch_and_list(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main
    from config.settings import get_settings

    data = make_zip()
    server.files[f"/{DIRNAME}.zip"] = data
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        bad = runner.invoke(main, ["models", "fetch", "vi-small", "--site", server.url])
        assert bad.exit_code == 1
        assert "Error:" in bad.output and "Traceback" not in bad.output
        digest = hashlib.sha256(data).hexdigest()
        ok = runner.invoke(main, ["models", "fetch", "vi-small", "--site", server.url, "--sha256", digest])
        assert ok.exit_code == 0, ok.output
        assert f"sha256={digest}" in ok.output
        listed = runner.invoke(main, ["models", "list"])
        assert "installed (in use)" in listed.output
    finally:
        get_settings.cache_clear()

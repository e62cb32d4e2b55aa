"""Dossier sources: the CSV table (import, matching by full code or keyed tail) and the HTTP adapter
against a real local HTTP server (bearer token, 404, server error, timeout)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main as cli
from ticketing.dossiers import (
    DossierLookupError,
    DossierTable,
    HttpDossierSource,
    TableError,
    parse_table,
    write_table,
)

CSV = (
    "code,status,procedure,due_date\n"
    "H26.26-261120-0012,Đang thẩm định,Đăng ký khai sinh,2026-11-27\n"
    "000.00.24.H26-261119-0007,Đã trả kết quả,Cấp giấy phép xây dựng,\n"
)


def test_table_matches_full_code_and_keyed_tail(tmp_path: Path) -> None:
    path = tmp_path / "dossiers.csv"
    write_table(path, parse_table(CSV))
    table = DossierTable(path)
    assert table.lookup("h26.26-261120-0012").status == "Đang thẩm định"  # type: ignore[union-attr]
    assert table.lookup("2611190007").procedure == "Cấp giấy phép xây dựng"  # type: ignore[union-attr]
    assert table.lookup("2611190008") is None and table.lookup("26112000") is None
    # the FastAGI DTMF path reads the same source
    from agi.dossiers import KeyedDossiers

    assert KeyedDossiers(table).lookup("2611200012") == ("H26.26-261120-0012", "Đang thẩm định")


def test_the_agi_path_honours_the_dossier_url(tmp_path: Path) -> None:
    """The DTMF fallback asks the configured source: the city's system when call.dossier_url is set."""
    import wiring
    from agi.dossiers import KeyedDossiers
    from config.settings import Settings
    from ticketing.dossiers import HttpDossierSource

    settings = Settings(data_dir=tmp_path, call={"dossier_url": "http://127.0.0.1:9/dossiers"})  # type: ignore[arg-type]
    source = wiring.build(settings).dossiers
    assert isinstance(source, HttpDossierSource) and source.url == "http://127.0.0.1:9/dossiers"
    assert (
        KeyedDossiers(source).lookup("2611200012") is None
    )  # unreachable: logged, the caller hears "not found"
    assert isinstance(wiring.build(Settings(data_dir=tmp_path)).dossiers, DossierTable)


@pytest.mark.parametrize(
    "text",
    [
        "code,procedure\nX,Y\n",
        "code,status\n,Đang xử lý\n",
        "code,status,due_date\nA1,ok,27/11/2026\n",
        "code,status\nA-1,ok\na1,ok\n",
        "code,status\nH26-260930-0012,đã có kết quả, mời đến nhận\n",  # an unquoted comma: 3 fields
    ],
)
def test_bad_tables_are_refused(text: str) -> None:
    with pytest.raises(TableError):
        parse_table(text)


def test_cli_import_and_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    try:
        src = tmp_path / "in.csv"
        src.write_text(CSV, encoding="utf-8")
        runner = CliRunner()
        done = runner.invoke(cli, ["dossiers", "import", str(src)])
        assert done.exit_code == 0 and "2 hồ sơ" in done.output, done.output
        found = runner.invoke(cli, ["dossiers", "lookup", "2611200012"])
        assert found.exit_code == 0 and "Đang thẩm định" in found.output
        missing = runner.invoke(cli, ["dossiers", "lookup", "2611200099"])
        assert missing.exit_code == 1 and "Traceback" not in missing.output
        bad = tmp_path / "bad.csv"
        bad.write_text("code\nX\n", encoding="utf-8")
        refused = runner.invoke(cli, ["dossiers", "import", str(bad)])
        assert refused.exit_code == 1 and "code,status" in refused.output
        assert "Đang thẩm định" in (tmp_path / "dossiers.csv").read_text(encoding="utf-8")  # kept
    finally:
        get_settings.cache_clear()


class _Tthc(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer s3cret":
            self.send_response(401)
            self.end_headers()
            return
        code = self.path.rsplit("/", 1)[-1]
        if code == "slow":
            time.sleep(1.0)
        if code == "broken":
            self.send_response(500)
            self.end_headers()
            return
        if code != "2611200012":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {"code": "H26.26-261120-0012", "status": "Đang xử lý", "procedure": "Khai sinh"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def tthc() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tthc)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/dossiers"
    finally:
        server.shutdown()


def test_http_source(tthc: str) -> None:
    source = HttpDossierSource(tthc, token="s3cret", timeout_s=0.3)
    found = source.lookup("2611200012")
    assert found is not None and found.status == "Đang xử lý" and found.code == "H26.26-261120-0012"
    assert source.lookup("2611200099") is None
    with pytest.raises(DossierLookupError):
        source.lookup("broken")
    with pytest.raises(DossierLookupError):
        source.lookup("slow")  # past the configured timeout
    with pytest.raises(DossierLookupError):
        HttpDossierSource(tthc, token="wrong").lookup("2611200012")

"""``hotline api-keys``, ``tokens`` and ``webhooks`` end to end (SQLite), and a webhook delivered,
signed, to a real HTTP server through the outbox with retries."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.test_cli_tickets import REPORT, Hotline
from ticketing import webhooks


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Hotline]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    hl = Hotline(env, tmp_path)
    hl("db", "upgrade")
    yield hl


def test_api_keys_cli(h: Hotline) -> None:
    out = h("api-keys", "create", "--name", "lgsp-hanoi").stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("hk_") and len(key) > 40
    listed = h("api-keys", "list").stdout
    assert "lgsp-hanoi" in listed and key not in listed and "active" in listed
    rows = json.loads(h("api-keys", "list", "--json").stdout)
    assert rows[0]["name"] == "lgsp-hanoi" and rows[0]["state"] == "active"
    assert "exists" in h.fails("api-keys", "create", "--name", "lgsp-hanoi")
    assert "1-100" in h.fails("api-keys", "create", "--name", " ")
    assert "revoked" in h("api-keys", "revoke", str(rows[0]["id"])).stdout
    assert json.loads(h("api-keys", "list", "--json").stdout)[0]["state"] == "revoked"
    assert "no live" in h.fails("api-keys", "revoke", str(rows[0]["id"]))
    db = (h.tmp / "var" / "hotline.db").read_bytes()
    assert key.encode() not in db  # only the digest is stored


def test_tokens_cli(h: Hotline) -> None:
    h("agencies", "import")
    h("users", "add", "lan.nt", "--role", "officer", "--agency", "UBND-00070")
    out = h("tokens", "create", "--user", "lan.nt", "--expires", "30").stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("hpat_") and "expires" in out
    rows = json.loads(h("tokens", "list", "--user", "lan.nt", "--json").stdout)
    assert rows[0]["owner"] == "lan.nt" and rows[0]["expires_at"] != "-"
    assert "no user" in h.fails("tokens", "create", "--user", "nobody")
    h("tokens", "revoke", str(rows[0]["id"]))
    assert json.loads(h("tokens", "list", "--json").stdout)[0]["state"] == "revoked"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[bytes, str]]] = []
    fail_first = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_first:
            _Receiver.fail_first = False
            self.send_response(503)
        else:
            _Receiver.got.append((body, self.headers[webhooks.SIGNATURE_HEADER]))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_signed_delivery_with_retry(h: Hotline) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        h("agencies", "import")
        url = f"http://127.0.0.1:{server.server_port}/hook"
        secret = h("webhooks", "add", "--name", "lgsp", "--url", url).stdout.strip().splitlines()[-1]
        assert secret.startswith("whsec_")
        assert "lgsp" in h("webhooks", "list").stdout
        assert "malformed URL" in h.fails("webhooks", "add", "--name", "x", "--url", "ftp://x")
        assert "NOPE" in h.fails("webhooks", "add", "--name", "x", "--url", url, "--agency", "NOPE")
        code = h.create()
        assert "failed 1" in h("outbox", "deliver").stdout
        # the first POST got 503: the message stays pending with a back-off; force it due again
        entries = json.loads(h("outbox", "list", "--json", "--show-personal").stdout)
        hook = [e for e in entries if e["channel"] == "webhook"]
        assert hook and hook[0]["status"] == "pending" and hook[0]["attempts"] == 1
        h("outbox", "retry", str(hook[0]["id"]))
        h("outbox", "deliver")
        [(body, signature)] = _Receiver.got
        assert webhooks.verify(secret, body, signature)
        event = json.loads(body)
        assert event["event"] == "ticket.create" and event["ticket"]["code"] == code
        text = body.decode()
        for personal in (REPORT["caller"]["phone"], REPORT["caller"]["name"]):  # type: ignore[index]
            assert personal not in text
        h("webhooks", "remove", "1")
        assert "none" in h("webhooks", "list").stdout
    finally:
        server.shutdown()

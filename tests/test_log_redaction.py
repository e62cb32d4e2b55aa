"""Credentials never reach a log line: the ARI and Rasa clients send them in headers, and the filter
the CLI installs blanks any that a library still writes (URL query, Authorization header, DSN)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from config.log_redaction import RedactingFilter
from nlu.interpreter import RasaInterpreter, RasaUnavailable, interpretation_from_rasa
from nlu.rasa_auth import bearer_headers
from pbx.ari.client import AriClient

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            'HTTP Request: POST http://127.0.0.1:5005/model/parse?token=Zx9-secretTOKEN "HTTP/1.1 200 OK"',
            "Zx9-secretTOKEN",
        ),
        ("connecting to ws://127.0.0.1:8088/ari/events?app=hotline&api_key=hotline:Pa55word99", "Pa55word99"),
        ("> Authorization: Basic aG90bGluZTpQYTU1d29yZDk5", "aG90bGluZTpQYTU1d29yZDk5"),
        (
            "headers {'authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7fX0.sig'}",
            "eyJhbGciOiJIUzI1NiJ9",
        ),
        ("could not connect to postgresql+psycopg://hotline:dbS3cret@127.0.0.1/hotline", "dbS3cret"),
        ("ami login secret=amiSecret123 failed", "amiSecret123"),
    ],
)
def test_the_filter_blanks_credentials(line: str, secret: str) -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "%s", (line,), None)
    RedactingFilter().filter(record)
    assert secret not in record.getMessage() and "***" in record.getMessage()


def test_a_registered_secret_is_blanked_anywhere() -> None:
    f = RedactingFilter()
    f.add_secret("plain-secret-value")
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "boom %s", ("xx plain-secret-value yy",), None
    )
    f.filter(record)
    assert "plain-secret-value" not in record.getMessage()


def test_ari_events_url_carries_no_credentials() -> None:
    client = AriClient("127.0.0.1", 8088, "hotline", "Pa55word99-long", "hotline")
    url = client.events_url()
    assert "api_key" not in url and "Pa55word99-long" not in url
    assert client.auth_headers()["Authorization"].startswith("Basic ")


def test_rasa_requests_carry_the_token_in_a_header_only() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"intent": {"name": "greet", "confidence": 0.9}, "entities": []})

    rasa = RasaInterpreter("http://127.0.0.1:5005", "the-shared-secret-0123456789")
    rasa._client = httpx.Client(transport=httpx.MockTransport(handler))
    rasa.parse_raw("xin chào")
    (request,) = seen
    assert "token" not in str(request.url) and "the-shared-secret" not in str(request.url)
    assert request.headers["Authorization"].startswith("Bearer ")
    import jwt

    claims = jwt.decode(
        request.headers["Authorization"][7:], "the-shared-secret-0123456789", algorithms=["HS256"]
    )
    assert claims["user"]["role"] == "admin"
    assert "Authorization" in bearer_headers("x" * 32)


@pytest.mark.parametrize(
    "body",
    [
        {"intent": "greet"},
        {"intent": {"name": ["greet"], "confidence": "high"}},
        {"intent": {"name": "greet", "confidence": "0.9x"}},
        {"intent": None, "intent_ranking": ["greet", 3, None]},
        {"intent": {}, "intent_ranking": [{"name": "greet", "confidence": float("nan")}]},
        {"intent": {"name": "greet", "confidence": 1e308}, "entities": "name"},
        {"intent": {"name": "greet"}, "entities": [None, 3, {"entity": "name", "value": 7}]},
    ],
)
def test_malformed_rasa_bodies_never_raise(body: dict[str, object]) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 22, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    result = interpretation_from_rasa(body, "xin chào tôi muốn phản ánh", now, "hanoi")
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'"intent"', b"{}"])
def test_malformed_rasa_answers_are_unavailable_not_crashes(payload: bytes) -> None:
    rasa = RasaInterpreter("http://127.0.0.1:5005", "the-shared-secret-0123456789")
    rasa._client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=payload)))
    with pytest.raises(RasaUnavailable):
        rasa.parse_raw("xin chào")


def test_cli_verbose_log_carries_no_credentials(tmp_path: Path) -> None:
    """The CLI's own logging (``hotline -v``) runs every record through the filter."""
    code = (
        "import logging, sys\n"
        "from cli import main\n"
        "import click\n"
        "@main.command('leak')\n"
        "def leak():\n"
        "    logging.getLogger('httpx').info('POST http://h/model/parse?token=SeCrEtToKeN1')\n"
        "    logging.getLogger('websockets.client').debug('GET /ari/events?api_key=u:PaSsWoRd77')\n"
        "sys.argv = ['hotline', '-v', 'leak']\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert "model/parse" in out.stderr and "api_key=***" in out.stderr, out.stderr
    assert "SeCrEtToKeN1" not in out.stderr and "PaSsWoRd77" not in out.stderr
    json.dumps(out.stderr)

"""Notification texts, retry policy, and the delivery adapters against real local servers."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from ticketing.notifications.adapters import (
    DeliveryError,
    FileSender,
    HttpSmsSender,
    OutgoingMessage,
    SmtpSender,
)
from ticketing.notifications.messages import Channel, MessageKind, TemplateError, render
from ticketing.notifications.policy import OutboxStatus, RetryPolicy

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CONTEXT: dict[str, Any] = {
    "hotline": "1022",
    "code": "260000187",
    "lookup_url": "https://1022.example.gov.vn/tra-cuu/260000187",
    "agency_name": "UBND Phường Hoàn Kiếm",
    "category_name": "Vệ sinh môi trường",
    "ward_name": "Phường Hoàn Kiếm",
    "due": "23/11/2026 11:00",
    "officer_name": "Trần Văn Bình",
    "priority_label": "Bình thường",
    "content": "Rác thải ùn ứ tại ngõ 12 Hàng Bông",
    "step_label": "đã quá hạn, chuyển Thủ trưởng đơn vị",
    "recipient_name": "Lê Thị Hoa",
    "created": "20/11/2026 16:00",
    "reason": "Quá 8 giờ làm việc chưa tiếp nhận",
    "title": "Đăng ký khai sinh",
    "summary": "Nộp tại UBND xã/phường; giải quyết trong ngày",
}
MSG = OutgoingMessage("sms", "0912345678", "", "Ma so theo doi: 260000187", "outbox-7")


@pytest.mark.parametrize(
    ("kind", "channel"),
    [
        (MessageKind.TRACKING_CODE, Channel.SMS),
        (MessageKind.ASSIGNMENT, Channel.SMS),
        (MessageKind.ASSIGNMENT, Channel.EMAIL),
        (MessageKind.ESCALATION, Channel.SMS),
        (MessageKind.ESCALATION, Channel.EMAIL),
        (MessageKind.RESULT, Channel.SMS),
        (MessageKind.CLARIFICATION_ANSWER, Channel.SMS),
        (MessageKind.PROCEDURE_ANSWER, Channel.SMS),
    ],
)
def test_every_template_renders(kind: MessageKind, channel: Channel) -> None:
    out = render(kind, channel, CONTEXT)
    assert out.body and "{{" not in out.body
    if channel is Channel.EMAIL:
        assert "260000187" in out.subject
    if kind is not MessageKind.PROCEDURE_ANSWER:
        assert "260000187" in out.body


def test_tracking_code_sms_fits_one_segment_and_carries_no_personal_data() -> None:
    body = render(MessageKind.TRACKING_CODE, Channel.SMS, CONTEXT).body
    assert len(body) <= 160 and body.isascii()
    assert "0912345678" not in body and "Nguyễn" not in body


def test_missing_variable_is_an_error_not_a_hole() -> None:
    with pytest.raises(TemplateError, match="code"):
        render(MessageKind.TRACKING_CODE, Channel.SMS, {"hotline": "1022", "lookup_url": "x"})
    with pytest.raises(TemplateError, match="no template"):
        render(MessageKind.TRACKING_CODE, Channel.EMAIL, CONTEXT)


def test_retry_policy_backs_off_then_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, first_delay=timedelta(seconds=30), max_delay=timedelta(minutes=1))
    now = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
    assert policy.after_failure(1, now) == (OutboxStatus.PENDING, now + timedelta(seconds=30))
    assert policy.after_failure(2, now) == (OutboxStatus.PENDING, now + timedelta(seconds=60))
    assert policy.after_failure(3, now) == (OutboxStatus.PENDING, now + timedelta(seconds=60))  # capped
    assert policy.after_failure(4, now) == (OutboxStatus.DEAD, None)
    with pytest.raises(ValueError):
        policy.delay_after(0)


class Gateway:
    """A real HTTP server standing in for the SMS gateway."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()
    yield gw
    gw.httpd.shutdown()


def test_http_sms_posts_the_configured_body(gateway: Gateway) -> None:
    sender = HttpSmsSender(
        gateway.url,
        token="s3cret-token",
        body_template=(
            '{"msisdn": {{ phone }}, "content": {{ text }}, "ref": {{ message_id }}, "brand": "UBND"}'
        ),
    )
    sender.send(OutgoingMessage("sms", "0912345678", "", 'Mã "số" 260000187', "outbox-7"))
    headers, body = gateway.received[0]
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert json.loads(body) == {
        "msisdn": "0912345678",
        "content": 'Mã "số" 260000187',
        "ref": "outbox-7",
        "brand": "UBND",
    }


def test_http_sms_failures_are_delivery_errors(gateway: Gateway) -> None:
    gateway.status = 503
    with pytest.raises(DeliveryError, match="HTTP 503"):
        HttpSmsSender(gateway.url).send(MSG)
    with pytest.raises(DeliveryError, match="unreachable"):
        HttpSmsSender("http://127.0.0.1:9/sms", timeout_s=1).send(MSG)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def test_smtp_delivers_to_a_real_server() -> None:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rendered = render(MessageKind.ASSIGNMENT, Channel.EMAIL, CONTEXT)
        SmtpSender("127.0.0.1", port, sender="1022@example.gov.vn", starttls=False).send(
            OutgoingMessage("email", "focal@phuong.example.vn", rendered.subject, rendered.body, "outbox-9")
        )
    finally:
        controller.stop()
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["focal@phuong.example.vn"]
    text = envelope.content.decode("utf-8", "replace")
    assert "outbox-9@hotline" in text
    with pytest.raises(DeliveryError, match="SMTP"):
        SmtpSender("127.0.0.1", 9, sender="x@example.vn", starttls=False, timeout_s=1).send(MSG)


def test_file_sender_appends_json_lines(tmp_path: Path) -> None:
    sender = FileSender(tmp_path / "out" / "sms.jsonl")
    sender.send(MSG)
    sender.send(MSG)
    lines = (tmp_path / "out" / "sms.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["recipient"] == "0912345678"

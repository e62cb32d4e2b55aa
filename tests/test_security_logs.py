"""Logs never carry what callers said: a failing interpreter is logged without the turn's text
(which may hold a phone number, a citizen ID or a confidential caller's name)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.dialogue import DialogueEngine, Heard, Interpretation

NOW = datetime(2026, 11, 22, 21, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
TURN = "tôi tên là nguyễn văn an số điện thoại 0987654321 căn cước 001190012345"


class Broken:
    def interpret(self, text: str, now: datetime) -> Interpretation:
        raise RuntimeError("rasa down")


def test_interpreter_failure_log_has_no_caller_text(caplog: pytest.LogCaptureFixture) -> None:
    e = DialogueEngine(Broken(), None, clock=lambda: NOW)
    e.start()
    with caplog.at_level(logging.DEBUG):
        e.handle(Heard(TURN))
    failures = [r for r in caplog.records if "interpreter failed" in r.getMessage()]
    assert failures, "the failure is still logged"
    text = caplog.text
    for secret in ("0987654321", "001190012345", "nguyễn văn an"):
        assert secret not in text


class Overflowing:
    """An interpreter failing with an error whose message quotes values taken from the turn."""

    def interpret(self, text: str, now: datetime) -> Interpretation:
        raise OverflowError("days=001190012345; must have magnitude <= 999999999")


def test_an_interpreter_error_message_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    e = DialogueEngine(Overflowing(), None, clock=lambda: NOW)
    e.start()
    with caplog.at_level(logging.DEBUG):
        e.handle(Heard(TURN))
    (failure,) = [r for r in caplog.records if "interpreter failed" in r.getMessage()]
    assert "OverflowError" in failure.getMessage()
    assert failure.exc_info is None  # no traceback: it would quote the message
    assert "001190012345" not in caplog.text and "0987654321" not in caplog.text


def test_a_huge_offset_is_no_time_not_a_crash() -> None:
    from nlu.normalize.times import normalize_time

    for said in (
        "hai tỷ ngày trước",
        "chín trăm nghìn tỷ phút trước",
        "cách đây ba tỷ năm",
        "hai tỷ tuần trước",
    ):
        assert normalize_time(said, NOW) is None

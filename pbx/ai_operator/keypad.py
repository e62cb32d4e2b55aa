"""Keypad collection on a live call: keyed digits become one entry, ended by ``#`` or a pause
(longer when a number is expected), and in keypad-only mode a menu key stands for what a caller
would have said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nlu.dialogue import events as ev

DIGIT_TIMEOUT_S = 3.0  # pause that ends a keyed number (``#`` ends it at once)
KEY_TIMEOUT_S = 1.2  # pause that ends a single menu key
DTMF_NO_INPUT_S = 8.0  # keypad-only mode: nothing keyed for this long is silence

DTMF_MENU = (
    "Xin lỗi, hệ thống nhận dạng giọng nói đang tạm ngừng. Anh/chị vui lòng bấm phím: "
    "phím 1 để tra cứu hồ sơ, phím 2 để hỏi tình trạng phản ánh, phím 0 để gặp tổng đài viên."
)
# keypad-only mode: a menu key stands for what a caller would have said
KEY_REQUESTS = {
    "1": "tôi muốn tra cứu hồ sơ",
    "2": "tôi muốn hỏi tình trạng xử lý phản ánh",
    "3": "tôi muốn gặp tổng đài viên",
    "0": "tôi muốn gặp tổng đài viên",
    "9": "tôi muốn gặp tổng đài viên",
}


def keyed_event(digits: str, menu: bool) -> ev.Event:
    """The engine event for one keyed entry; ``menu``: a menu key of keypad-only mode."""
    keys = digits.rstrip("#")
    if menu and keys in KEY_REQUESTS:
        return ev.Heard(KEY_REQUESTS[keys], 1.0)
    return ev.Digits(digits)


class Keypad:
    """Collects digits into an entry; calls ``on_entry`` with it when ``#`` or the pause ends it."""

    def __init__(self, on_entry: Callable[[str], None]) -> None:
        self.on_entry = on_entry
        self.digits = ""
        self._timer: asyncio.TimerHandle | None = None

    def key(self, digit: str, expects_number: bool) -> None:
        self.digits += digit
        self.cancel()
        if digit == "#":
            self.flush()
            return
        wait = DIGIT_TIMEOUT_S if expects_number else KEY_TIMEOUT_S
        self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        digits, self.digits = self.digits, ""
        if digits:
            self.on_entry(digits)

    def clear(self) -> None:
        self.digits = ""
        self.cancel()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

"""Pure AudioSocket codec: bytes <-> typed messages.

A frame is a 1-byte kind, a 2-byte big-endian payload length and the payload. Kinds used by Asterisk:
0x00 hangup, 0x01 the call's UUID (16 bytes, sent first), 0x03 one DTMF digit (ASCII), 0x10 signed
linear 16-bit audio (8 kHz mono for ``format=slin``), 0xff an error code. No I/O happens here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum

HEADER_SIZE = 3
MAX_PAYLOAD = 0xFFFF
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class FrameError(ValueError):
    """The byte stream is not valid AudioSocket framing."""


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Uuid:
    value: uuid.UUID


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Audio:
    pcm: bytes


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    code: bytes


Message = Hangup | Uuid | Dtmf | Audio | ErrorFrame


def _frame(kind: Kind, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(f"payload of {len(payload)} bytes does not fit in one frame")
    return bytes((kind,)) + len(payload).to_bytes(2, "big") + payload


def encode(message: Message) -> bytes:
    """Encode one message as one frame."""
    match message:
        case Hangup():
            return _frame(Kind.HANGUP, b"")
        case Uuid(value):
            return _frame(Kind.UUID, value.bytes)
        case Dtmf(digit):
            if digit not in DTMF_DIGITS:
                raise FrameError(f"not a DTMF digit: {digit!r}")
            return _frame(Kind.DTMF, digit.encode("ascii"))
        case Audio(pcm):
            return _frame(Kind.AUDIO, pcm)
        case ErrorFrame(code):
            return _frame(Kind.ERROR, code)
    raise TypeError(f"not an AudioSocket message: {message!r}")


def decode_frame(kind: int, payload: bytes) -> Message:
    """Turn one frame's kind and payload into a message; raise FrameError on anything unknown."""
    if kind == Kind.HANGUP:
        return Hangup()
    if kind == Kind.UUID:
        if len(payload) != 16:
            raise FrameError(f"UUID frame with {len(payload)} bytes, expected 16")
        return Uuid(uuid.UUID(bytes=payload))
    if kind == Kind.DTMF:
        digit = payload.decode("ascii", errors="replace")
        if digit not in DTMF_DIGITS:
            raise FrameError(f"DTMF frame with payload {payload!r}")
        return Dtmf(digit)
    if kind == Kind.AUDIO:
        if len(payload) % 2:
            raise FrameError("audio frame with an odd number of bytes")
        return Audio(payload)
    if kind == Kind.ERROR:
        return ErrorFrame(payload)
    raise FrameError(f"unknown frame kind 0x{kind:02x}")


class FrameDecoder:
    """Incremental decoder: feed it whatever the socket gave, get back the complete messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while len(self._buffer) >= HEADER_SIZE:
            length = int.from_bytes(self._buffer[1:3], "big")
            end = HEADER_SIZE + length
            if len(self._buffer) < end:
                break
            kind = self._buffer[0]
            payload = bytes(self._buffer[HEADER_SIZE:end])
            del self._buffer[:end]
            messages.append(decode_frame(kind, payload))
        return messages

    @property
    def pending(self) -> int:
        """Bytes received but not yet forming a complete frame."""
        return len(self._buffer)

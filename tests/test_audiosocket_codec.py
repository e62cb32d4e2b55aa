"""AudioSocket codec: round trips, incremental decoding and fuzzing with hypothesis."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx.audiosocket.codec import (
    DTMF_DIGITS,
    Audio,
    Dtmf,
    ErrorFrame,
    FrameDecoder,
    FrameError,
    Hangup,
    Message,
    Uuid,
    encode,
)

messages = st.one_of(
    st.just(Hangup()),
    st.uuids().map(Uuid),
    st.sampled_from(sorted(DTMF_DIGITS)).map(Dtmf),
    st.binary(max_size=2000).filter(lambda b: len(b) % 2 == 0).map(Audio),
    st.binary(max_size=8).map(ErrorFrame),
)


def test_known_bytes() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert encode(Uuid(u)) == b"\x01\x00\x10" + u.bytes
    assert encode(Dtmf("5")) == b"\x03\x00\x015"
    assert encode(Hangup()) == b"\x00\x00\x00"
    assert encode(Audio(b"\x01\x02")) == b"\x10\x00\x02\x01\x02"


@given(st.lists(messages, max_size=20), st.integers(min_value=1, max_value=50))
def test_round_trip_in_any_chunking(msgs: list[Message], chunk: int) -> None:
    stream = b"".join(encode(m) for m in msgs)
    decoder = FrameDecoder()
    out: list[Message] = []
    for i in range(0, len(stream), chunk):
        out.extend(decoder.feed(stream[i : i + chunk]))
    assert out == msgs
    assert decoder.pending == 0


@given(st.binary(max_size=300))
def test_garbage_never_crashes_with_anything_but_frame_error(data: bytes) -> None:
    decoder = FrameDecoder()
    try:
        for m in decoder.feed(data):
            assert isinstance(m, Hangup | Uuid | Dtmf | Audio | ErrorFrame)
    except FrameError:
        pass


@pytest.mark.parametrize(
    "frame",
    [b"\x42\x00\x00", b"\x01\x00\x03abc", b"\x03\x00\x01x", b"\x10\x00\x03abc"],
)
def test_invalid_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(FrameError):
        FrameDecoder().feed(frame)


def test_encode_refuses_bad_values() -> None:
    with pytest.raises(FrameError):
        encode(Dtmf("x"))
    with pytest.raises(FrameError):
        encode(Audio(bytes(70000)))

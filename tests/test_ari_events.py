"""ARI event models, parsed from JSON as Asterisk sends it; malformed input is refused cleanly.

stasis_start, dtmf, hangup_request, stasis_end and channel_varset were recorded from the test Asterisk
(22.10) during a SIPp call; the AudioSocket StasisStart, ChannelDestroyed and BridgeCreated files are
written in the same format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pbx.ari.events import (
    AriEventError,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_event,
)

DATA = Path(__file__).parent / "data" / "ari"


def load(name: str) -> str:
    return (DATA / name).read_text()


def test_stasis_start_of_caller() -> None:
    event = parse_event(load("stasis_start.json"))
    assert isinstance(event, StasisStart)
    assert event.channel.id == "hotline-rec1-1795441162.0"
    assert event.channel.caller.number == "0912345678"
    assert event.channel.dialplan.exten == "1022"
    assert not event.channel.is_audiosocket
    assert event.application == "hotline"


def test_stasis_start_of_audiosocket_channel() -> None:
    event = parse_event(load("stasis_start_audiosocket.json"))
    assert isinstance(event, StasisStart) and event.channel.is_audiosocket


def test_dtmf_and_destroyed() -> None:
    dtmf = parse_event(load("dtmf.json"))
    assert isinstance(dtmf, ChannelDtmfReceived) and dtmf.digit == "5" and dtmf.duration_ms == 160
    gone = parse_event(load("channel_destroyed.json"))
    assert isinstance(gone, ChannelDestroyed) and gone.cause == 16


def test_recorded_hangup_sequence() -> None:
    hangup = parse_event(load("hangup_request.json"))
    end = parse_event(load("stasis_end.json"))
    assert isinstance(hangup, ChannelHangupRequest) and isinstance(end, StasisEnd)
    assert hangup.channel.id == end.channel.id
    varset = parse_event(load("channel_varset.json"))
    assert isinstance(varset, UnknownEvent) and varset.type == "ChannelVarset"


def test_unknown_event_is_kept_raw() -> None:
    event = parse_event(load("bridge_created.json"))
    assert isinstance(event, UnknownEvent)
    assert event.type == "BridgeCreated" and event.raw["bridge"]["id"] == "b1"


def test_round_trip_through_model_dump() -> None:
    event = parse_event(load("stasis_start.json"))
    assert parse_event(event.model_dump()) == event


@pytest.mark.parametrize(
    "message",
    [
        "{not json",
        "[]",
        '{"no_type": 1}',
        '{"type": 42}',
        '{"type": "StasisStart"}',  # no channel
        '{"type": "ChannelDtmfReceived", "channel": {"id": "x", "name": "n", "state": "Up"}}',  # no digit
        b"\xff\xfe",
    ],
)
def test_malformed_events_raise_ari_event_error(message: str | bytes) -> None:
    with pytest.raises(AriEventError):
        parse_event(message)


def test_extra_fields_are_ignored() -> None:
    obj = json.loads(load("stasis_start.json"))
    obj["new_field_from_future_asterisk"] = {"x": 1}
    obj["channel"]["another"] = 2
    assert isinstance(parse_event(obj), StasisStart)

"""Typed models of the ARI events and objects the call controller uses.

Parsed with pydantic from the WebSocket's JSON; fields we do not use are ignored, so newer Asterisk
versions that add fields keep working. Events we do not model become :class:`UnknownEvent`; JSON that
is not an event at all, or a modelled event with missing fields, raises :class:`AriEventError`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class AriEventError(ValueError):
    """A WebSocket message that is not a well-formed ARI event."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CallerId(_Model):
    name: str = ""
    number: str = ""


class DialplanCep(_Model):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(_Model):
    id: str
    name: str
    state: str
    caller: CallerId = Field(default_factory=CallerId)
    connected: CallerId = Field(default_factory=CallerId)
    dialplan: DialplanCep = Field(default_factory=DialplanCep)
    creationtime: str = ""
    language: str = ""
    channelvars: dict[str, str] | None = None

    @property
    def is_audiosocket(self) -> bool:
        return self.name.startswith("AudioSocket/")


class Bridge(_Model):
    id: str
    bridge_type: str = ""
    channels: list[str] = Field(default_factory=list)


class _Event(_Model):
    application: str = ""
    timestamp: str = ""
    asterisk_id: str = ""


class StasisStart(_Event):
    type: Literal["StasisStart"]
    channel: Channel
    args: list[str] = Field(default_factory=list)
    replace_channel: Channel | None = None


class StasisEnd(_Event):
    type: Literal["StasisEnd"]
    channel: Channel


class ChannelDtmfReceived(_Event):
    type: Literal["ChannelDtmfReceived"]
    channel: Channel
    digit: str
    duration_ms: int = 0


class ChannelHangupRequest(_Event):
    type: Literal["ChannelHangupRequest"]
    channel: Channel
    cause: int = 0
    soft: bool = False


class ChannelDestroyed(_Event):
    type: Literal["ChannelDestroyed"]
    channel: Channel
    cause: int = 0
    cause_txt: str = ""


class ChannelStateChange(_Event):
    type: Literal["ChannelStateChange"]
    channel: Channel


class UnknownEvent(_Event):
    type: str
    raw: dict[str, Any] = Field(default_factory=dict)


KnownEvent = Annotated[
    (
        StasisStart
        | StasisEnd
        | ChannelDtmfReceived
        | ChannelHangupRequest
        | ChannelDestroyed
        | ChannelStateChange
    ),
    Field(discriminator="type"),
]
Event = (
    StasisStart
    | StasisEnd
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelStateChange
    | UnknownEvent
)
KNOWN_TYPES = frozenset(
    {
        "StasisStart",
        "StasisEnd",
        "ChannelDtmfReceived",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "ChannelStateChange",
    }
)
_known: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse one WebSocket message into a typed event."""
    if isinstance(data, str | bytes):
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AriEventError(f"not JSON: {exc}") from exc
    else:
        obj = data
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise AriEventError("not an ARI event: no 'type'")
    if obj["type"] not in KNOWN_TYPES:
        return UnknownEvent(
            type=obj["type"],
            application=str(obj.get("application", "")),
            timestamp=str(obj.get("timestamp", "")),
            raw=obj,
        )
    try:
        return _known.validate_python(obj)
    except ValidationError as exc:
        raise AriEventError(f"malformed {obj['type']}: {exc.error_count()} error(s)") from exc


def parse_channel(obj: dict[str, Any]) -> Channel:
    try:
        return Channel.model_validate(obj)
    except ValidationError as exc:
        raise AriEventError(f"malformed channel: {exc.error_count()} error(s)") from exc

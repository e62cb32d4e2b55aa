"""AudioSocket: the codec for Asterisk's AudioSocket framing and an asyncio TCP server for it."""

from pbx.audiosocket.codec import (
    Audio,
    Dtmf,
    ErrorFrame,
    FrameDecoder,
    FrameError,
    Hangup,
    Kind,
    Message,
    Uuid,
    encode,
)

__all__ = [
    "Audio",
    "Dtmf",
    "ErrorFrame",
    "FrameDecoder",
    "FrameError",
    "Hangup",
    "Kind",
    "Message",
    "Uuid",
    "encode",
]

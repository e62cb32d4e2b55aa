"""AudioSocket server over a real TCP socket, with a fake Asterisk peer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from pbx.audiosocket.codec import Audio, Dtmf, FrameDecoder, Hangup, Uuid, encode
from pbx.audiosocket.server import AudioSocketServer


@pytest.fixture
async def server() -> AsyncIterator[AudioSocketServer]:
    srv = AudioSocketServer("127.0.0.1", 0)
    await srv.start()
    yield srv
    await srv.close()


async def test_expected_uuid_gets_its_connection(server: AudioSocketServer) -> None:
    call = uuid.uuid4()
    fut = server.expect(call)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(encode(Uuid(call)) + encode(Audio(b"\x00\x01" * 160)) + encode(Dtmf("7")) + encode(Hangup()))
    conn = await asyncio.wait_for(fut, 2)
    assert conn.uuid == call
    assert await conn.read() == Audio(b"\x00\x01" * 160)
    assert await conn.read() == Dtmf("7")
    assert await conn.read() == Hangup()
    conn.write(Audio(b"\x02\x00" * 4))
    await conn.drain()
    assert FrameDecoder().feed(await reader.readexactly(11)) == [Audio(b"\x02\x00" * 4)]
    await conn.close()
    assert await reader.read() == b""
    writer.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x10\x00\x04abcd",  # audio before the UUID
        b"\x01\x00",  # truncated header
        b"\xff" * 64,
    ],
)
async def test_garbage_is_rejected_server_keeps_working(server: AudioSocketServer, garbage: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(garbage)
    await writer.drain()
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 6) == b""
    writer.close()
    assert server.rejected == 1
    # a good connection still works afterwards
    call = uuid.uuid4()
    fut = server.expect(call)
    _, w2 = await asyncio.open_connection("127.0.0.1", server.port)
    w2.write(encode(Uuid(call)))
    conn = await asyncio.wait_for(fut, 2)
    await conn.close()
    w2.close()


async def test_unknown_uuid_is_rejected(server: AudioSocketServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(encode(Uuid(uuid.uuid4())))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    assert server.rejected == 1
    writer.close()

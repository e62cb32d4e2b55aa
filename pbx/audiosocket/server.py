"""Asyncio TCP server for AudioSocket connections from Asterisk.

Asterisk opens one TCP connection per ``externalMedia``/``AudioSocket()`` channel and sends the call's
UUID first. The server reads that frame, then hands the connection to whoever is waiting for that UUID
(:meth:`AudioSocketServer.expect`). Connections that send garbage, a wrong first frame, or a UUID nobody
expects are closed; they never reach a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from pbx.audiosocket.codec import HEADER_SIZE, FrameError, Message, Uuid, decode_frame, encode

log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT_S = 5.0


class AudioSocketConnection:
    """One accepted connection after its UUID frame: read messages, write frames."""

    def __init__(self, call_uuid: uuid.UUID, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.uuid = call_uuid
        self._reader = reader
        self._writer = writer
        self.closed = asyncio.Event()

    async def read(self) -> Message | None:
        """The next message, or None at end of stream. Raises FrameError on bad framing."""
        return await read_message(self._reader)

    def write(self, message: Message) -> None:
        if not self._writer.is_closing():
            self._writer.write(encode(message))

    def write_raw(self, frame: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(frame)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
        self.closed.set()


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    try:
        header = await reader.readexactly(HEADER_SIZE)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("connection closed inside a frame header") from exc
        return None
    length = int.from_bytes(header[1:3], "big")
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise FrameError("connection closed inside a frame payload") from exc
    return decode_frame(header[0], payload)


class AudioSocketServer:
    """Listens on host:port; routes each connection to the call that expects its UUID."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._waiting: dict[uuid.UUID, asyncio.Future[AudioSocketConnection]] = {}
        self.rejected = 0  # connections closed for bad input; visible to tests and logs

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for fut in self._waiting.values():
            fut.cancel()
        self._waiting.clear()

    def expect(self, call_uuid: uuid.UUID) -> asyncio.Future[AudioSocketConnection]:
        """A future resolved with the connection that announces ``call_uuid``."""
        fut: asyncio.Future[AudioSocketConnection] = asyncio.get_running_loop().create_future()
        self._waiting[call_uuid] = fut
        return fut

    def forget(self, call_uuid: uuid.UUID) -> None:
        fut = self._waiting.pop(call_uuid, None)
        if fut is not None and not fut.done():
            fut.cancel()

    async def _reject(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.rejected += 1
        log.warning("AudioSocket connection rejected: %s", why)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(read_message(reader), FIRST_FRAME_TIMEOUT_S)
        except (FrameError, TimeoutError, ConnectionError) as exc:
            await self._reject(writer, f"bad first frame: {exc!s}")
            return
        if not isinstance(first, Uuid):
            await self._reject(writer, f"first frame is {type(first).__name__}, not a UUID")
            return
        fut = self._waiting.pop(first.value, None)
        if fut is None or fut.done():
            await self._reject(writer, f"unexpected call UUID {first.value}")
            return
        conn = AudioSocketConnection(first.value, reader, writer)
        fut.set_result(conn)
        # Keep this handler alive while the call uses the connection, so the server's close waits for it.
        await conn.closed.wait()

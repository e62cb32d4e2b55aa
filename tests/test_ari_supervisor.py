"""The reconnect supervisor against a real WebSocket server that goes away and comes back."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import websockets
from websockets.asyncio.server import ServerConnection

from pbx.ari.client import AriClient
from pbx.ari.events import Event, StasisStart
from pbx.ari.supervisor import AriSupervisor

DATA = Path(__file__).parent / "data" / "ari"


async def test_reconnects_and_resyncs_after_server_restart() -> None:
    paths: list[str] = []
    auths: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        auths.append(ws.request.headers.get("Authorization", ""))
        await ws.send("garbage that is not JSON")  # a malformed event must not end the session
        await ws.send((DATA / "stasis_start.json").read_text())
        await ws.wait_closed()

    server = await websockets.serve(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AriClient("127.0.0.1", port, "u", "p4ss", "hotline")
    events: list[Event] = []
    log: list[str] = []
    got = asyncio.Event()

    async def on_event(event: Event) -> None:
        events.append(event)
        got.set()

    async def on_connected() -> None:
        log.append("connected")

    async def on_disconnected() -> None:
        log.append("disconnected")

    sup = AriSupervisor(
        client, on_event, on_connected, on_disconnected, min_backoff_s=0.05, max_backoff_s=0.2
    )
    task = asyncio.create_task(sup.run())
    await asyncio.wait_for(got.wait(), 5)
    assert isinstance(events[0], StasisStart)
    assert "app=hotline" in paths[0] and "api_key" not in paths[0] and "p4ss" not in paths[0]
    assert auths[0] == "Basic " + base64.b64encode(b"u:p4ss").decode()  # credentials in a header

    # Asterisk goes away ...
    server.close()
    await server.wait_closed()
    await asyncio.sleep(0.5)  # a few failed attempts while nobody listens
    assert log == ["connected", "disconnected"]
    # ... and comes back on the same port
    got.clear()
    server = await websockets.serve(handler, "127.0.0.1", port)
    await asyncio.wait_for(got.wait(), 5)
    assert sup.connections == 2
    assert log == ["connected", "disconnected", "connected"]
    assert len(events) == 2

    sup.stop()
    await asyncio.wait_for(task, 5)
    server.close()
    await client.aclose()

"""Keeps the Stasis application registered: reconnects the event WebSocket after Asterisk restarts.

Each time the WebSocket opens, ``on_connected`` runs first (the controller re-syncs its calls with
``GET /channels``), then events flow to ``on_event`` in order. When the socket drops, ``on_disconnected``
runs and the supervisor retries with capped exponential backoff, forever, until :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from pbx.ari.client import AriClient
from pbx.ari.events import Event

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class AriSupervisor:
    def __init__(
        self,
        client: AriClient,
        on_event: EventHandler,
        on_connected: Hook = _nothing,
        on_disconnected: Hook = _nothing,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 3.0,
    ) -> None:
        self._client = client
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._min = min_backoff_s
        self._max = max_backoff_s
        self._stopping = asyncio.Event()
        self.connected = asyncio.Event()
        self.connections = 0  # how many times the app was (re-)registered

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = self._min
        while not self._stopping.is_set():
            try:
                async with self._client.events() as events:
                    self.connections += 1
                    backoff = self._min
                    log.info("ARI app %s registered (connection %d)", self._client.app, self.connections)
                    await self._on_connected()
                    self.connected.set()
                    stop_wait = asyncio.create_task(self._stopping.wait())
                    try:
                        async for event in _until(events, stop_wait):
                            try:
                                await self._on_event(event)
                            except Exception:
                                log.exception("handler failed on %s", event.type)
                    finally:
                        stop_wait.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("ARI connection failed: %s", exc)
            if self.connected.is_set():
                self.connected.clear()
                try:
                    await self._on_disconnected()
                except Exception:
                    log.exception("disconnect hook failed")
            if self._stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(self._max, backoff * 2)


async def _until(events: AsyncIterator[Event], stop: asyncio.Task[bool]) -> AsyncIterator[Event]:
    """Iterate ``events`` until it ends or ``stop`` completes."""
    iterator = aiter(events)
    while True:
        nxt = asyncio.ensure_future(iterator.__anext__())
        done, _ = await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
        if nxt not in done:
            nxt.cancel()
            return
        try:
            yield nxt.result()
        except StopAsyncIteration:
            return

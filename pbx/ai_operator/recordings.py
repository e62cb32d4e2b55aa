"""Attach the whole call's recording to the call's tickets once the caller's channel is gone.

The MixMonitor file covers the whole call, the operator part of a handed-over call included, and is
complete only when the caller's channel is destroyed. A call leaves the app (StasisEnd) either at its
end or at the handoff to the queue, so the attacher polls ARI for the caller's channel until it is
gone (that works without AMI and whichever way the call ended), waits for the file to stop growing,
copies it into the attachment store and attaches it (or notes it in the journal entry when the
ticket is still waiting for the database).

Every ticket filed during a call is noted in :class:`.pending.PendingRecordings` at once (``filed``)
and marked done when its recording is attached; :meth:`RecordingAttacher.resume` (at app start)
finishes what a stopped or killed app left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from pbx.ai_operator.pending import PendingRecording, PendingRecordings

log = logging.getLogger(__name__)

ChannelAlive = Callable[[str], Awaitable[bool]]
Attach = Callable[[str, Path], None]  # (ticket code or journal id, host path) -> None; blocking


class RecordingAttacher:
    def __init__(
        self,
        channel_alive: ChannelAlive,
        to_host: Callable[[str], Path],
        attach: Attach,
        poll_s: float = 0.5,
        settle_s: float = 0.5,
        max_call_s: float = 6 * 3600,
        retry_s: float = 30.0,
        attempts: int = 20,
        store: PendingRecordings | None = None,
    ) -> None:
        self._alive = channel_alive
        self._to_host = to_host
        self._attach = attach
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.max_call_s = max_call_s
        self.retry_s = retry_s
        self.attempts = attempts
        self.store = store
        self._tasks: set[asyncio.Task[None]] = set()
        self.attached: list[tuple[str, Path]] = []

    def filed(self, channel_id: str, recording: str, code: str) -> None:
        """Blocking (any thread): a ticket of a live call was filed; persist its pending attachment."""
        if self.store is not None and recording and code:
            self.store.add(PendingRecording(channel_id, recording, code))

    def call_ended(self, channel_id: str, recording: str, codes: list[str]) -> None:
        if not codes:
            return
        if not recording:
            log.error("call %s has no recording to attach to %s", channel_id, ", ".join(codes))
            return
        self._start(channel_id, recording, list(dict.fromkeys(codes)))

    def _start(self, channel_id: str, recording: str, codes: list[str]) -> None:
        task = asyncio.create_task(self._run(channel_id, recording, codes))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume(self) -> int:
        """Finish the attachments a previous run of the app left pending; returns how many."""
        if self.store is None:
            return 0
        items = await asyncio.to_thread(self.store.pending)
        calls: dict[tuple[str, str], list[str]] = {}
        for item in items:
            calls.setdefault((item.channel_id, item.recording), []).append(item.code)
        for (channel_id, recording), codes in calls.items():
            log.warning("resuming the recording attachment of call %s to %s", channel_id, ", ".join(codes))
            self._start(channel_id, recording, codes)
        return len(items)

    async def _mark(self, channel_id: str, recording: str, code: str, outcome: str) -> None:
        if self.store is not None:
            item = PendingRecording(channel_id, recording, code)
            await asyncio.to_thread(self.store.done, item, outcome)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _run(self, channel_id: str, recording: str, codes: list[str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_call_s
        while loop.time() < deadline and await self._alive(channel_id):
            await asyncio.sleep(self.poll_s)
        path = self._to_host(recording)
        if not await self._settled(path):
            log.error("recording %s of call %s never appeared; tickets %s", path, channel_id, codes)
            for code in codes:
                await self._mark(channel_id, recording, code, "missing")
            return
        for code in codes:
            for attempt in range(1, self.attempts + 1):
                try:
                    await asyncio.to_thread(self._attach, code, path)
                    self.attached.append((code, path))
                    log.info("recording of call %s attached to %s", channel_id, code)
                    await self._mark(channel_id, recording, code, "attached")
                    break
                except Exception as exc:
                    log.error(
                        "attaching recording %s to %s failed (attempt %d): %s", path, code, attempt, exc
                    )
                    await asyncio.sleep(self.retry_s)

    async def _settled(self, path: Path, timeout_s: float = 30.0) -> bool:
        """Wait until the file exists and its size holds for ``settle_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        last = -1
        while loop.time() < deadline:
            size = path.stat().st_size if path.is_file() else -1
            if size > 44 and size == last:
                return True
            last = size
            await asyncio.sleep(self.settle_s)
        return path.is_file()

    async def close(self, timeout_s: float = 10.0) -> None:
        """Let attachments in progress finish (bounded), then cancel the rest."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout_s)
        for task in list(self._tasks):
            task.cancel()

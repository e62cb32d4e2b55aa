"""The media session of one call: inbound audio/DTMF to a consumer, outbound audio paced at real time.

Outbound audio is cut into 20 ms frames of 8 kHz signed-linear (320 bytes) and written on an absolute
schedule (start + n x 20 ms), so it neither drifts nor bursts. Between the source (a prompt file or a
TTS stream) and the socket sits a small queue of a few frames; :meth:`MediaSession.cut` (barge-in)
drops the queue and stops the source, so no frame of the cut audio is written after the cut and at most
``QUEUE_FRAMES`` frames (60 ms) were ever ahead of the caller's ear.

With ``idle_silence`` (the live-call controller turns it on) a session with nothing to play writes a
silence frame on every tick instead, so Asterisk always has the next AudioSocket frame within 20 ms:
its AudioSocket channel reads the socket with the channel locked, and a peer that goes quiet leaves
that lock held; a caller's hangup, which must lock both bridged channels, then waits for ever and
takes the PBX down with it (see docs/decisions/044-audiosocket-idle-silence.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from pbx.audiosocket.codec import HEADER_SIZE, Audio, Dtmf, ErrorFrame, FrameError, Hangup, Kind

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2  # 320 bytes of slin16
FRAME_S = FRAME_MS / 1000
QUEUE_FRAMES = 3
_FRAME_HEADER = bytes((Kind.AUDIO,)) + FRAME_BYTES.to_bytes(2, "big")
assert len(_FRAME_HEADER) == HEADER_SIZE
_SILENCE_FRAME = _FRAME_HEADER + bytes(FRAME_BYTES)


class MediaTransport(Protocol):
    """What the session needs from an AudioSocket connection (a fake in unit tests)."""

    async def read(self) -> Audio | Dtmf | Hangup | ErrorFrame | object | None: ...

    def write_raw(self, frame: bytes) -> None: ...

    async def drain(self) -> None: ...

    async def close(self) -> None: ...


class MediaConsumer(Protocol):
    """Receives the caller's side of the call."""

    async def on_audio(self, pcm: bytes) -> None: ...

    async def on_dtmf(self, digit: str) -> None: ...

    async def on_hangup(self) -> None: ...


def frames_of(pcm: bytes) -> list[bytes]:
    """Split slin16 audio into 20 ms frames, padding the last one with silence."""
    out = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    if out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + bytes(FRAME_BYTES - len(out[-1]))
    return out


async def _frames_from_stream(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    rest = b""
    async for chunk in chunks:
        rest += chunk
        while len(rest) >= FRAME_BYTES:
            yield rest[:FRAME_BYTES]
            rest = rest[FRAME_BYTES:]
    if rest:
        yield rest + bytes(FRAME_BYTES - len(rest))


async def _frames_from_bytes(pcm: bytes) -> AsyncIterator[bytes]:
    for frame in frames_of(pcm):
        yield frame


@dataclass
class MediaStats:
    """Counters for benchmarks and tests; all times are loop-clock seconds."""

    frames_in: int = 0
    dtmf_in: int = 0
    frames_out: int = 0  # frames of played audio
    silence_out: int = 0  # idle silence frames (``idle_silence``)
    frames_cut: int = 0
    max_frames_per_cut: int = 0  # queued frames one barge-in dropped; <= QUEUE_FRAMES by design
    max_inbound_backlog: int = 0
    lateness_s: list[float] = field(default_factory=list)  # actual write time - scheduled time


class Playback:
    """One queued piece of outbound audio; await :meth:`wait` to learn whether it played to the end."""

    def __init__(self, frames: AsyncIterator[bytes]) -> None:
        self.frames = frames
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def wait(self) -> bool:
        return await asyncio.shield(self.done)

    def finish(self, completed: bool) -> None:
        if not self.done.done():
            self.done.set_result(completed)


class MediaSession:
    """Owns one AudioSocket connection for the life of a call."""

    def __init__(
        self,
        transport: MediaTransport,
        consumer: MediaConsumer,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        keep_lateness: bool = True,
        frame_clock: FrameClock | None = None,
        idle_silence: bool = False,
    ) -> None:
        if idle_silence and frame_clock is None:
            raise ValueError("idle_silence needs a shared frame clock")
        self._transport = transport
        self._idle_silence = idle_silence
        self._frame_clock = frame_clock
        self._consumer = consumer
        loop = asyncio.get_running_loop()
        self._clock = clock or loop.time
        self._sleep = sleep or asyncio.sleep
        self._keep_lateness = keep_lateness
        self.stats = MediaStats()
        self._inbound: asyncio.Queue[Audio | Dtmf | None] = asyncio.Queue()
        self._playbacks: asyncio.Queue[Playback] = asyncio.Queue()
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self._current: Playback | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.ended = asyncio.Event()
        self._hangup_sent = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="media-read"),
            asyncio.create_task(self._deliver_loop(), name="media-deliver"),
            asyncio.create_task(self._source_loop(), name="media-source"),
        ]
        if self._frame_clock is None:
            self._tasks.append(asyncio.create_task(self._pace_loop(), name="media-pace"))
        else:
            self._frame_clock.attach(self)

    # ---- outbound -----------------------------------------------------------------------------
    def play(self, pcm: bytes) -> Playback:
        """Queue slin16 8 kHz audio after whatever is already queued."""
        return self.play_stream(_frames_from_bytes(pcm), framed=True)

    def play_stream(self, chunks: AsyncIterable[bytes], framed: bool = False) -> Playback:
        """Queue a stream of slin16 chunks (e.g. TTS output) of any size."""
        frames = aiter(chunks) if framed else _frames_from_stream(chunks)
        playback = Playback(frames)
        self._playbacks.put_nowait(playback)
        return playback

    def cut(self) -> int:
        """Barge-in: stop all queued and playing audio now. Returns the number of frames dropped."""
        while not self._playbacks.empty():
            self._playbacks.get_nowait().finish(False)
        if self._current is not None:
            self._current.finish(False)
        return self._drop_frames()

    def _drop_frames(self) -> int:
        dropped = 0
        while not self._frames.empty():
            if self._frames.get_nowait() is not None:
                dropped += 1
            self._frames.task_done()
        self.stats.frames_cut += dropped
        self.stats.max_frames_per_cut = max(self.stats.max_frames_per_cut, dropped)
        return dropped

    @property
    def playing(self) -> bool:
        return self._current is not None and not self._current.done.done()

    async def _source_loop(self) -> None:
        while True:
            playback = await self._playbacks.get()
            if playback.done.done():
                continue
            self._current = playback
            async for frame in playback.frames:
                if playback.done.done():
                    break
                await self._frames.put(frame)
                if playback.done.done():
                    # cut() ran while we were blocked on a full queue: drop what we just queued
                    self._drop_frames()
                    break
            if not playback.done.done():
                # Wait for the paced writer to send the tail before calling it complete.
                await self._frames.put(None)
                await self._frames.join()
                playback.finish(True)
            self._current = None

    async def _pace_loop(self) -> None:
        next_at: float | None = None
        while True:
            frame = await self._frames.get()
            try:
                if frame is None:
                    continue
                now = self._clock()
                if next_at is None or now > next_at + FRAME_S:
                    next_at = now  # (re)start the schedule after a gap in the audio
                delay = next_at - now
                if delay > 0:
                    await self._sleep(delay)
                if self._keep_lateness:
                    self.stats.lateness_s.append(self._clock() - next_at)
                self._transport.write_raw(_FRAME_HEADER + frame)
                self.stats.frames_out += 1
                await self._transport.drain()
                next_at += FRAME_S
            finally:
                self._frames.task_done()

    def tick(self, scheduled: float) -> None:
        """Shared-clock mode: write at most one queued frame for the tick scheduled at ``scheduled``
        (with ``idle_silence``, a silence frame when nothing is queued)."""
        while not self._frames.empty():
            frame = self._frames.get_nowait()
            self._frames.task_done()
            if frame is None:
                continue  # end-of-playback marker: the next playback's frames may follow
            if self._keep_lateness:
                self.stats.lateness_s.append(self._clock() - scheduled)
            self._transport.write_raw(_FRAME_HEADER + frame)
            self.stats.frames_out += 1
            return
        if self._idle_silence and not self.ended.is_set():
            self._transport.write_raw(_SILENCE_FRAME)
            self.stats.silence_out += 1

    # ---- inbound ------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    msg = await self._transport.read()
                except FrameError as exc:
                    log.warning("bad AudioSocket frame, ending media: %s", exc)
                    break
                except (ConnectionError, OSError):
                    break
                if msg is None or isinstance(msg, Hangup):
                    break
                if isinstance(msg, Audio | Dtmf):
                    self._inbound.put_nowait(msg)
                    backlog = self._inbound.qsize()
                    if backlog > self.stats.max_inbound_backlog:
                        self.stats.max_inbound_backlog = backlog
                elif isinstance(msg, ErrorFrame):
                    log.warning("AudioSocket error frame from Asterisk: %r", msg.code)
        finally:
            self._inbound.put_nowait(None)

    async def _deliver_loop(self) -> None:
        while True:
            msg = await self._inbound.get()
            if msg is None:
                break
            try:
                if isinstance(msg, Audio):
                    self.stats.frames_in += 1
                    await self._consumer.on_audio(msg.pcm)
                else:
                    self.stats.dtmf_in += 1
                    await self._consumer.on_dtmf(msg.digit)
            except Exception:
                log.exception("media consumer failed")
        await self._end()

    async def _end(self) -> None:
        if self._hangup_sent:
            return
        self._hangup_sent = True
        self.ended.set()
        try:
            await self._consumer.on_hangup()
        except Exception:
            log.exception("media consumer failed on hangup")

    async def close(self) -> None:
        """Stop everything and close the connection (idempotent)."""
        if self._frame_clock is not None:
            self._frame_clock.detach(self)
        self.cut()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for task in self._tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._transport.close()
        self.ended.set()


class FrameClock:
    """One 20 ms tick for every media session of the process.

    With a hundred calls, a timer per session means thousands of wake-ups a second, each one late by
    however long the others took; one shared tick writes every session's next frame in one pass, so
    the event loop wakes 50 times a second whatever the number of calls.
    """

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._sessions: dict[MediaSession, None] = {}  # insertion-ordered set
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    def attach(self, session: MediaSession) -> None:
        self._sessions[session] = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="media-clock")

    def detach(self, session: MediaSession) -> None:
        self._sessions.pop(session, None)

    async def _run(self) -> None:
        clock = self._clock or asyncio.get_running_loop().time
        next_at = clock()
        while self._sessions:
            delay = next_at - clock()
            if delay > 0:
                await self._sleep(delay)
            if clock() - next_at > 5 * FRAME_S:
                next_at = clock()  # the loop was blocked for a while: restart the schedule
            for session in list(self._sessions):
                session.tick(next_at)
            self.ticks += 1
            next_at += FRAME_S

    async def close(self) -> None:
        self._sessions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

"""Media session: inbound delivery, paced outbound frames and barge-in, counted in frames.

Pacing uses an injected virtual clock, so the assertions are about the schedule the session keeps, not
about how fast this machine happens to be. A second test runs over a real TCP AudioSocket connection.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from pbx.audiosocket.codec import Audio, Dtmf, FrameDecoder, Hangup, Message, Uuid, encode
from pbx.audiosocket.server import AudioSocketServer
from pbx.media import FRAME_BYTES, FRAME_S, QUEUE_FRAMES, FrameClock, MediaSession, frames_of


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await asyncio.sleep(0)


class FakeTransport:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.incoming: asyncio.Queue[Message | None] = asyncio.Queue()
        self.written: list[tuple[float, bytes]] = []
        self.closed = False

    async def read(self) -> Message | None:
        return await self.incoming.get()

    def write_raw(self, frame: bytes) -> None:
        self.written.append((self.clock.now, frame))

    async def drain(self) -> None:
        await asyncio.sleep(0)

    async def close(self) -> None:
        self.closed = True


class Recorder:
    def __init__(self) -> None:
        self.audio: list[bytes] = []
        self.digits: list[str] = []
        self.hangups = 0

    async def on_audio(self, pcm: bytes) -> None:
        self.audio.append(pcm)

    async def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    async def on_hangup(self) -> None:
        self.hangups += 1


def tone(frames: int, value: int = 1000) -> bytes:
    return value.to_bytes(2, "little", signed=True) * (FRAME_BYTES // 2) * frames


def test_frames_of_pads_the_last_frame() -> None:
    frames = frames_of(b"\x01\x00" * 200)
    assert [len(f) for f in frames] == [FRAME_BYTES, FRAME_BYTES]
    assert frames[1].endswith(b"\x00" * 80)


async def test_outbound_frames_are_paced_every_20ms() -> None:
    clock = VirtualClock()
    transport = FakeTransport(clock)
    session = MediaSession(transport, Recorder(), clock=clock.time, sleep=clock.sleep)
    session.start()
    assert await session.play(tone(50)).wait() is True
    times = [t for t, _ in transport.written]
    assert len(times) == 50
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(abs(g - FRAME_S) < 1e-9 for g in gaps)
    assert all(f[0] == 0x10 and len(f) == 3 + FRAME_BYTES for _, f in transport.written)
    assert max(session.stats.lateness_s) < 1e-9
    await session.close()


async def test_barge_in_cuts_within_five_frames() -> None:
    clock = VirtualClock()
    transport = FakeTransport(clock)
    session = MediaSession(transport, Recorder(), clock=clock.time, sleep=clock.sleep)
    session.start()
    first = session.play(tone(250, 1000))
    queued = session.play(tone(100, 2000))
    while len(transport.written) < 40:
        await asyncio.sleep(0)
    sent_at_cut = len(transport.written)
    dropped = session.cut()
    assert dropped <= QUEUE_FRAMES
    assert await first.wait() is False
    assert await queued.wait() is False
    for _ in range(200):
        await asyncio.sleep(0)
    after_cut = len(transport.written) - sent_at_cut
    # 100 ms is five frames; the session writes none of the cut audio after the cut.
    assert after_cut <= 5
    assert after_cut == 0
    # a new prompt after the barge-in plays normally
    assert await session.play(tone(3, 3000)).wait() is True
    assert len(transport.written) == sent_at_cut + 3
    await session.close()


async def test_stream_playback_reframes_odd_chunks() -> None:
    clock = VirtualClock()
    transport = FakeTransport(clock)
    session = MediaSession(transport, Recorder(), clock=clock.time, sleep=clock.sleep)
    session.start()

    async def tts() -> object:
        for _ in range(7):
            yield b"\x01\x00" * 100  # 200 bytes: not a whole frame

    assert await session.play_stream(tts()).wait() is True  # type: ignore[arg-type]
    assert len(transport.written) == 5  # 1400 bytes -> 4 full frames + 1 padded
    await session.close()


async def test_inbound_audio_dtmf_and_hangup_reach_the_consumer() -> None:
    clock = VirtualClock()
    transport = FakeTransport(clock)
    rec = Recorder()
    session = MediaSession(transport, rec, clock=clock.time, sleep=clock.sleep)
    session.start()
    for i in range(10):
        transport.incoming.put_nowait(Audio(bytes([i]) * FRAME_BYTES))
    transport.incoming.put_nowait(Dtmf("#"))
    transport.incoming.put_nowait(Hangup())
    await asyncio.wait_for(session.ended.wait(), 2)
    assert [a[0] for a in rec.audio] == list(range(10))
    assert rec.digits == ["#"]
    assert rec.hangups == 1
    assert session.stats.max_inbound_backlog >= 1
    await session.close()
    assert transport.closed


async def test_over_real_tcp_socket() -> None:
    server = AudioSocketServer("127.0.0.1", 0)
    await server.start()
    call = uuid.uuid4()
    fut = server.expect(call)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(encode(Uuid(call)))
    conn = await asyncio.wait_for(fut, 2)
    rec = Recorder()
    session = MediaSession(conn, rec)
    session.start()
    writer.write(b"".join(encode(Audio(tone(1))) for _ in range(25)) + encode(Dtmf("1")))
    playback = session.play(tone(5))
    decoder = FrameDecoder()
    got: list[Message] = []
    while len(got) < 5:
        got.extend(decoder.feed(await asyncio.wait_for(reader.read(4096), 2)))
    assert all(isinstance(m, Audio) and len(m.pcm) == FRAME_BYTES for m in got)
    assert await asyncio.wait_for(playback.wait(), 2) is True
    writer.write(encode(Hangup()))
    await asyncio.wait_for(session.ended.wait(), 2)
    assert len(rec.audio) == 25 and rec.digits == ["1"]
    await session.close()
    writer.close()
    await server.close()


async def test_shared_frame_clock_paces_several_sessions_and_still_cuts() -> None:
    clock = VirtualClock()
    shared = FrameClock(clock=clock.time, sleep=clock.sleep)
    transports = [FakeTransport(clock) for _ in range(3)]
    sessions = [
        MediaSession(t, Recorder(), clock=clock.time, sleep=clock.sleep, frame_clock=shared)
        for t in transports
    ]
    for session in sessions:
        session.start()
    long_play = sessions[0].play(tone(200))
    done = [s.play(tone(30)).wait() for s in sessions[1:]]
    assert await asyncio.gather(*done) == [True, True]
    for t in transports[1:]:
        times = [w for w, _ in t.written]
        assert len(times) == 30
        assert all(abs(b - a - FRAME_S) < 1e-9 for a, b in itertools.pairwise(times))
    sent_at_cut = len(transports[0].written)
    assert sessions[0].cut() <= QUEUE_FRAMES
    assert await long_play.wait() is False
    for _ in range(100):
        await asyncio.sleep(0)
    assert len(transports[0].written) == sent_at_cut  # nothing of the cut prompt after the cut
    assert max(sessions[1].stats.lateness_s) < 1e-9
    for session in sessions:
        await session.close()
    await shared.close()


async def test_idle_silence_keeps_a_frame_on_every_tick_until_the_far_end_hangs_up() -> None:
    clock = VirtualClock()
    shared = FrameClock(clock=clock.time, sleep=clock.sleep)
    transport = FakeTransport(clock)
    session = MediaSession(
        transport, Recorder(), clock=clock.time, sleep=clock.sleep, frame_clock=shared, idle_silence=True
    )
    session.start()
    while len(transport.written) < 10:  # nothing to play: silence, one frame per 20 ms tick
        await asyncio.sleep(0)
    times = [t for t, _ in transport.written]
    assert all(abs(b - a - FRAME_S) < 1e-9 for a, b in itertools.pairwise(times))
    assert all(f == transport.written[0][1] and f[3:] == bytes(FRAME_BYTES) for _, f in transport.written)
    assert transport.written[0][1][:3] == bytes((0x10,)) + FRAME_BYTES.to_bytes(2, "big")
    before = len(transport.written)
    assert await session.play(tone(5)).wait() is True
    played = [f for _, f in transport.written[before:] if f[3:] != bytes(FRAME_BYTES)]
    assert played == [b"\x10" + FRAME_BYTES.to_bytes(2, "big") + f for f in frames_of(tone(5))]
    assert session.stats.frames_out == 5 and session.stats.silence_out >= 10
    transport.incoming.put_nowait(None)  # the far end closed the socket: no more writes
    await asyncio.wait_for(session.ended.wait(), 1)
    after_end = len(transport.written)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(transport.written) == after_end
    await session.close()
    await shared.close()


async def test_idle_silence_needs_the_shared_clock() -> None:
    with pytest.raises(ValueError, match="frame clock"):
        MediaSession(FakeTransport(VirtualClock()), Recorder(), idle_silence=True)

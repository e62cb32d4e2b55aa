"""Pending recording attachments: persisted when a ticket is filed, marked done when attached, and
resumed by a new attacher (a restarted app). Real files; the channel check is a plain function."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from pbx.ai_operator.pending import PendingRecording, PendingRecordings, pending_path
from pbx.ai_operator.recordings import RecordingAttacher


def _wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * int(8000 * seconds))
    return path


def test_store_keeps_pending_until_done(tmp_path: Path) -> None:
    store = PendingRecordings(pending_path(tmp_path))
    a = PendingRecording("ch1", "/rec/a.wav", "000000018")
    b = PendingRecording("ch1", "/rec/a.wav", "J-0123456789ab")
    store.add(a)
    store.add(b)
    assert store.pending() == [a, b]
    store.done(a)
    assert store.pending() == [b]
    assert pending_path(tmp_path).stat().st_mode & 0o077 == 0  # personal data: owner only
    with pending_path(tmp_path).open("a") as fh:
        fh.write('{"op": "pending", "channel_id": "torn\n')
    assert PendingRecordings(pending_path(tmp_path)).pending() == [b]


async def test_a_new_attacher_resumes_what_the_old_one_left(tmp_path: Path) -> None:
    recording = _wav(tmp_path / "call.wav")
    store = PendingRecordings(pending_path(tmp_path))
    alive = {"ch1": True}
    attached: list[tuple[str, Path]] = []

    async def channel_alive(channel_id: str) -> bool:
        return alive.get(channel_id, False)

    def attach(code: str, path: Path) -> None:
        attached.append((code, path))

    first = RecordingAttacher(channel_alive, Path, attach, poll_s=0.01, settle_s=0.01, store=store)
    await asyncio.to_thread(first.filed, "ch1", str(recording), "000000018")
    first.call_ended("ch1", str(recording), ["000000018"])
    await asyncio.sleep(0.05)
    for task in list(first._tasks):  # the app dies: its tasks are gone, the file stays
        task.cancel()
    await asyncio.sleep(0)
    assert not attached and len(store.pending()) == 1
    second = RecordingAttacher(channel_alive, Path, attach, poll_s=0.01, settle_s=0.01, store=store)
    assert await second.resume() == 1
    await asyncio.sleep(0.05)
    assert not attached  # the call is still going on
    alive["ch1"] = False
    await second.close(timeout_s=5)
    assert attached == [("000000018", recording)]
    assert store.pending() == []
    third = RecordingAttacher(channel_alive, Path, attach, store=store)
    assert await third.resume() == 0

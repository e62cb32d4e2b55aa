"""Real calls: SIPp -> Asterisk (PJSIP, MixMonitor, Stasis) -> ARI + AudioSocket -> the app.

Uses the session's real Asterisk from tests/asterisk.py and the app running in this event loop.
The caller's side is one continuous RTP stream (tests/rtp_pcap.py): silence, espeak-ng speech and
RFC 2833 digits.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.settings import Settings
from pbx.ami import AmiMonitor
from pbx.media import FRAME_BYTES
from tests.asterisk import AsteriskInstance, free_port
from tests.live_app import LiveApp, app_settings, place_call, settings_env, wav_rms_windows
from tests.rtp_pcap import RtpStream, speech_alaw
from ticketing.calls import Outcome

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

SIPP_DIR = Path(__file__).parent / "data" / "sipp"


async def start_app_process(settings: Settings) -> asyncio.subprocess.Process:
    """``hotline app run`` as its own process (so that it can be SIGKILLed), stderr piped."""
    env = {**os.environ, **settings_env(settings)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import cli; cli.main()", "app", "run",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def wait_app_ready(proc: asyncio.subprocess.Process) -> None:
    """Until the process logs "ready" (the AI operator may log first: no speech model), then the
    moment the supervisor takes to register the app."""
    assert proc.stderr is not None
    lines: list[bytes] = []
    while not any(b"ready" in x for x in lines):
        lines.append(await asyncio.wait_for(proc.stderr.readline(), 60))
        assert lines[-1], b"".join(lines)
    await asyncio.sleep(1.0)  # the supervisor registers the app right after "ready"


@pytest.fixture
async def live(asterisk: AsteriskInstance, tmp_path: Path) -> AsyncIterator[LiveApp]:
    app = LiveApp(app_settings(asterisk, tmp_path / "app"))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_call_audio_recording_prompt_energy_and_barge_in(
    live: LiveApp, asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    # The caller is silent for 6 s (the greeting plays), then speaks (barge-in), then is silent.
    stream = (
        RtpStream().silence(6.0).audio(speech_alaw("xin chào, tôi muốn phản ánh về rác thải")).silence(3.0)
    )
    rc, out = await place_call(asterisk, tmp_path / "sipp", stream)
    assert rc == 0, out
    await live.wait_for(lambda: live.records() and live.records()[0].ended_at, 15, "the call record")
    handler = live.handlers[-1]
    # audio reached the media session: about 50 frames a second of the caller's stream
    assert handler.audio_frames >= 0.8 * stream.duration_s * 50
    # the caller's speech cut the greeting (barge-in); no more prompt frames went out after it
    assert handler.barge_ins == 1
    call = live.app.controller.finished[-1]  # type: ignore[union-attr]
    assert call.media is not None and call.media.stats.max_frames_per_cut <= 3
    record = live.records()[0]
    assert record.caller == "0912345678" and record.called == "1022"
    # speaking on after the cut is a request the AI cannot serve yet: the operator takes it
    assert handler.reason == "speech" and record.outcome is Outcome.TRANSFERRED
    assert record.answered_at is not None and record.ended_at is not None
    recording = asterisk.host_path(record.recording)
    await live.wait_for(lambda: recording.is_file() and recording.stat().st_size > 44, 10, "the recording")
    windows = wav_rms_windows(recording)
    # while the caller was silent (1-5 s) the recording holds the greeting's energy: the prompt played
    prompt_part = windows[2:10]
    assert sum(w > 300 for w in prompt_part) >= len(prompt_part) // 2, windows
    assert len(windows) >= int(stream.duration_s * 2 * 0.8)


async def test_dtmf_arrives_and_zero_transfers_to_the_queue(
    live: LiveApp, asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    assert live.app.ami is not None
    stream = RtpStream().silence(1.5).digits("12").silence(0.5).digits("0").silence(8.0)
    rc, out = await place_call(asterisk, tmp_path / "sipp", stream)
    assert rc == 0, out
    await live.wait_for(lambda: live.records() and live.records()[0].ended_at, 15, "the call record")
    handler = live.handlers[-1]
    assert handler.digits == ["1", "2", "0"]
    assert handler.reason == "dtmf"
    record = live.records()[0]
    assert record.outcome is Outcome.TRANSFERRED
    join = await live.app.ami.wait_for_event(
        lambda e: e.name == "QueueCallerJoin" and e.fields.get("Uniqueid") == record.channel_id, 10
    )
    assert join.fields["Queue"] == "operators"
    queued = await live.app.ami.wait_for_event(
        lambda e: (
            e.fields.get("UserEvent") == "HotlineQueue" and e.fields.get("Uniqueid") == record.channel_id
        ),
        5,
    )
    assert queued.fields.get("Recording", "").endswith(".wav")


async def test_app_stopped_mid_call_sends_caller_to_the_queue(
    asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    live = LiveApp(app_settings(asterisk, tmp_path / "app"))
    await live.start()
    ami = live.app.ami
    assert ami is not None
    stream = RtpStream().silence(12.0)
    call = asyncio.create_task(place_call(asterisk, tmp_path / "sipp", stream))
    await live.wait_for(lambda: live.handlers and live.handlers[-1].audio_frames > 50, 20, "media")
    channel_id = next(iter(live.app.controller.calls))  # type: ignore[union-attr]
    ami.events.clear()
    # keep the AMI monitor alive past the app's stop to watch where the caller goes
    live.app.ami = None
    await live.stop()
    join = await ami.wait_for_event(
        lambda e: e.name == "QueueCallerJoin" and e.fields.get("Uniqueid") == channel_id, 10
    )
    assert join.fields["Queue"] == "operators"
    rc, out = await call
    assert rc == 0, out
    ami.close()
    assert live.records()[0].outcome is Outcome.TRANSFERRED


async def test_asterisk_restart_then_next_call_works(asterisk_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    own = asterisk_factory("rs")
    live = LiveApp(app_settings(own, tmp_path / "app"))
    await live.start()
    try:
        assert live.app.supervisor is not None
        # a real restart of the Asterisk process (it re-executes itself; every channel and the app
        # registration are gone)
        await asyncio.to_thread(own.cli, "core restart now")
        await live.wait_for(lambda: not live.app.supervisor.connected.is_set(), 15, "disconnect")  # type: ignore[union-attr]
        await live.wait_for(lambda: live.app.supervisor.connections >= 2, 30, "re-registration")  # type: ignore[union-attr]
        rc, out = await place_call(own, tmp_path / "sipp", RtpStream().silence(3.0))
        assert rc == 0, out
        await live.wait_for(lambda: live.records() and live.records()[0].ended_at, 15, "the call record")
        assert live.handlers and live.handlers[-1].audio_frames > 100
        assert live.records()[0].outcome is Outcome.ABANDONED
    finally:
        await live.stop()


async def test_garbage_on_the_live_audiosocket_port(
    live: LiveApp, asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    port = live.app.media_server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x10\x01\x40" + bytes(FRAME_BYTES))  # audio before any UUID
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert live.app.media_server.rejected == 1
    rc, out = await place_call(asterisk, tmp_path / "sipp", RtpStream().silence(2.0))
    assert rc == 0, out
    await live.wait_for(
        lambda: live.handlers and live.handlers[-1].audio_frames > 50, 15, "media after garbage"
    )


async def test_transfer_is_answered_by_a_registered_operator(
    live: LiveApp, asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """A second SIPp registers as the operator (from 127.0.0.2: the dev trunk owns 127.0.0.1) and
    answers the queue call the app hands over."""
    ami = live.app.ami
    assert ami is not None
    name, password = next(iter(asterisk.operators.items()))
    phone_port = free_port(socket.SOCK_DGRAM, "127.0.0.2")
    workdir = tmp_path / "operator"
    workdir.mkdir()
    register = [
        "sipp", "-sf", str(SIPP_DIR / "register.xml"), "-s", name, "-au", name, "-ap", password,
        f"127.0.0.1:{asterisk.sip_port}", "-i", "127.0.0.2", "-p", str(phone_port), "-m", "1",
        "-nostdin", "-timeout", "20", "-timeout_error",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, register, cwd=workdir, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout[-1500:]
    phone = await asyncio.create_subprocess_exec(
        # no -m: the qualify OPTIONS it answers (-aa) would count as calls
        "sipp", "-sn", "uas", "-i", "127.0.0.2", "-p", str(phone_port), "-aa", "-nostdin",
        "-mp", str(free_port(socket.SOCK_DGRAM, "127.0.0.2")), "-timeout", "90", "-timeout_error",
        "-trace_msg", "-trace_err",
        cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = asyncio.get_running_loop().time() + 40
        while await ami.operators_logged_in("operators") < 1:
            assert asyncio.get_running_loop().time() < deadline, "the operator never became available"
            await asyncio.sleep(0.5)
        stream = RtpStream().silence(1.0).digits("0").silence(10.0)
        rc, out = await place_call(asterisk, tmp_path / "sipp", stream)
        assert rc == 0, out
        record = live.records()[0]
        assert record.outcome is Outcome.TRANSFERRED
        connect = await ami.wait_for_event(
            lambda e: e.name == "AgentConnect" and e.fields.get("Uniqueid") == record.channel_id, 10
        )
        assert connect.fields.get("Interface") == f"PJSIP/{name}"
        assert connect.fields.get("Queue") == "operators"
    finally:
        if phone.returncode is None:
            phone.terminate()
            await phone.wait()


async def test_app_killed_mid_call_restarted_app_sends_caller_to_the_queue(
    asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """SIGKILL (no clean handoff): the caller stays in Stasis until the restarted app (``hotline up``
    restarts crashed services) finds the orphan at registration and sends it to the operators."""
    settings = app_settings(asterisk, tmp_path / "app")
    proc = await start_app_process(settings)
    user, secret = asterisk.ami_auth
    ami = AmiMonitor("127.0.0.1", asterisk.ami_port, user, secret)
    await ami.connect()
    call = None
    try:
        await wait_app_ready(proc)
        call = asyncio.create_task(place_call(asterisk, tmp_path / "sipp", RtpStream().silence(14.0)))
        probe = LiveApp(settings)
        await probe.wait_for(lambda: bool(probe.records()), 20, "the call record of the first app")
        channel_id = probe.records()[0].channel_id
        await asyncio.sleep(1.0)
        proc.kill()
        await proc.wait()
        await asyncio.sleep(1.0)
        assert not any(e.name == "QueueCallerJoin" for e in ami.events)  # nobody moved the caller yet
        restarted = LiveApp(settings)
        restarted.app.reconcile_every_s = 0.5
        await restarted.start()
        try:
            join = await ami.wait_for_event(
                lambda e: e.name == "QueueCallerJoin" and e.fields.get("Uniqueid") == channel_id, 10
            )
            assert join.fields["Queue"] == "operators"
            handed = next(r for r in restarted.records() if r.channel_id == channel_id)
            assert handed.outcome is Outcome.TRANSFERRED and handed.ended_at is None  # still queued
            rc, out = await call
            assert rc == 0, out
            # the call ended in the queue, out of the app's sight: its record is closed all the same
            await restarted.wait_for(
                lambda: restarted.records()[0].ended_at is not None, 10, "the record to be closed"
            )
            record = restarted.records()[0]
            assert record.channel_id == channel_id and record.outcome is Outcome.TRANSFERRED
            assert record.duration_s is not None and 10.0 <= record.duration_s <= 25.0
        finally:
            await restarted.stop()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if call is not None and not call.done():
            call.cancel()
        ami.close()


async def test_caller_hangs_up_while_the_app_is_dead_record_closed_at_the_recordings_end(
    asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """The app is SIGKILLed mid-call and the caller hangs up before it is back: the restarted app
    closes the record as failed, at the time the recording stopped (not at the restart)."""
    settings = app_settings(asterisk, tmp_path / "app")
    proc = await start_app_process(settings)
    try:
        await wait_app_ready(proc)
        call = asyncio.create_task(place_call(asterisk, tmp_path / "sipp", RtpStream().silence(5.0)))
        probe = LiveApp(settings)
        await probe.wait_for(lambda: bool(probe.records()), 20, "the call record of the first app")
        proc.kill()
        await proc.wait()
        rc, out = await call  # the caller gives up while nobody drives the call
        assert rc == 0, out
        (stale,) = probe.records()
        assert stale.ended_at is None and stale.outcome is None
        await asyncio.sleep(3.0)  # the restart comes well after the hang-up
        restarted = LiveApp(settings)
        await restarted.start()
        try:
            await restarted.wait_for(
                lambda: restarted.records()[0].ended_at is not None, 10, "the record to be closed"
            )
        finally:
            await restarted.stop()
        record = restarted.records()[0]
        assert record.channel_id == stale.channel_id and record.outcome is Outcome.FAILED
        recording = asterisk.host_path(record.recording)
        assert recording.is_file()
        assert record.ended_at is not None
        assert abs(record.ended_at.timestamp() - recording.stat().st_mtime) < 0.01
        assert record.duration_s is not None and 3.0 <= record.duration_s <= 9.0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

"""The scripted SIP caller (tests/sipcaller.py): its pcap parsed back, then real calls.

Real calls: SIPp -> the session's real Asterisk (PJSIP, MixMonitor, Stasis) -> the real app
(ARI + AudioSocket) with a handler that only listens, so what reached the app is exactly what the
caller's script sent. The operator phone registers to the same Asterisk and answers the queue.
"""

from __future__ import annotations

import asyncio
import itertools
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.asterisk import AsteriskInstance
from tests.live_app import wav_rms_windows
from tests.sipcaller import (
    PT_EVENT,
    PT_PCMA,
    CallerScript,
    ListeningApp,
    OperatorPhone,
    dtmf_events,
    parse_message_log,
    place_call_async,
    read_pcap,
    render_caller,
    running,
)
from ticketing.calls import CallRecord, Outcome

NUMBER = "0912345678#"


def speech_and_digits() -> CallerScript:
    return (
        CallerScript()
        .silence(1.0)
        .say("tôi muốn phản ánh về rác thải")
        .silence(1.0)
        .dtmf(NUMBER)
        .pause(0.5)
        .silence(0.5)
    )


# ---- the pcap ----------------------------------------------------------------------------------


def test_stream_is_continuous_and_monotonic(tmp_path: Path) -> None:
    script = speech_and_digits()
    packets = read_pcap(script.write_pcap(tmp_path / "c.pcap"))
    assert {p.payload_type for p in packets} == {PT_PCMA, PT_EVENT}
    assert len({p.ssrc for p in packets}) == 1
    for a, b in itertools.pairwise(packets):
        assert b.seq == (a.seq + 1) & 0xFFFF  # one sequence space, no gap, no restart
        assert b.timestamp >= a.timestamp
        assert b.time_us >= a.time_us
    audio = [p for p in packets if p.payload_type == PT_PCMA]
    assert all(len(p.payload) == 160 for p in audio)
    # audio frames advance the RTP clock exactly as the wall clock of the capture (8 samples / ms)
    first = audio[0]
    for p in audio:
        assert p.timestamp - first.timestamp == (p.time_us - first.time_us) * 8 // 1000
    assert max(p.time_us for p in packets) / 1e6 == pytest.approx(script.duration_s, abs=0.03)


def test_dtmf_events_are_rfc2833_and_in_order(tmp_path: Path) -> None:
    script = CallerScript().silence(0.2).dtmf("12*#", duration_ms=100, gap_ms=200).silence(0.2)
    packets = read_pcap(script.write_pcap(tmp_path / "d.pcap"))
    events = dtmf_events(packets)
    assert [e.digit for e in events] == ["1", "2", "*", "#"]
    for e in events:
        assert e.marker_first and e.packets == 5 + 3 and e.end_packets == 3
        assert e.duration == 100 * 8
    starts = [e.timestamp for e in events]
    # each event starts after the previous event and its 200 ms gap
    assert [b - a for a, b in itertools.pairwise(starts)] == [(100 + 200) * 8] * 3
    marked = [p for p in packets if p.marker]
    assert len(marked) == 4 and all(p.payload_type == PT_EVENT for p in marked)


def test_pause_is_a_gap_with_the_clock_running(tmp_path: Path) -> None:
    script = CallerScript().silence(0.1).pause(1.0).silence(0.1)
    packets = read_pcap(script.write_pcap(tmp_path / "p.pcap"))
    assert len(packets) == 10
    gap = packets[5]
    assert gap.time_us - packets[4].time_us == 1_020_000
    assert gap.timestamp - packets[4].timestamp == 8160


def test_transcripts_and_timeline() -> None:
    script = (
        CallerScript(caller="0987654321")
        .silence(0.5)
        .say("mã hồ sơ của tôi", transcript="mã hồ sơ của tôi")
        .dtmf("123")
        .say("cảm ơn")
    )
    assert script.transcripts == ["mã hồ sơ của tôi", "cảm ơn"]
    assert script.keyed == "123"
    first, second = script.utterances
    assert first.start_s == 0.5 and first.end_s > 1.0  # real espeak-ng speech has a length
    assert second.start_s == script.steps[2].end_s and second.end_s == script.duration_s
    with pytest.raises(ValueError):
        CallerScript().dtmf("12a")


@pytest.mark.parametrize("hangup", ["after", "far_end", "early"])
def test_rendered_scenarios_are_complete_xml(tmp_path: Path, hangup: str) -> None:
    script = CallerScript(caller="0911111111").silence(2.0)
    path = render_caller(tmp_path, script, hangup=hangup, hangup_after_s=1.0)  # type: ignore[arg-type]
    text = path.read_text(encoding="iso-8859-1")
    assert "{" not in text and "0911111111" in text
    root = ET.fromstring(text.split("\n", 2)[2])  # past the XML and DOCTYPE lines
    play = root.find("./nop/action/exec")
    assert play is not None and Path(play.attrib["play_pcap_audio"]).is_file()
    invite = root.find("./send").text or ""  # type: ignore[union-attr]
    assert "a=rtpmap:8 PCMA/8000" in invite and "a=rtpmap:101 telephone-event/8000" in invite
    sends_bye = any("BYE sip:" in (s.text or "") for s in root.findall("./send"))
    assert sends_bye is (hangup != "far_end")
    if hangup == "early":
        assert root.find("./pause").attrib["milliseconds"] == "1000"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        render_caller(tmp_path, script, hangup="early", hangup_after_s=5.0)


def test_message_log_parser() -> None:
    log = (
        "----------------------------------------------- 2024-01-01\n"
        "UDP message received [700] bytes :\n\n"
        "INVITE sip:optest@127.0.0.2:5070 SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060\n"
        "X-Hotline-Draft: HN-2024-000123\n"
        "Content-Length: 3\n\nv=0\n\n"
        "----------------------------------------------- 2024-01-01\n"
        "UDP message sent (300 bytes):\n\nSIP/2.0 200 OK\nContent-Length: 0\n\n"
    )
    (invite,) = parse_message_log(log)
    assert invite.first_line.startswith("INVITE ")
    assert invite.headers["x-hotline-draft"] == "HN-2024-000123"
    assert invite.body == "v=0"


# ---- real calls --------------------------------------------------------------------------------


@pytest.fixture
async def listening(asterisk: AsteriskInstance, tmp_path: Path) -> AsyncIterator[ListeningApp]:
    async for app in running(ListeningApp(asterisk, tmp_path / "app")):
        yield app


@pytest.mark.asterisk
@pytest.mark.slow
async def test_speech_and_every_digit_reach_the_app_and_the_recording(
    listening: ListeningApp, asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = speech_and_digits()
    result = await place_call_async(asterisk, tmp_path / "sipp", script)
    assert result.returncode == 0 and result.successful == 1 and result.failed == 0, result.log
    record = await listening.wait_ended()
    handler = listening.handlers[-1]
    assert handler.digits == list(NUMBER)  # every digit, in order, none doubled
    assert record.caller == script.caller and record.outcome is Outcome.ABANDONED
    # the app got (nearly) every audio frame the caller sent: during a DTMF event and a pause the
    # caller sends no audio and the app gets none
    sent = [p for p in read_pcap(tmp_path / "sipp" / "caller.pcap") if p.payload_type == PT_PCMA]
    frames = handler.frame_rms
    assert 0.95 * len(sent) <= len(frames) <= len(sent) + 5
    # the app heard the speech where the script put it, and quiet elsewhere
    (speech,) = script.utterances
    loud = [i for i, rms in enumerate(frames) if rms > 1000]
    assert loud, "no speech energy reached the app"
    assert abs(loud[0] / 50 - speech.start_s) < 0.5
    assert max(frames[: int(speech.start_s * 50) - 10]) < 300
    # the recording holds the speech energy
    recording = asterisk.host_path(record.recording)
    deadline = asyncio.get_running_loop().time() + 10
    while not (recording.is_file() and recording.stat().st_size > 44):
        assert asyncio.get_running_loop().time() < deadline, "no recording"
        await asyncio.sleep(0.1)
    windows = wav_rms_windows(recording, 0.25)
    first_loud = next(i for i, w in enumerate(windows) if w > 1000)
    assert abs(first_loud * 0.25 - speech.start_s) < 0.75, windows
    speech_windows = windows[int(speech.start_s * 4) + 1 : int(speech.end_s * 4)]
    assert sum(w > 1000 for w in speech_windows) >= len(speech_windows) // 2, windows
    assert max(windows[: int(speech.start_s * 4) - 1]) < 300, windows


@pytest.mark.asterisk
@pytest.mark.slow
async def test_far_end_hangup_and_early_hangup(asterisk: AsteriskInstance, tmp_path: Path) -> None:
    async for app in running(ListeningApp(asterisk, tmp_path / "app", hangup_on="#")):
        # the app ends the call on '#': the caller's scenario waits for that BYE and answers it
        script = CallerScript().silence(3.0).dtmf("5#").silence(1.0)  # keys after call setup, even under load
        result = await place_call_async(asterisk, tmp_path / "far", script, hangup="far_end", wait_bye_s=20)
        assert result.returncode == 0 and result.successful == 1, result.log
        record = await app.wait_ended()
        assert app.handlers[-1].digits == ["5", "#"] and record.outcome is Outcome.AI_HANDLED
        # a caller who hangs up 2 s into a 10 s script: the call ends there
        early = CallerScript().silence(10.0)
        result = await place_call_async(
            asterisk, tmp_path / "early", early, hangup="early", hangup_after_s=2.0
        )
        assert result.returncode == 0 and result.successful == 1, result.log
        record = await app.wait_ended()
        assert record.outcome is Outcome.ABANDONED and app.handlers[-1].hung_up
        assert len(app.handlers[-1].frame_rms) < 4 * 50
        # no BYE from the far end in time: SIPp reports a failed call
        silent = CallerScript().silence(1.0)
        result = await place_call_async(asterisk, tmp_path / "nobye", silent, hangup="far_end", wait_bye_s=2)
        assert result.returncode != 0 and result.failed == 1, result.log


@pytest.fixture
def operator_phone(asterisk: AsteriskInstance, tmp_path: Path) -> Iterator[OperatorPhone]:
    phone = OperatorPhone(asterisk, tmp_path / "operator", "optest")
    phone.start()
    try:
        yield phone
    finally:
        phone.stop()


async def call_through_queue(
    asterisk: AsteriskInstance, tmp_path: Path, phone: OperatorPhone, draft_id: str
) -> tuple[CallRecord, str]:
    """A caller keys 0, the app hands the call over with ``draft_id``; the phone answers."""
    async for app in running(ListeningApp(asterisk, tmp_path / "app", transfer_on="0", draft_id=draft_id)):
        script = CallerScript().silence(1.0).dtmf("0").silence(6.0)
        result = await place_call_async(asterisk, tmp_path / "caller", script)
        assert result.returncode == 0 and result.successful == 1, result.log
        assert await asyncio.to_thread(phone.wait, 20) == 0, phone.output()
        return await app.wait_ended(), (
            asterisk.layout.to_host(asterisk.layout.log_dir) / "messages.log"
        ).read_text()
    raise AssertionError("unreachable")


@pytest.mark.asterisk
@pytest.mark.slow
async def test_operator_phone_registers_and_answers_the_queue_call(
    asterisk: AsteriskInstance, tmp_path: Path, operator_phone: OperatorPhone
) -> None:
    record, _ = await call_through_queue(asterisk, tmp_path, operator_phone, "D-1022-7")
    (invite,) = operator_phone.invites()
    assert invite.first_line.startswith("INVITE sip:optest@127.0.0.2:")
    assert invite.headers["from"].startswith('"0912345678"')  # the caller's number, not the PBX
    assert "PCMA/8000" in invite.body
    assert record.outcome is Outcome.TRANSFERRED


@pytest.mark.asterisk
@pytest.mark.slow
async def test_operator_phone_gets_the_draft_header(
    asterisk: AsteriskInstance, tmp_path: Path, operator_phone: OperatorPhone
) -> None:
    _, pbx_log = await call_through_queue(asterisk, tmp_path, operator_phone, "D-1022-8")
    assert "No application 'ExecIf'" not in pbx_log
    (invite,) = operator_phone.invites()
    assert invite.headers.get("x-hotline-draft") == "D-1022-8"

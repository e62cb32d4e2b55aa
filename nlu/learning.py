"""What the AI learned: the log of ``hotline nlu train`` runs and the monthly summary of the learning
loop (turns queued for review by reason, labelled, discarded; training runs with their gate result)
for the report (:class:`ticketing.reports.data.LearningStats`).

The log is a private JSON-lines file beside the review queue (``<data_dir>/nlu/training-runs.jsonl``),
one line per run that trained a model: when, the model, how many labelled turns it learned from, and
per evaluation set the scores before (the model in service) and after (the new model), and whether the
new model was served. Like the queue it belongs to the NLU side, not to the ticket database.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from config.private_files import open_private_text, private_dir
from nlu.dialogue.review import REASONS
from nlu.gate import GateResult
from nlu.review import ReviewQueue
from ticketing.reports.data import LearningStats, SetScores, TrainingRun

LOG_NAME = "training-runs.jsonl"


@dataclass(frozen=True)
class RunRecord:
    at: str  # ISO local time the run ended
    model: str  # the new model's file name
    promoted: bool
    forced: bool
    labelled: int  # labelled review turns in its training data
    tolerance: float
    note: str  # "gate" | "first_model"
    sets: dict[str, dict[str, Any]]  # name -> {"before": {metric: x} | None, "after": {metric: x}}


class TrainingLog:
    """The run log of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "nlu" / LOG_NAME

    def record(
        self,
        model: str,
        gate: GateResult | None,
        *,
        promoted: bool,
        forced: bool,
        labelled: int,
        tolerance: float,
        now: datetime | None = None,
    ) -> RunRecord:
        def pick(scores: Any) -> dict[str, float] | None:
            if scores is None:
                return None
            return {m: round(float(scores[m]), 4) for m in ("intent_accuracy", "slot_f1")}

        sets = {}
        for c in gate.comparisons if gate is not None else ():
            sets[c.name] = {"before": pick(c.before), "after": pick(c.after)}
        rec = RunRecord(
            at=(now or datetime.now()).isoformat(timespec="seconds"),
            model=model,
            promoted=promoted,
            forced=forced,
            labelled=labelled,
            tolerance=tolerance,
            note="gate" if gate is not None else "first_model",
            sets=sets,
        )
        private_dir(self.path.parent)
        with open_private_text(self.path, "a") as out:
            out.write(json.dumps(rec.__dict__, ensure_ascii=False) + "\n")
        return rec

    def runs(self) -> list[RunRecord]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [RunRecord(**json.loads(line)) for line in lines if line.strip()]


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()


def learning_stats(data_dir: Path, first: date, last: date) -> LearningStats:
    """The learning loop between two days (inclusive): turns queued (by the call's end), labelled and
    discarded (by the review's time), and the training runs."""

    def within(stamp: str) -> bool:
        return bool(stamp) and first <= _day(stamp) <= last

    turns = ReviewQueue(data_dir).all()
    queued = Counter(q.item.reason for q in turns if within(q.created))
    reviewed = [q for q in turns if within(q.reviewed_at or (q.created if q.status != "pending" else ""))]
    runs = []
    for r in TrainingLog(data_dir).runs():
        if not within(r.at):
            continue
        sets = tuple(
            SetScores(
                name,
                None if v["before"] is None else v["before"]["intent_accuracy"],
                v["after"]["intent_accuracy"],
                None if v["before"] is None else v["before"]["slot_f1"],
                v["after"]["slot_f1"],
            )
            for name, v in r.sets.items()
        )
        at = datetime.fromisoformat(r.at)
        runs.append(TrainingRun(at, r.model, r.promoted, r.forced, r.labelled, sets))
    return LearningStats(
        queued=tuple((reason, queued[reason]) for reason in REASONS),
        labelled=sum(1 for q in reviewed if q.status == "labelled"),
        discarded=sum(1 for q in reviewed if q.status == "discarded"),
        pending=sum(1 for q in turns if q.status == "pending" and within(q.created)),
        runs=tuple(runs),
    )

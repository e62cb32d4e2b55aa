"""``hotline nlu train`` with the regression gate (:mod:`nlu.gate`): train the new model aside, score
it and the model in service on every evaluation set (each served by its own Rasa on a free loopback
port), and move it into service only if the gate passes, or when forced."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.evaluation import Example, Prediction, parse_lines, score
from nlu.gate import GateResult, Scores, compare
from nlu.interpreter import RasaInterpreter
from nlu.rasa_env import RasaEnv
from nlu.rasa_server import (
    Progress,
    current_model,
    model_path,
    project_fingerprint,
    serve,
    stop,
    train,
)

EVAL_DIR = Path(__file__).resolve().parent / "data" / "eval"
SCORE_TIMEOUT_S = 10.0

ModelScorer = Callable[[Path, Sequence[Example]], Scores]


def eval_sets(directory: Path = EVAL_DIR) -> dict[str, list[Example]]:
    """Every ``*.jsonl`` evaluation set, by file stem."""
    return {
        p.stem: parse_lines(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(directory.glob("*.jsonl"))
    }


@dataclass(frozen=True)
class TrainOutcome:
    model: Path  # the model in service afterwards
    candidate: Path | None  # the new model (None: nothing trained, the model was up to date)
    gate: GateResult | None  # None: no model in service to compare with, or up to date
    promoted: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rasa_scorer(env: RasaEnv, token: str, city: str, progress: Progress) -> ModelScorer:
    """Score a model file by serving it on a free loopback port (its own run directory) and parsing
    every example through it; the server is stopped afterwards."""

    def scorer(model: Path, examples: Sequence[Example]) -> Scores:
        with tempfile.TemporaryDirectory(prefix="nlu-gate-") as run_dir:
            url = f"http://127.0.0.1:{_free_port()}"
            serve(env, Path(run_dir), url, token, model=model, progress=progress)
            rasa = RasaInterpreter(url, token, SCORE_TIMEOUT_S, city)
            try:
                predictions = [
                    Prediction(r.intent, r.entities)
                    for r in (rasa.interpret(ex.text, ex.now) for ex in examples)
                ]
            finally:
                rasa.close()
                stop(Path(run_dir))
        return score(examples, predictions, "rasa")

    return scorer


def judge(
    previous: Path, candidate: Path, sets: dict[str, list[Example]], scorer: ModelScorer, tolerance: float
) -> GateResult:
    return compare(
        list(sets),
        lambda name: scorer(previous, sets[name]),
        lambda name: scorer(candidate, sets[name]),
        tolerance,
    )


def promote(env: RasaEnv, candidate: Path) -> Path:
    """Move the candidate into the served models (it becomes :func:`current_model`)."""
    target = env.workspace / "models" / candidate.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, target)
    target.touch()  # the newest model is the one served
    return target


def train_gated(
    env: RasaEnv,
    data_dir: Path,
    *,
    tolerance: float,
    force: bool,
    scorer: ModelScorer,
    sets: dict[str, list[Example]] | None = None,
    progress: Progress,
    trainer: Callable[[], Path] | None = None,
) -> TrainOutcome:
    """Train aside, gate, promote. ``force``: retrain even when up to date and promote whatever the
    gate says (the gate still runs and prints)."""
    served = current_model(env)
    up_to_date = model_path(env, project_fingerprint())
    if up_to_date.is_file() and not force:
        progress(f"model up to date: {up_to_date.name}")
        return TrainOutcome(up_to_date, None, None, True)
    candidate = trainer() if trainer is not None else train(env, data_dir, progress=progress, candidate=True)
    if served is None:
        progress("no model in service yet: the new model is served without comparison")
        return TrainOutcome(promote(env, candidate), candidate, None, True)
    result = judge(served, candidate, sets if sets is not None else eval_sets(), scorer, tolerance)
    if result.passed or force:
        if not result.passed:
            progress("--force: serving the new model despite the regression")
        return TrainOutcome(promote(env, candidate), candidate, result, True)
    return TrainOutcome(served, candidate, result, False)

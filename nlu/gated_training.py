"""``hotline nlu train`` with the regression gate (:mod:`nlu.gate`): train the new model in a
workspace of its own (a temporary copy of the project files plus the labelled review turns, apart from
the served workspace that the running hotline's Rasa uses), score it and the model in service on every
evaluation set (each model served once by its own Rasa on a free loopback port), and copy it into the
served models only if the gate passes, or when forced. A refused model is kept aside under
``<data_dir>/nlu/refused/``; the temporary workspace is removed in every case."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.evaluation import Example, Prediction, parse_lines, score
from nlu.gate import GateResult, Scores, compare
from nlu.interpreter import RasaInterpreter
from nlu.rasa_env import RasaEnv
from nlu.rasa_server import (
    PROJECT_DIR,
    PROJECT_FILES,
    Progress,
    ServerPaths,
    current_model,
    model_path,
    project_fingerprint,
    serve,
    stop,
    train_workspace,
)

EVAL_DIR = Path(__file__).resolve().parent / "data" / "eval"
SCORE_TIMEOUT_S = 10.0
LABELLED_FILE = "reviewed.yml"  # the labelled review turns, their own training file

Sets = Mapping[str, Sequence[Example]]
ModelScorer = Callable[[Path, Sets], dict[str, Scores]]
"""Score one model on every set: set name -> scores."""


def eval_sets(directory: Path = EVAL_DIR, names: Sequence[str] = ()) -> dict[str, list[Example]]:
    """Every ``*.jsonl`` evaluation set, by file stem (only ``names`` when given)."""
    found = {
        p.stem: parse_lines(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(directory.glob("*.jsonl"))
    }
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"unknown evaluation set(s) {', '.join(missing)}; known: {', '.join(found)}")
    return {n: found[n] for n in names} if names else found


@dataclass(frozen=True)
class TrainOutcome:
    model: Path  # the model in service afterwards
    candidate: Path | None  # the new model (None: nothing trained); kept aside when refused
    gate: GateResult | None  # None: no model in service to compare with, or up to date
    promoted: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rasa_scorer(env: RasaEnv, token: str, city: str, progress: Progress) -> ModelScorer:
    """Score a model file by serving it on a free loopback port (its own run directory, its token in
    a scratch folder, never the served workspace) and parsing every example of every set through it;
    the server is stopped afterwards."""

    def scorer(model: Path, sets: Sets) -> dict[str, Scores]:
        env.scratch.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="nlu-gate-") as run_dir,
            tempfile.TemporaryDirectory(prefix="serve-", dir=env.scratch) as token_dir,
        ):
            url = f"http://127.0.0.1:{_free_port()}"
            serve(env, Path(run_dir), url, token, model=model, progress=progress, token_dir=Path(token_dir))
            rasa = RasaInterpreter(url, token, SCORE_TIMEOUT_S, city)
            out: dict[str, Scores] = {}
            try:
                for name, examples in sets.items():
                    predictions = [
                        Prediction(r.intent, r.entities)
                        for r in (rasa.interpret(ex.text, ex.now) for ex in examples)
                    ]
                    out[name] = score(examples, predictions, "rasa")
            finally:
                rasa.close()
                stop(Path(run_dir))
        return out

    return scorer


def judge(previous: Path, candidate: Path, sets: Sets, scorer: ModelScorer, tolerance: float) -> GateResult:
    before, after = scorer(previous, sets), scorer(candidate, sets)
    return compare(list(sets), before.get, after.__getitem__, tolerance)


def candidate_workspace(env: RasaEnv, project: Path = PROJECT_DIR, labelled: str = "") -> Path:
    """A temporary copy of the project files, with ``labelled`` (Rasa training YAML of the labelled
    review turns, "" for none) as ``data/reviewed.yml``, where Rasa can see it."""
    private = env.scratch
    private.mkdir(parents=True, exist_ok=True)
    ws = Path(tempfile.mkdtemp(prefix="train-", dir=private))
    for name in PROJECT_FILES:
        src = project / name
        if src.is_dir():
            shutil.copytree(src, ws / name)
        else:
            shutil.copyfile(src, ws / name)
    if labelled:
        (ws / "data").mkdir(exist_ok=True)
        (ws / "data" / LABELLED_FILE).write_text(labelled, encoding="utf-8")
    return ws


def promote(env: RasaEnv, candidate: Path) -> Path:
    """Copy the candidate into the served models (it becomes :func:`current_model`) and remove it."""
    target = env.workspace / "models" / candidate.name
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    shutil.copyfile(candidate, part)
    os.replace(part, target)  # the served folder never holds half a model
    target.touch()  # the newest model is the one served
    candidate.unlink(missing_ok=True)
    return target


def keep_aside(data_dir: Path, candidate: Path) -> Path:
    """A refused model, kept for inspection outside the served workspace."""
    target = data_dir / "nlu" / "refused" / candidate.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(candidate), target)
    return target


def train_gated(
    env: RasaEnv,
    data_dir: Path,
    *,
    tolerance: float,
    force: bool,
    scorer: ModelScorer,
    sets: Sets | None = None,
    progress: Progress,
    trainer: Callable[[Path, str], Path] | None = None,
    project: Path = PROJECT_DIR,
    labelled: str = "",
) -> TrainOutcome:
    """Train aside, gate, promote. ``labelled``: the labelled review turns as a training file.
    ``force``: retrain even when up to date and promote whatever the gate says (the gate still runs
    and prints). ``trainer(workspace, fingerprint)`` replaces the real ``rasa train`` (tests)."""
    served = current_model(env)
    ws = candidate_workspace(env, project, labelled)
    try:
        fingerprint = project_fingerprint(ws)
        up_to_date = model_path(env, fingerprint)
        if up_to_date.is_file() and not force:
            progress(f"model up to date: {up_to_date.name}")
            return TrainOutcome(up_to_date, None, None, True)
        if trainer is not None:
            candidate = trainer(ws, fingerprint)
        else:
            log = ServerPaths(data_dir).train_log
            candidate = train_workspace(env, ws, ws / "models", fingerprint, log, progress)
        if served is None:
            progress("no model in service yet: the new model is served without comparison")
            return TrainOutcome(promote(env, candidate), candidate, None, True)
        result = judge(served, candidate, sets if sets is not None else eval_sets(), scorer, tolerance)
        if result.passed or force:
            if not result.passed:
                progress("--force: serving the new model despite the regression")
            return TrainOutcome(promote(env, candidate), candidate, result, True)
        return TrainOutcome(served, keep_aside(data_dir, candidate), result, False)
    finally:
        shutil.rmtree(ws, ignore_errors=True)

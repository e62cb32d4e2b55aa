"""The gate on real Rasa training, end to end: labelled review turns and the project files are trained
by the real ``rasa train nlu`` in a workspace of the run's own, the model in service and the new one are
each served by a real Rasa and scored on an evaluation set, and the new model is copied into service
only on promotion. The running hotline's workspace (models, project copy) is never written.

Kept short for CI: a small project (a few examples per intent, 20 epochs) and one small evaluation set;
the model "in service" is a copy of the one the other Rasa tests serve, in a service workspace of the
test's own, so the promotion does not change what they serve."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest

from nlu.dialogue.review import ReviewItem
from nlu.evaluation import Example
from nlu.gated_training import rasa_scorer, train_gated
from nlu.learning import TrainingLog, learning_stats
from nlu.rasa_env import RasaEnv
from nlu.rasa_server import PROJECT_DIR, current_model, ensure_token
from nlu.review import ReviewQueue, training_yaml

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

CONFIG = (PROJECT_DIR / "config.yml").read_text(encoding="utf-8").replace("epochs: 40", "epochs: 20")
NLU = """version: "3.1"
nlu:
- intent: report
  examples: |
    - tôi muốn phản ánh có đống rác ở đầu ngõ
    - đường bị ngập nước không đi được
    - đèn đường hỏng cả tuần nay
    - có người đổ phế thải ra vỉa hè
- intent: affirm
  examples: |
    - đúng rồi
    - vâng đúng
    - ừ chính xác
- intent: deny
  examples: |
    - không phải
    - sai rồi
    - không đúng
- intent: inform
  examples: |
    - tên tôi là [nguyễn văn an](name)
    - tôi là [trần thị hà](name)
"""
EVAL = [
    Example("có rác thải bốc mùi ở chợ", "report", {}),
    Example("cống thoát nước bị tắc", "report", {}),
    Example("đúng rồi đó", "affirm", {}),
    Example("vâng", "affirm", {}),
    Example("không phải đâu", "deny", {}),
    Example("sai rồi em ơi", "deny", {}),
]


def tiny_project(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "config.yml").write_text(CONFIG, encoding="utf-8")
    shutil.copyfile(PROJECT_DIR / "domain.yml", folder / "domain.yml")
    (folder / "data" / "nlu.yml").write_text(NLU, encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """The served workspace's models and any other file a training run used to write there (size,
    mtime), less what other Rasa tests rewrite meanwhile: their servers' token files, `rasa test nlu`'s
    folder, and the project copy `rasa data validate` refreshes (checked apart, by content)."""
    skip = {"test", "data", "config.yml", "domain.yml"}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith("auth-token-") and p.relative_to(folder).parts[0] not in skip
    }


def holds(folder: Path, text: str) -> bool:
    return any(text in p.read_text(encoding="utf-8") for p in folder.rglob("*.yml") if p.is_file())


def test_a_real_gated_run_trains_apart_and_only_the_promotion_reaches_the_service(
    rasa_env: RasaEnv, tmp_path: Path
) -> None:
    served = current_model(rasa_env)
    assert served is not None
    shared_before = snapshot(rasa_env.workspace)
    scratch_before = set(rasa_env.scratch.glob("train-*")) if rasa_env.scratch.is_dir() else set()
    own = dataclasses.replace(rasa_env, workspace_name=f"hotline-nlu-gate-test-{os.getpid()}")
    (own.workspace / "models").mkdir(parents=True)
    try:
        shutil.copy2(served, own.workspace / "models" / served.name)
        data = tmp_path / "data"
        queue = ReviewQueue(data)
        turns = queue.add(
            [
                ReviewItem("not_understood", "bãi rác sau nhà văn hóa bốc mùi", "", 0.1, turn=1),
                ReviewItem("correction", "không phải sai rồi", "affirm", 0.4, turn=4),
            ],
            city="hanoi",
        )
        queue.label(turns[0].id, "report", reviewer="giamsat")
        queue.label(turns[1].id, "deny", reviewer="giamsat")
        said: list[str] = []
        started = time.monotonic()
        outcome = train_gated(
            own,
            data,
            tolerance=1.0,
            force=False,
            scorer=rasa_scorer(own, ensure_token("", tmp_path), "hanoi", said.append),
            sets={"tiny": EVAL},
            progress=said.append,
            project=tiny_project(tmp_path / "project"),
            labelled=training_yaml(queue.labelled()),
        )
        elapsed = time.monotonic() - started
        print(f"gated training with real Rasa: {elapsed:.0f} s ({'; '.join(said)})")
        assert outcome.promoted and outcome.gate is not None and outcome.candidate is not None
        (comparison,) = outcome.gate.comparisons
        assert comparison.before is not None and comparison.before["n"] == len(EVAL)
        assert comparison.after["n"] == len(EVAL) and comparison.after["backend"] == "rasa"
        print("\n".join(outcome.gate.report()))
        # promoted: copied into the (test's own) service workspace and served from now on
        assert outcome.model == own.workspace / "models" / outcome.candidate.name
        assert outcome.model.is_file() and current_model(own) == outcome.model
        assert outcome.model.name != served.name  # the labelled turns made it a new model
        # the running hotline's workspace was not written, and the run's own workspace is gone
        assert snapshot(rasa_env.workspace) == shared_before
        # neither the run's project copy nor its labelled turns went there
        assert not holds(rasa_env.workspace, "bãi rác sau nhà văn hóa bốc mùi")
        assert not holds(rasa_env.workspace, "đèn đường hỏng cả tuần nay")
        assert set(rasa_env.scratch.glob("train-*")) == scratch_before
        TrainingLog(data).record(
            outcome.candidate.name, outcome.gate, promoted=True, forced=False, labelled=2, tolerance=1.0
        )
        today = datetime.now().date()
        stats = learning_stats(data, today, today)
        assert stats.labelled == 2 and [r.promoted for r in stats.runs] == [True]
    finally:
        shutil.rmtree(own.workspace, ignore_errors=True)

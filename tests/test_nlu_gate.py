"""The regression gate of `hotline nlu train`: the comparison (fake scores), the train-aside /
promote flow (fake trainer and scorer on a real workspace directory), the command's output and exit
code, and the labelled review turns as their own training file."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from config.settings import get_settings
from nlu import gated_training
from nlu.evaluation import Example
from nlu.gate import compare
from nlu.gated_training import train_gated
from nlu.learning import TrainingLog
from nlu.rasa_env import RasaEnv
from nlu.rasa_server import current_model, project_fingerprint, sync_project


def s(intent: float, slot: float) -> dict[str, Any]:
    return {"backend": "rasa", "n": 100, "intent_accuracy": intent, "slot_f1": slot, "per_slot": {}}


def test_gate_passes_within_the_tolerance_and_prints_before_after_per_set() -> None:
    before = {"a": s(0.90, 0.80), "b": s(0.70, 0.60)}
    after = {"a": s(0.895, 0.85), "b": s(0.75, 0.60)}
    result = compare(["a", "b"], before.get, after.__getitem__, tolerance=0.01)
    assert result.passed and result.regressions == []
    lines = result.report()
    assert lines[0].startswith("a ") and "intent_accuracy 0.9000 -> 0.8950 (-0.0050)" in lines[0]
    assert "slot_f1 0.8000 -> 0.8500 (+0.0500)" in lines[0] and lines[0].endswith("ok")
    assert lines[1].startswith("b ") and lines[-1].startswith("gate passed")


def test_a_drop_beyond_the_tolerance_on_one_set_fails_the_gate() -> None:
    before = {"a": s(0.90, 0.80), "b": s(0.70, 0.60)}
    after = {"a": s(0.95, 0.90), "b": s(0.70, 0.58)}
    result = compare(["a", "b"], before.get, after.__getitem__, tolerance=0.01)
    assert not result.passed
    assert result.regressions == ["b: slot_f1 0.6000 -> 0.5800 (-0.0200)"]
    assert result.report()[1].endswith("REGRESSION") and result.report()[-1].startswith("gate FAILED")
    assert compare(["a", "b"], before.get, after.__getitem__, tolerance=0.03).passed


def test_no_model_in_service_passes_and_a_negative_tolerance_is_refused() -> None:
    result = compare(["a"], lambda _: None, lambda _: s(0.1, 0.1), tolerance=0.0)
    assert result.passed and "->" not in result.report()[0]
    with pytest.raises(ValueError):
        compare(["a"], lambda _: None, lambda _: s(0.1, 0.1), tolerance=-0.1)


# ---- the flow: train aside, gate, promote ------------------------------------------------------------

SETS = {"hotline_eval": [Example("x", "report", {})], "independent_a": [Example("y", "inform", {})]}


class Fakes:
    def __init__(self, tmp: Path, new_scores: dict[str, Any]) -> None:
        self.env = RasaEnv("python", tmp)
        self.new_scores = new_scores
        self.trained = 0

    def serve_old(self) -> Path:
        old = self.env.workspace / "models" / "nlu-old.tar.gz"
        old.parent.mkdir(parents=True, exist_ok=True)
        old.write_bytes(b"old")
        return old

    def trainer(self, ws: Path, fingerprint: str) -> Path:
        self.trained += 1
        assert ws.parent == self.env.scratch and (ws / "data" / "nlu.yml").is_file()
        new = ws / "models" / "nlu-new.tar.gz"
        new.parent.mkdir(parents=True, exist_ok=True)
        new.write_bytes(b"new")
        return new

    def scorer(self, model: Path, sets: Mapping[str, Sequence[Example]]) -> dict[str, Any]:
        return {
            name: s(0.9, 0.8) if model.name == "nlu-old.tar.gz" else self.new_scores[name] for name in sets
        }

    def run(self, force: bool = False) -> gated_training.TrainOutcome:
        return train_gated(
            self.env,
            self.env.data_dir,
            tolerance=0.01,
            force=force,
            scorer=self.scorer,
            sets=SETS,
            progress=lambda _: None,
            trainer=self.trainer,
        )


def test_a_regressing_model_is_kept_aside_and_the_old_one_stays_in_service(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {"hotline_eval": s(0.95, 0.85), "independent_a": s(0.85, 0.8)})
    old = f.serve_old()
    outcome = f.run()
    assert not outcome.promoted and outcome.model == old and current_model(f.env) == old
    assert outcome.candidate == tmp_path / "nlu" / "refused" / "nlu-new.tar.gz"
    assert outcome.candidate.is_file() and list(f.env.scratch.iterdir()) == []
    assert outcome.gate is not None and outcome.gate.regressions == [
        "independent_a: intent_accuracy 0.9000 -> 0.8500 (-0.0500)"
    ]


def test_force_serves_the_regressing_model(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {"hotline_eval": s(0.95, 0.85), "independent_a": s(0.85, 0.8)})
    f.serve_old()
    time.sleep(0.01)
    outcome = f.run(force=True)
    assert outcome.promoted and outcome.gate is not None and not outcome.gate.passed
    assert current_model(f.env) == outcome.model == f.env.workspace / "models" / "nlu-new.tar.gz"


def test_a_model_as_good_is_served(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {"hotline_eval": s(0.9, 0.8), "independent_a": s(0.895, 0.81)})
    f.serve_old()
    outcome = f.run()
    assert outcome.promoted and current_model(f.env) == f.env.workspace / "models" / "nlu-new.tar.gz"
    assert list(f.env.scratch.iterdir()) == []  # the training workspace is gone


def test_the_first_model_is_served_without_comparison(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {})
    outcome = f.run()
    assert outcome.promoted and outcome.gate is None and current_model(f.env) == outcome.model


def test_an_up_to_date_model_is_not_retrained(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {})
    current = f.env.workspace / "models" / f"nlu-{project_fingerprint()}.tar.gz"
    current.parent.mkdir(parents=True)
    current.write_bytes(b"m")
    outcome = f.run()
    assert f.trained == 0 and outcome.model == current and outcome.candidate is None


def test_the_command_prints_the_gate_and_fails_on_a_regression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = Fakes(tmp_path / "var", {"hotline_eval": s(0.95, 0.85), "independent_a": s(0.5, 0.8)})
    f.env.data_dir.mkdir(parents=True)
    f.serve_old()
    monkeypatch.setattr(gated_training, "train_workspace", lambda env, ws, out, fp, *a: f.trainer(ws, fp))
    monkeypatch.setattr(gated_training, "rasa_scorer", lambda *a: f.scorer)
    monkeypatch.setattr(gated_training, "eval_sets", lambda names=(): SETS)
    monkeypatch.setattr("commands.nlu.load_env", lambda _: f.env)
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_DATABASE__URL": ""}
    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(main, ["nlu", "train"], env=env)
    assert result.exit_code == 1, result.output
    assert "independent_a" in result.stdout and "0.9000 -> 0.5000" in result.stdout
    assert "gate FAILED" in result.stdout and "--force" in result.stderr
    assert "Traceback" not in result.output
    (run,) = TrainingLog(tmp_path / "var").runs()  # logged for the monthly report
    assert run.model == "nlu-new.tar.gz" and not run.promoted and not run.forced
    assert run.sets["independent_a"] == {
        "before": {"intent_accuracy": 0.9, "slot_f1": 0.8},
        "after": {"intent_accuracy": 0.5, "slot_f1": 0.8},
    }
    get_settings.cache_clear()
    result = runner.invoke(main, ["nlu", "train", "--force"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("nlu-new.tar.gz")
    get_settings.cache_clear()
    monkeypatch.undo()
    result = runner.invoke(main, ["nlu", "train", "--set", "nosuch"], env=env)
    assert result.exit_code == 1 and "unknown evaluation set(s) nosuch" in result.stderr
    assert [(r.promoted, r.forced) for r in TrainingLog(tmp_path / "var").runs()] == [
        (False, False),
        (True, True),
    ]
    get_settings.cache_clear()


def test_labelled_review_turns_are_trained_from_their_own_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "config.yml").write_text("language: vi\n")
    (project / "domain.yml").write_text("version: '3.1'\n")
    (project / "data" / "nlu.yml").write_text("nlu: []\n")
    before = project_fingerprint(project)
    (project / "data" / "reviewed.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: inform\n  examples: |\n    - x\n'
    )
    assert project_fingerprint(project) != before  # a new export means a new model
    env = RasaEnv("python", tmp_path / "var")
    ws = sync_project(env, project)
    assert (ws / "data" / "reviewed.yml").is_file() and (ws / "data" / "nlu.yml").is_file()


def test_the_candidate_trains_on_the_labelled_turns_in_its_own_workspace(tmp_path: Path) -> None:
    f = Fakes(tmp_path, {"hotline_eval": s(0.9, 0.8), "independent_a": s(0.9, 0.8)})
    f.serve_old()
    seen: dict[str, str] = {}

    def trainer(ws: Path, fingerprint: str) -> Path:
        seen["reviewed"] = (ws / "data" / "reviewed.yml").read_text(encoding="utf-8")
        seen["fingerprint"] = fingerprint
        return f.trainer(ws, fingerprint)

    labelled = 'version: "3.1"\nnlu:\n- intent: inform\n  examples: |\n    - tên tôi là an\n'
    outcome = train_gated(
        f.env, f.env.data_dir, tolerance=0.01, force=False, scorer=f.scorer, sets=SETS,
        progress=lambda _: None, trainer=trainer, labelled=labelled,
    )  # fmt: skip
    assert outcome.promoted and seen["reviewed"] == labelled
    assert seen["fingerprint"] != project_fingerprint()  # labelled turns make a new model
    assert sorted(p.name for p in (f.env.workspace / "models").iterdir()) == [
        "nlu-new.tar.gz",
        "nlu-old.tar.gz",
    ]
    assert not (f.env.workspace / "data").exists()  # the served workspace got no project copy

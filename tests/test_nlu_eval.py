"""Evaluation contract: metric arithmetic, input validation, the JSON line of `hotline nlu eval`, and the
shipped evaluation set (size, coverage, disjoint from the training data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nlu.evaluation import EvalDataError, Example, Prediction, canonical_pairs, parse_lines, score
from nlu.interpreter import INTENTS, SLOT_KEYS
from reference import categories

ROOT = Path(__file__).resolve().parents[1]
EVAL_FILE = ROOT / "nlu" / "data" / "eval" / "hotline_eval.jsonl"
TRAIN_FILE = ROOT / "nlu" / "rasa_project" / "data" / "nlu.yml"


def test_intent_accuracy_and_micro_f1_arithmetic() -> None:
    examples = [
        Example("a", "report", {"ward": "Phường Láng", "category": "VSMT"}),
        Example("b", "inform", {"phone": "0912345678"}),
        Example("c", "greet", {}),
        Example("d", "deny", {}),
    ]
    predictions = [
        Prediction("report", {"ward": "Phường Láng", "category": "TO"}),  # 1 TP, 1 FP, 1 FN
        Prediction("inform", {"phone": "0912345678", "name": "An"}),  # 1 TP, 1 FP
        Prediction("goodbye", {}),
        Prediction("deny", {}),
    ]
    result = score(examples, predictions, "fallback")
    assert result["backend"] == "fallback"
    assert result["n"] == 4
    assert result["intent_accuracy"] == 0.75
    # micro F1 = 2TP / (2TP + FP + FN) = 4 / (4 + 2 + 1)
    assert result["slot_f1"] == round(4 / 7, 4)
    assert result["per_slot"]["category"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert result["per_slot"]["ward"]["f1"] == 1.0
    assert result["per_slot"]["name"] == {"precision": 0.0, "recall": 1.0, "f1": 0.0, "support": 0}


def test_no_slots_anywhere_is_a_perfect_slot_score() -> None:
    result = score([Example("x", "greet")], [Prediction("greet", {})], "rasa")
    assert result["slot_f1"] == 1.0 and result["per_slot"] == {}


def test_urgent_false_is_absent_and_booleans_compare_as_text() -> None:
    assert canonical_pairs({"urgent": False}) == set()
    assert canonical_pairs({"urgent": True}) == {("urgent", "true")}
    assert canonical_pairs({"urgent": "true", "ward": " Xã Sóc Sơn "}) == {
        ("urgent", "true"),
        ("ward", "Xã Sóc Sơn"),
    }


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        score([Example("x", "greet")], [], "rasa")


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"intent": "greet"}',
        '{"text": "a", "intent": "greet", "entities": []}',
        '{"text": "a", "intent": "greet", "now": "yesterday"}',
    ],
)
def test_bad_lines_are_reported_with_their_number(line: str) -> None:
    with pytest.raises(EvalDataError, match="line 2"):
        parse_lines(['{"text": "alo", "intent": "greet"}', line])


def test_now_is_parsed_and_timezone_dropped() -> None:
    (ex,) = parse_lines(
        ['{"text": "a", "intent": "inform", "entities": {"urgent": true}, "now": "2026-11-23T10:00+07:00"}']
    )
    assert ex.now is not None and ex.now.tzinfo is None and ex.now.hour == 10
    assert ex.entities == {"urgent": "true"}


def test_cli_eval_prints_the_contract_json_as_last_line(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    rows = [
        {"text": "cho tôi gặp tổng đài viên", "intent": "request_operator", "entities": {}},
        {
            "text": "số điện thoại của tôi là không chín một hai ba bốn năm sáu bảy tám",
            "intent": "inform",
            "entities": {"phone": "0912345678"},
            "now": "2026-11-23T10:00",
        },
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["nlu", "eval", "--backend", "fallback", str(data)])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert set(last) == {"backend", "n", "intent_accuracy", "slot_f1", "per_slot"}
    assert last["backend"] == "fallback" and last["n"] == 2
    assert last["intent_accuracy"] == 1.0 and last["slot_f1"] == 1.0


def test_cli_eval_bad_file_is_one_line_error(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text("{oops\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["nlu", "eval", "--backend", "fallback", str(data)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "line 1" in result.output


def test_shipped_eval_set_size_and_coverage() -> None:
    examples = parse_lines(EVAL_FILE.read_text(encoding="utf-8").splitlines())
    assert len(examples) >= 300
    assert {ex.intent for ex in examples} == set(INTENTS)
    keys = {k for ex in examples for k in ex.entities}
    assert keys == set(SLOT_KEYS)
    cats = {ex.entities["category"] for ex in examples if "category" in ex.entities}
    # every category a report can carry (a complaint, KNTC, is an intent, not a report category)
    assert cats == set(categories()) - {"KNTC"}


def test_eval_set_is_disjoint_from_training() -> None:
    train = set()
    for line in TRAIN_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("    - "):
            train.add(re.sub(r"\[([^\]]+)\]\(\w+\)", r"\1", line[6:]).strip())
    evaluated = {ex.text for ex in parse_lines(EVAL_FILE.read_text(encoding="utf-8").splitlines())}
    assert len(train) > 1000
    assert not (train & evaluated)


def test_fallback_on_shipped_eval_set_is_decent() -> None:
    result = CliRunner().invoke(main, ["nlu", "eval", "--backend", "fallback", str(EVAL_FILE)])
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last["intent_accuracy"] >= 0.85
    assert last["slot_f1"] >= 0.85

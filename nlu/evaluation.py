"""Pure metrics for the NLU evaluation contract: intent accuracy and slot F1.

Slot F1 is micro-averaged over exact-match (key, value) pairs. Values are compared as strings after
light canonicalisation: booleans become "true"/"false", surrounding spaces are dropped, and
``urgent`` = false counts as absent (not urgent is the default, never a slot value).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EvalDataError(ValueError):
    """A line of an evaluation file is not a valid example."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None


@dataclass(frozen=True)
class Prediction:
    intent: str
    entities: dict[str, str]


def canonical_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def canonical_pairs(entities: Mapping[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for key, value in entities.items():
        if value is None:
            continue
        text = canonical_value(value)
        if key == "urgent" and text.lower() in ("false", "0", ""):
            continue
        if key == "urgent":
            text = "true"
        pairs.add((key, text))
    return pairs


def parse_example(line: str, lineno: int = 0) -> Example:
    """One JSONL line: {"text", "intent", "entities": {key: value}, "now": optional ISO datetime}."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"line {lineno}: not JSON ({exc.msg})") from exc
    if (
        not isinstance(row, dict)
        or not isinstance(row.get("text"), str)
        or not isinstance(row.get("intent"), str)
    ):
        raise EvalDataError(f"line {lineno}: needs string fields 'text' and 'intent'")
    entities = row.get("entities")
    if entities is None:
        entities = {}
    if not isinstance(entities, dict):
        raise EvalDataError(f"line {lineno}: 'entities' must be an object")
    now = None
    if row.get("now"):
        try:
            now = datetime.fromisoformat(str(row["now"]))
        except ValueError as exc:
            raise EvalDataError(f"line {lineno}: 'now' is not an ISO datetime") from exc
        if now.tzinfo is not None:
            now = now.replace(tzinfo=None)
    clean = {str(k): canonical_value(v) for k, v in entities.items() if v is not None}
    return Example(text=row["text"], intent=row["intent"], entities=clean, now=now)


def parse_lines(lines: Iterable[str]) -> list[Example]:
    return [parse_example(line, i) for i, line in enumerate(lines, 1) if line.strip()]


def _ratio(num: float, den: float, empty: float) -> float:
    return num / den if den else empty


def score(examples: Sequence[Example], predictions: Sequence[Prediction], backend: str) -> dict[str, Any]:
    """The contract's JSON object: backend, n, intent_accuracy, slot_f1, per_slot {key: p/r/f1/support}."""
    if len(examples) != len(predictions):
        raise ValueError("one prediction per example is needed")
    correct = sum(1 for ex, pr in zip(examples, predictions, strict=True) if ex.intent == pr.intent)
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    for ex, pr in zip(examples, predictions, strict=True):
        gold, pred = canonical_pairs(ex.entities), canonical_pairs(pr.entities)
        for key, _ in gold & pred:
            tp[key] = tp.get(key, 0) + 1
        for key, _ in pred - gold:
            fp[key] = fp.get(key, 0) + 1
        for key, _ in gold - pred:
            fn[key] = fn.get(key, 0) + 1
    keys = sorted(set(tp) | set(fp) | set(fn))
    per_slot = {}
    for key in keys:
        t, p, n = tp.get(key, 0), fp.get(key, 0), fn.get(key, 0)
        per_slot[key] = {
            "precision": round(_ratio(t, t + p, 1.0), 4),
            "recall": round(_ratio(t, t + n, 1.0), 4),
            "f1": round(_ratio(2 * t, 2 * t + p + n, 1.0), 4),
            "support": t + n,
        }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "backend": backend,
        "n": len(examples),
        "intent_accuracy": round(_ratio(correct, len(examples), 0.0), 4),
        "slot_f1": round(_ratio(2 * all_tp, 2 * all_tp + all_fp + all_fn, 1.0), 4),
        "per_slot": per_slot,
    }


def confusion(examples: Sequence[Example], predictions: Sequence[Prediction]) -> dict[str, dict[str, int]]:
    """Gold intent -> predicted intent -> count, for error analysis."""
    out: dict[str, dict[str, int]] = {}
    for ex, pr in zip(examples, predictions, strict=True):
        row = out.setdefault(ex.intent, {})
        row[pr.intent] = row.get(pr.intent, 0) + 1
    return out

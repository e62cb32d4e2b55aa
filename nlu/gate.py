"""The regression gate of ``hotline nlu train``: a newly trained model is served only when, on every
evaluation set, it scores no worse than the model in service beyond a tolerance.

Pure comparison here (:func:`compare`, scores as :func:`nlu.evaluation.score` returns them); the
command wires it to real models (:mod:`nlu.gated_training`). Compared metrics: intent accuracy and
slot F1; a drop of more than ``tolerance`` (absolute, e.g. 0.01 = one point) in either, on any set,
fails the gate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

METRICS = ("intent_accuracy", "slot_f1")
Scores = Mapping[str, Any]


@dataclass(frozen=True)
class SetComparison:
    name: str
    before: Scores | None  # None: no model in service yet
    after: Scores

    def regressions(self, tolerance: float) -> list[str]:
        if self.before is None:
            return []
        out = []
        for metric in METRICS:
            old, new = float(self.before[metric]), float(self.after[metric])
            if new < old - tolerance:
                out.append(f"{self.name}: {metric} {old:.4f} -> {new:.4f} ({new - old:+.4f})")
        return out

    def line(self, tolerance: float) -> str:
        cells = []
        for metric in METRICS:
            new = float(self.after[metric])
            if self.before is None:
                cells.append(f"{metric} {new:.4f}")
            else:
                old = float(self.before[metric])
                cells.append(f"{metric} {old:.4f} -> {new:.4f} ({new - old:+.4f})")
        verdict = "REGRESSION" if self.regressions(tolerance) else "ok"
        return f"{self.name:<24} " + "  ".join(cells) + f"  {verdict}"


@dataclass(frozen=True)
class GateResult:
    comparisons: tuple[SetComparison, ...]
    tolerance: float

    @property
    def regressions(self) -> list[str]:
        return [r for c in self.comparisons for r in c.regressions(self.tolerance)]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def report(self) -> list[str]:
        """Before/after per set, then the verdict."""
        lines = [c.line(self.tolerance) for c in self.comparisons]
        if self.passed:
            lines.append(f"gate passed (tolerance {self.tolerance:.4f}) / mô hình mới đạt")
        else:
            lines.append(
                f"gate FAILED (tolerance {self.tolerance:.4f}): {len(self.regressions)} regression(s) / "
                "mô hình mới kém hơn"
            )
        return lines


def compare(
    sets: Iterable[str],
    before: Callable[[str], Scores | None],
    after: Callable[[str], Scores],
    tolerance: float,
) -> GateResult:
    """Score every set with the model in service (``before``; None when there is none) and the new
    model (``after``) and compare."""
    if tolerance < 0:
        raise ValueError(f"the tolerance must be >= 0, got {tolerance}")
    return GateResult(tuple(SetComparison(name, before(name), after(name)) for name in sets), tolerance)

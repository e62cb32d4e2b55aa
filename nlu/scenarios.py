"""Whole-call scenarios: what a caller says, turn by turn, and what the call must end with.

A scenario file (YAML, a list) holds calls written as callers talk. Each call has an ``id``, a
``city``, an optional ``caller_id`` (the number the PBX saw, "" when withheld), ``cooperative`` (does
the caller answer what is asked), the caller's ``turns`` and the ``expect``-ed outcome::

    - id: hn-rac-hesitant
      city: hanoi
      caller_id: "0912345678"
      cooperative: false
      turns:
        - "ờ alo tôi muốn báo là đầu ngõ có đống rác to lắm"
        - "#0912345678#"        # keypad digits
        - /silence              # also /hangup, /timeout
      expect:
        outcome: ticket         # ticket | draft | handoff | answer | refusal
        urgent: false           # handoff only: with the urgent flag
        slots: {ward: Phường Cầu Giấy, name: Nguyễn Văn An, phone: "0912345678", category: VSMT,
                time: "2026-11-22", time_text: true, content_has: [rác], content_not: [tên]}

The caller's lines are said in order whatever the bot asks (as a recorded caller would); when they
run out the caller hangs up. A ``{tracking_code}`` in a line is the spoken code of a report filed
before the call. The same scripts drive live SIP calls through the transcript seam.

:func:`run` plays one scenario through a :class:`~nlu.dialogue.runner.Runner` (the console's path)
and :func:`check` compares the result with the expectation; :func:`summarise` gives the shares the
benchmarks report: outcome correct, AI-completed among calls that should not need a human, and the
same for the uncooperative calls apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.ports import Interpreter, ProcedureFinder
from nlu.dialogue.runner import CallPorts, Runner
from nlu.dialogue.slots import digits_vi
from nlu.normalize.text import folded_tokens

OUTCOMES = ("ticket", "draft", "handoff", "answer", "refusal")
_REFUSAL_MARKS = ("không tiếp nhận",)


@dataclass(frozen=True)
class Scenario:
    id: str
    city: str
    turns: tuple[str, ...]
    expect: dict[str, Any]
    caller_id: str = ""
    cooperative: bool = True
    region: str = ""  # north | central | south: the wording
    note: str = ""

    @property
    def needs_human(self) -> bool:
        return str(self.expect.get("outcome")) == "handoff"


@dataclass
class Result:
    scenario: Scenario
    outcome: str
    draft: Draft
    transcript: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    urgent: bool = False
    transfer_reason: str = ""
    created: list[tuple[str, bool]] = field(default_factory=list)  # (tracking code, complete) filed

    @property
    def correct(self) -> bool:
        return not self.problems

    @property
    def ai_completed(self) -> bool:
        """Ended by the AI (no human) with the outcome the caller needed."""
        return self.correct and self.outcome != "handoff"


def parse_turn(line: str) -> ev.Event:
    """One caller line as an engine event: ``#digits`` keypad, ``/hangup``, ``/silence``,
    ``/timeout``, an empty line is silence, anything else is speech."""
    text = line.strip()
    if text.startswith("#"):
        return ev.Digits(text[1:].strip())
    command = text.lower()
    if command == "/hangup":
        return ev.Hangup()
    if command == "/timeout":
        return ev.Timeout()
    if command in ("/silence", ""):
        return ev.Silence()
    return ev.Heard(text, 1.0)


def load(paths: Iterable[Path]) -> list[Scenario]:
    """Scenarios from YAML files (or every ``*.yaml`` in a directory); ids must be unique."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    out: list[Scenario] = []
    seen: set[str] = set()
    for file in files:
        for item in yaml.safe_load(file.read_text(encoding="utf-8")) or []:
            scenario = Scenario(
                id=str(item["id"]),
                city=str(item.get("city", "hanoi")),
                turns=tuple(str(t) for t in item["turns"]),
                expect=dict(item["expect"]),
                caller_id=str(item.get("caller_id", "")),
                cooperative=bool(item.get("cooperative", True)),
                region=str(item.get("region", "")),
                note=str(item.get("note", "")),
            )
            if scenario.id in seen:
                raise ValueError(f"{file}: duplicate scenario id {scenario.id}")
            if scenario.expect.get("outcome") not in OUTCOMES:
                raise ValueError(f"{file}: {scenario.id}: outcome must be one of {', '.join(OUTCOMES)}")
            seen.add(scenario.id)
            out.append(scenario)
    return out


def spoken_lines(scenario: Scenario, tracking_code: str = "") -> list[str]:
    """The caller's lines with ``{tracking_code}`` read out."""
    spoken = digits_vi(tracking_code)
    return [t.replace("{tracking_code}", spoken) for t in scenario.turns]


def classify(actions: list[act.Action], created: list[tuple[str, bool]]) -> tuple[str, bool, str]:
    """The call's outcome from everything the engine did: (outcome, urgent, transfer reason)."""
    transfers = [a for a in actions if isinstance(a, act.Transfer)]
    if transfers:
        return "handoff", transfers[0].urgent, transfers[0].reason
    if any(complete for _code, complete in created) or any(
        isinstance(a, act.CreateTicket) and a.complete for a in actions
    ):
        return "ticket", False, ""
    if created or any(isinstance(a, act.CreateTicket) for a in actions):
        return "draft", False, ""
    said = " ".join(a.text for a in actions if isinstance(a, act.Say)).lower()
    answered = any(isinstance(a, (act.AnswerProcedure, act.LookupDossier, act.LookupTicket)) for a in actions)
    if answered:
        return "answer", False, ""
    if any(mark in said for mark in _REFUSAL_MARKS):
        return "refusal", False, ""
    return "none", False, ""


def run(
    scenario: Scenario,
    interpreter: Interpreter,
    ports: CallPorts,
    procedures: ProcedureFinder | None,
    clock: Callable[[], datetime],
    tracking_code: str = "",
) -> Result:
    """Play the scenario through the engine and the ports (the console's path), then check it."""
    engine = DialogueEngine(
        interpreter, procedures, caller_id=scenario.caller_id, city=scenario.city, clock=clock
    )
    runner = Runner(engine, ports)
    actions = list(runner.start())
    for line in spoken_lines(scenario, tracking_code):
        if runner.finished:
            break
        actions.extend(runner.send(parse_turn(line)))
    if not runner.finished:
        actions.extend(runner.send(ev.Hangup()))
    draft = runner.dry_run_draft or engine.draft
    for a in actions:  # the draft as filed or handed over (the engine's own may have moved on)
        if isinstance(a, (act.CreateTicket, act.Transfer)) and a.draft is not None:
            draft = a.draft
    outcome, urgent, reason = classify(actions, runner.created)
    result = Result(
        scenario,
        outcome,
        draft,
        list(draft.transcript),
        urgent=urgent,
        transfer_reason=reason,
        created=list(runner.created),
    )
    result.problems = check(scenario, outcome, urgent, draft)
    return result


def fold(text: str) -> str:
    """Lower case, one spelling per syllable (tone-mark placement), single spaces."""
    return " ".join(folded_tokens(text))


def _same(a: str, b: str) -> bool:
    return fold(a) == fold(b)


def check(scenario: Scenario, outcome: str, urgent: bool, draft: Draft) -> list[str]:
    """What differs from the expectation (empty when the call ended as it should)."""
    expect = scenario.expect
    problems: list[str] = []
    if outcome != expect["outcome"]:
        problems.append(f"outcome {outcome}, expected {expect['outcome']}")
    if "urgent" in expect and bool(expect["urgent"]) != urgent:
        problems.append(f"urgent {urgent}, expected {expect['urgent']}")
    slots: dict[str, Any] = dict(expect.get("slots") or {})
    for key in ("name", "phone", "cccd", "ward", "category"):
        if key in slots and not _same(str(getattr(draft, key)), str(slots[key])):
            problems.append(f"{key} {getattr(draft, key)!r}, expected {slots[key]!r}")
    if "time" in slots and not draft.incident_time.startswith(str(slots["time"])):
        problems.append(f"time {draft.incident_time!r}, expected {slots['time']!r}")
    if slots.get("time_text") and not (draft.time_text or draft.incident_time):
        problems.append("no time kept")
    content = fold(draft.content)
    for word in slots.get("content_has") or []:
        if fold(str(word)) not in content:
            problems.append(f"content {draft.content!r} lacks {word!r}")
    for word in slots.get("content_not") or []:
        if fold(str(word)) in content:
            problems.append(f"content {draft.content!r} holds {word!r}")
    address = fold(draft.address)
    for word in slots.get("address_has") or []:
        if fold(str(word)) not in address:
            problems.append(f"address {draft.address!r} lacks {word!r}")
    for word in slots.get("address_not") or []:
        if fold(str(word)) in address:
            problems.append(f"address {draft.address!r} holds {word!r}")
    return problems


def _share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def summarise(results: list[Result]) -> dict[str, Any]:
    """Outcome correct %, AI-completed % of the calls that should not need a human, both for all
    calls and for the uncooperative ones apart."""

    def block(rs: list[Result]) -> dict[str, Any]:
        self_service = [r for r in rs if not r.scenario.needs_human]
        return {
            "calls": len(rs),
            "outcome_correct_pct": _share(sum(r.correct for r in rs), len(rs)),
            "self_service_calls": len(self_service),
            "ai_completed_pct": _share(sum(r.ai_completed for r in self_service), len(self_service)),
        }

    return {
        "all": block(results),
        "cooperative": block([r for r in results if r.scenario.cooperative]),
        "uncooperative": block([r for r in results if not r.scenario.cooperative]),
        "failed": {r.scenario.id: r.problems for r in results if not r.correct},
    }

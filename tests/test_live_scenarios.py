"""Whole-call scenarios (tests/data/scenarios) on real calls: SIPp caller -> the test Asterisk -> the app
with the AI operator (rule-based interpreter) -> the database; speech recognition through the
transcript seam (tests/transcript_seam.py). A handful run here; ``bench/scenarios_live.py`` runs the
rest the same way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.scenarios import SCENARIOS
from nlu import scenarios
from tests.asterisk import AsteriskInstance
from tests.live_app import app_settings, counter_total
from tests.sipcaller import CallerScript, place_call_async
from tests.test_live_call import AiApp

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

SUITE_DAY = date(2026, 11, 22)  # the day of the console runs (bench/scenarios.py NOW)

# Uncooperative callers of each city, with keypad use and corrections, whose calls end in a ticket,
# a draft and a handoff.
LIVE = ("hn-name-instead-of-time", "ct-correct-phone", "hp-keypad-confirm", "hn-urgent-fire", "hn-complaint")


def caller_script(scenario: scenarios.Scenario, caller: str) -> CallerScript:
    """The scenario's lines as one call: speech (the known transcript), keypad digits and pauses."""
    script = CallerScript(caller=caller).silence(2.0)
    for line in scenario.turns:
        if line.startswith("#"):
            script.dtmf(line[1:]).silence(4.0)
        elif line == "/hangup":
            break
        else:
            script.say(line).silence(4.0)
    return script.silence(8.0)


def live_outcome(app: AiApp, handler: Any) -> tuple[str, bool, Any]:
    """(outcome, urgent, draft) of a finished call, as :func:`nlu.scenarios.classify` names them."""
    draft = handler.engine.draft
    if handler.outcome in ("transferred", "callback"):
        return "handoff", bool(draft.urgent), draft
    filed = handler.ports.filed
    if any(complete for _code, complete in filed):
        return "ticket", False, draft
    if filed:
        return "draft", False, draft
    given = handler.engine.answered
    if any(a != "refusal" for a in given):
        return "answer", False, draft
    if given:
        return "refusal", False, draft
    return "none", False, draft


async def run_live(
    scenario: scenarios.Scenario, asterisk: AsteriskInstance, workdir: Path
) -> scenarios.Result:
    """One scenario on a real call, the app configured for the scenario's city."""
    script = caller_script(scenario, scenario.caller_id or "0912345678")
    settings = app_settings(asterisk, workdir / "app").model_copy(update={"city": scenario.city})
    app = AiApp(settings, script.transcripts)
    await app.start()
    try:
        if scenario.needs_human:  # the app ends the call (a call-back when no operator is free)
            hangup: dict[str, Any] = {"hangup": "far_end", "wait_bye_s": script.duration_s + 30}
        else:
            hangup = {"hangup": "after"}
        result = await place_call_async(asterisk, workdir / "sipp", script, **hangup)
        assert app.handlers, result.log  # the call reached the AI operator
        handler = app.handlers[-1]
        # SIPp counts the app's own BYE during the caller's closing pause (a goodbye) as a failure
        assert result.returncode == 0 or handler.engine.finished, result.log
        await app.wait_for(lambda: handler.done.is_set(), 30, "the end of the dialogue")
        return _result(scenario, app, handler)
    finally:
        await app.stop()


def on_the_day(scenario: scenarios.Scenario, today: date) -> scenarios.Scenario:
    """The scenario with its expected date moved from the suite's day (2026-11-22) to ``today``: a
    live call runs on the real clock ("tối hôm qua" is the day before the call)."""
    slots = dict(scenario.expect.get("slots") or {})
    if "time" not in slots:
        return scenario
    written = str(slots["time"])
    moved = today + (date.fromisoformat(written[:10]) - SUITE_DAY)
    slots["time"] = moved.isoformat() + written[10:]
    return replace(scenario, expect={**scenario.expect, "slots": slots})


def _result(scenario: scenarios.Scenario, app: AiApp, handler: Any) -> scenarios.Result:
    outcome, urgent, draft = live_outcome(app, handler)
    out = scenarios.Result(scenario, outcome, draft, list(draft.transcript), urgent=urgent)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    out.problems = scenarios.check(on_the_day(scenario, today), outcome, urgent, draft)
    if outcome == "ticket":
        [code] = [code for code, complete in handler.ports.filed if complete]
        ticket = app.tickets.get(code)
        assert ticket.caller.name == draft.name and ticket.place.ward_name == draft.ward
    return out


@pytest.mark.parametrize("scenario_id", LIVE)
async def test_scenario_on_a_real_call(scenario_id: str, asterisk: AsteriskInstance, tmp_path: Path) -> None:
    [scenario] = [s for s in scenarios.load([SCENARIOS]) if s.id == scenario_id]
    refusals = counter_total("hotline_refusals")
    result = await run_live(scenario, asterisk, tmp_path)
    assert result.correct, (result.problems, result.transcript)
    if scenario.expect.get("outcome") == "refusal":  # the call app's metric counted it
        assert counter_total("hotline_refusals") > refusals

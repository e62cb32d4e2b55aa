"""The parts of a call shared or split out of the live handler: the action performer (the same for
the console runner and the live call), keypad collection and the voice gate."""

from __future__ import annotations

import array
import asyncio

import pytest

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.performer import ActionPerformer
from pbx.ai_operator.keypad import KEY_REQUESTS, Keypad, keyed_event
from pbx.ai_operator.voice import ONSET_FRAMES, PRE_ROLL_FRAMES, VoiceGate


class Ports:
    def __init__(self, code: str | None = "000000013", fail: bool = False) -> None:
        self.code, self.fail = code, fail

    def lookup_dossier(self, code: str) -> ev.DossierResult:
        if self.fail:
            raise OSError("dossier system down")
        return ev.DossierResult(code, True, "Đang xử lý")

    def lookup_ticket(self, code: str) -> ev.TicketStatus:
        raise RuntimeError("no database")

    def create_ticket(self, draft: Draft, complete: bool) -> str | None:
        if self.fail:
            raise OSError("disk full")
        return self.code

    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        if self.fail:
            raise OSError("outbox down")
        return True


DRAFT = Draft(content="Rác thải", phone="0912345678")


def test_the_performer_answers_the_engine_with_the_same_rules_everywhere() -> None:
    ok = ActionPerformer(Ports())
    assert ok.perform(act.LookupDossier("2611200012")).answer == ev.DossierResult(
        "2611200012", True, "Đang xử lý"
    )
    assert ok.perform(act.LookupTicket("000000013")).answer == ev.Timeout()  # a failing lookup
    filed = ok.perform(act.CreateTicket(DRAFT, True))
    assert filed.answer == ev.TicketCreated("000000013") and filed.filed == ("000000013", True)
    draft = ok.perform(act.CreateTicket(DRAFT, False))
    assert draft.answer is None and draft.filed == ("000000013", False)
    journaled = ActionPerformer(Ports(code="J-20261206-1")).perform(act.CreateTicket(DRAFT, True))
    assert journaled.answer == ev.TicketCreated("") and journaled.filed == ("J-20261206-1", True)
    dry = ActionPerformer(Ports(code=None)).perform(act.CreateTicket(DRAFT, True))
    assert dry.dry_run and dry.answer is None and dry.filed is None
    broken = ActionPerformer(Ports(fail=True))
    assert broken.perform(act.CreateTicket(DRAFT, True)).answer == ev.TicketCreated("")
    assert broken.perform(act.LookupDossier("x")).answer == ev.Timeout()
    sms = act.SendProcedureSms("khai-sinh", "0912345678", "Khai sinh", "Tờ khai")
    assert ok.perform(sms).sms_sent and not broken.perform(sms).sms_sent
    assert not ok.handles(act.Say("xin chào")) and ok.handles(sms)


async def test_keypad_entries_end_with_hash_or_a_pause() -> None:
    entries: list[str] = []
    pad = Keypad(entries.append)
    for digit in "2611200012#":
        pad.key(digit, expects_number=True)
    assert entries == ["2611200012#"] and pad.digits == ""
    pad.key("1", expects_number=False)
    await asyncio.sleep(1.5)  # the menu-key pause (1.2 s) ends it
    assert entries[-1] == "1"
    pad.key("5", expects_number=True)
    pad.clear()
    await asyncio.sleep(0.1)
    assert entries[-1] == "1" and pad.digits == ""


@pytest.mark.parametrize(("digits", "menu"), [("1", True), ("0#", True), ("1", False)])
def test_menu_keys_stand_for_what_a_caller_would_say(digits: str, menu: bool) -> None:
    event = keyed_event(digits, menu)
    if menu:
        assert event == ev.Heard(KEY_REQUESTS[digits.rstrip("#")], 1.0)
    else:
        assert event == ev.Digits(digits)


def frame(level: int) -> bytes:
    return array.array("h", [level, -level] * 80).tobytes()  # 20 ms of 8 kHz slin16


def test_the_voice_gate_opens_at_the_onset_with_its_pre_roll() -> None:
    gate = VoiceGate()
    quiet, loud = frame(0), frame(12000)
    for _ in range(PRE_ROLL_FRAMES + 5):
        assert not gate.hear(quiet) and gate.gate(quiet, line_quiet=False) == []  # a prompt plays
    onsets = []
    handed: list[bytes] = []
    for _ in range(ONSET_FRAMES):
        onsets.append(gate.hear(loud))
        handed += gate.gate(loud, line_quiet=False)
    assert onsets == [False] * (ONSET_FRAMES - 1) + [True]  # barge-in exactly at the onset
    assert gate.armed and len(handed) == PRE_ROLL_FRAMES  # the ring: silence before, then speech
    assert gate.gate(quiet, line_quiet=False) == [quiet]  # open: everything goes on
    gate.close()
    assert gate.gate(quiet, line_quiet=True) == [quiet] and gate.armed  # a quiet line opens it

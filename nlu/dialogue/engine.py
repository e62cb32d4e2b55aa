"""The AI operator's brain: a pure state machine from caller events to actions (SPEC §1).

It runs the four services of HN Art. 3.1: dossier status lookup (and report status by tracking code),
procedure guidance from the knowledge base, taking a report (collect, ask only for what is missing,
read back, file), and handing over to a human operator (on request, after two failed turns, at once for
urgent reports). Complaints, denunciations, advertising, insults and state secrets are refused with the
reason (HN Art. 1.3, 6.2). Whatever happens, the report draft is kept: hang-ups and goodbyes mid-way end
with ``CreateTicket(draft, complete=False)``, transfers carry the draft.

The engine does no I/O. ``start()`` returns the greeting; ``handle(event)`` returns the next actions.
Lookups and ticket creation are answered back with ``DossierResult``, ``TicketStatus`` and
``TicketCreated`` events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.ports import Interpretation, Interpreter, ProcedureFinder
from nlu.dialogue.prompts import render
from nlu.dialogue.scope import asks_report_status, out_of_scope
from nlu.dialogue.slots import (
    apply_entities,
    content_from_report,
    field_named,
    is_dossier_tail,
    is_phone,
    keyed_digits,
    name_from_answer,
    spoken_digits,
    yes_no,
)
from ticketing.domain import tracking

log = logging.getLogger(__name__)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Phase(StrEnum):
    MENU = "menu"  # waiting for what the caller wants
    REPORT = "report"  # collecting the report's slots
    CONFIRM = "confirm"  # read-back done, waiting for yes/no
    CORRECTION = "correction"  # the caller said the read-back is wrong, waiting for the right value
    FILING = "filing"  # CreateTicket emitted, waiting for TicketCreated
    DOSSIER = "dossier"  # waiting for a dossier code
    DOSSIER_WAIT = "dossier_wait"  # LookupDossier emitted
    TRACKING = "tracking"  # waiting for a report tracking code
    TRACKING_WAIT = "tracking_wait"  # LookupTicket emitted
    PROCEDURE = "procedure"  # waiting for the name of a procedure
    OPERATOR_OFFER = "operator_offer"  # "do you want an operator?", waiting for yes/no
    PROCEDURE_SMS = "procedure_sms"  # "do you want this guidance by SMS?", waiting for yes/no
    DONE = "done"  # hung up, transferred or said goodbye


_SLOT_PROMPTS = {
    "content": "ask_content",
    "ward": "ask_ward",
    "time": "ask_time",
    "name": "ask_name",
    "phone": "ask_phone",
}
_DIGIT_SLOTS = {"phone", "dossier_code", "tracking_code"}
_YESNO_SLOTS = {"phone_confirm", "confirm", "operator_offer", "procedure_sms"}

Clock = Callable[[], datetime]


def _vn_now() -> datetime:
    return datetime.now(VN_TZ)


class DialogueEngine:
    """One call's dialogue. Create one per call; feed it events; run the actions it returns."""

    def __init__(
        self,
        interpreter: Interpreter,
        procedures: ProcedureFinder | None = None,
        *,
        caller_id: str = "",
        city: str = "hanoi",
        hotline: str = "1022",
        clock: Clock = _vn_now,
        max_failures: int = 2,
        min_asr_confidence: float = 0.3,
        min_nlu_confidence: float = 0.4,
    ) -> None:
        self.interpreter = interpreter
        self.procedures = procedures
        self.hotline = hotline
        self.clock = clock
        self.max_failures = max_failures
        self.min_asr_confidence = min_asr_confidence
        self.min_nlu_confidence = min_nlu_confidence
        caller = keyed_digits(caller_id)
        self.draft = Draft(caller_id=caller if is_phone(caller) else "", city=city)
        self.phase = Phase.MENU
        self.slot = "intent"
        self.report_open = False  # a report was started and not yet filed or handed over
        self.ticket_code = ""
        self.last_interpretation: Interpretation | None = None
        self._question = ""  # the last question asked, repeated after silence or a failed turn
        self._failures = 0  # consecutive turns not understood
        self._silences = 0  # consecutive silences
        self._refusals = 0
        self._not_found = 0
        self._out: list[act.Action] = []
        self._explained: Any = None  # the procedure last explained (offered by SMS)

    # -- public API ---------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.phase is Phase.DONE

    def start(self) -> list[act.Action]:
        self._out = []
        self._ask("intent", "greeting", hotline=self.hotline)
        return self._flush()

    def handle(self, event: ev.Event) -> list[act.Action]:
        self._out = []
        if self.phase is Phase.DONE:
            return []
        if isinstance(event, ev.Hangup):
            self._on_hangup()
        elif isinstance(event, ev.Heard):
            self._on_heard(event)
        elif isinstance(event, ev.Digits):
            self._on_digits(event)
        elif isinstance(event, ev.Silence):
            self._on_silence()
        elif isinstance(event, ev.Timeout):
            self._on_timeout()
        elif isinstance(event, ev.DossierResult):
            self._on_dossier_result(event)
        elif isinstance(event, ev.TicketStatus):
            self._on_ticket_status(event)
        elif isinstance(event, ev.TicketCreated):
            self._on_ticket_created(event)
        return self._flush()

    # -- output helpers ----------------------------------------------------------------------------

    def _flush(self) -> list[act.Action]:
        out, self._out = self._out, []
        return out

    def _say(self, template: str, **context: Any) -> str:
        text = render(template, **context)
        self._out.append(act.Say(text))
        self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("bot", text)))
        return text

    def _ask(self, slot: str, template: str, prefix: str = "", **context: Any) -> None:
        """Say a question (optionally after ``prefix`` text) and listen for ``slot``."""
        question = render(template, **context)
        text = f"{prefix} {question}".strip() if prefix else question
        self._out.append(act.Say(text))
        self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("bot", text)))
        self._question = question
        self.slot = slot
        grammar: act.Grammar = (
            "digits" if slot in _DIGIT_SLOTS else "yesno" if slot in _YESNO_SLOTS else "free"
        )
        self._out.append(act.Listen(slot, grammar))

    def _reask(self, template: str) -> None:
        """Apologise (``not_heard``/``not_understood``) and repeat the last question."""
        text = render(template, question=self._question)
        self._out.append(act.Say(text))
        self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("bot", text)))
        grammar: act.Grammar = (
            "digits" if self.slot in _DIGIT_SLOTS else "yesno" if self.slot in _YESNO_SLOTS else "free"
        )
        self._out.append(act.Listen(self.slot, grammar))

    def _transfer(self, reason: str, urgent: bool = False) -> None:
        if urgent:
            self._say("urgent_transfer")
        else:
            self._say("transfer", reason=reason)
        draft = replace(self.draft, note=reason) if self.report_open or self.draft.has_report_data else None
        self._out.append(act.Transfer(reason, draft, urgent))
        self.report_open = False
        self.phase = Phase.DONE

    def _end(self, template: str = "goodbye") -> None:
        if self.report_open:
            self._keep_draft("caller_ended")
            self._say("draft_kept")
        else:
            self._say(template)
        self._out.append(act.Hangup())
        self.phase = Phase.DONE

    def _keep_draft(self, note: str) -> None:
        self._out.append(act.CreateTicket(replace(self.draft, note=note), complete=False))
        self.report_open = False

    def _anything_else(self, prefix: str = "") -> None:
        self.phase = Phase.MENU
        self._ask("more", "anything_else", prefix=prefix)

    def _failed(self) -> None:
        """A turn that was not understood: repeat the question, or transfer after ``max_failures``."""
        self._failures += 1
        if self._failures >= self.max_failures:
            self._transfer("not_understood")
            return
        if self.slot in _DIGIT_SLOTS:
            self._offer_keypad()
        else:
            self._reask("not_understood")

    def _offer_keypad(self) -> None:
        template = {"phone": "offer_dtmf_phone", "dossier_code": "offer_dtmf_dossier"}.get(
            self.slot, "ask_tracking_code"
        )
        self._ask(self.slot, template)

    # -- events ------------------------------------------------------------------------------------

    def _on_hangup(self) -> None:
        if self.report_open:
            self._keep_draft("caller_hung_up")
        self.phase = Phase.DONE

    def _on_silence(self) -> None:
        if self.phase in (Phase.FILING, Phase.DOSSIER_WAIT, Phase.TRACKING_WAIT):
            return  # the caller is waiting for us
        self._silences += 1
        if self._silences >= self.max_failures:
            self._transfer("no_response")
        else:
            self._reask("not_heard")

    def _on_timeout(self) -> None:
        if self.phase is Phase.FILING:
            self._transfer("ticket_failed")
        elif self.phase in (Phase.DOSSIER_WAIT, Phase.TRACKING_WAIT):
            self._say("lookup_failed")
            self._transfer("lookup_failed")
        else:
            self._on_silence()

    def _on_digits(self, event: ev.Digits) -> None:
        digits = keyed_digits(event.digits)
        self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("caller", f"[phím] {digits}")))
        self._silences = 0
        if self.phase is Phase.REPORT and self.slot == "phone":
            if is_phone(digits):
                self._succeeded()
                self.draft = replace(self.draft, phone=digits, phone_confirmed=True)
                self._next_report_step()
            else:
                self._failed()
        elif self.phase is Phase.DOSSIER:
            if is_dossier_tail(digits, self.clock().date()):
                self._lookup_dossier(digits)
            else:
                self._failed()
        elif self.phase is Phase.TRACKING:
            self._tracking_code(digits)
        elif self.phase is Phase.MENU and digits in ("0", "9"):
            self._transfer("caller_request")  # keypad shortcut for an operator
        elif self.phase in (Phase.CONFIRM, Phase.OPERATOR_OFFER, Phase.PROCEDURE_SMS) and digits in (
            "1",
            "2",
        ):
            # "bấm 1 nếu đúng, 2 nếu sai" works wherever a yes/no is expected
            self._on_heard(ev.Heard("đúng" if digits == "1" else "không", 1.0))
        else:
            self._failed()

    def _on_heard(self, event: ev.Heard) -> None:
        text = event.text.strip()
        if not text:
            self._on_silence()
            return
        self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("caller", text)))
        self._silences = 0
        if self.phase in (Phase.FILING, Phase.DOSSIER_WAIT, Phase.TRACKING_WAIT):
            return  # talking over the wait; the result event will answer
        if event.confidence < self.min_asr_confidence:
            self._failures += 1
            if self._failures >= self.max_failures:
                self._transfer("not_understood")
            else:
                self._reask("not_heard")
            return

        refused = out_of_scope(text)
        if refused:
            self._refuse(refused)
            return
        try:
            nlu = self.interpreter.interpret(text, self.clock())
        except Exception as exc:  # a broken interpreter must not drop the call
            # The turn itself may hold a phone number, a citizen ID or a name: never log it, nor the
            # exception's message or traceback (they quote values taken from it, e.g. "days=2000000000").
            log.error(
                "interpreter failed on a %d-character turn: %s at %s",
                len(text),
                type(exc).__name__,
                _where(exc),
            )
            self._failed()
            return
        self.last_interpretation = nlu
        entities = nlu.entities

        # What holds in every state: urgency, operator request, complaints, goodbye.
        if entities.get("urgent") == "true":
            content = self.draft.content or text
            self.draft = replace(apply_entities(self.draft, entities), urgent=True, content=content)
            self.report_open = True
            self._transfer("urgent", urgent=True)
            return
        if nlu.intent == "request_operator" and nlu.confidence >= self.min_nlu_confidence:
            self.draft = apply_entities(self.draft, entities)
            self._transfer("caller_request")
            return
        if nlu.intent == "complaint_denunciation" and nlu.confidence >= self.min_nlu_confidence:
            self._refuse("complaint")
            return
        if nlu.intent == "goodbye" and self.phase in (
            Phase.MENU,
            Phase.REPORT,
            Phase.PROCEDURE,
            Phase.PROCEDURE_SMS,
        ):
            self._end()
            return

        handler = {
            Phase.MENU: self._menu,
            Phase.REPORT: self._report_turn,
            Phase.CONFIRM: self._confirm_turn,
            Phase.CORRECTION: self._correction_turn,
            Phase.DOSSIER: self._dossier_turn,
            Phase.TRACKING: self._tracking_turn,
            Phase.PROCEDURE: self._procedure_turn,
            Phase.OPERATOR_OFFER: self._operator_offer_turn,
            Phase.PROCEDURE_SMS: self._procedure_sms_turn,
        }[self.phase]
        handler(text, nlu)

    def _succeeded(self) -> None:
        self._failures = 0

    def _refuse(self, reason: str) -> None:
        self._refusals += 1
        template = {
            "complaint": "refuse_complaint",
            "advertising": "refuse_advertising",
            "insult": "refuse_insult",
            "state_secret": "refuse_secret",
        }[reason]
        text = render(template)
        if reason == "advertising" or self._refusals >= self.max_failures:
            self._say(template)
            self._end()
            return
        if self.phase in (Phase.REPORT, Phase.CONFIRM, Phase.CORRECTION):
            self._out.append(act.Say(text))
            self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("bot", text)))
            self._out.append(act.Listen(self.slot, "free"))
            return
        self._anything_else(prefix=text)

    # -- menu ----------------------------------------------------------------------------------------

    def _menu(self, text: str, nlu: Interpretation) -> None:
        intent = nlu.intent if nlu.confidence >= self.min_nlu_confidence else ""
        entities = nlu.entities
        if asks_report_status(text):
            self._succeeded()
            self._start_tracking(text)
        elif intent == "report" or (intent == "inform" and {"ward", "category"} & entities.keys()):
            self._succeeded()
            self._start_report(text, entities)
        elif intent == "dossier_lookup":
            self._succeeded()
            self._start_dossier(entities)
        elif intent == "procedure_question":
            self._succeeded()
            self._start_procedure(text)
        elif intent == "greet":
            self._ask("intent", "menu")
        elif self.slot == "more" and (intent == "deny" or (intent != "affirm" and yes_no(text) is False)):
            self._end()
        elif self.slot == "more" and (intent == "affirm" or yes_no(text) is True):
            self._ask("intent", "menu")
        else:
            self._failed()

    # -- report --------------------------------------------------------------------------------------

    def _start_report(self, text: str, entities: dict[str, str]) -> None:
        self.phase = Phase.REPORT
        self.report_open = True
        self.draft = apply_entities(self.draft, entities)
        if not self.draft.content:
            content = content_from_report(text)
            if content:
                self.draft = replace(self.draft, content=content)
        self._next_report_step()

    def _next_report_step(self) -> None:
        missing = self.draft.missing()
        if not missing:
            self.phase = Phase.CONFIRM
            self._ask("confirm", "readback", d=self.draft)
            return
        self.phase = Phase.REPORT
        slot = missing[0]
        if slot == "phone" and self.draft.caller_id and not self.draft.phone:
            self._ask("phone_confirm", "confirm_phone", phone=self.draft.caller_id)
        elif slot == "phone" and self.draft.phone and not self.draft.phone_confirmed:
            self._ask("phone_confirm", "confirm_phone", phone=self.draft.phone)
        else:
            self._ask(slot, _SLOT_PROMPTS[slot])

    def _report_turn(self, text: str, nlu: Interpretation) -> None:
        before = self.draft
        self.draft = apply_entities(self.draft, nlu.entities)
        slot = self.slot
        filled = self.draft != before
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"

        if slot == "phone_confirm":
            if self.draft.phone and self.draft.phone != before.phone:
                filled = True  # "không phải, số của tôi là ..."
            elif answer is True:
                phone = self.draft.phone or self.draft.caller_id
                self.draft = replace(self.draft, phone=phone, phone_confirmed=True)
                filled = True
            elif answer is False:
                self.draft = replace(self.draft, phone="", phone_confirmed=False, caller_id="")
                self._succeeded()
                self._ask("phone", "ask_phone")
                return
        elif slot == "content" and not self.draft.content:
            content = content_from_report(text, min_words=2) or (text if len(text.split()) >= 2 else "")
            if content and answer is None:
                self.draft = replace(self.draft, content=content)
                filled = True
        elif slot == "ward" and not self.draft.ward:
            if answer is None and len(text.split()) >= 2 and not self.draft.address:
                self.draft = replace(self.draft, address=text)  # keep the street; still need the ward
        elif slot == "time" and not (self.draft.incident_time or self.draft.time_text):
            # an unparsed answer is kept verbatim ("mấy hôm nay"), unless the turn answered something
            # else instead (a name, a ward): then the time is asked again
            if not filled and (answer is None or "không" in text.lower()):
                self.draft = replace(self.draft, time_text=text)
                filled = True
        elif slot == "name" and not self.draft.name:
            name = name_from_answer(text)
            if name:
                self.draft = replace(self.draft, name=name)
                filled = True
        elif slot == "phone" and not self.draft.phone:
            digits = spoken_digits(text)
            if is_phone(digits):
                self.draft = replace(self.draft, phone=digits, phone_confirmed=True)
                filled = True

        if filled:
            self._succeeded()
            self._next_report_step()
        else:
            self._failed()

    def _confirm_turn(self, text: str, nlu: Interpretation) -> None:
        before = self.draft
        self.draft = apply_entities(self.draft, nlu.entities)
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"
        if self.draft != before:  # a correction with the right value: read back again
            self._succeeded()
            self._next_report_step()
        elif answer is True:
            self._succeeded()
            self.phase = Phase.FILING
            self.report_open = False
            self.draft = replace(self.draft, category=self.draft.category or "KHAC")
            self._out.append(act.CreateTicket(self.draft, complete=True))
        elif answer is False:
            self._succeeded()
            self._correct_field(field_named(text))
        elif field_named(text):
            self._correct_field(field_named(text))
        else:
            self._failed()

    def _correct_field(self, field: str | None) -> None:
        """Clear the named field and ask for it again, or ask which one is wrong."""
        if field is None:
            self.phase = Phase.CORRECTION
            self._ask("correction", "which_wrong")
            return
        resets: dict[str, dict[str, Any]] = {
            "phone": {"phone": "", "phone_confirmed": False, "caller_id": ""},
            "cccd": {"cccd": ""},
            "name": {"name": ""},
            "ward": {"ward": "", "address": ""},
            "time": {"incident_time": "", "time_text": ""},
            "content": {"content": ""},
        }
        changes = resets[field]
        self.draft = replace(self.draft, **changes)
        if field == "cccd":
            self._next_report_step()
            return
        self.phase = Phase.REPORT
        self._ask(field, _SLOT_PROMPTS[field])

    def _correction_turn(self, text: str, nlu: Interpretation) -> None:
        before = self.draft
        self.draft = apply_entities(self.draft, nlu.entities)
        if self.draft != before:
            self._succeeded()
            self._next_report_step()
        elif field_named(text):
            self._succeeded()
            self._correct_field(field_named(text))
        elif nlu.intent == "affirm" or yes_no(text) is True:
            self._succeeded()
            self._next_report_step()
        else:
            self._failed()

    def _on_ticket_created(self, event: ev.TicketCreated) -> None:
        if self.phase is not Phase.FILING:
            return
        if not event.code:
            self._transfer("ticket_failed")
            return
        self.ticket_code = event.code
        text = render("ticket_created", code=event.code)
        self._anything_else(prefix=text)

    # -- dossier and report status -----------------------------------------------------------------

    def _start_dossier(self, entities: dict[str, str]) -> None:
        self._not_found = 0
        code = entities.get("dossier_code", "")
        if code:
            self._lookup_dossier(code)
        else:
            self.phase = Phase.DOSSIER
            self._ask("dossier_code", "ask_dossier_code")

    def _lookup_dossier(self, code: str) -> None:
        self._succeeded()
        self.phase = Phase.DOSSIER_WAIT
        self._out.append(act.LookupDossier(code))

    def _dossier_turn(self, text: str, nlu: Interpretation) -> None:
        code = nlu.entities.get("dossier_code", "")
        if not code:
            digits = spoken_digits(text)
            code = digits if is_dossier_tail(digits, self.clock().date()) else ""
        if code:
            self._lookup_dossier(code)
        elif nlu.intent == "deny" or yes_no(text) is False:
            self._anything_else()
        else:
            self._failed()

    def _on_dossier_result(self, event: ev.DossierResult) -> None:
        if self.phase is not Phase.DOSSIER_WAIT:
            return
        if event.found:
            self._anything_else(prefix=render("dossier_found", r=event))
            return
        self._not_found += 1
        retry = self._not_found < 2
        text = render("dossier_not_found", code=event.code, retry=retry)
        if retry:
            self.phase = Phase.DOSSIER
            self._out.append(act.Say(text))
            self.draft = replace(self.draft, transcript=(*self.draft.transcript, ("bot", text)))
            self.slot = "dossier_code"
            self._question = render("ask_dossier_code")
            self._out.append(act.Listen("dossier_code", "digits"))
        else:
            self._anything_else(prefix=text)

    def _start_tracking(self, text: str) -> None:
        digits = spoken_digits(text)
        if tracking.is_valid(digits):
            self._lookup_ticket(digits)
            return
        self.phase = Phase.TRACKING
        self._ask("tracking_code", "ask_tracking_code")

    def _tracking_turn(self, text: str, nlu: Interpretation) -> None:
        digits = spoken_digits(text)
        if digits:
            self._tracking_code(digits)
        elif nlu.intent == "deny" or yes_no(text) is False:
            self._anything_else()
        else:
            self._failed()

    def _tracking_code(self, digits: str) -> None:
        code = tracking.normalize(digits)
        if tracking.is_valid(code):
            self._lookup_ticket(code)
            return
        # The check digit caught a slip: ask for the code on the keypad.
        self._failures += 1
        if self._failures >= self.max_failures:
            self._transfer("not_understood")
            return
        self._ask("tracking_code", "tracking_invalid", code=code)

    def _lookup_ticket(self, code: str) -> None:
        self._succeeded()
        self.phase = Phase.TRACKING_WAIT
        self._out.append(act.LookupTicket(code))

    def _on_ticket_status(self, event: ev.TicketStatus) -> None:
        if self.phase is not Phase.TRACKING_WAIT:
            return
        if event.found:
            self._anything_else(prefix=render("ticket_status_found", r=event))
        else:
            self._anything_else(prefix=render("ticket_status_not_found", code=event.code))

    # -- procedures ----------------------------------------------------------------------------------

    def _start_procedure(self, text: str) -> None:
        found = self.procedures.best(text) if self.procedures else None
        if found is not None:
            self._answer_procedure(found)
        else:
            self.phase = Phase.PROCEDURE
            self._ask("procedure", "ask_procedure")

    def _answer_procedure(self, procedure: Any) -> None:
        self._out.append(act.AnswerProcedure(procedure.id))
        answer = render("procedure_answer", p=procedure)
        if not self.draft.caller_id:  # no number to send it to
            self._anything_else(prefix=answer)
            return
        self._explained = procedure
        self.phase = Phase.PROCEDURE_SMS
        self._ask("procedure_sms", "offer_procedure_sms", prefix=answer, phone=self.draft.caller_id)

    def _procedure_sms_turn(self, text: str, nlu: Interpretation) -> None:
        if nlu.intent in ("report", "dossier_lookup", "procedure_question") and (
            nlu.confidence >= self.min_nlu_confidence
        ):
            self.phase = Phase.MENU  # the caller moved on to another request
            self._menu(text, nlu)
            return
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"
        if answer is True:
            self._succeeded()
            p = self._explained
            summary = render("procedure_sms", p=p)
            self._out.append(act.SendProcedureSms(p.id, self.draft.caller_id, p.name, summary))
            self._anything_else(prefix=render("procedure_sms_sent"))
        elif answer is False:
            self._succeeded()
            self._anything_else()
        else:
            self._failed()

    def _procedure_turn(self, text: str, nlu: Interpretation) -> None:
        found = self.procedures.best(text) if self.procedures else None
        if found is not None:
            self._succeeded()
            self._answer_procedure(found)
        elif nlu.intent in ("report", "dossier_lookup") and nlu.confidence >= self.min_nlu_confidence:
            self.phase = Phase.MENU
            self._menu(text, nlu)
        else:
            self._succeeded()
            self.phase = Phase.OPERATOR_OFFER
            self._ask("operator_offer", "procedure_unknown")

    def _operator_offer_turn(self, text: str, nlu: Interpretation) -> None:
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"
        if answer is True:
            self._transfer("procedure_unknown")
        elif answer is False:
            self._anything_else()
        else:
            self._failed()


def _where(exc: BaseException) -> str:
    """``module:line`` where ``exc`` was raised: enough to find the bug, nothing of the caller's words."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_globals.get('__name__', '?')}:{tb.tb_lineno}"

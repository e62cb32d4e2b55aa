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

import reference
from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.ports import Interpretation, Interpreter, ProcedureFinder
from nlu.dialogue.prompts import render
from nlu.dialogue.review import ReviewItem
from nlu.dialogue.scope import asks_report_status, out_of_scope
from nlu.dialogue.slots import (
    address_from_place,
    apply_entities,
    asks_operator,
    correction_pieces,
    field_named,
    is_dossier_tail,
    is_phone,
    keyed_digits,
    name_from_answer,
    name_in_correction,
    nothing_more,
    place_words,
    spoken_digits,
    time_span,
    time_unknown,
    time_words,
    yes_no,
)
from nlu.intent_rules import asks_for_operator, says_goodbye
from nlu.normalize import extract_entities
from nlu.normalize.content import report_content
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
_OTHER_SERVICES = ("procedure_question", "dossier_lookup")
_COLLECTING = (Phase.REPORT, Phase.CONFIRM, Phase.CORRECTION)
_CODE_MIN_DIGITS = 6  # fewer digits ("linh" in a street name) are not a tracking code
_YESNO_SLOTS = {"phone_confirm", "confirm", "operator_offer", "procedure_sms"}
_WAITING = (Phase.FILING, Phase.DOSSIER_WAIT, Phase.TRACKING_WAIT)
_IDENTITY = ("name", "phone", "cccd")  # who the caller is: kept from any turn, even before the request

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
        self._not_found = 0
        self._out: list[act.Action] = []
        self._explained: Any = None  # the procedure last explained (offered by SMS)
        self.review_items: list[ReviewItem] = []  # turns for the learning loop (nlu.review)
        self.answered: list[str] = []  # services given: "procedure", "dossier", "ticket_status", "refusal"
        # what was refused, in order (complaint, advertising, insult, state_secret)
        self.refused: list[str] = []
        self._turn_text = ""
        self._caller_turns = 0

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
        if not urgent:
            self._keep_for_review("handoff")
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

    def _keep_for_review(self, reason: str) -> None:
        """Note the current caller turn for the review queue (once per turn and reason)."""
        if not self._turn_text:
            return
        nlu = self.last_interpretation
        item = ReviewItem(
            reason=reason,
            text=self._turn_text,
            intent=nlu.intent if nlu else "",
            confidence=round(nlu.confidence, 3) if nlu else 0.0,
            entities=dict(nlu.entities) if nlu else {},
            phase=str(self.phase),
            slot=self.slot,
            turn=self._caller_turns - 1,
        )
        if not any(r.reason == reason and r.turn == item.turn for r in self.review_items):
            self.review_items.append(item)

    def _failed(self) -> None:
        """A turn that was not understood: repeat the question, or transfer after ``max_failures``."""
        self._keep_for_review("not_understood")
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
        if self.phase is Phase.REPORT and self.slot == "phone_confirm" and digits in ("1", "2"):
            self._on_heard(ev.Heard("đúng" if digits == "1" else "không", 1.0))
        elif self.phase is Phase.REPORT and self.slot in ("phone", "phone_confirm") and len(digits) > 2:
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
        elif digits in ("0", "9") and self.slot not in _DIGIT_SLOTS and self.phase not in _WAITING:
            self._transfer("caller_request")  # keypad shortcut for an operator, wherever no number is asked
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
        self._turn_text = text
        self._caller_turns += 1
        self.last_interpretation = None
        if self.phase in (Phase.FILING, Phase.DOSSIER_WAIT, Phase.TRACKING_WAIT):
            return  # talking over the wait; the result event will answer
        if event.confidence < self.min_asr_confidence:
            self._keep_for_review("not_understood")
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
        nlu = self._in_city(nlu)
        self.last_interpretation = nlu
        entities = nlu.entities
        if nlu.confidence < self.min_nlu_confidence and nlu.confidence > 0:
            self._keep_for_review("low_confidence")

        # What holds in every state: urgency, operator request, complaints, goodbye.
        if entities.get("urgent") == "true":
            content = self.draft.content or text  # an operator hears it all at once
            self.draft = replace(apply_entities(self.draft, entities), urgent=True, content=content)
            self.report_open = True
            self._transfer("urgent", urgent=True)
            return
        # While a report is taken, only words that ask for a person hand the call over (a statistical
        # model also says "request_operator" for "tôi không muốn nói tên" or "dạ có, gửi giùm em").
        collecting = (
            self.phase in (Phase.REPORT, Phase.CONFIRM, Phase.CORRECTION) or self.slot in _YESNO_SLOTS
        )
        wants_person = asks_operator(text) or asks_for_operator(text) or not collecting
        if nlu.intent == "request_operator" and nlu.confidence >= self.min_nlu_confidence and wants_person:
            self.draft = apply_entities(self.draft, entities)
            self._transfer("caller_request")
            return
        if nlu.intent == "complaint_denunciation" and nlu.confidence >= self.min_nlu_confidence:
            self._refuse("complaint")
            return
        closing = nlu.confidence >= self.min_nlu_confidence or says_goodbye(text)
        if self.phase is Phase.REPORT:
            closing = says_goodbye(text)  # "ngày nào cũng thế" answers the question, it is no goodbye
        if (
            nlu.intent == "goodbye"
            and closing
            and self.phase
            in (
                Phase.MENU,
                Phase.REPORT,
                Phase.PROCEDURE,
                Phase.PROCEDURE_SMS,
            )
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

    def _city_wards(self) -> set[str] | None:
        """The official names of the city's wards and communes (None for a city without a list)."""
        if self.draft.city not in reference.CITIES:
            return None
        return {u.name for u in reference.units(self.draft.city)}

    def _in_city(self, nlu: Interpretation) -> Interpretation:
        """Drop a ward of another city: this hotline files reports of its own city only."""
        ward = nlu.entities.get("ward")
        wards = self._city_wards()
        if not ward or wards is None or ward in wards:
            return nlu
        return replace(nlu, entities={k: v for k, v in nlu.entities.items() if k != "ward"})

    def _refuse(self, reason: str) -> None:
        self.answered.append("refusal")
        self.refused.append(reason)
        template = {
            "complaint": "refuse_complaint",
            "advertising": "refuse_advertising",
            "insult": "refuse_insult",
            "state_secret": "refuse_secret",
        }[reason]
        text = render(template)
        if reason == "advertising" or len(self.refused) >= self.max_failures:
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
        elif self.slot == "more" and (
            intent == "deny" or nothing_more(text) or (intent != "affirm" and yes_no(text) is False)
        ):
            self._end()
        elif self.slot == "more" and (intent == "affirm" or yes_no(text) is True):
            self._ask("intent", "menu")
        elif intent in ("inform", "greet") and any(entities.get(k) for k in _IDENTITY):
            # "alo, em tên là ...": who is calling, before what they want; keep it, ask what they need
            before = self.draft
            self.draft = apply_entities(self.draft, {k: v for k, v in entities.items() if k in _IDENTITY})
            taken = [k for k in _IDENTITY if getattr(self.draft, k) != getattr(before, k)]
            self._succeeded()
            self._ask("intent", "menu", prefix=render("ack_taken", taken=taken) if taken else "")
        else:
            self._failed()

    # -- report --------------------------------------------------------------------------------------

    def _start_report(self, text: str, entities: dict[str, str]) -> None:
        self.phase = Phase.REPORT
        self.report_open = True
        self.draft = apply_entities(self.draft, entities)
        if not self.draft.content:
            content = report_content(text, self.draft.name)
            if len(content.split()) >= 3:
                self.draft = replace(self.draft, content=content)
        self._volunteered_time(text)
        self._next_report_step()

    def _volunteered_time(self, text: str) -> None:
        """A span said with the incident ("mất nước từ sáng đến giờ") answers "when?" before it is asked."""
        span = time_span(text, specific=True)
        if span and not (self.draft.incident_time or self.draft.time_text):
            self.draft = replace(self.draft, time_text=span)

    def _next_report_step(self, prefix: str = "") -> None:
        """Read back when nothing is missing, else ask for the first missing slot (after ``prefix``,
        an acknowledgement of what the caller volunteered)."""
        missing = self.draft.missing()
        if not missing:
            self.phase = Phase.CONFIRM
            self._ask("confirm", "readback", prefix=prefix, d=self.draft)
            return
        self.phase = Phase.REPORT
        slot = missing[0]
        if slot == "phone" and self.draft.caller_id and not self.draft.phone:
            self._ask("phone_confirm", "confirm_phone", prefix=prefix, phone=self.draft.caller_id)
        elif slot == "phone" and self.draft.phone and not self.draft.phone_confirmed:
            self._ask("phone_confirm", "confirm_phone", prefix=prefix, phone=self.draft.phone)
        else:
            self._ask(slot, _SLOT_PROMPTS[slot], prefix=prefix)

    def _turn_entities(self, text: str, nlu: Interpretation) -> dict[str, str]:
        """The slot values of a turn; where the caller corrected themselves ("phường an hòa à không
        phường tân an", "không phải ..., số của tôi là ...") the value said last wins."""
        entities = dict(nlu.entities)
        if self.draft.category:
            entities.pop("category", None)  # the report's category was settled by what happened
        pieces = correction_pieces(text)
        if len(pieces) < 2:
            return entities
        now = self.clock()
        current = {
            "name": self.draft.name,
            "phone": self.draft.phone,
            "cccd": self.draft.cccd,
            "ward": self.draft.ward,
            "time": self.draft.incident_time,
        }
        wards = self._city_wards()
        for piece in pieces:
            found = extract_entities(piece, now, self.draft.city)
            if wards is not None and found.get("ward") not in wards:
                found.pop("ward", None)
            for key, value in current.items():
                if found.get(key) and found[key] != value:
                    entities[key] = found[key]
        return entities

    def _take(self, text: str, nlu: Interpretation, slot: str) -> list[str]:
        """Take every slot value the turn holds, whatever was asked; returns the slots taken."""
        before = self.draft
        entities = self._turn_entities(text, nlu)
        draft = apply_entities(before, entities)
        if slot == "name":
            # The whole answer is the name: it wins over a shorter span found in it ("thạch thị ngà"
            # with only "Thị Ngà" recognised, a surname the model has not seen).
            name = name_from_answer(text)
            found = entities.get("name", "")
            extra = len(name.split()) - len(found.split())
            longer = bool(found) and 1 <= extra <= 2 and f" {found.lower()} " in f" {name.lower()} "
            if name and (not found or longer):
                draft = replace(draft, name=name)
        if slot == "phone" and not entities.get("phone"):
            digits = spoken_digits(text)
            if is_phone(digits):
                draft = replace(draft, phone=digits, phone_confirmed=True)
        if slot == "content" and not draft.content:
            content = report_content(text, draft.name)
            if content and (yes_no(text) is None or len(content.split()) >= 3):
                draft = replace(draft, content=content)
        if slot == "ward" and not entities.get("name") and (entities.get("ward") or place_words(text)):
            address = address_from_place(text, draft.ward)
            if address:
                draft = replace(draft, address=address)
        if (
            slot == "time"
            and not entities.get("time")
            and not (draft.incident_time or draft.time_text)
            and (time_unknown(text) or (time_words(text) and draft == before))
        ):
            draft = replace(draft, time_text=text.strip())
        self.draft = draft
        if slot != "time":
            self._volunteered_time(text)
            draft = self.draft
        taken = []
        for key in ("content", "name", "phone", "cccd", "ward", "address", "incident_time", "time_text"):
            if getattr(draft, key) != getattr(before, key):
                taken.append(key)
        return taken

    def _report_turn(self, text: str, nlu: Interpretation) -> None:
        slot = self.slot
        if not self.draft.has_report_data and (
            asks_report_status(text)
            or (nlu.intent in _OTHER_SERVICES and nlu.confidence >= self.min_nlu_confidence)
        ):
            # "tôi muốn phản ánh ... à thôi cho tôi hỏi thủ tục": nothing reported yet, another service
            self.report_open = False
            self.phase = Phase.MENU
            self._menu(text, nlu)
            return
        taken = self._take(text, nlu, slot)
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"

        if slot == "phone_confirm" and "phone" not in taken:
            if answer is True:
                phone = self.draft.phone or self.draft.caller_id
                self.draft = replace(self.draft, phone=phone, phone_confirmed=True)
                taken.append("phone")
            elif answer is False and not taken:
                self.draft = replace(self.draft, phone="", phone_confirmed=False, caller_id="")
                self._succeeded()
                self._ask("phone", "ask_phone")
                return

        if not taken and (time_span(text) or nlu.entities.get("time")) and slot != "time":
            # the time told again (it came with the incident): understood, the question still stands
            self._succeeded()
            self._next_report_step(render("ack_taken", taken=["time_text"]))
            return
        if not taken:
            self._failed()
            return
        self._succeeded()
        asked = {
            "content": {"content"},
            "ward": {"ward", "address"},
            "time": {"incident_time", "time_text"},
            "name": {"name"},
            "phone": {"phone"},
            "phone_confirm": {"phone"},
        }.get(slot, set())
        extra = [k for k in taken if k not in asked]
        prefix = render("ack_taken", taken=extra) if extra else ""
        if slot == "ward" and "address" in taken and "ward" not in taken and not self.draft.ward:
            self.phase = Phase.REPORT
            self._ask("ward", "ask_ward_again", prefix=prefix)
            return
        self._next_report_step(prefix)

    def _confirm_turn(self, text: str, nlu: Interpretation) -> None:
        before = self.draft
        entities = self._turn_entities(text, nlu)
        self.draft = apply_entities(self.draft, entities)
        answer = yes_no(text) if nlu.intent not in ("affirm", "deny") else nlu.intent == "affirm"
        if self.draft != before:  # a correction with the right value: read back again
            self._keep_for_review("correction")
            self._succeeded()
            self._next_report_step()
        elif answer is True:
            self._succeeded()
            self.phase = Phase.FILING
            self.report_open = False
            self.draft = replace(self.draft, category=self.draft.category or "KHAC")
            self._out.append(act.CreateTicket(self.draft, complete=True))
        elif answer is False or field_named(text):
            self._keep_for_review("correction")
            self._succeeded()
            field = field_named(text)
            key = {"time": "time", "ward": "ward", "phone": "phone", "cccd": "cccd"}.get(field or "")
            if key and entities.get(key):
                # "thời gian là chiều nay chứ không phải sáng nay": the value came with the correction
                # and reads the same as the one noted (the same day): read back again, ask nothing
                self._next_report_step()
                return
            name = name_in_correction(text) if field == "name" else ""
            if name:  # "tên sai rồi, là nguyễn văn hai": the right value came with the complaint
                self.draft = replace(self.draft, name=name)
                self._next_report_step()
                return
            self._correct_field(field)
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
        self.draft = apply_entities(self.draft, self._turn_entities(text, nlu))
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
        self.answered.append("dossier")
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
        if len(digits) >= _CODE_MIN_DIGITS:
            self._tracking_code(digits)
        elif nlu.intent in ("report", "dossier_lookup", "procedure_question") and (
            nlu.confidence >= self.min_nlu_confidence
        ):
            self.phase = Phase.MENU  # not a code: the caller wants something else
            self._menu(text, nlu)
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
        self.answered.append("ticket_status")
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
        self.answered.append("procedure")
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

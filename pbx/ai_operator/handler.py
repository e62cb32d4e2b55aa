"""The AI operator's call handler: the dialogue engine run on a live call (SPEC §1).

Its parts: voice activity and barge-in (:mod:`.voice`: the caller's speech onset cuts a playing
prompt at once, and the recogniser gets audio from the onset on, with a pre-roll); keypad collection
(:mod:`.keypad`: ``#`` or a pause ends an entry, menu keys in keypad-only mode); the engine's port
actions (lookups, filing, the guidance SMS) through :class:`nlu.dialogue.performer.ActionPerformer`,
the same performer the console uses, in worker threads. This module drives the turns: speech
recognition in a worker thread only while the engine listens, ``Say`` through the prompt cache
(espeak-ng) and paced playback, ``Transfer`` by saving the draft, checking that an operator can take
the call and continuing the call into the operator queue with ``HOTLINE_DRAFT``.

Failure paths end with a human or a call-back ticket, never silence: no speech model -> a keypad
menu; the engine or a prompt failing -> the pre-rendered transfer prompt and the queue; the
database down -> the report goes to the local journal (:mod:`ticketing.journal`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from nlu.asr.recognizer import AsrEvent, AsrUnavailable, Final, NoInput
from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.performer import ActionPerformer
from nlu.dialogue.ports import Interpretation, Interpreter, ProcedureFinder
from nlu.interpreter import Tally
from ops import instruments, logs
from pbx.ai_operator.keypad import DTMF_MENU, DTMF_NO_INPUT_S, Keypad, keyed_event
from pbx.ai_operator.ports import LivePorts, is_journal_id
from pbx.ai_operator.urgent import UrgentDesk
from pbx.ai_operator.voice import VoiceGate
from pbx.controller import CallSession
from pbx.media import Playback, frames_of
from pbx.prompts import spoken_digits

log = logging.getLogger(__name__)
turn_log = logging.getLogger("pbx.ai_operator.turns")  # one line per understood turn (`hotline app run`)

HANGUP_DRAIN_S = 20.0  # on hang-up, how long the engine may take to file the draft

LOST_CALL_CONTENT = "Cuộc gọi bị gián đoạn do sự cố tổng đài; cần gọi lại cho người gọi."
CALLBACK_REASONS = {
    "after_hours": "Hiện đã ngoài giờ làm việc của tổng đài viên.",
    "no_operator": "Hiện chưa có tổng đài viên nào trực máy.",
}


class Recognizer(Protocol):
    """:class:`nlu.asr.recognizer.StreamingRecognizer`'s interface (tests use a seam with it)."""

    @property
    def in_speech(self) -> bool: ...
    def listen(self, grammar: str = "free", extra_words: tuple[str, ...] = (), slot: str = "") -> None: ...
    def feed(self, frame: bytes) -> list[AsrEvent]: ...
    def finish(self) -> Final: ...


RecognizerFactory = Callable[[], Recognizer]
"""Makes one call's recogniser; raises :class:`AsrUnavailable` when no model can run."""


class PromptSource(Protocol):
    """:class:`pbx.prompts.PromptLibrary`: text -> cached 8 kHz slin16 file."""

    async def asynthesize(self, text: str) -> Path: ...
    def text(self, name: str, **values: object) -> str: ...
    def path_for(self, text: str) -> Path: ...


class OperatorDesk(Protocol):
    async def unavailable(self, urgent: bool) -> str:
        """ "" when an operator can take the call, else "after_hours" or "no_operator"."""
        ...

    async def announce(self, channel_id: str, draft_id: str, draft: Draft | None, reason: str) -> None:
        """Publish the draft summary for operator screens (AMI UserEvent)."""
        ...


class RecordingSink(Protocol):
    def call_ended(self, channel_id: str, recording: str, codes: list[str]) -> None:
        """Attach the whole call's recording to ``codes`` once the caller's channel is gone."""
        ...

    def filed(self, channel_id: str, recording: str, code: str) -> None:
        """Blocking, from a worker thread: ``code`` was filed during the call (persist the pending
        attachment so an app restart can finish it)."""
        ...


class ReviewSink(Protocol):
    """Keeps a call's turns that were not understood, low-confidence, corrected or handed over."""

    def add(
        self,
        items: list[Any],
        *,
        city: str,
        call: str = ...,
        recording: str = ...,
        spans: Sequence[tuple[float, float] | None] = ...,
    ) -> Any: ...


@dataclass
class CallServices:
    """Everything a live call's dialogue needs; built once per app (see :mod:`.wiring`)."""

    prompts: PromptSource
    interpreter: Interpreter
    procedures: ProcedureFinder
    ports_factory: Callable[[], LivePorts]
    recognizer_factory: RecognizerFactory | None
    desk: OperatorDesk
    recordings: RecordingSink
    city: str = "hanoi"
    hotline: str = "1022"
    review: ReviewSink | None = None  # the learning loop's queue (turns a supervisor labels)
    urgent: UrgentDesk | None = None  # urgent reports to the competent agency's duty phone


class TtsFailed(RuntimeError):
    pass


class LoggedInterpreter(Tally):
    """The call's interpreter, noting which backend understood each turn (Rasa or the fallback) in
    the call's stats and in the log (intent and backend only: no caller words)."""

    def __init__(self, inner: Interpreter, channel_id: str, backends: list[str]) -> None:
        super().__init__(inner)
        self.channel_id, self.backends = channel_id, backends

    def interpret(self, text: str, now: datetime) -> Interpretation:
        result = super().interpret(text, now)
        turn_log.info(
            "call %s turn %d: %s (%.2f) by %s",
            self.channel_id,
            len(self.backends),
            result.intent,
            result.confidence,
            result.backend,
        )
        return result


@dataclass
class CallStats:
    barge_ins: int = 0
    barge_in_cut_s: list[float] = field(default_factory=list)  # onset frame arrival -> cut done
    reply_latency_s: list[float] = field(default_factory=list)  # end of utterance -> first reply frame
    replies: list[tuple[str, float]] = field(default_factory=list)  # (start of the reply, its latency)
    asr_frames: int = 0  # frames the recogniser was fed
    asr_batches: int = 0  # hand-offs of frames to a worker thread
    asr_cpu_s: float = 0.0  # CPU seconds spent inside the recogniser (worker-thread time)
    frames_in: int = 0
    heard: list[str] = field(default_factory=list)
    keyed: list[str] = field(default_factory=list)
    interpreted_by: list[str] = field(default_factory=list)  # backend of each understood turn


class DialogueCallHandler:
    """One instance per call (:data:`pbx.controller.HandlerFactory`)."""

    def __init__(self, services: CallServices) -> None:
        self.s = services
        self.ports = services.ports_factory()
        self.performer = ActionPerformer(self.ports)  # lookups, filing, SMS: as the console does them
        self.voice = VoiceGate()
        self.keypad = Keypad(self._keyed)
        self.call: CallSession | None = None
        self.engine: DialogueEngine | None = None
        self.recognizer: Recognizer | None = None
        self.dtmf_only = False
        self.stats = CallStats()
        self.outcome = ""  # "finished" | "transferred" | "callback" | "hung_up" | "failed"
        self.draft_id = ""
        self.log_context = logs.LogContext()
        self.done = asyncio.Event()
        self._inputs: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._driver: asyncio.Task[None] | None = None
        self._asr_task: asyncio.Task[None] | None = None
        self._asr_lock = asyncio.Lock()
        self._asr_buf: list[bytes] = []
        self._asr_wake = asyncio.Event()
        self._listening = False
        self._slot = ""
        self._grammar = "free"
        self._generation = 0
        self._prompting = False  # a turn's prompts are still being synthesised and queued
        self._playing: list[Playback] = []
        self._interruptible = True
        self._wait_timer: asyncio.TimerHandle | None = None  # keypad-only: no input
        self._eou_at: float | None = None
        self._hung_up = False
        self._pbx_lost = False  # Asterisk died under the call (see on_pbx_lost)
        self.said: list[tuple[str, Playback]] = []  # every prompt queued, with its playback
        self.fallback_playback: Playback | None = None  # the pre-rendered transfer prompt, if used
        # where each recognised caller turn lies in the call (seconds from the start): the review
        # queue's audio span of a turn (nlu.review)
        self._t0 = 0.0
        self._speech_at: float | None = None
        self._listen_at = 0.0
        self.heard_spans: list[tuple[str, float, float]] = []

    # ---- CallHandler -----------------------------------------------------------------------------
    async def on_start(self, call: CallSession) -> None:
        self.call = call
        self._t0 = asyncio.get_running_loop().time()
        channel_id, recording, sink = call.channel_id, call.recording, self.s.recordings
        # every record logged by this call's tasks carries its id (bound by the controller, which
        # runs on_start in the call's context), and its ticket code once filed
        bound = logs.current()
        if bound is not None and bound.call_id == channel_id:
            log_ctx, self.log_context = contextvars.copy_context(), bound
        else:
            log_ctx, self.log_context = logs.call_context(channel_id)

        def filed(code: str) -> None:
            self.log_context.ticket_code = code
            sink.filed(channel_id, recording, code)

        self.ports.on_filed = filed
        self.engine = DialogueEngine(
            LoggedInterpreter(self.s.interpreter, call.channel_id, self.stats.interpreted_by),
            self.s.procedures,
            caller_id=call.caller,
            city=self.s.city,
            hotline=self.s.hotline,
        )
        if self.s.recognizer_factory is None:
            log.error("no speech model configured: call %s gets the keypad menu", call.channel_id)
            self.dtmf_only = True
        else:
            try:
                self.recognizer = await asyncio.to_thread(self.s.recognizer_factory)
            except AsrUnavailable as exc:
                log.error("speech recognition unavailable (%s): keypad menu for %s", exc, call.channel_id)
                self.dtmf_only = True
        if self.recognizer is not None:
            self._asr_task = asyncio.create_task(
                self._asr_loop(), name=f"asr-{call.channel_id}", context=log_ctx
            )
        self._driver = asyncio.create_task(self._drive(), name=f"dialogue-{call.channel_id}", context=log_ctx)

    async def on_audio(self, pcm: bytes) -> None:
        self.stats.frames_in += 1
        onset = self.voice.hear(pcm)
        if onset and self._listening and self._speech_at is None:
            self._speech_at = asyncio.get_running_loop().time()
        if onset and self._listening and self._interruptible and self._speaking():
            self._barge_in()
        if not self._listening or self.recognizer is None:
            if self.recognizer is not None and not self._hung_up:
                self.voice.hold(pcm)  # between turns: kept in case the caller goes on talking
            return
        frames = self.voice.gate(pcm, line_quiet=not (self._speaking() or self._prompting))
        if frames:
            self._asr_push(frames)

    async def on_dtmf(self, digit: str) -> None:
        self.stats.keyed.append(digit)
        if not self._listening:
            return
        if self._speaking() and self._interruptible:
            self._barge_in()
        self.keypad.key(digit, expects_number=self._grammar == "digits")

    def on_pbx_lost(self) -> None:
        """The call ended because its Asterisk died: the caller gets a call-back ticket (see
        :meth:`on_hangup`) unless something was filed already."""
        self._pbx_lost = True

    async def on_hangup(self) -> None:
        self._hung_up = True
        self._listening = False
        self.keypad.cancel()
        if self._wait_timer is not None:
            self._wait_timer.cancel()
        if self.call is not None:
            self.call.cut()  # nobody is listening: playbacks end now
        if self.engine is not None and not self.engine.finished:
            self._inputs.put_nowait(ev.Hangup())
            if not self.outcome:
                self.outcome = "hung_up"
        if self._driver is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._driver), HANGUP_DRAIN_S)
            except (TimeoutError, asyncio.CancelledError, Exception):
                log.exception("the dialogue of the hung-up call did not finish in time")
                self._driver.cancel()
        if self._asr_task is not None:
            self._asr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._asr_task
        if self._pbx_lost:
            await self._lost_call_back()
        if self.call is not None:
            codes = [code for code, _ in self.ports.filed]
            self.s.recordings.call_ended(self.call.channel_id, self.call.recording, codes)
            await self._queue_for_review()

    async def _queue_for_review(self) -> None:
        """The learning loop (HN Art. 4.7): the call's turns worth a supervisor's label, with the
        call's recording, into the review queue (``hotline nlu review``). Never fails the call."""
        if self.call is None or self.engine is None or self.s.review is None or not self.engine.review_items:
            return
        items = list(self.engine.review_items)
        spans = turn_spans([i.text for i in items], self.heard_spans)
        review, call = self.s.review, self.call
        try:
            await asyncio.to_thread(
                lambda: review.add(
                    items, city=self.s.city, call=call.channel_id, recording=call.recording, spans=spans
                )
            )
        except Exception:
            log.exception("could not queue the turns of call %s for review", self.call.channel_id)

    async def _lost_call_back(self) -> None:
        """A call the PBX dropped under us: keep what the caller said as a call-back draft."""
        if self.call is None or self.engine is None or self.ports.filed or self.draft_id:
            return
        draft = replace(self.engine.draft, note="call-back: pbx_lost")
        if not draft.content:
            draft = replace(draft, content=LOST_CALL_CONTENT)
        try:
            code = await asyncio.to_thread(self.ports.create_ticket, draft, False)
        except Exception:
            log.exception("could not file the call-back draft of the lost call %s", self.call.channel_id)
            return
        self.draft_id = code
        self.outcome = "callback"
        log.warning("call %s lost with its PBX: call-back draft %s", self.call.channel_id, code)
        with contextlib.suppress(Exception):
            await self.call.set_draft(code)

    # ---- the engine loop -------------------------------------------------------------------------
    async def _drive(self) -> None:
        assert self.engine is not None
        try:
            await self._perform(self.engine.start())
            while not self.engine.finished:
                event = await self._inputs.get()
                actions = await asyncio.to_thread(self.engine.handle, event)
                await self._perform(actions)
        except asyncio.CancelledError:
            raise
        except TtsFailed:
            await self._emergency_transfer("tts_failed")
        except Exception:
            log.exception("the dialogue failed; handing the caller to the operators")
            await self._emergency_transfer("handler_error")
        finally:
            for reason in self.engine.refused:
                instruments.REFUSALS.labels(reason).inc()
            self.done.set()

    async def _perform(self, actions: list[act.Action]) -> None:
        self._prompting = True  # the turn's prompts are being made: silence is not yet "no input"
        try:
            await self._perform_actions(actions)
        finally:
            self._prompting = False
            if self._listening and not self.voice.armed and not self._speaking():
                self.voice.open()  # nothing to play after all: the caller may answer now

    async def _perform_actions(self, actions: list[act.Action]) -> None:
        assert self.engine is not None
        gen = await self._arm_listen(actions)  # may add the keypad menu before the Listen
        pending = deque(actions)
        while pending:
            action = pending.popleft()
            answer: ev.Event | None = None
            if isinstance(action, act.Say):
                await self._say(action, gen)
            elif isinstance(action, act.Listen):
                continue  # armed above, before any prompt was synthesised
            elif self.performer.handles(action):
                answer = await self._port(action)
            elif isinstance(action, act.AnswerProcedure):
                log.info("procedure %s explained", action.procedure_id)
            elif isinstance(action, act.Transfer):
                await self._transfer(action)
                return
            elif isinstance(action, act.Hangup):
                await self._hangup()
                return
            if answer is not None:
                more = await asyncio.to_thread(self.engine.handle, answer)
                gen = await self._arm_listen(more, gen)
                pending.extend(more)

    async def _port(self, action: act.Action) -> ev.Event | None:
        """A lookup, a filing or the guidance SMS, in a worker thread (see :mod:`.performer`)."""
        done = await asyncio.to_thread(self.performer.perform, action)
        answer = done.answer
        if isinstance(answer, ev.TicketCreated) and answer.code and self.call is not None:
            with contextlib.suppress(Exception):
                await self.call.set_draft(answer.code)
        return answer

    # ---- listening -------------------------------------------------------------------------------
    async def _arm_listen(self, actions: list[act.Action], gen: int | None = None) -> int:
        listen = next((a for a in actions if isinstance(a, act.Listen)), None)
        if listen is None:
            return self._generation if gen is None else gen
        if self.dtmf_only and listen.slot in ("intent", "more"):
            actions.insert(actions.index(listen), act.Say(DTMF_MENU))
        self._slot, self._grammar = listen.slot, listen.grammar
        self._speech_at = None
        self._listen_at = asyncio.get_running_loop().time()
        self.keypad.clear()
        if self.recognizer is not None:
            async with self._asr_lock:
                self._asr_buf.clear()
                await asyncio.to_thread(self.recognizer.listen, listen.grammar, (), listen.slot)
        self.voice.close()
        carry = self.voice.still_talking()
        if carry and self.recognizer is not None:
            self.voice.open()  # the caller is mid-sentence: recognise it from its start
            self._asr_push(carry)
        self._listening = not self._hung_up
        if self.dtmf_only:
            self._restart_dtmf_wait()
        return self._generation

    def _restart_dtmf_wait(self) -> None:
        if self._wait_timer is not None:
            self._wait_timer.cancel()
        self._wait_timer = asyncio.get_running_loop().call_later(
            DTMF_NO_INPUT_S + self._queued_audio_s(), self._dtmf_no_input
        )

    def _queued_audio_s(self) -> float:
        return 0.0 if not self._speaking() else 30.0  # re-armed when the prompt ends

    def _dtmf_no_input(self) -> None:
        if self._speaking():
            self._restart_dtmf_wait()
            return
        if self._listening and not self.keypad.digits:
            self._end_turn(ev.Silence())

    def _end_turn(self, event: ev.Event) -> None:
        self._listening = False
        self.voice.end_turn()
        self._asr_buf.clear()
        self.keypad.cancel()
        if self._wait_timer is not None:
            self._wait_timer.cancel()
        self._wait_timer = None
        self._inputs.put_nowait(event)

    def _keyed(self, digits: str) -> None:
        """A keyed entry ended (``#`` or the pause): the turn's event."""
        if not self._listening:
            return
        self._eou_at = asyncio.get_running_loop().time()
        self._end_turn(keyed_event(digits, menu=self.dtmf_only and self._slot in ("intent", "more")))

    def _asr_push(self, frames: list[bytes]) -> None:
        self._asr_buf.extend(frames)
        self._asr_wake.set()

    async def _asr_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._asr_wake.wait()
            self._asr_wake.clear()
            async with self._asr_lock:
                frames, self._asr_buf = self._asr_buf, []
                if not frames or not self._listening or self.recognizer is None:
                    continue
                taken_at = loop.time()
                self.stats.asr_frames += len(frames)
                self.stats.asr_batches += 1
                try:
                    result, cpu = await asyncio.to_thread(_feed, self.recognizer, frames)
                    self.stats.asr_cpu_s += cpu
                except Exception:
                    log.exception("speech recognition failed; treating the turn as not heard")
                    result = NoInput()
                instruments.ASR_LATENCY.observe(loop.time() - taken_at)
            if result is None or not self._listening:
                continue
            self._eou_at = taken_at
            if isinstance(result, Final) and result.text:
                self.stats.heard.append(result.text)
                start = self._speech_at if self._speech_at is not None else self._listen_at
                self.heard_spans.append((result.text.strip(), start - self._t0, loop.time() - self._t0))
                self._end_turn(ev.Heard(result.text, result.confidence))
            else:
                self._end_turn(ev.Silence())

    # ---- speaking --------------------------------------------------------------------------------
    def _speaking(self) -> bool:
        return any(not p.done.done() for p in self._playing)

    def _barge_in(self) -> None:
        assert self.call is not None
        loop_time = asyncio.get_running_loop().time()
        self._generation += 1
        self.call.cut()
        self.stats.barge_ins += 1
        self.stats.barge_in_cut_s.append(asyncio.get_running_loop().time() - loop_time)

    async def _audio_for(self, text: str) -> bytes:
        try:
            path = await self.s.prompts.asynthesize(text)
            return await asyncio.to_thread(path.read_bytes)
        except Exception as exc:
            log.error("speech synthesis failed for a %d-character prompt: %s", len(text), exc)
            raise TtsFailed(str(exc)) from exc

    async def _say(self, action: act.Say, gen: int) -> None:
        if gen != self._generation or self._hung_up or self.call is None:
            return  # the caller barged in: the rest of this turn's prompts are dropped
        pcm = await self._audio_for(action.text)
        if gen != self._generation or self._hung_up:
            return
        self._interruptible = action.barge_in
        playback = self.call.media.play_stream(self._timed(pcm, action.text), framed=True)
        self._playing = [p for p in self._playing if not p.done.done()] + [playback]
        self.said.append((action.text, playback))
        playback.done.add_done_callback(lambda _f: self._prompt_ended())

    async def _timed(self, pcm: bytes, text: str) -> AsyncIterator[bytes]:
        first = True
        for frame in frames_of(pcm):
            if first:
                first = False
                if self._eou_at is not None:
                    latency = asyncio.get_running_loop().time() - self._eou_at
                    self.stats.reply_latency_s.append(latency)
                    instruments.REPLY_LATENCY.observe(latency)
                    self.stats.replies.append((text[:48], latency))
                    self._eou_at = None
            yield frame

    def _prompt_ended(self) -> None:
        if self._speaking():
            return
        self._interruptible = True
        if self._listening and not self.voice.armed and not self._prompting:
            self.voice.open()  # the caller may answer now: silence from here counts as no input
        if self.dtmf_only and self._listening:
            self._restart_dtmf_wait()

    async def _play_and_wait(self, limit_s: float = 60.0) -> None:
        pending = [p for p in self._playing if not p.done.done()]
        if pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(p.wait() for p in pending)), limit_s)

    async def _say_now(self, text: str) -> None:
        """Say ``text`` outside the engine (call-back notice), waiting for it to be played."""
        self._listening = False
        await self._say(act.Say(text, barge_in=False), self._generation)
        await self._play_and_wait()

    # ---- endings ---------------------------------------------------------------------------------
    async def _hangup(self) -> None:
        self._listening = False
        await self._play_and_wait()
        self.outcome = self.outcome or "finished"
        if self.call is not None and not self._hung_up:
            await self.call.finish()

    def _journaled_report(self) -> str:
        """A complete report of this call that went to the journal (database down), if any."""
        return next((code for code, complete in self.ports.filed if complete and is_journal_id(code)), "")

    async def _transfer(self, action: act.Transfer) -> None:
        assert self.call is not None and self.engine is not None
        self._listening = False
        code = self._journaled_report()
        draft = action.draft
        if not code and draft is not None and not self._hung_up:
            code = await asyncio.to_thread(self.ports.create_ticket, draft, draft.is_complete)
        reason = await self.s.desk.unavailable(action.urgent)
        duty: dict[str, str] = {}
        if action.urgent and self.s.urgent is not None and draft is not None:
            duty = await self.s.urgent.route(draft, self.call.channel_id, code, operators=not reason)
            reason = "" if duty else reason
        await self._play_and_wait()
        if self._hung_up:
            return
        if reason:
            await self._callback(reason, code)
            return
        self.draft_id = code
        try:
            await self.s.desk.announce(self.call.channel_id, code, draft, action.reason)
        except Exception:
            log.exception("could not publish the draft for the operator screens")
        self.outcome = "transferred"
        instruments.HANDOFFS.labels(action.reason or "other").inc()
        if duty:
            await self.call.transfer_urgent(code or None, duty)
            return
        await self.call.transfer_to_operator(code or None, urgent=action.urgent)

    async def _callback(self, reason: str, code: str) -> None:
        """No operator can take the call: a call-back ticket, and the caller is told."""
        assert self.call is not None and self.engine is not None
        if not code:
            draft = replace(self.engine.draft, note=f"call-back: {reason}")
            if not draft.content:
                draft = replace(draft, content="Người gọi cần tổng đài viên gọi lại.")
            code = await asyncio.to_thread(self.ports.create_ticket, draft, False)
        self.draft_id = code
        said = CALLBACK_REASONS.get(reason, CALLBACK_REASONS["no_operator"])
        if code and not is_journal_id(code):
            said += f" Yêu cầu của anh/chị đã được ghi nhận với mã số {spoken_digits(code)}."
        else:
            said += " Yêu cầu của anh/chị đã được ghi nhận."
        said += " Tổng đài viên sẽ gọi lại cho anh/chị sớm nhất. Xin cảm ơn."
        log.warning("no operator for call %s (%s): call-back ticket %s", self.call.channel_id, reason, code)
        with contextlib.suppress(TtsFailed):
            await self._say_now(said)
        self.outcome = "callback"
        instruments.CALLBACKS.labels(reason).inc()
        if self.call is not None and code:
            with contextlib.suppress(Exception):
                await self.call.set_draft(code)
        if not self._hung_up:
            await self.call.finish()

    async def _emergency_transfer(self, reason: str) -> None:
        """Something broke: the pre-rendered transfer prompt, then the queue, with the draft kept."""
        if self.call is None or self._hung_up:
            return
        self._listening = False
        code = self._journaled_report()
        draft = self.engine.draft if self.engine is not None else None
        if not code and draft is not None and draft.has_report_data:
            try:
                code = await asyncio.to_thread(self.ports.create_ticket, draft, False)
            except Exception:
                log.exception("could not keep the draft")
        try:
            path = self.s.prompts.path_for(self.s.prompts.text("transfer"))
            if path.is_file():  # warmed at app start, so it plays even when synthesis is broken
                self.call.cut()
                playback = self.call.play(await asyncio.to_thread(path.read_bytes))
                self.fallback_playback = playback
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(playback.wait(), 15)
        except Exception:
            log.exception("the pre-rendered transfer prompt failed too")
        self.outcome = "transferred"
        self.draft_id = code
        instruments.HANDOFFS.labels("failure").inc()
        await self.call.transfer_to_operator(code or None)
        log.error("call %s handed to the operators after a failure (%s)", self.call.channel_id, reason)


def _feed(recognizer: Recognizer, frames: list[bytes]) -> tuple[Final | NoInput | None, float]:
    """Worker thread: feed frames until the utterance ends; the first Final/NoInput (else None) and
    the thread's CPU seconds spent."""
    start = time.thread_time()
    for frame in frames:
        for event in recognizer.feed(frame):
            if isinstance(event, Final | NoInput):
                return event, time.thread_time() - start
    return None, time.thread_time() - start


def turn_spans(texts: list[str], heard: list[tuple[str, float, float]]) -> list[tuple[float, float] | None]:
    """Each review item's span in the recording: the recognised turn with the same text (in order,
    each heard turn used once); None for a turn that was keyed, not spoken."""
    used: set[int] = set()
    out: list[tuple[float, float] | None] = []
    for text in texts:
        k = next((k for k, h in enumerate(heard) if k not in used and h[0] == text.strip()), None)
        if k is None:
            out.append(None)
        else:
            used.add(k)
            out.append((round(max(0.0, heard[k][1]), 2), round(heard[k][2], 2)))
    return out

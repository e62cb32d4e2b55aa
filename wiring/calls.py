"""The live call's services, built from :class:`wiring.Services`: the ticket service (with the
notification hook, so the tracking-code SMS goes to the outbox in the ticket's own transaction), the
dossier source, the journals, the interpreter (Rasa with the server's token, the rule-based fallback
behind it), the speech model, the operator desk and the recording attacher. The call app
(:class:`pbx.app.HotlineApp`) asks for them at start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.settings import Settings
from nlu.asr import engines
from nlu.asr.recognizer import AsrUnavailable
from nlu.knowledge import default_index
from nlu.review import ReviewQueue
from pbx.ai_operator.desk import AmiOperatorDesk
from pbx.ai_operator.handler import CallServices, PromptSource, RecognizerFactory
from pbx.ai_operator.pending import PendingRecordings, pending_path
from pbx.ai_operator.ports import LivePorts
from pbx.ai_operator.recordings import RecordingAttacher
from pbx.ai_operator.urgent import UrgentDesk
from pbx.ami import AmiMonitor
from pbx.ari.client import AriClient, AriError
from pbx.fallback_calls import JOURNAL_NAME, import_journal, rotate_journal
from pbx.install import InstallError, layout
from ticketing.calls import CallRepository
from ticketing.journal import MessageJournal, ReplayReport, TicketJournal
from ticketing.notifications.outbox import NewMessage, OutboxRepository
from ticketing.service import TicketService
from ticketing.urgent import UrgentDispatch

if TYPE_CHECKING:
    from wiring import Services

log = logging.getLogger(__name__)


def recognizer_factory(settings: Settings) -> RecognizerFactory | None:
    """The configured engine's model (``asr.engine``: Vosk or Whisper), loaded now; None when there is
    none."""
    if engines.choose(settings) is None:
        log.error(
            "no speech model installed (hotline models fetch whisper-base, or vi-small): keypad-only calls"
        )
        return None
    try:
        choice, model = engines.load(settings)
    except AsrUnavailable as exc:
        log.error("%s: keypad-only calls", exc)
        return None
    log.info("speech recognition: %s (%s)", choice.engine, choice.path)
    return engines.recognizer_maker(choice, model, settings)


def import_fallback_calls(settings: Settings, repo: CallRepository) -> int:
    """Fold the PBX's journal of calls the app never saw into the call log (see
    :mod:`pbx.fallback_calls`); 0 when there is no Asterisk layout or journal yet."""
    try:
        lay = layout(settings)
    except InstallError:
        return 0
    journal = lay.to_host(f"{lay.log_dir}/{JOURNAL_NAME}")
    offset = settings.data_dir / "run" / f"fallback-calls-{lay.instance}.offset"
    changed = import_journal(journal, offset, repo, node=lay.instance)
    # rotated once every line is imported (ops.log_max_bytes; a line landing meanwhile is kept)
    rotate_journal(
        journal, offset, repo, settings.ops.log_max_bytes, settings.ops.log_backups, node=lay.instance
    )
    return changed


@dataclass
class CallWiring:
    services: CallServices
    tickets: TicketService
    journal: TicketJournal
    attacher: RecordingAttacher
    messages: MessageJournal
    outbox: OutboxRepository
    replay_journal: Callable[[], ReplayReport]  # blocking: file/queue what the journals hold


def build_call_wiring(
    root: Services,
    prompts: PromptSource,
    ari: AriClient,
    ami: Callable[[], AmiMonitor | None],
    recognizers: RecognizerFactory | None = None,
) -> CallWiring:
    settings = root.settings
    outbox, messages = root.outbox, root.messages

    def ports() -> LivePorts:
        return root.call_ports()

    async def channel_alive(channel_id: str) -> bool:
        try:
            await ari.channel(channel_id)
        except AriError as exc:
            return exc.status not in (404, 0)  # gone, or Asterisk itself is gone
        return True

    lay = layout(settings)
    attacher = RecordingAttacher(
        channel_alive,
        lay.to_host,
        root.call_ports().attach_recording,
        store=PendingRecordings(pending_path(settings.data_dir)),
    )
    desk = AmiOperatorDesk(
        ami, settings.call.operator_hours, settings.calendar.timezone, settings.call.require_operator
    )
    services = CallServices(
        prompts=prompts,
        interpreter=root.interpreter,
        procedures=default_index(),
        ports_factory=ports,
        recognizer_factory=recognizers if recognizers is not None else recognizer_factory(settings),
        desk=desk,
        recordings=attacher,
        city=settings.city,
        hotline=settings.pbx.hotline_number,
        review=ReviewQueue(settings.data_dir),
        urgent=urgent_desk(root),
    )
    return CallWiring(services, root.tickets, root.journal, attacher, messages, outbox, root.replay_journals)


def duty_endpoint(settings: Settings) -> str:
    """The PJSIP endpoint that dials duty phones: ``call.duty_endpoint``, else the first trunk, else
    the development trunk; "" when there is none (urgent calls then stay with the operators)."""
    from pbx.render import RenderError, dev_trunk_enabled

    if settings.call.duty_endpoint:
        return settings.call.duty_endpoint
    if settings.pbx.trunks:
        return f"trunk-{settings.pbx.trunks[0].name}"
    try:
        return "dev-local" if dev_trunk_enabled(settings) else ""
    except RenderError:
        return ""


def urgent_desk(root: Services) -> UrgentDesk:
    """Urgent calls to the competent agency's duty phone, the draft to it by SMS (HP Art. 9.1)."""
    settings, outbox, clock = root.settings, root.outbox, root.clock

    def enqueue(message: NewMessage) -> object:
        return outbox.enqueue(message, clock.now())

    dispatch = UrgentDispatch(
        root.admin.duty_for,
        enqueue,
        wait_s=settings.call.urgent_operator_wait_s,
        hotline=settings.pbx.hotline_number,
    )
    return UrgentDesk(dispatch, duty_endpoint(settings))

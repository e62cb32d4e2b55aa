"""Builds the live call's services from settings: the ticket service (with the notification hook, so
the tracking-code SMS goes to the outbox in the ticket's own transaction), the dossier source, the
journal, the interpreter (Rasa with the rule-based fallback behind it), the speech model, the
operator desk and the recording attacher. Called by :class:`pbx.app.HotlineApp` at start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine

from config.settings import Settings
from nlu.asr.models import resolve_model_path
from nlu.asr.recognizer import AsrUnavailable, StreamingRecognizer, load_model
from nlu.interpreter import FallbackInterpreter, RasaInterpreter, ResilientInterpreter
from nlu.knowledge import default_index
from pbx.ai_operator.desk import AmiOperatorDesk
from pbx.ai_operator.handler import CallServices, PromptSource, RecognizerFactory
from pbx.ai_operator.pending import PendingRecordings, pending_path
from pbx.ai_operator.ports import LivePorts, journal_writer, message_enqueuer
from pbx.ai_operator.recordings import RecordingAttacher
from pbx.ami import AmiMonitor
from pbx.ari.client import AriClient, AriError
from pbx.install import layout
from ticketing import calendar_config
from ticketing.attachments import FileAttachmentStore
from ticketing.db.engine import make_session_factory
from ticketing.db.notify import write_in_uow
from ticketing.db.outbox import SqlOutboxRepository
from ticketing.db.repositories import SqlUnitOfWork
from ticketing.dossiers import DossierSource, DossierTable, HttpDossierSource
from ticketing.journal import MessageJournal, ReplayReport, TicketJournal, journal_path, messages_path
from ticketing.notify import Contact, TicketNotifier
from ticketing.ports import SystemClock, UnitOfWork
from ticketing.service import TicketService

log = logging.getLogger(__name__)


def ticket_service(settings: Settings, engine: Engine) -> TicketService:
    from ticketing.db.credentials import webhooks_in_uow
    from ticketing.webhooks import WebhookNotifier

    factory = make_session_factory(engine)
    n = settings.notify
    leaders: dict[str, list[Contact]] = {}
    if n.leadership_phone or n.leadership_email:
        leaders[settings.city] = [Contact(n.leadership_name, n.leadership_phone, n.leadership_email)]
    notifier = TicketNotifier(
        write=write_in_uow,
        preset_for=lambda city: calendar_config.preset_for(city, settings),
        calendar_for=lambda city: calendar_config.calendar_for(city, settings),
        hotline=n.hotline_label,
        lookup_url=n.lookup_url,
        leadership=leaders,
    )
    return TicketService(
        lambda: cast(UnitOfWork, SqlUnitOfWork(factory)),
        FileAttachmentStore(settings.attachments_dir),
        SystemClock(),
        lambda city: calendar_config.calendar_for(city, settings),
        lambda city: calendar_config.preset_for(city, settings),
        city=settings.city,
        on_change=[notifier, WebhookNotifier(webhooks_in_uow, write_in_uow)],
    )


def dossier_source(settings: Settings) -> DossierSource:
    call = settings.call
    if call.dossier_url:
        return HttpDossierSource(call.dossier_url, call.dossier_token, call.dossier_timeout_s)
    return DossierTable(settings.data_dir / "dossiers.csv")


def recognizer_factory(settings: Settings) -> RecognizerFactory | None:
    """The configured (or first installed) Vosk model, loaded now; None when there is none."""
    path = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
    if path is None:
        log.error("no speech model installed (hotline models fetch vi-small): keypad-only calls")
        return None
    try:
        model = load_model(str(path))
    except AsrUnavailable as exc:
        log.error("%s: keypad-only calls", exc)
        return None
    return lambda: StreamingRecognizer(model)


@dataclass
class CallWiring:
    services: CallServices
    tickets: TicketService
    journal: TicketJournal
    attacher: RecordingAttacher
    messages: MessageJournal
    outbox: SqlOutboxRepository

    def replay_journal(self) -> ReplayReport:
        """Blocking: file the journaled tickets, and queue the journaled messages, if the database
        is back."""
        report = self.journal.replay(journal_writer(self.tickets))
        queued = self.messages.replay(message_enqueuer(self.outbox, SystemClock()))
        report.filed.extend(queued.filed)
        report.failed.extend(queued.failed)
        return report


def build(
    settings: Settings,
    engine: Engine,
    prompts: PromptSource,
    ari: AriClient,
    ami: Callable[[], AmiMonitor | None],
    recognizers: RecognizerFactory | None = None,
) -> CallWiring:
    tickets = ticket_service(settings, engine)
    journal = TicketJournal(journal_path(settings.data_dir))
    dossiers = dossier_source(settings)

    outbox = SqlOutboxRepository(make_session_factory(engine))
    messages = MessageJournal(messages_path(settings.data_dir))

    def ports() -> LivePorts:
        return LivePorts(tickets, dossiers, journal, outbox=outbox, messages=messages)

    async def channel_alive(channel_id: str) -> bool:
        try:
            await ari.channel(channel_id)
        except AriError as exc:
            return exc.status not in (404, 0)  # gone, or Asterisk itself is gone
        return True

    lay = layout(settings)
    attach_port = LivePorts(tickets, dossiers, journal)
    attacher = RecordingAttacher(
        channel_alive,
        lay.to_host,
        attach_port.attach_recording,
        store=PendingRecordings(pending_path(settings.data_dir)),
    )
    nlu = settings.nlu
    interpreter = ResilientInterpreter(
        RasaInterpreter(nlu.rasa_url, nlu.rasa_token, nlu.rasa_timeout_s, settings.city),
        FallbackInterpreter(settings.city),
    )
    desk = AmiOperatorDesk(
        ami, settings.call.operator_hours, settings.calendar.timezone, settings.call.require_operator
    )
    services = CallServices(
        prompts=prompts,
        interpreter=interpreter,
        procedures=default_index(),
        ports_factory=ports,
        recognizer_factory=recognizers if recognizers is not None else recognizer_factory(settings),
        desk=desk,
        recordings=attacher,
        city=settings.city,
        hotline=settings.pbx.hotline_number,
    )
    return CallWiring(services, tickets, journal, attacher, messages, outbox)

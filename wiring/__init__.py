"""The composition root: every service of the hotline built once from the settings.

Every front door (the CLI commands, the call app, the AGI server, the scheduler, the web app) asks
:func:`build` for a :class:`Services` and uses what it needs; nothing else constructs a service.
Services are built lazily on first use, so a command that only reads the calendar never opens the
database. :meth:`Services.close` disposes of what was opened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from config.settings import Settings
from ticketing import calendar_config
from ticketing.admin_portal import AdminPortal
from ticketing.attachments import FileAttachmentStore
from ticketing.credentials import CredentialService
from ticketing.notify import Contact, TicketNotifier
from ticketing.ports import SystemClock, UnitOfWork
from ticketing.public import Publication
from ticketing.retention import RetentionService
from ticketing.service import AdminService, TicketService
from ticketing.staff import StaffService
from ticketing.users import UserService
from ticketing.webhooks import WebhookNotifier

if TYPE_CHECKING:
    from nlu.dialogue.ports import Interpreter
    from nlu.review_desk import ReviewDesk
    from pbx.ai_operator.handler import PromptSource, RecognizerFactory
    from pbx.ai_operator.ports import LivePorts
    from pbx.ami import AmiMonitor
    from pbx.ari.client import AriClient
    from ticketing.calls import CallLog, CallRepository
    from ticketing.dossiers import DossierSource
    from ticketing.filing import ReportFiler
    from ticketing.journal import MessageJournal, ReplayReport, TicketJournal
    from ticketing.notifications.adapters import Sender
    from ticketing.notifications.outbox import Dispatcher, OutboxRepository
    from ticketing.scheduler import Scheduler
    from wiring.calls import CallWiring


class WiringError(ValueError):
    """The settings ask for a service that cannot be built (one line, for the user)."""


def _recording_to_host(settings: Settings) -> Callable[[str], Path]:
    """How a path Asterisk wrote maps to the host (inside its chroot root, or as it is)."""
    from pbx.install import InstallError, layout

    try:
        return layout(settings).to_host
    except InstallError:
        return Path


class Services:
    """The services of one process, over one database engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SystemClock()

    # -- storage ------------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Any:
        from ticketing.db.engine import make_engine

        db = self.settings.database
        return make_engine(
            self.settings.database_url, echo=db.echo, pool_size=db.pool_size, max_overflow=db.max_overflow
        )

    @cached_property
    def session_factory(self) -> Any:
        from ticketing.db.engine import make_session_factory

        return make_session_factory(self.engine)

    def unit_of_work(self) -> UnitOfWork:
        from ticketing.db.repositories import SqlUnitOfWork

        return cast(UnitOfWork, SqlUnitOfWork(self.session_factory))

    @cached_property
    def attachments(self) -> FileAttachmentStore:
        return FileAttachmentStore(self.settings.attachments_dir)

    # -- ticketing ----------------------------------------------------------------------------------

    @cached_property
    def notifier(self) -> TicketNotifier:
        """The change hook that queues the notifications of ticket changes (transactional outbox)."""
        from ticketing.db.notify import write_in_uow

        s = self.settings
        n = s.notify
        leaders: dict[str, list[Contact]] = {}
        if n.leadership_phone or n.leadership_email:
            leaders[s.city] = [Contact(n.leadership_name, n.leadership_phone, n.leadership_email)]
        return TicketNotifier(
            write=write_in_uow,
            preset_for=lambda city: calendar_config.preset_for(city, s),
            calendar_for=lambda city: calendar_config.calendar_for(city, s),
            hotline=n.hotline_label,
            lookup_url=n.lookup_url,
            leadership=leaders,
        )

    @cached_property
    def tickets(self) -> TicketService:
        s = self.settings
        return TicketService(
            self.unit_of_work,
            self.attachments,
            self.clock,
            lambda city: calendar_config.calendar_for(city, s),
            lambda city: calendar_config.preset_for(city, s),
            city=s.city,
            on_change=[self.notifier, self.webhook_notifier],
        )

    @cached_property
    def retention(self) -> RetentionService:
        from ticketing.db.retention import SqlRetentionRepository

        s = self.settings
        return RetentionService(
            SqlRetentionRepository(self.session_factory),
            s.attachments_dir,
            _recording_to_host(s),
            self.clock.now,
            s.retention.days,
            s.retention.blob_grace_hours,
        )

    @cached_property
    def admin(self) -> AdminService:
        return AdminService(self.unit_of_work, self.clock, city=self.settings.city)

    # -- integration doors (API keys, tokens, one-time codes, webhooks) ------------------------------

    @cached_property
    def credential_store(self) -> Any:
        from ticketing.db.credentials import SqlCredentialStore

        return SqlCredentialStore(self.session_factory)

    @cached_property
    def credentials(self) -> CredentialService:
        return CredentialService(self.credential_store, self.clock)

    @cached_property
    def journal(self) -> TicketJournal:
        """Where a report waits when the database is down (replayed into a ticket later)."""
        from ticketing.journal import TicketJournal, journal_path

        return TicketJournal(journal_path(self.settings.data_dir))

    @cached_property
    def messages(self) -> MessageJournal:
        """Where a message waits when the database is down (replayed into the outbox later)."""
        from ticketing.journal import MessageJournal, messages_path

        return MessageJournal(messages_path(self.settings.data_dir))

    @cached_property
    def filer(self) -> ReportFiler:
        """The one resilient filing path of new reports: calls, console, replay, web channels."""
        from ticketing.filing import ReportFiler

        return ReportFiler(self.tickets, self.journal)

    def replay_journals(self, actor: str = "ai-operator") -> ReplayReport:
        """File the journaled reports and queue the journaled messages, if the database is back."""
        from ticketing.filing import message_enqueuer

        report = self.filer.replay(actor)
        queued = self.messages.replay(message_enqueuer(self.outbox, self.clock))
        report.filed.extend(queued.filed)
        report.failed.extend(queued.failed)
        return report

    # -- notifications ------------------------------------------------------------------------------

    @cached_property
    def outbox(self) -> OutboxRepository:
        from ticketing.db.outbox import SqlOutboxRepository

        return SqlOutboxRepository(self.session_factory)

    @cached_property
    def senders(self) -> dict[str, Sender]:
        """The delivery adapters the settings ask for; raises :class:`WiringError` when incomplete."""
        from wiring.notifications import senders

        return senders(self.settings)

    def dispatcher(self, worker: str) -> Dispatcher:
        from ticketing.notifications.outbox import Dispatcher
        from ticketing.notifications.policy import RetryPolicy

        return Dispatcher(
            self.outbox,
            self.senders,
            self.clock.now,
            worker=worker,
            policy=RetryPolicy(max_attempts=self.settings.notify.max_attempts),
        )

    # -- calls and the scheduler --------------------------------------------------------------------

    @cached_property
    def call_records(self) -> CallRepository:
        from ticketing.db.calls import SqlCallRepository

        return SqlCallRepository(self.session_factory)

    @cached_property
    def call_log(self) -> CallLog:
        from ticketing.calls import CallLog

        return CallLog(self.call_records, node=self.settings.pbx.instance)

    def import_fallback_calls(self) -> int:
        """Fold the PBX's journal of calls the app never saw into the call log."""
        from wiring.calls import import_fallback_calls

        return import_fallback_calls(self.settings, self.call_records)

    @cached_property
    def leases(self) -> Any:
        from ticketing.db.leases import SqlLeases

        return SqlLeases(self.session_factory)

    def scheduler(self, cities: Sequence[str], holder: str) -> Scheduler:
        """The job runner: deadline sweep (under the lease), outbox delivery, fallback-call import."""
        from ticketing.scheduler import Scheduler

        return Scheduler(
            self.tickets,
            self.leases,
            self.clock,
            cities=cities,
            holder=holder,
            dispatcher=self.dispatcher(holder),
            call_import=self.import_fallback_calls,
            node=self.settings.pbx.instance,
        )

    # -- understanding and lookups ------------------------------------------------------------------

    @cached_property
    def rasa_token(self) -> str:
        """The token the Rasa server is started with (`hotline up`, `hotline nlu serve`): the setting,
        else the one generated once into the data directory. Clients use the same."""
        from nlu.rasa_server import ensure_token

        return ensure_token(self.settings.nlu.rasa_token, self.settings.data_dir)

    def interpreter_for(
        self, kind: str = "auto", city: str | None = None, timeout_s: float | None = None
    ) -> Interpreter:
        """Rasa, the rule-based fallback, or Rasa with the fallback behind it (``auto``)."""
        from nlu.interpreter import FallbackInterpreter, RasaInterpreter, ResilientInterpreter

        nlu = self.settings.nlu
        city = city or self.settings.city
        fallback = FallbackInterpreter(city)
        if kind == "fallback":
            return fallback
        rasa = RasaInterpreter(nlu.rasa_url, self.rasa_token, timeout_s or nlu.rasa_timeout_s, city)
        if kind == "rasa":
            return rasa
        return ResilientInterpreter(rasa, fallback)

    @cached_property
    def interpreter(self) -> Interpreter:
        """The live interpreter: Rasa (with the server's token), the rule-based fallback behind it."""
        return self.interpreter_for()

    def nlu_status(self, interpreter: Interpreter | None = None) -> str:
        """``NLU: rasa at URL`` or ``NLU: fallback — reason``, asked of the server now."""
        from nlu.interpreter import describe

        return describe(interpreter if interpreter is not None else self.interpreter)

    @cached_property
    def dossiers(self) -> DossierSource:
        """The dossier source: the city's system over HTTP when ``call.dossier_url`` is set, else the
        local table ``<data_dir>/dossiers.csv``."""
        from ticketing.dossiers import DossierTable, HttpDossierSource

        call = self.settings.call
        if call.dossier_url:
            return HttpDossierSource(call.dossier_url, call.dossier_token, call.dossier_timeout_s)
        return DossierTable(self.settings.data_dir / "dossiers.csv")

    def call_ports(self, dossiers: DossierSource | None = None) -> LivePorts:
        """One call's ports (lookups, resilient filing, the guidance SMS): a live call's, and the
        console's with ``hotline chat --create``; ``dossiers`` replaces the configured source."""
        from pbx.ai_operator.ports import LivePorts

        source = dossiers if dossiers is not None else self.dossiers
        return LivePorts(self.filer, source, outbox=self.outbox, messages=self.messages)

    def speech(self, engine: str = "") -> tuple[Any, Any]:
        """The speech recogniser's model (``asr.engine``, or ``engine``: vosk/whisper), loaded once
        per process: ``(nlu.asr.engines.Choice, model)``; raises ``AsrUnavailable``."""
        from nlu.asr import engines

        return engines.load(self.settings, engine)

    @cached_property
    def prompts(self) -> Any:
        """The prompt library (espeak-ng, with human recordings where imported)."""
        from pbx.prompts import prompt_library

        return prompt_library(self.settings)

    @cached_property
    def publication(self) -> Publication:
        """Which results the agencies' heads approved for publication (the public doors' filter)."""
        from ticketing.db.publication import SqlPublication

        return SqlPublication(self.session_factory, self.engine)

    @cached_property
    def webhook_notifier(self) -> WebhookNotifier:
        """The change hook that queues signed webhook deliveries in the outbox."""
        from ticketing.db.credentials import webhooks_in_uow
        from ticketing.db.notify import write_in_uow

        return WebhookNotifier(webhooks_in_uow, write_in_uow)

    # -- staff portal -------------------------------------------------------------------------------

    @cached_property
    def users(self) -> UserService:
        """Staff accounts (argon2 hashes, scoped role grants)."""
        from ticketing.db.users import SqlUserStore

        def agency_exists(code: str) -> bool:
            with self.unit_of_work() as uow:
                return uow.agencies.get(code) is not None

        return UserService(SqlUserStore(self.session_factory), self.clock, agency_exists)

    @cached_property
    def staff(self) -> StaffService:
        """The permission-checked, masking ticket service of the portal and the API."""
        from ticketing.db.users import SqlAssignments

        def report_for(period: Any, filters: Any) -> Any:
            from ticketing.db.reports import compute

            with self.session_factory() as session:
                return self.with_learning(compute(session, period, filters, self.clock.now()))

        return StaffService(
            self.tickets, self.admin, self.attachments, SqlAssignments(self.session_factory), report_for
        )

    def with_learning(self, report: Any) -> Any:
        """A city-wide report with its "Những gì AI đã học" figures (the review queue and the training
        runs of the period, from the NLU side's files); an agency's or a category's report as it is."""
        import dataclasses

        from nlu.learning import learning_stats

        if report.agency or report.category:
            return report
        stats = learning_stats(self.settings.data_dir, report.period.first, report.period.last)
        return dataclasses.replace(report, learning=stats)

    @cached_property
    def review_desk(self) -> ReviewDesk:
        """The learning loop's review queue for the portal (permission-checked, audited): the same
        queue file as ``hotline nlu review`` and the live calls."""
        from nlu.review import ReviewQueue
        from nlu.review_desk import ReviewDesk

        return ReviewDesk(ReviewQueue(self.settings.data_dir), _recording_to_host(self.settings))

    @cached_property
    def admin_portal(self) -> AdminPortal:
        """The administrator's pages: users, agencies, routing, SLA and categories (permission-checked)."""
        from ticketing.admin_portal import SlaView
        from ticketing.calendar_config import calendar_for, preset_for

        settings = self.settings

        def sla() -> SlaView:
            cal = calendar_for(settings.city, settings)
            sessions = tuple(f"{a:%H:%M}-{b:%H:%M}" for a, b in cal.sessions)
            return SlaView(settings.city, preset_for(settings.city, settings), sessions)

        return AdminPortal(self.users, self.admin, settings.city, sla)

    def call_wiring(
        self,
        prompts: PromptSource,
        ari: AriClient,
        ami: Callable[[], AmiMonitor | None],
        recognizers: RecognizerFactory | None = None,
    ) -> CallWiring:
        """The live call's services (see :mod:`wiring.calls`)."""
        from wiring.calls import build_call_wiring

        return build_call_wiring(self, prompts, ari, ami, recognizers)

    def close(self) -> None:
        """Dispose of the database engine (and the NLU client) if they were opened."""
        interpreter = self.__dict__.pop("interpreter", None)
        close = getattr(interpreter, "close", None)
        if callable(close):
            close()
        for name in ("session_factory", "outbox", "call_records", "call_log", "leases"):
            self.__dict__.pop(name, None)
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()


def build(settings: Settings) -> Services:
    return Services(settings)

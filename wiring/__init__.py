"""The composition root: every service of the hotline built once from the settings.

Every front door (the CLI commands, the call app, the AGI server, the scheduler, the web app) asks
:func:`build` for a :class:`Services` and uses what it needs; nothing else constructs a service.
Services are built lazily on first use, so a command that only reads the calendar never opens the
database. :meth:`Services.close` disposes of what was opened.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from config.settings import Settings
from ticketing import calendar_config
from ticketing.attachments import FileAttachmentStore
from ticketing.credentials import CredentialService
from ticketing.dossiers import DossierSource
from ticketing.notify import Contact, TicketNotifier
from ticketing.ports import SystemClock, UnitOfWork
from ticketing.public import Publication
from ticketing.service import AdminService, TicketService
from ticketing.staff import StaffService
from ticketing.users import UserService
from ticketing.webhooks import WebhookNotifier


class Services:
    """The services of one process, over one database engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SystemClock()

    # -- storage ------------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Any:
        from ticketing.db.engine import make_engine

        return make_engine(self.settings.database_url, echo=self.settings.database.echo)

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
    def outbox(self) -> Any:
        """The notification outbox (queue a message in its own transaction, list, retry)."""
        from ticketing.db.outbox import SqlOutboxRepository

        return SqlOutboxRepository(self.session_factory)

    @cached_property
    def dossiers(self) -> DossierSource:
        """The city's dossier-status source: its HTTP service, else the local table."""
        from ticketing.dossiers import DossierTable, HttpDossierSource

        call = self.settings.call
        if call.dossier_url:
            return HttpDossierSource(call.dossier_url, call.dossier_token, call.dossier_timeout_s)
        return DossierTable(self.settings.data_dir / "dossiers.csv")

    @cached_property
    def publication(self) -> Publication:
        """Which results the agencies' heads approved for publication (the public doors' filter)."""
        from ticketing.db.publication import SqlPublication

        return SqlPublication(self.session_factory)

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
            from ticketing.reports.queries import compute

            with self.session_factory() as session:
                return compute(session, period, filters, self.clock.now())

        return StaffService(
            self.tickets, self.admin, self.attachments, SqlAssignments(self.session_factory), report_for
        )

    def close(self) -> None:
        """Dispose of the database engine if one was opened."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()
        self.__dict__.pop("session_factory", None)


def build(settings: Settings) -> Services:
    return Services(settings)

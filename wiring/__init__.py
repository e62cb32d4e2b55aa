"""The composition root: every service of the hotline built once from the settings.

Every front door (the CLI commands, the call app, the AGI server, the scheduler, the web app) asks
:func:`build` for a :class:`Services` and uses what it needs; nothing else constructs a service.
Services are built lazily on first use, so a command that only reads the calendar never opens the
database. :meth:`Services.close` disposes of what was opened.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from config.settings import Settings
from ticketing import calendar_config
from ticketing.attachments import FileAttachmentStore
from ticketing.notify import Contact, TicketNotifier
from ticketing.ports import SystemClock, UnitOfWork
from ticketing.retention import RetentionService
from ticketing.service import AdminService, TicketService


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
            on_change=[self.notifier],
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

    def close(self) -> None:
        """Dispose of the database engine if one was opened."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()
        self.__dict__.pop("session_factory", None)


def build(settings: Settings) -> Services:
    return Services(settings)

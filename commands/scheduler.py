"""``hotline scheduler``: the job runner — deadline sweep, escalation notices and outbox delivery.

:func:`notifier` is the one place the notification hook is wired (the ticket commands use it too, so a
dispatch or a completion from the CLI queues its messages in the same transaction).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

import click
from sqlalchemy.orm import sessionmaker

from commands.db import require_database, settings, user_errors
from commands.errors import UserError
from config.settings import Settings
from ticketing.notifications.outbox import Dispatcher
from ticketing.notifications.policy import RetryPolicy
from ticketing.notify import Contact, TicketNotifier
from ticketing.ports import SystemClock
from ticketing.scheduler import SWEEP_LEASE, Scheduler, TickReport

CITIES = ("hanoi", "haiphong", "cantho")


def notifier(s: Settings) -> TicketNotifier:
    """The change hook that queues the notifications of ticket changes (transactional outbox)."""
    from ticketing.calendar_config import calendar_for, preset_for
    from ticketing.db.notify import write_in_uow

    n = s.notify
    leaders: dict[str, list[Contact]] = {}
    if n.leadership_phone or n.leadership_email:
        leaders[s.city] = [Contact(n.leadership_name, n.leadership_phone, n.leadership_email)]
    return TicketNotifier(
        write=write_in_uow,
        preset_for=lambda city: preset_for(city, s),
        calendar_for=lambda city: calendar_for(city, s),
        hotline=n.hotline_label,
        lookup_url=n.lookup_url,
        leadership=leaders,
    )


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_scheduler(s: Settings, cities: tuple[str, ...], holder: str) -> tuple[Scheduler, Any]:
    """The scheduler over the configured database; returns it and the engine (to dispose)."""
    from commands.calls import import_fallback_calls
    from commands.db import ticket_service
    from commands.outbox import senders
    from ticketing.db.calls import SqlCallRepository
    from ticketing.db.engine import make_engine
    from ticketing.db.leases import SqlLeases
    from ticketing.db.outbox import SqlOutboxRepository

    require_database(s.database_url)
    engine = make_engine(s.database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    service = ticket_service()
    if not any(isinstance(h, TicketNotifier) for h in service.on_change):
        service.on_change = (*service.on_change, notifier(s))
    dispatcher = Dispatcher(
        SqlOutboxRepository(sessions),
        senders(s),
        SystemClock().now,
        worker=holder,
        policy=RetryPolicy(max_attempts=s.notify.max_attempts),
    )
    calls = SqlCallRepository(sessions)
    scheduler = Scheduler(
        service,
        SqlLeases(sessions),
        SystemClock(),
        cities=cities,
        holder=holder,
        dispatcher=dispatcher,
        call_import=lambda: import_fallback_calls(s, calls),
    )
    return scheduler, engine


@click.group("scheduler")
def scheduler_group() -> None:
    """Job runner: marks overdue tickets, climbs the escalation ladder, sends queued notifications."""


@scheduler_group.command(
    "run",
    epilog=(
        "\b\nExamples:\n  hotline scheduler run            # every 60 s until Ctrl-C / SIGTERM\n"
        "  hotline scheduler run --once     # one round, e.g. from cron\n"
        "  hotline scheduler run --interval 30 --city hanoi"
    ),
)
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
    help="Seconds between rounds.",
)
@click.option(
    "--city",
    "cities",
    multiple=True,
    type=click.Choice(CITIES),
    help="City whose tickets to sweep (repeatable; default: the configured city).",
)
def run_cmd(once: bool, interval: float, cities: tuple[str, ...]) -> None:
    """Every round: sweep deadlines (overdue flags, escalation ladder and its notices), then deliver the
    due outbox messages. Several runners (threads, processes, hosts) may run at once: one sweeps while
    holding a database lease, all deliver without sending any message twice."""
    s = settings()
    cities = cities or (s.city,)
    holder = holder_name()
    with user_errors():
        scheduler, engine = build_scheduler(s, cities, holder)
    try:
        if once:
            with user_errors():
                report = scheduler.tick()
            click.echo(report.summary())
            return
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        def on_tick(report: TickReport) -> None:
            click.echo(report.summary(), err=False)
            rotate_files(s)

        def on_error(exc: BaseException) -> None:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"round failed, retrying next round: {first}", err=True)

        click.echo(f"scheduler {holder}: every {interval:g} s, cities {', '.join(cities)}")
        metrics = serve_metrics(s, engine)
        try:
            scheduler.run(interval, stop, on_tick=on_tick, on_error=on_error)
        finally:
            if metrics is not None:
                metrics.shutdown()
        click.echo("scheduler stopped")
    finally:
        engine.dispose()


def rotate_files(s: Settings) -> list[str]:
    """Rotate what the product writes on this node once beyond ``ops.log_max_bytes``: the service
    logs in <data_dir>/log, Asterisk's own logs, and the ticket/message journals once settled (the
    fallback-call journal is rotated by its importer). Never fails a scheduler round."""
    from ops.logs import rotate_logs
    from pbx.fallback_calls import JOURNAL_NAME
    from pbx.install import InstallError, layout
    from ticketing.journal import MessageJournal, TicketJournal, journal_path, messages_path

    o = s.ops
    rotated: list[str] = []
    try:
        rotated += rotate_logs(s.data_dir / "log", o.log_max_bytes, o.log_backups)
        try:
            lay = layout(s)
            rotated += rotate_logs(lay.to_host(lay.log_dir), o.log_max_bytes, o.log_backups, {JOURNAL_NAME})
        except InstallError:
            pass
        for journal in (TicketJournal(journal_path(s.data_dir)), MessageJournal(messages_path(s.data_dir))):
            if journal.rotate(o.log_max_bytes, o.log_backups):
                rotated.append(journal.path.name)
    except OSError as exc:
        click.echo(f"log rotation failed: {exc}", err=True)
    return rotated


def serve_metrics(s: Settings, engine: Any) -> Any:
    """The scheduler's loopback /metrics: its readiness and the hotline-wide counts (ops.metrics)."""
    from ops import instruments
    from ops.metrics import registry_for
    from ticketing.db.ops import ping

    instruments.ready_check("database", lambda: ping(engine))
    return instruments.serve(s.ops.scheduler_metrics_port, registry=registry_for(engine, s))


@scheduler_group.command("status", epilog="\b\nExample:\n  hotline scheduler status")
def status_cmd() -> None:
    """Show which runner holds the sweep lease."""
    from ticketing.db.engine import make_engine
    from ticketing.db.leases import SqlLeases

    s = settings()
    require_database(s.database_url)
    engine = make_engine(s.database_url)
    try:
        with user_errors():
            holder = SqlLeases(sessionmaker(engine)).holder(SWEEP_LEASE, SystemClock().now())
    finally:
        engine.dispose()
    if holder is None:
        raise UserError("không có bộ lập lịch nào đang chạy / no scheduler holds the sweep lease")
    click.echo(f"sweep lease held by {holder}")

"""``hotline scheduler``: the job runner — deadline sweep, escalation notices, outbox delivery and
the import of calls the app never saw. The jobs are wired by :meth:`wiring.Services.scheduler`.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

import click

from commands.db import services, user_errors
from commands.errors import UserError
from config.settings import Settings
from reference import CITIES
from ticketing.scheduler import SWEEP_LEASE, TickReport


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
    root = services()
    cities = cities or (root.settings.city,)
    holder = holder_name()
    with user_errors():
        scheduler = root.scheduler(cities, holder)
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
        rotate_files(root.settings)

    def on_error(exc: BaseException) -> None:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        click.echo(f"round failed, retrying next round: {first}", err=True)

    click.echo(f"scheduler {holder}: every {interval:g} s, cities {', '.join(cities)}")
    metrics = serve_metrics(root.settings, root.engine)
    try:
        scheduler.run(interval, stop, on_tick=on_tick, on_error=on_error)
    finally:
        if metrics is not None:
            metrics.shutdown()
    click.echo("scheduler stopped")


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
    root = services()
    with user_errors():
        holder = root.leases.holder(SWEEP_LEASE, root.clock.now())
    if holder is None:
        raise UserError("không có bộ lập lịch nào đang chạy / no scheduler holds the sweep lease")
    click.echo(f"sweep lease held by {holder}")

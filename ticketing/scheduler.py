"""The job runner behind ``hotline scheduler run``: every tick it sweeps the deadlines of each city
(overdue flags and the escalation ladder, whose notifications the service's change hook queues in the
same transactions) and delivers the due messages of the outbox.

Safe to run twice, or on several hosts against one PostgreSQL database:

* the sweep runs only while this runner holds the ``deadline-sweep`` lease (:class:`Leases`, a row in
  ``scheduler_leases`` taken with one conditional UPDATE), renewed at every tick;
* even if two sweeps overlap (a lease that expired mid-sweep), each ticket is changed under its row
  lock and version check and only when a rung is actually due, and every message has a dedupe key;
* the fallback-call journal of a PBX node is folded into the call log by one runner of that node at a
  time (the ``call-import:<node>`` lease): every node of a cluster imports its own journal;
* outbox delivery runs on every runner: messages are claimed with a lease per message
  (:class:`ticketing.db.outbox.SqlOutboxRepository`), so none is sent twice.

The clock is a port, so tests drive the scheduler through days of working time in milliseconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ticketing.notifications.outbox import DeliveryReport, Dispatcher
from ticketing.ports import Clock

log = logging.getLogger(__name__)

SWEEP_LEASE = "deadline-sweep"
CALL_IMPORT_LEASE = "call-import"  # one per PBX node: "call-import:node1"


class Leases(Protocol):
    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False if held by another."""
        ...

    def release(self, name: str, holder: str) -> None: ...


class Sweeper(Protocol):
    """What the scheduler needs of :class:`ticketing.service.TicketService`."""

    def sweep_deadlines(self, city: str = "") -> list[str]: ...


@dataclass(frozen=True)
class TickReport:
    at: datetime
    leader: bool  # this runner held the sweep lease and swept
    changed: tuple[str, ...]  # tickets escalated or flagged overdue
    delivery: DeliveryReport | None
    calls_imported: int = 0  # call records made or closed from the PBX's fallback-call journal

    def summary(self) -> str:
        sweep = f"swept: {len(self.changed)} changed" if self.leader else "sweep: another runner holds it"
        d = self.delivery
        sent = f"sent {d.sent}, failed {d.failed}, dead {d.dead}" if d is not None else "delivery off"
        calls = f"; calls from the fallback journal: {self.calls_imported}" if self.calls_imported else ""
        return f"{self.at.isoformat(timespec='seconds')} {sweep}; {sent}{calls}"


class Scheduler:
    def __init__(
        self,
        sweeper: Sweeper,
        leases: Leases,
        clock: Clock,
        *,
        cities: Sequence[str],
        holder: str,
        dispatcher: Dispatcher | None = None,
        lease_ttl: timedelta = timedelta(minutes=5),
        delivery_batch: int = 200,
        call_import: Callable[[], int] | None = None,
        node: str = "",
    ) -> None:
        if not cities:
            raise ValueError("the scheduler needs at least one city")
        self.sweeper, self.leases, self.clock = sweeper, leases, clock
        self.cities, self.holder, self.dispatcher = tuple(cities), holder, dispatcher
        self.lease_ttl, self.delivery_batch = lease_ttl, delivery_batch
        self.call_import = call_import
        self.import_lease = f"{CALL_IMPORT_LEASE}:{node}"  # node: the PBX whose journal is imported

    def tick(self) -> TickReport:
        """One round: sweep (if this runner holds the lease), then deliver due messages."""
        now = self.clock.now()
        leader = self.leases.acquire(SWEEP_LEASE, self.holder, now, self.lease_ttl)
        changed: list[str] = []
        imported = 0
        if leader:
            for city in self.cities:
                changed.extend(self.sweeper.sweep_deadlines(city))
        if self.call_import is not None and self.leases.acquire(
            self.import_lease, self.holder, now, self.lease_ttl
        ):
            imported = self.call_import()
        delivery = None
        if self.dispatcher is not None:
            delivery = self.dispatcher.deliver_due(self.delivery_batch)
        return TickReport(now, leader, tuple(changed), delivery, imported)

    def run(
        self,
        interval_s: float,
        stop: threading.Event,
        *,
        on_tick: Callable[[TickReport], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Tick every ``interval_s`` seconds until ``stop`` is set; a failed tick is reported and the
        next one runs as usual (a database restart must not end the scheduler)."""
        try:
            while not stop.is_set():
                try:
                    report = self.tick()
                except Exception as exc:
                    log.exception("scheduler tick failed")
                    if on_error is not None:
                        on_error(exc)
                else:
                    if on_tick is not None:
                        on_tick(report)
                stop.wait(interval_s)
        finally:
            try:
                self.leases.release(SWEEP_LEASE, self.holder)
                if self.call_import is not None:
                    self.leases.release(self.import_lease, self.holder)
            except Exception:  # the database may be the reason we stop
                log.warning("could not release the sweep lease; it expires by itself")

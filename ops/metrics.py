"""Prometheus metrics of the whole hotline read from the database, and the ``/metrics`` ASGI app.

The call app, the scheduler and the web app are separate processes, possibly on several nodes; counts
that span them are derived at scrape time from the shared database by :class:`HotlineCollector`
(call records, tickets, the outbox, the scheduler lease) and from this node's journal files, so any
node's ``/metrics`` tells the same story. Per-process latency histograms live in
:mod:`ops.instruments` and are served by each worker on loopback.

Call outcomes (label ``outcome`` of ``hotline_calls_total``), from the call records:
``ticket`` (the AI operator filed a complete ticket), ``answer`` (it answered without a ticket),
``handoff`` (handed to the operators by the app), ``fallback_handoff`` (the dialplan sent the call to
the queue because the app was not there), ``draft`` (hung up mid-report: an incomplete ticket was kept),
``abandoned`` (hung up before anything was kept), ``lost`` (a fault on our side, or a caller of the
fallback path who hung up unanswered).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from config.settings import Settings

log = logging.getLogger(__name__)

OUTCOMES = ("ticket", "answer", "handoff", "fallback_handoff", "draft", "abandoned", "lost")


def call_outcome(outcome: str | None, source: str, ticket_code: str, draft_id: str) -> str | None:
    """The ``outcome`` label of an ended call record (None while the call is in progress)."""
    if outcome is None:
        return None
    if outcome == "ai_handled":
        return "ticket" if ticket_code else "answer"
    if outcome == "transferred":
        return "fallback_handoff" if source == "dialplan" else "handoff"
    if outcome == "abandoned":
        if source == "dialplan":
            return "lost"
        return "draft" if draft_id or ticket_code else "abandoned"
    return "lost"


class HotlineCollector(Collector):
    """Cross-process metrics, read in one short pass over the database at each scrape."""

    def __init__(self, engine: Any, data_dir: Path, fallback_journal: Path | None = None) -> None:
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.fallback_journal = fallback_journal

    def describe(self) -> Iterable[Metric]:
        return []  # collected lazily: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("hotline_database_up", "1 when the database answered this scrape.")
        try:
            metrics = list(self._from_database())
        except Exception as exc:  # the scrape reports the outage instead of failing
            log.warning("metrics: database unreachable: %s", str(exc).splitlines()[0] if str(exc) else exc)
            up.add_metric([], 0.0)
            yield up
        else:
            up.add_metric([], 1.0)
            yield up
            yield from metrics
        yield from self._journals()

    # -- database ----------------------------------------------------------------------------------

    def _from_database(self) -> Iterator[Metric]:
        from ticketing.db.ops import snapshot
        from ticketing.scheduler import SWEEP_LEASE

        snap = snapshot(self.engine, SWEEP_LEASE)
        total = CounterMetricFamily(
            "hotline_calls",
            "Calls ended, by outcome (from the call records of every node).",
            labels=["outcome"],
        )
        by_outcome = dict.fromkeys(OUTCOMES, 0)
        in_progress = 0
        for group in snap.calls:
            # each group splits by whether its records name a ticket / kept a ticket or draft
            parts = [
                ("x", "x", group.with_ticket),
                ("", "x", group.kept - group.with_ticket),
                ("", "", group.count - group.kept),
            ]
            for ticket_code, draft_id, count in parts:
                if count <= 0:
                    continue
                label = call_outcome(group.outcome, group.source, ticket_code, draft_id)
                if label is None:
                    in_progress += count
                else:
                    by_outcome[label] = by_outcome.get(label, 0) + count
        for label, n in by_outcome.items():
            total.add_metric([label], float(n))
        yield total
        yield _gauge("hotline_calls_in_progress", "Calls started and not ended yet.", float(in_progress))
        ended = sum(by_outcome.values())
        ai = by_outcome["ticket"] + by_outcome["answer"]
        yield _gauge(
            "hotline_calls_ai_completed_ratio",
            "Share of ended calls the AI operator completed itself (ticket or answer), 0..1.",
            ai / ended if ended else 0.0,
        )

        by_status = GaugeMetricFamily(
            "hotline_tickets", "Tickets by status and lead agency.", labels=["status", "agency"]
        )
        for status, agency, n in snap.tickets:
            by_status.add_metric([status, agency or "none"], float(n))
        yield by_status
        breaches = GaugeMetricFamily(
            "hotline_tickets_overdue",
            "Open tickets past a legal deadline (SLA breaches), by agency.",
            labels=["agency"],
        )
        for agency, n in snap.overdue:
            breaches.add_metric([agency or "none"], float(n))
        yield breaches
        yield _gauge(
            "hotline_tickets_escalated",
            "Open tickets raised up the escalation ladder.",
            float(snap.escalated_open),
        )
        esc = CounterMetricFamily("hotline_ticket_escalations", "Escalations recorded in ticket histories.")
        esc.add_metric([], float(snap.escalations))
        yield esc

        messages = GaugeMetricFamily(
            "hotline_outbox_messages", "Outbox messages by status (pending, sent, dead).", labels=["status"]
        )
        counts = {"pending": 0.0, "sent": 0.0, "dead": 0.0}
        for status, (n, _retried) in snap.outbox.items():
            counts[status] = float(n)
        for status, value in counts.items():
            messages.add_metric([status], value)
        yield messages
        yield _gauge(
            "hotline_outbox_retrying",
            "Pending outbox messages that failed at least once.",
            float(snap.outbox.get("pending", (0, 0))[1]),
        )
        yield _gauge(
            "hotline_outbox_dead_letters",
            "Outbox messages given up after their last attempt.",
            counts["dead"],
        )

        held = GaugeMetricFamily(
            "hotline_scheduler_lease_holder",
            "1 for the scheduler runner holding the deadline-sweep lease (none: no runner holds it).",
            labels=["holder"],
        )
        if snap.lease_holder is not None:
            held.add_metric([snap.lease_holder], 1.0)
        yield held
        yield _gauge(
            "hotline_scheduler_lease_held",
            "1 when a scheduler runner holds the sweep lease.",
            float(snap.lease_holder is not None),
        )

    # -- this node's files -------------------------------------------------------------------------

    def _journals(self) -> Iterator[Metric]:
        from ticketing.journal import MessageJournal, TicketJournal, journal_path, messages_path

        family = GaugeMetricFamily(
            "hotline_journal_unreplayed_entries",
            "Entries of this node's journal not yet written to the database (tickets, messages).",
            labels=["journal"],
        )
        counters: list[tuple[str, Callable[[], int]]] = [
            ("tickets", lambda: len(TicketJournal(journal_path(self.data_dir)).pending())),
            ("messages", lambda: len(MessageJournal(messages_path(self.data_dir)).pending())),
        ]
        for name, count in counters:
            try:
                family.add_metric([name], float(count()))
            except (OSError, ValueError) as exc:
                log.warning("metrics: cannot read the %s journal: %s", name, exc)
        yield family
        if self.fallback_journal is not None:
            yield _gauge(
                "hotline_fallback_journal_unimported_bytes",
                "Bytes of the PBX's fallback-call journal not yet folded into the call records.",
                float(unimported_bytes(self.fallback_journal, self._offset_file())),
            )

    def _offset_file(self) -> Path:
        assert self.fallback_journal is not None
        instance = self.fallback_journal.parent.name.removeprefix("asterisk-")
        return self.data_dir / "run" / f"fallback-calls-{instance}.offset"


def unimported_bytes(journal: Path, offset_file: Path) -> int:
    try:
        size = journal.stat().st_size
    except OSError:
        return 0
    try:
        offset = int(offset_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        offset = 0
    return size - offset if offset <= size else size


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def registry_for(engine: Any, settings: Settings, fallback_journal: Path | None = None) -> CollectorRegistry:
    """A registry with the database collector and this process's own instruments."""
    from prometheus_client import REGISTRY

    registry = CollectorRegistry(auto_describe=False)
    registry.register(HotlineCollector(engine, settings.data_dir, fallback_journal))
    registry.register(_Forward(REGISTRY))
    return registry


class _Forward(Collector):
    """Everything of another registry (the process's default one: histograms, process metrics)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def metrics_app(engine: Any, settings: Settings, fallback_journal: Path | None = None) -> LoopbackOnly:
    """The ASGI app serving the metrics to loopback clients only; anyone else gets 404, as if there
    were nothing. A web app adds it as a route (``app.add_route("/metrics", metrics_app(...),
    include_in_schema=False)``), which answers ``/metrics`` itself rather than redirecting to
    ``/metrics/`` as a mount would."""
    from prometheus_client import make_asgi_app

    return LoopbackOnly(make_asgi_app(registry_for(engine, settings, fallback_journal)))


class LoopbackOnly:
    """An ASGI app reachable from this host only (Prometheus scrapes locally or through a tunnel;
    the counts are not for the public). A request that came through a proxy (``X-Forwarded-For`` or
    ``Forwarded``) is refused too: behind a reverse proxy on the same host every client looks local."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client") or ("", 0)
        proxied = any(name in (b"x-forwarded-for", b"forwarded") for name, _ in scope.get("headers", []))
        if scope.get("type") == "http" and (client[0] not in LOOPBACK or proxied):
            await send(
                {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": b"Not Found"})
            return
        await self.app(scope, receive, send)

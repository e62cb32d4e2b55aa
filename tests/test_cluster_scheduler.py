"""Two PBX nodes, each with its own scheduler and its own connection pool, over one PostgreSQL database
and a simulated day and a half (then the leadership rung a week later): every escalation, overdue flag
and notification happens once; each node folds its own fallback-call journal into the shared call log;
when one node stops ticking, the other takes over the sweep within the lease TTL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pbx.fallback_calls import import_journal
from tests.scheduler_world import VN, MovableClock, World, make_service, set_contacts, world
from tests.test_scheduler import MONDAY, _escalations, _haiphong_tickets, _sent_keys
from ticketing.calls import CallLog
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.leases import SqlLeases
from ticketing.db.outbox import SqlOutboxRepository
from ticketing.notifications.adapters import FileSender
from ticketing.notifications.outbox import Dispatcher
from ticketing.scheduler import Scheduler, TickReport

pytestmark = [pytest.mark.postgres]

TTL = timedelta(minutes=5)
STEP = timedelta(minutes=10)


def node_scheduler(w: World, url: str, node: str, clock: MovableClock, out: Path, journal: Path) -> Scheduler:
    """What ``hotline scheduler run`` builds on node ``node``: its own engine, holder and journal."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    service = make_service(sessions, clock, w.tickets.attachments)
    dispatcher = Dispatcher(
        SqlOutboxRepository(sessions),
        {"sms": FileSender(out / "sms.jsonl"), "email": FileSender(out / "email.jsonl")},
        clock.now,
        worker=f"{node}:1",
    )
    calls = SqlCallRepository(sessions)
    return Scheduler(
        service,
        SqlLeases(sessions),
        clock,
        cities=["haiphong"],
        holder=f"{node}:1",
        dispatcher=dispatcher,
        lease_ttl=TTL,
        call_import=lambda: import_journal(journal, out / f"{node}.offset", calls, node=node),
        node=node,
    )


def tick_together(schedulers: list[Scheduler]) -> list[tuple[str, TickReport]]:
    barrier = threading.Barrier(len(schedulers))
    reports: list[tuple[str, TickReport]] = []
    errors: list[BaseException] = []

    def go(s: Scheduler) -> None:
        barrier.wait()
        try:
            reports.append((s.holder, s.tick()))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return reports


def test_two_nodes_schedulers_over_a_simulated_day(pg_url: str, tmp_path: Path) -> None:
    from ticketing.db import migrate

    migrate.upgrade(pg_url)
    with world(pg_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        set_contacts(w, "HP-SO-NNMT", "nnmt")
        codes = _haiphong_tickets(w, 4)
        clock = MovableClock(MONDAY)
        epoch = int(MONDAY.timestamp())
        journals = {}
        for n, node in enumerate(("node1", "node2"), start=1):
            journals[node] = tmp_path / f"{node}-fallback-calls.log"
            journals[node].write_text(
                f"start|{epoch}|hotline-{node}-{epoch}.1|09120000{n}|1022|FAILED|\n"
                f"end|{epoch + 30}|hotline-{node}-{epoch}.1||\n",
                "utf-8",
            )
        nodes = {node: node_scheduler(w, pg_url, node, clock, tmp_path, journals[node]) for node in journals}
        leaders: Counter[str] = Counter()  # sweeps per tick
        swept_while_node1_down: set[str] = set()
        node1_down = (datetime(2026, 3, 2, 14, 0, tzinfo=VN), datetime(2026, 3, 2, 18, 0, tzinfo=VN))
        end = MONDAY + timedelta(hours=36)
        while clock.at <= end:
            running = [
                s
                for name, s in nodes.items()
                if not (name == "node1" and node1_down[0] <= clock.at < node1_down[1])
            ]
            for holder, report in tick_together(running):
                if report.leader:
                    leaders[report.at.isoformat()] += 1
                    if node1_down[0] <= clock.at < node1_down[1]:
                        swept_while_node1_down.add(holder)
            clock.at += STEP
        # the leadership rung, a week later, still with both nodes racing
        for at in (datetime(2026, 3, 11, 9, 1, tzinfo=VN), datetime(2026, 3, 11, 9, 11, tzinfo=VN)):
            clock.at = at
            tick_together(list(nodes.values()))
        assert max(leaders.values()) == 1  # never two sweepers in one tick
        assert swept_while_node1_down == {"node2:1"}  # the surviving node took the sweep over
        assert len(leaders) >= (end - MONDAY) // STEP  # a sweep in every tick of the day
        for code in codes:
            assert len(_escalations(w, code)) == 2, _escalations(w, code)
            t = w.tickets.get(code)
            assert t.escalation_level == 2 and t.overdue
            assert [e.action for e in t.history].count("mark_overdue") == 1
        messages = w.messages()
        assert len({m.dedupe_key for m in messages}) == len(messages)
        assert len(messages) == 4 * (1 + 2 + 2 + 4)
        assert {m.status for m in messages} == {"sent"}
        sent = _sent_keys(tmp_path)
        assert set(sent) == {f"outbox-{m.id}" for m in messages} and max(sent.values()) == 1
        # each node's journal went into the shared call log once, under its node
        records = CallLog(SqlCallRepository(w.sessions)).recent()
        assert sorted((r.node, r.caller) for r in records) == [("node1", "091200001"), ("node2", "091200002")]

"""The scheduler with a clock the test moves: the database lease, two runners at once (threads and
processes) on SQLite and PostgreSQL, and delivery of the queued messages exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cli import main as cli
from config.settings import get_settings
from pbx.fallback_calls import import_journal
from tests.scheduler_world import VN, MovableClock, World, set_contacts, world
from ticketing.calls import Outcome
from ticketing.db.calls import SqlCallRepository
from ticketing.db.leases import SqlLeases
from ticketing.notifications.adapters import FileSender
from ticketing.notifications.outbox import Dispatcher
from ticketing.scheduler import SWEEP_LEASE, Scheduler

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=VN)
TTL = timedelta(minutes=5)


def test_lease_one_holder_until_it_expires(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=()) as w:
        leases = SqlLeases(w.sessions)
        assert leases.acquire("job", "a", MONDAY, TTL)
        assert not leases.acquire("job", "b", MONDAY + timedelta(minutes=1), TTL)
        assert leases.acquire("job", "a", MONDAY + timedelta(minutes=4), TTL)  # renewed until 09:09
        assert not leases.acquire("job", "b", MONDAY + timedelta(minutes=8), TTL)
        assert leases.holder("job", MONDAY + timedelta(minutes=8)) == "a"
        assert leases.acquire("job", "b", MONDAY + timedelta(minutes=10), TTL)  # a stopped renewing
        assert not leases.acquire("job", "a", MONDAY + timedelta(minutes=10), TTL)
        leases.release("job", "b")
        assert leases.holder("job", MONDAY + timedelta(minutes=10)) is None
        assert leases.acquire("job", "a", MONDAY + timedelta(minutes=10), TTL)


def test_racing_acquirers_get_one_lease(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=()) as w:
        for round_ in range(5):
            at = MONDAY + timedelta(hours=round_)  # each round starts after the previous lease expired
            barrier = threading.Barrier(4)
            won: list[str] = []

            def take(
                name: str, at: datetime = at, barrier: threading.Barrier = barrier, won: list[str] = won
            ) -> None:
                leases = SqlLeases(w.sessions)
                barrier.wait()
                if leases.acquire("job", name, at, TTL):
                    won.append(name)

            threads = [threading.Thread(target=take, args=(f"r{i}",)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(won) == 1, won


def _haiphong_tickets(w: World, n: int) -> list[str]:
    set_contacts(w, "HP-SO-NNMT", "nnmt")
    codes = []
    for i in range(n):
        code = w.create("haiphong", "10510", content=f"Rác thải tồn đọng điểm số {i}")
        w.tickets.dispatch(code, "dieu-phoi", agency="HP-SO-NNMT")
        codes.append(code)
    return codes


def _scheduler(
    w: World, clock: MovableClock, name: str, out: Path, *, lease_ttl: timedelta = TTL
) -> Scheduler:
    service = w.service(clock)
    dispatcher = Dispatcher(
        w.outbox,
        {"sms": FileSender(out / "sms.jsonl"), "email": FileSender(out / "email.jsonl")},
        clock.now,
        worker=name,
    )
    return Scheduler(
        service,
        SqlLeases(w.sessions),
        clock,
        cities=["haiphong"],
        holder=name,
        dispatcher=dispatcher,
        lease_ttl=lease_ttl,
    )


def _run_together(schedulers: list[Scheduler]) -> list[object]:
    barrier = threading.Barrier(len(schedulers))
    reports: list[object] = []
    errors: list[BaseException] = []

    def go(s: Scheduler) -> None:
        barrier.wait()
        try:
            reports.append(s.tick())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return reports


def _sent_keys(out: Path) -> Counter[str]:
    lines: list[str] = []
    for name in ("sms.jsonl", "email.jsonl"):
        path = out / name
        if path.exists():
            lines += path.read_text("utf-8").splitlines()
    return Counter(json.loads(line)["message_id"] for line in lines)


def _escalations(w: World, code: str) -> list[str]:
    return [e.note for e in w.tickets.get(code).history if e.action == "escalate"]


def test_two_schedulers_at_once_escalate_and_send_exactly_once(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        codes = _haiphong_tickets(w, 6)
        clock = MovableClock(MONDAY)
        # a zero lease: both runners sweep every tick, racing on the same tickets
        a, b = (_scheduler(w, clock, n, tmp_path, lease_ttl=timedelta(0)) for n in ("host-a:1", "host-b:1"))
        for at in (
            datetime(2026, 3, 2, 15, 0, tzinfo=VN),  # nothing due yet
            datetime(2026, 3, 3, 9, 1, tzinfo=VN),  # focal officer's 8 working hours passed -> head
            datetime(2026, 3, 3, 9, 2, tzinfo=VN),
            datetime(2026, 3, 11, 9, 1, tzinfo=VN),  # head's 48 working hours passed -> city leadership
            datetime(2026, 3, 11, 9, 2, tzinfo=VN),
        ):
            clock.at = at
            _run_together([a, b])
        for code in codes:
            assert len(_escalations(w, code)) == 2, _escalations(w, code)
            t = w.tickets.get(code)
            assert t.escalation_level == 2 and t.overdue
            assert [e.action for e in t.history].count("mark_overdue") == 1
        messages = w.messages()
        keys = [m.dedupe_key for m in messages]
        assert len(keys) == len(set(keys))
        # per ticket: tracking SMS, assignment SMS+e-mail, head SMS+e-mail, head+leadership SMS+e-mail
        assert len(messages) == 6 * (1 + 2 + 2 + 4)
        assert {m.status for m in messages} == {"sent"}
        sent = _sent_keys(tmp_path)
        assert set(sent) == {f"outbox-{m.id}" for m in messages}
        assert max(sent.values()) == 1


def test_the_lease_lets_one_of_two_runners_sweep(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        codes = _haiphong_tickets(w, 3)
        clock = MovableClock(datetime(2026, 3, 3, 9, 1, tzinfo=VN))
        a, b = (_scheduler(w, clock, n, tmp_path) for n in ("host-a:1", "host-b:1"))
        reports = _run_together([a, b])
        leaders = [r for r in reports if r.leader]  # type: ignore[attr-defined]
        assert len(leaders) == 1 and sorted(leaders[0].changed) == sorted(codes)  # type: ignore[attr-defined]
        clock.advance(minutes=1)
        again = _run_together([a, b])
        assert [r.leader for r in again].count(True) == 1  # type: ignore[attr-defined]
        assert all(not r.changed for r in again)  # type: ignore[attr-defined]
        holder = SqlLeases(w.sessions).holder(SWEEP_LEASE, clock.now())
        assert holder == next(s.holder for s in (a, b) if s.holder == holder)


def test_the_leader_folds_the_fallback_call_journal_into_the_call_log(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        calls = SqlCallRepository(w.sessions)
        journal = tmp_path / "fallback-calls.log"
        epoch = int(MONDAY.timestamp())
        journal.write_text(f"start|{epoch}|c1|0912345678|1022|FAILED|\nend|{epoch + 20}|c1||\n", "utf-8")
        clock = MovableClock(MONDAY)
        runners = []
        for name in ("host-a:1", "host-b:1"):
            runner = _scheduler(w, clock, name, tmp_path)
            runner.call_import = lambda: import_journal(journal, tmp_path / "offset", calls)
            runners.append(runner)
        reports = _run_together(runners)
        assert sorted(r.calls_imported for r in reports) == [0, 2]  # type: ignore[attr-defined]
        record = calls.by_channel("c1")
        assert record is not None and record.outcome is Outcome.ABANDONED and record.caller == "0912345678"
        assert [r.calls_imported for r in _run_together(runners)] == [0, 0]  # type: ignore[attr-defined]


def test_run_stops_on_the_event_and_releases_the_lease(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        clock = MovableClock(MONDAY)
        s = _scheduler(w, clock, "host-a:1", tmp_path)
        stop = threading.Event()
        ticks: list[object] = []

        def on_tick(report: object) -> None:
            ticks.append(report)
            if len(ticks) == 3:
                stop.set()

        s.run(0.01, stop, on_tick=on_tick)
        assert len(ticks) == 3
        assert SqlLeases(w.sessions).holder(SWEEP_LEASE, clock.now()) is None


def _cli_env(url: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATABASE__URL=url,
        HOTLINE_DATA_DIR=str(data),
        HOTLINE_CITY="haiphong",
        HOTLINE_CONFIG=str(data / "none.toml"),
        HOTLINE_NOTIFY__LEADERSHIP_EMAIL="lanhdao@example.gov.vn",
    )
    return env


def test_two_scheduler_processes_once_each(db_url: str, tmp_path: Path) -> None:
    """Tickets whose deadlines passed long ago (real clock): two `hotline scheduler run --once` processes
    started together climb the whole ladder once and deliver every message once."""
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        codes = _haiphong_tickets(w, 4)
    data = tmp_path / "data"
    data.mkdir()
    env = _cli_env(db_url, data)
    cmd = [sys.executable, "-c", "import cli; cli.main()", "scheduler", "run", "--once"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with world(db_url, tmp_path, MONDAY, cities=()) as w:
        for code in codes:
            assert len(_escalations(w, code)) == 2
        messages = w.messages()
        assert {m.status for m in messages} == {"sent"}
        leadership = [m for m in messages if m.recipient == "lanhdao@example.gov.vn"]
        assert len(leadership) == len(codes)
    sent = _sent_keys(data / "outbox")
    assert len(sent) == len(messages) and max(sent.values()) == 1


def test_cli_once_and_status(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = _cli_env(db_url, data)
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["scheduler", "run", "--once"], env=env)
        assert result.exit_code == 0, result.output
        assert "swept: 0 changed; sent 0, failed 0, dead 0" in result.output
        status = runner.invoke(cli, ["scheduler", "status"], env=env)
        assert status.exit_code == 0 and "sweep lease held by" in status.output
    finally:
        get_settings.cache_clear()


def test_lease_model_matches_its_migration(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ticketing.db.base import Base
    from ticketing.db.engine import make_engine

    def own(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table == "scheduler_leases"

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": own})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()

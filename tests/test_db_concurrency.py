"""Tracking-code numbers under concurrency: threads and processes allocating at once never get the
same number and never skip a committed one, on SQLite (WAL + BEGIN IMMEDIATE) and PostgreSQL (a
sequence; only a rolled-back filing leaves its number unused there)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.repositories import next_sequence

PER_WORKER = 25


def _allocate(url: str) -> list[int]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    got = []
    try:
        for _ in range(PER_WORKER):
            with factory() as session:
                got.append(next_sequence(session, "ticket"))
                session.commit()
    finally:
        engine.dispose()
    return got


def test_threads_get_distinct_numbers(db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(_allocate, [db_url] * 6))
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, 6 * PER_WORKER + 1))


def test_processes_get_distinct_numbers(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_allocate, [db_url] * 4)
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, 4 * PER_WORKER + 1))


def test_rolled_back_allocation_is_reused_on_sqlite_and_skipped_on_postgresql(db_url: str) -> None:
    # SQLite: the counter row rolls back with the filing. PostgreSQL: the number comes from a
    # sequence (no lock for concurrent filings to queue on), so a rolled-back filing leaves a gap.
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with factory() as session:
        assert next_sequence(session, "ticket") == 1
        session.rollback()
    with factory() as session:
        expected = 2 if engine.dialect.name == "postgresql" else 1
        assert next_sequence(session, "ticket") == expected
        session.commit()
    with factory() as session:  # other counters keep their row (and roll back) everywhere
        assert next_sequence(session, "other") == 1
        session.rollback()
    with factory() as session:
        assert next_sequence(session, "other") == 1
    engine.dispose()


def test_a_postgresql_filing_does_not_wait_for_another_to_commit(db_url: str) -> None:
    engine = make_engine(db_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return  # SQLite has one writer at a time by design (BEGIN IMMEDIATE)
    factory = make_session_factory(engine)
    with factory() as first, factory() as second:
        a = next_sequence(first, "ticket")  # still open: holds no lock the second one needs
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        b = next_sequence(second, "ticket")
        second.commit()
        first.commit()
    assert b == a + 1
    engine.dispose()

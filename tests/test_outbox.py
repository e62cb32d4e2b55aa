"""The outbox on both real backends: dedupe, claims that never hand a message to two workers, retries
with back-off, dead letters, manual retry, and the CLI."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy.orm import sessionmaker

from ticketing.db.base import Base
from ticketing.db.engine import make_engine
from ticketing.db.outbox import SqlOutboxRepository
from ticketing.notifications.adapters import DeliveryError, FileSender, OutgoingMessage
from ticketing.notifications.outbox import Dispatcher, NewMessage
from ticketing.notifications.policy import OutboxStatus, RetryPolicy

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


def message(n: int, channel: str = "sms") -> NewMessage:
    return NewMessage(
        kind="tracking_code",
        channel=channel,
        recipient="0912345678",
        subject="",
        body=f"Ma so theo doi: {n:09d}",
        dedupe_key=f"tracking_code:{n:09d}:{channel}",
        ticket_code=f"{n:09d}",
    )


@pytest.fixture
def repo(db_url: str) -> SqlOutboxRepository:
    return SqlOutboxRepository(sessionmaker(make_engine(db_url), expire_on_commit=False))


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutgoingMessage] = []

    def send(self, msg: OutgoingMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("gateway timeout")
        self.sent.append(msg)


def test_outbox_table_matches_its_migration(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert [d for d in diff if "outbox" in repr(d)] == []


def test_enqueue_is_idempotent_per_key(repo: SqlOutboxRepository) -> None:
    assert repo.enqueue(message(1), T0) is not None
    assert repo.enqueue(message(1), T0) is None
    assert repo.enqueue(message(1, "email"), T0) is not None
    assert len(repo.list(None, 10)) == 2


def test_a_key_queued_by_a_concurrent_transaction_never_aborts_this_one(db_url: str) -> None:
    """Two transactions queue the same key: the second waits for the first (PostgreSQL) or for the
    write lock (SQLite), then does nothing; its own other writes still commit."""
    from ticketing.db.outbox import OutboxRow, enqueue_in

    sessions = sessionmaker(make_engine(db_url), expire_on_commit=False)
    first_in = threading.Event()
    results: dict[str, int | None] = {}

    def first() -> None:
        with sessions.begin() as session:
            results["first"] = enqueue_in(session, message(7), T0)
            first_in.set()
            threading.Event().wait(0.5)  # hold the transaction open while the second one tries

    worker = threading.Thread(target=first)
    worker.start()
    assert first_in.wait(10)
    with sessions.begin() as session:
        results["second"] = enqueue_in(session, message(7), T0)
        results["other"] = enqueue_in(session, message(8), T0)
    worker.join(10)
    assert results["first"] is not None and results["second"] is None and results["other"] is not None
    with sessions() as session:
        keys = sorted(r.dedupe_key for r in session.query(OutboxRow))
    assert keys == [message(7).dedupe_key, message(8).dedupe_key]


def test_send_retry_backoff_then_dead_then_manual_retry(repo: SqlOutboxRepository) -> None:
    now = [T0]
    sender = Flaky(failures=3)
    dispatcher = Dispatcher(
        repo,
        {"sms": sender},
        lambda: now[0],
        worker="w1",
        policy=RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=30)),
    )
    repo.enqueue(message(7), T0)
    assert dispatcher.deliver_due().failed == 1
    assert dispatcher.deliver_due().failed == 0  # not due for 30 s
    now[0] = T0 + timedelta(seconds=31)
    assert dispatcher.deliver_due().failed == 1
    now[0] = T0 + timedelta(minutes=5)
    assert dispatcher.deliver_due().dead == 1
    [dead] = repo.list(OutboxStatus.DEAD, 10)
    assert dead.attempts == 3 and dead.last_error == "gateway timeout"
    assert repo.retry(dead.id, now[0])
    assert dispatcher.deliver_due().sent == 1
    assert sender.sent[0].message_id == f"outbox-{dead.id}"
    [done] = repo.list(OutboxStatus.SENT, 10)
    assert done.sent_at == now[0]
    assert not repo.retry(done.id, now[0])  # a sent message is never re-sent


def test_unknown_channel_is_a_failure_not_a_loss(repo: SqlOutboxRepository) -> None:
    repo.enqueue(message(3, "fax"), T0)
    report = Dispatcher(repo, {}, lambda: T0, worker="w").deliver_due()
    assert report.failed == 1
    [entry] = repo.list(OutboxStatus.PENDING, 10)
    assert "no sender" in entry.last_error


def test_two_workers_never_claim_the_same_message(repo: SqlOutboxRepository) -> None:
    for n in range(60):
        repo.enqueue(message(n), T0)
    claimed: dict[str, list[int]] = {}

    def claim(worker: str) -> None:
        got: list[int] = []
        for _ in range(10):
            got += [e.id for e in repo.claim_due(T0, worker, timedelta(minutes=5), 7)]
        claimed[worker] = got

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 60
    # after the lease expires an unfinished message can be claimed again (a crashed worker)
    again = repo.claim_due(T0 + timedelta(minutes=6), "w9", timedelta(minutes=5), 100)
    assert len(again) == 60


def test_cli_lists_and_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main
    from config.settings import get_settings
    from ticketing.db import migrate

    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate.upgrade(url)
    repo = SqlOutboxRepository(sessionmaker(make_engine(url), expire_on_commit=False))
    repo.enqueue(message(5), T0)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE__URL", url)
    monkeypatch.setenv("HOTLINE_NOTIFY__SMS", "file")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(main, ["outbox", "deliver"])
        assert out.exit_code == 0, out.output
        assert "sent 1" in out.output
        lines = (tmp_path / "outbox" / "sms.jsonl").read_text().splitlines()
        assert json.loads(lines[0])["body"] == "Ma so theo doi: 000000005"
        listed = runner.invoke(main, ["outbox", "list", "--json"])
        rows = json.loads(listed.output)
        assert rows[0]["status"] == "sent" and rows[0]["recipient"] == "09******78"
        bad = runner.invoke(main, ["outbox", "retry", "999"])
        assert bad.exit_code == 1 and "Error" in bad.output
    finally:
        get_settings.cache_clear()


def test_file_sender_is_the_development_default(tmp_path: Path) -> None:
    FileSender(tmp_path / "x.jsonl").send(OutgoingMessage("sms", "1", "", "b", "m"))
    assert (tmp_path / "x.jsonl").exists()

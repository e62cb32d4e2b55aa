"""The database-derived metrics (:mod:`ops.metrics`) on SQLite and the real PostgreSQL: call outcomes,
tickets by status and agency, SLA breaches, the outbox, the scheduler lease and the journal, parsed
back from the Prometheus exposition text; and the in-process instruments served on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from config.settings import Settings
from ops import instruments
from ops.metrics import call_outcome, registry_for
from tests.conftest import build_ticket
from ticketing.calls import CallRecord, CallSource, Outcome
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.leases import SqlLeases
from ticketing.db.models import TicketRow
from ticketing.db.outbox import OutboxRow
from ticketing.db.repositories import SqlUnitOfWork
from ticketing.journal import TicketJournal, journal_path


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_call_outcome_labels() -> None:
    assert call_outcome(None, "app", "", "") is None
    assert call_outcome("ai_handled", "app", "260101001", "") == "ticket"
    assert call_outcome("ai_handled", "app", "", "") == "answer"
    assert call_outcome("transferred", "app", "", "D1") == "handoff"
    assert call_outcome("transferred", "dialplan", "", "") == "fallback_handoff"
    assert call_outcome("abandoned", "app", "", "D1") == "draft"
    assert call_outcome("abandoned", "app", "", "") == "abandoned"
    assert call_outcome("abandoned", "dialplan", "", "") == "lost"
    assert call_outcome("failed", "app", "", "") == "lost"


def test_database_metrics(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    repo = SqlCallRepository(sessions)

    def call(n: int, outcome: Outcome | None, source: CallSource = CallSource.APP, ticket: str = "") -> None:
        repo.add(
            CallRecord(
                channel_id=f"c{n}", caller="0912345678", called="1022", started_at=now - timedelta(minutes=5),
                ended_at=None if outcome is None else now, outcome=outcome, ticket_code=ticket, source=source,
            )
        )  # fmt: skip

    call(1, Outcome.AI_HANDLED, ticket="000000018")
    call(2, Outcome.AI_HANDLED)
    call(3, Outcome.TRANSFERRED)
    call(4, Outcome.ABANDONED, CallSource.DIALPLAN)
    call(5, Outcome.FAILED)
    call(6, None)
    with SqlUnitOfWork(sessions) as uow:
        uow.tickets.add(build_ticket("000000018", lead_agency="UBND-P-HK"))
        uow.tickets.add(build_ticket("000000026"))
        uow.commit()
    with sessions.begin() as s:
        s.execute(update(TicketRow).where(TicketRow.code == "000000018").values(overdue=True))
        for i, (status, attempts) in enumerate([("pending", 0), ("pending", 2), ("dead", 8), ("sent", 1)]):
            s.add(
                OutboxRow(
                    kind="k", channel="sms", recipient="0912345678", subject="", body="b", dedupe_key=f"d{i}",
                    ticket_code="", status=status, attempts=attempts, created_at=now, last_error="",
                    claimed_by="",
                )
            )  # fmt: skip
    SqlLeases(sessions).acquire("deadline-sweep", "node1:42", now, timedelta(minutes=5))
    TicketJournal(journal_path(tmp_path)).append({"content": "x"})

    text = generate_latest(registry_for(engine, Settings(data_dir=tmp_path))).decode()
    got = samples(text)
    assert "# TYPE hotline_calls_total counter" in text
    assert got[("hotline_calls_total", (("outcome", "ticket"),))] == 1
    assert got[("hotline_calls_total", (("outcome", "answer"),))] == 1
    assert got[("hotline_calls_total", (("outcome", "handoff"),))] == 1
    assert got[("hotline_calls_total", (("outcome", "lost"),))] == 2
    assert got[("hotline_calls_in_progress", ())] == 1
    assert got[("hotline_calls_ai_completed_ratio", ())] == pytest.approx(2 / 5)
    assert got[("hotline_tickets", (("agency", "UBND-P-HK"), ("status", "Mới tạo")))] == 1
    assert got[("hotline_tickets_overdue", (("agency", "UBND-P-HK"),))] == 1
    assert got[("hotline_outbox_messages", (("status", "pending"),))] == 2
    assert got[("hotline_outbox_retrying", ())] == 1
    assert got[("hotline_outbox_dead_letters", ())] == 1
    assert got[("hotline_scheduler_lease_holder", (("holder", "node1:42"),))] == 1
    assert got[("hotline_scheduler_lease_held", ())] == 1
    assert got[("hotline_journal_unreplayed_entries", (("journal", "tickets"),))] == 1
    assert got[("hotline_database_up", ())] == 1
    # no personal data in the exposition
    assert "0912345678" not in text and "001190012345" not in text
    engine.dispose()


def test_unreachable_database_is_reported_not_raised(tmp_path: Path) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    got = samples(generate_latest(registry_for(engine, Settings(data_dir=tmp_path))).decode())
    assert got[("hotline_database_up", ())] == 0
    assert ("hotline_calls_total", (("outcome", "ticket"),)) not in got


def test_worker_endpoint_serves_histograms_and_readiness_on_loopback() -> None:
    instruments.REPLY_LATENCY.observe(0.42)
    instruments.ready_check("test_ok", lambda: True)
    instruments.ready_check("test_broken", lambda: 1 / 0 == 0)
    server = instruments.serve(0 or _free_port())
    assert server is not None
    try:
        port = server.server_address[1]
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    got = samples(text)
    assert got[("hotline_ready", (("check", "test_ok"),))] == 1
    assert got[("hotline_ready", (("check", "test_broken"),))] == 0
    assert got[("hotline_reply_latency_seconds_count", ())] >= 1
    assert server.server_address[0] == "127.0.0.1"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_queue_status_longest_wait_from_queue_entries() -> None:
    from pbx.ami import parse_queue_status

    messages = [
        {"Event": "QueueParams", "Queue": "operators", "Calls": "2"},
        {"Event": "QueueEntry", "Queue": "operators", "Position": "1", "Wait": "47"},
        {"Event": "QueueEntry", "Queue": "operators", "Position": "2", "Wait": "12"},
        {"Event": "QueueStatusComplete"},
    ]
    (state,) = parse_queue_status(messages)
    assert state.waiting == 2 and state.longest_wait_s == 47


async def test_metrics_asgi_app_serves_loopback_clients_only(db_url: str, tmp_path: Path) -> None:
    from ops.metrics import metrics_app

    engine = make_engine(db_url)
    app = metrics_app(engine, Settings(data_dir=tmp_path))
    try:
        local = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=local, base_url="http://hotline") as client:
            resp = await client.get("/")
        assert resp.status_code == 200 and "# TYPE hotline_calls_total counter" in resp.text
        remote = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=remote, base_url="http://hotline") as client:
            resp = await client.get("/")
        assert resp.status_code == 404 and "hotline_" not in resp.text
        async with httpx.AsyncClient(transport=local, base_url="http://hotline") as client:
            resp = await client.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
        assert resp.status_code == 404  # through a reverse proxy on this host
    finally:
        engine.dispose()


async def test_the_web_app_serves_metrics_to_loopback_clients(tmp_path: Path) -> None:
    from tests.web_world import make_world
    from web.app import create_app

    world = make_world(tmp_path / "var")
    app = create_app(world.services, secret_key="k" * 32)
    try:
        local = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=local, base_url="http://127.0.0.1:8080") as client:
            resp = await client.get("/metrics")
        assert resp.status_code == 200, resp.text
        assert "# TYPE hotline_calls_total counter" in resp.text and 'outcome="ticket"' in resp.text
        remote = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=remote, base_url="http://hotline.example") as client:
            resp = await client.get("/metrics")
        assert resp.status_code == 404 and "hotline_calls" not in resp.text
    finally:
        world.services.close()

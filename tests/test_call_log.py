"""The call log service over the real ``calls`` table on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ticketing.calls import CallLog, CallRecord, CallSource, Outcome, host_recording_path
from ticketing.db.calls import CallRow, SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_lifecycle_and_newest_first(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        log = CallLog(SqlCallRepository(make_session_factory(engine)), clock=StepClock())
        log.start("ch-1", "0912345678", "1022", recording="/var/spool/asterisk/monitor/ch-1.wav")
        log.answered("ch-1")
        log.mark_outcome("ch-1", Outcome.TRANSFERRED)
        log.set_draft("ch-1", "draft-7")
        done = log.finish("ch-1", Outcome.ABANDONED)
        assert done.outcome is Outcome.TRANSFERRED  # the transfer is what happened to the call
        assert done.duration_s == 2.0  # start, answer, end: one clock tick each
        assert log.finish("ch-1", Outcome.FAILED).outcome is Outcome.TRANSFERRED  # idempotent
        log.start("ch-2", "0243", "1022")
        log.finish("ch-2", Outcome.ABANDONED)
        assert log.start("ch-2", "x", "y").caller == "0243"  # a second StasisStart does not duplicate
        recent = log.recent()
        assert [r.channel_id for r in recent] == ["ch-2", "ch-1"]
        first = recent[1]
        assert first.draft_id == "draft-7" and first.answered_at is not None
        assert first.started_at.utcoffset() == timedelta(hours=7)  # returned in Vietnamese time
        assert first.id is not None and log.get(first.id) == first
        # the model and migration 0002 agree
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, CallRow.metadata)
        assert [d for d in diff if "calls" in repr(d) and d[0] != "remove_table"] == []
    finally:
        engine.dispose()


def test_open_calls_are_the_apps_unclosed_records_and_close_at_a_known_end(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        clock = StepClock()
        repo = SqlCallRepository(make_session_factory(engine))
        log = CallLog(repo, clock=clock)
        log.start("ch-open", "0912345678", "1022")
        log.start("ch-closed", "0912345678", "1022")
        log.finish("ch-closed", Outcome.AI_HANDLED)
        repo.add(CallRecord("ch-dialplan", "0243", "1022", clock(), source=CallSource.DIALPLAN))
        (still_open,) = log.open_calls()
        assert still_open.channel_id == "ch-open" and still_open.source is CallSource.APP
        assert repo.by_channel("ch-dialplan").source is CallSource.DIALPLAN  # type: ignore[union-attr]
        end = still_open.started_at + timedelta(seconds=42)
        closed = log.finish("ch-open", Outcome.FAILED, ended_at=end)
        assert closed.duration_s == 42.0 and closed.outcome is Outcome.FAILED
        assert log.open_calls() == []
        # an end before the start (a clock step, a stale file time) is clamped to the start
        log.start("ch-early", "0912345678", "1022")
        early = log.finish("ch-early", Outcome.FAILED, ended_at=datetime(2020, 1, 1, tzinfo=UTC))
        assert early.duration_s == 0.0
    finally:
        engine.dispose()


def test_host_recording_path() -> None:
    root = "/srv/hotline/var/asterisk-root"
    inner = "/var/spool/asterisk/monitor/2026/x.wav"
    assert host_recording_path(inner, root) == root + inner
    assert host_recording_path(inner, "") == inner
    assert host_recording_path("", root) == ""


def test_records_name_the_node_that_took_the_call(db_url: str, tmp_path: object) -> None:
    """Two nodes share one database: each record says which node's log (or journal) wrote it."""
    from pathlib import Path

    from pbx.fallback_calls import import_journal

    engine = make_engine(db_url)
    try:
        repo = SqlCallRepository(make_session_factory(engine))
        CallLog(repo, node="node1").start("hotline-node1-1.1", "0912345678", "1022")
        CallLog(repo, node="node2").start("hotline-node2-1.1", "0987654321", "1022")
        journal = Path(str(tmp_path)) / "fallback.journal"
        journal.write_text("start|1795000000|hotline-node2-2.1|0911|1022|FAILED|/rec.wav\n")
        assert import_journal(journal, Path(str(tmp_path)) / "offset", repo, node="node2") == 1
        nodes = {r.channel_id: r.node for r in CallLog(repo).recent()}
        assert nodes == {
            "hotline-node1-1.1": "node1",
            "hotline-node2-1.1": "node2",
            "hotline-node2-2.1": "node2",
        }
    finally:
        engine.dispose()

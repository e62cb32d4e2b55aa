"""Repository round trips on SQLite and the real PostgreSQL: rows <-> domain tickets, agencies,
routing rules, the audit log; nothing of a ticket's history is lost or rewritten."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.repositories import SqlUnitOfWork, StorageError
from ticketing.domain.model import (
    Attachment,
    AttachmentKind,
    CoordinatorPart,
    Event,
    Priority,
    Rating,
    Status,
)
from ticketing.ports import AgencyRecord, AuditEntry, RoutingRuleRecord, TicketQuery

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def uow_factory(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    yield lambda: SqlUnitOfWork(factory)
    engine.dispose()


def test_ticket_round_trip_keeps_every_field(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    t = make_ticket()
    t.lead_agency = "UBND-00070"
    t.rating = Rating.ACCEPTABLE
    t.rated_at = t.created_at + timedelta(days=3)
    t.coordinators = [CoordinatorPart("SXD", "Đã kiểm tra hiện trường.", t.created_at, "can-bo-sxd")]
    t.attachments = [
        Attachment("a" * 64, AttachmentKind.RECORDING, "call.wav", "audio/wav", 1234, t.created_at, "ai-bot")
    ]
    with uow_factory() as uow:
        uow.tickets.add(t)
        uow.commit()
    assert t.id is not None
    with uow_factory() as uow:
        back = uow.tickets.get(t.code)
    assert back is not None
    assert back == t
    assert back.created_at.utcoffset() == timedelta(hours=7)


def test_save_appends_history_and_updates_columns(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    t = make_ticket()
    with uow_factory() as uow:
        uow.tickets.add(t)
        uow.commit()
    later = t.created_at + timedelta(hours=1)
    t.status = Status.DISPATCHED
    t.lead_agency = "UBND-00070"
    t.dispatched_at = later
    t.history.append(Event(later, "dieu-phoi", "dispatch", Status.NEW, Status.DISPATCHED, "giao xử lý"))
    t.coordinators.append(CoordinatorPart("SXD"))
    with uow_factory() as uow:
        uow.tickets.save(t)
        uow.commit()
    t.coordinators[0] = CoordinatorPart("SXD", "Phần việc của Sở Xây dựng", later, "sxd")
    with uow_factory() as uow:
        uow.tickets.save(t)
        uow.commit()
    with uow_factory() as uow:
        back = uow.tickets.get(t.code)
    assert back == t
    assert [e.action for e in back.history] == ["create", "dispatch"]


def test_history_cannot_be_rewritten(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    t = make_ticket()
    with uow_factory() as uow:
        uow.tickets.add(t)
        uow.commit()
    t.history = []
    with uow_factory() as uow, pytest.raises(StorageError):
        uow.tickets.save(t)


def test_uncommitted_work_is_rolled_back(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        uow.tickets.add(make_ticket())
        uow.audit.record(AuditEntry(datetime.now(VN), "x", "ticket", "000000018", "create"))
    with uow_factory() as uow:
        assert uow.tickets.get("000000018") is None
        assert uow.audit.entries() == []


def test_code_is_unique(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        uow.tickets.add(make_ticket())
        uow.commit()
    with uow_factory() as uow, pytest.raises(IntegrityError):
        uow.tickets.add(make_ticket())
        uow.commit()


def test_list_filters(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    base = make_ticket().created_at
    rows = [
        make_ticket("000000018", category="VSMT", created_at=base),
        make_ticket("000000026", category="TO", created_at=base + timedelta(days=1)),
        make_ticket(
            "000000034",
            category="VSMT",
            status=Status.IN_PROGRESS,
            lead_agency="UBND-00070",
            due_at=base + timedelta(days=2),
            created_at=base + timedelta(days=2),
        ),
        make_ticket("000000042", category="VSMT", overdue=True, created_at=base + timedelta(days=3)),
    ]
    with uow_factory() as uow:
        for r in rows:
            uow.tickets.add(r)
        uow.commit()

    def codes(**kw: object) -> list[str]:
        with uow_factory() as uow:
            return [t.code for t in uow.tickets.find(TicketQuery(**kw))]  # type: ignore[arg-type]

    assert codes() == ["000000042", "000000034", "000000026", "000000018"]
    assert codes(category="TO") == ["000000026"]
    assert codes(statuses=[Status.IN_PROGRESS]) == ["000000034"]
    assert codes(lead_agency="UBND-00070") == ["000000034"]
    assert codes(ward_code="99999") == []
    assert codes(created_from=base + timedelta(days=1), created_to=base + timedelta(days=3)) == [
        "000000034",
        "000000026",
    ]
    # at base+5d: 034 is open past due_at, 042 is flagged; 018/026 are past their dispatch deadline
    assert codes(overdue_at=base + timedelta(hours=1)) == ["000000042"]
    assert codes(overdue_at=base + timedelta(days=5)) == ["000000042", "000000034", "000000026", "000000018"]
    assert codes(limit=2, offset=1) == ["000000034", "000000026"]
    with uow_factory() as uow:
        assert uow.tickets.count(TicketQuery(category="VSMT")) == 3
        recent = uow.tickets.recent(category="VSMT", ward_code="00070", since=base + timedelta(hours=1))
        assert [t.code for t in recent] == ["000000034", "000000042"]


def test_agencies_upsert_and_filter(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    a = AgencyRecord("SXD", "Sở Xây dựng", "department", "hanoi")
    w = AgencyRecord("UBND-00070", "UBND Phường Hoàn Kiếm", "ward_committee", "hanoi", ward_code="00070")
    with uow_factory() as uow:
        assert uow.agencies.upsert(a) is True
        assert uow.agencies.upsert(w) is True
        assert uow.agencies.upsert(dataclasses.replace(a, focal_name="Trần Văn B")) is False
        uow.commit()
    with uow_factory() as uow:
        got = uow.agencies.get("SXD")
        assert got is not None and got.focal_name == "Trần Văn B"
        assert [x.code for x in uow.agencies.find(kind="ward_committee")] == ["UBND-00070"]
        assert len(uow.agencies.find(city="hanoi")) == 2
        assert uow.agencies.find(city="cantho") == []


def test_routing_rules_replace_by_key(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 3, 2, 9, 0, tzinfo=VN)
    with uow_factory() as uow:
        assert uow.routing.upsert(RoutingRuleRecord("hanoi", "TN", "", "SXD"), at=now, actor="admin") is None
        before = uow.routing.upsert(RoutingRuleRecord("hanoi", "TN", "", "TNHN", 5), at=now, actor="admin")
        assert before == RoutingRuleRecord("hanoi", "TN", "", "SXD")
        uow.routing.upsert(RoutingRuleRecord("hanoi", "TN", "00070", "UBND-00070"), at=now, actor="admin")
        uow.commit()
    with uow_factory() as uow:
        assert uow.routing.find("hanoi") == [
            RoutingRuleRecord("hanoi", "TN", "", "TNHN", 5),
            RoutingRuleRecord("hanoi", "TN", "00070", "UBND-00070"),
        ]


def test_audit_log_keeps_json_snapshots(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 3, 2, 9, 0, tzinfo=VN)
    with uow_factory() as uow:
        uow.audit.record(
            AuditEntry(at, "admin", "agency", "SXD", "set_focal", {"focal_name": ""}, {"focal_name": "Bình"})
        )
        uow.commit()
    with uow_factory() as uow:
        (entry,) = uow.audit.entries("agency", "SXD")
    assert entry == AuditEntry(
        at, "admin", "agency", "SXD", "set_focal", {"focal_name": ""}, {"focal_name": "Bình"}
    )


def test_naive_datetimes_are_refused(uow_factory, make_ticket) -> None:  # type: ignore[no-untyped-def]
    t = make_ticket(due_at=datetime(2026, 3, 3, 9, 0))
    with uow_factory() as uow, pytest.raises(Exception, match="naive"):
        uow.tickets.add(t)
        uow.commit()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    from ticketing.db import migrate

    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_priority_enum_stored_as_value(uow_factory, make_ticket, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        uow.tickets.add(make_ticket(priority=Priority.COMPLEX))
        uow.commit()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        status, priority = conn.execute(text("SELECT status, priority FROM tickets")).one()
    engine.dispose()
    assert (status, priority) == ("Mới tạo", "complex")

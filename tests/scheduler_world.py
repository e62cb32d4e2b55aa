"""A ticket world for the scheduler, notification and report tests: the real service over a migrated
database, the shipped calendars and SLA presets, the notification hook writing to the real outbox, and
a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from ticketing import calendar_config
from ticketing.attachments import FileAttachmentStore
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.notify import write_in_uow
from ticketing.db.outbox import OutboxRow, SqlOutboxRepository
from ticketing.db.repositories import SqlUnitOfWork
from ticketing.notify import Contact, TicketNotifier
from ticketing.service import AdminService, TicketService

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LEADER = Contact("Văn phòng UBND thành phố", "0243000111", "lanhdao@example.gov.vn")


@dataclass
class MovableClock:
    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@dataclass
class World:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    clock: MovableClock
    tickets: TicketService
    admin: AdminService
    outbox: SqlOutboxRepository
    evidence: Path

    def service(self, clock: Any = None) -> TicketService:
        """Another service over the same database (e.g. for a second scheduler)."""
        return make_service(self.sessions, clock or self.clock, self.tickets.attachments)

    def messages(self) -> list[OutboxRow]:
        with self.sessions() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    def create(self, city: str, ward: str, category: str = "VSMT", **extra: Any) -> str:
        data: dict[str, Any] = {
            "city": city,
            "category": category,
            "priority": extra.pop("priority", "normal"),
            "caller": {"name": "Nguyễn Văn An", "phone": "0912345678", "cccd": "001190012345"},
            "place": {"address": extra.pop("address", "Ngõ 5"), "ward_code": ward},
            "content": extra.pop("content", "Rác thải tồn đọng ở đầu ngõ chưa thu gom"),
            **extra,
        }
        return self.tickets.create(data, "ai-bot").ticket.code


def make_service(sessions: sessionmaker[Session], clock: Any, store: Any) -> TicketService:
    settings = Settings()
    hook = TicketNotifier(
        write=write_in_uow,
        preset_for=lambda city: calendar_config.preset_for(city, settings),
        calendar_for=lambda city: calendar_config.calendar_for(city, settings),
        hotline="1022",
        lookup_url="https://1022.example.gov.vn/tra-cuu",
        leadership={"hanoi": [LEADER], "haiphong": [LEADER], "cantho": [LEADER]},
    )
    return TicketService(
        lambda: SqlUnitOfWork(sessions),
        store,
        clock,
        lambda city: calendar_config.calendar_for(city, settings),
        lambda city: calendar_config.preset_for(city, settings),
        on_change=[hook],
    )


@contextmanager
def world(url: str, tmp_path: Path, start: datetime, cities: tuple[str, ...] = ("hanoi",)) -> Iterator[World]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = MovableClock(start)
    store = FileAttachmentStore(tmp_path / "attachments")
    svc = make_service(sessions, clock, store)
    admin = AdminService(lambda: SqlUnitOfWork(sessions), clock)
    for city in cities:
        admin.import_agencies(city, "admin")
    evidence = tmp_path / "anh-hien-truong.jpg"
    evidence.write_bytes(b"\xff\xd8\xff\xe0 photo of the cleaned alley")
    try:
        yield World(url, engine, sessions, clock, svc, admin, SqlOutboxRepository(sessions), evidence)
    finally:
        engine.dispose()


def set_contacts(w: World, agency: str, tag: str) -> None:
    w.admin.set_contact(
        agency, "admin", role="focal", name=f"Cán bộ {tag}", phone="0901000001", email=f"{tag}@example.vn"
    )
    w.admin.set_contact(
        agency,
        "admin",
        role="head",
        name=f"Thủ trưởng {tag}",
        phone="0901000002",
        email=f"head-{tag}@example.vn",
    )

"""Shared fixtures: databases on both backends (a temporary SQLite file and a fresh database on the
real PostgreSQL server), migrated with Alembic, plus a sample ticket builder.

PostgreSQL is taken from ``HOTLINE_TEST_PG_URL`` (a server URL; default
``postgresql+psycopg://postgres@127.0.0.1:5432/``). Tests that need it FAIL when it is unreachable:
the real server is part of the test environment, not an optional extra.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ticketing.db import migrate
from ticketing.domain.model import Caller, Channel, Event, Kind, Place, Priority, Status, Ticket

pytest_plugins = ["tests.asterisk", "tests.rasa_fixture"]  # real Asterisk and Rasa fixtures

PG_SERVER_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _libpq_dsn(url: str, database: str) -> str:
    u = make_url(url).set(drivername="postgresql", database=database)
    return u.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hotline.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    admin = _libpq_dsn(PG_SERVER_URL, "postgres")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_SERVER_URL} is unreachable (set HOTLINE_TEST_PG_URL): {exc}")
    url = make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database (``alembic upgrade head``) on each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    migrate.upgrade(url)
    return url


def build_ticket(code: str = "000000018", **overrides: object) -> Ticket:
    """A realistic Hanoi field report with every optional part filled in."""
    created = datetime(2026, 3, 2, 9, 15, tzinfo=VN)
    values: dict[str, object] = dict(
        code=code,
        channel=Channel.PHONE,
        kind=Kind.FIELD_REPORT,
        category="VSMT",
        priority=Priority.NORMAL,
        caller=Caller(
            name="Nguyễn Thị Lan",
            cccd="001190012345",
            phone="0912345678",
            address="12 phố Hàng Bông",
            email="lan@example.vn",
            confidential=True,
        ),
        place=Place(address="Ngõ 5 Hàng Bông", ward_code="00070", ward_name="Phường Hoàn Kiếm", city="hanoi"),
        content="Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom.",
        created_at=created,
        created_by="ai-bot",
        incident_time=created - timedelta(days=1),
        transcript="tôi muốn phản ánh rác ở ngõ năm hàng bông",
        status=Status.NEW,
        city="hanoi",
        dispatch_due=created + timedelta(hours=8),
        history=[Event(at=created, actor="ai-bot", action="create", from_status=None, to_status=Status.NEW)],
    )
    values.update(overrides)
    return Ticket(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_ticket():  # type: ignore[no-untyped-def]
    """The :func:`build_ticket` builder: ``make_ticket(code, **field_overrides)``."""
    return build_ticket

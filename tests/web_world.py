"""A portal over a fresh SQLite data directory: migrated, Hanoi's agencies imported, a few users and
tickets; shared by the web tests (TestClient and the real-browser ones)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wiring
from config.settings import Settings
from ticketing.db import migrate

A, B = "UBND-00070", "UBND-00004"  # Hoàn Kiếm and Ba Đình ward committees
PASSWORD = "mat-khau-thu-nghiem-12"
REPORT: dict[str, Any] = {
    "channel": "phone",
    "category": "VSMT",
    "priority": "normal",
    "caller": {"name": "Phạm Thị Hoa", "phone": "0987654321", "cccd": "001190012345"},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa được thu gom",
}
USERS = {
    "canbo.a": ("officer", A),
    "truong.a": ("head", A),
    "canbo.b": ("officer", B),
    "truong.b": ("head", B),
    "dtv.lan": ("operator", None),
    "giamsat": ("supervisor", None),
    "lanhdao": ("leader", None),
}


@dataclass
class WebWorld:
    settings: Settings
    services: wiring.Services
    codes: list[str] = field(default_factory=list)

    def ticket(self, dispatched_to: str | None = A, **changes: Any) -> str:
        data = {**REPORT, **changes}
        code = self.services.tickets.create(data, "ai-operator").ticket.code
        if dispatched_to:
            self.services.tickets.dispatch(code, "giamsat", dispatched_to)
        self.codes.append(code)
        return code


def make_world(data_dir: Path, **settings: Any) -> WebWorld:
    data_dir.mkdir(parents=True, exist_ok=True)
    s = Settings(data_dir=data_dir, **settings)
    migrate.upgrade(s.database_url)
    services = wiring.build(s)
    services.admin.import_agencies("hanoi", "test")
    for name, (role, agency) in USERS.items():
        services.users.add(name, role, "test", agency=agency, password=PASSWORD)
    return WebWorld(s, services)


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    m = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def logged_in_client(world: WebWorld, user: str) -> Any:
    """A test client of the web app over the world's services, logged in as ``user``."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    client = TestClient(create_app(world.services))
    token = csrf_token(client.get("/login").text)
    r = client.post(
        "/login", data={"username": user, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return client

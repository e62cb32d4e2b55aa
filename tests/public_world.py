"""A world for the public-door tests: a migrated database, the composition root, the Hanoi agencies,
and an app serving the Open311, public and REST routers; every response body is kept so a test can
search them all for a confidential caller's identity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

import wiring
from config.settings import DatabaseSettings, Settings
from ticketing.db import migrate
from web.app import create_app

BODIES: list[bytes] = []  # every response body of the public-door tests


@dataclass
class World:
    settings: Settings
    services: wiring.Services
    app: FastAPI
    client: TestClient
    bodies: list[bytes] = field(default_factory=list)

    def key(self, name: str = "lgsp") -> str:
        from ticketing.credentials import CredentialKind

        _, secret = self.services.credentials.create(CredentialKind.API_KEY, name, "admin")
        return secret


class KeepingClient(TestClient):
    """A test client that keeps every response body (for the personal-data search)."""

    kept: list[bytes]

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        self.kept.append(response.content)
        BODIES.append(response.content)
        return response


def make_app(services: wiring.Services) -> FastAPI:
    """The real app (security headers, static files, every router)."""
    return create_app(services, secret_key="k" * 48)


def make_world(tmp_path: Path, db_url: str, **settings: Any) -> Iterator[World]:
    migrate.upgrade(db_url)
    s = Settings(data_dir=tmp_path / "data", database=DatabaseSettings(url=db_url), **settings)
    services = wiring.build(s)
    services.admin.import_agencies("hanoi", "admin")
    app = make_app(services)
    bodies: list[bytes] = []
    client = KeepingClient(app, raise_server_exceptions=False)
    client.kept = bodies
    try:
        yield World(s, services, app, client, bodies)
    finally:
        client.close()
        services.close()

"""Liveness and readiness of the parts of a running hotline, and the summary ``hotline status`` prints.

A part is *alive* when its process runs (pid file + command line, or an answer on its port) and
*ready* when it can do its job: Asterisk answers ARI, the call app is registered with ARI and reaches
the database (its own checks, read from its loopback ``/metrics``), the NLU server has its model
loaded, the database answers at the current schema. Each part says whether callers need it: the
summary is ``ok`` when every needed part is up. A degraded part (e.g. calls without the speech model:
keypad menu and operators only) is reported but does not make the hotline down for callers.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

State = Literal["up", "degraded", "down", "disabled"]
PARTS = ("asterisk", "app", "nlu", "scheduler", "web", "database")


@dataclass
class Part:
    name: str
    state: State
    needed: bool  # callers need it: down means calls are not served as they should be
    detail: str = ""
    pid: int | None = None
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.state in ("up", "degraded")

    @property
    def ok(self) -> bool:
        return not self.needed or self.alive

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "alive": self.alive,
            "ready": self.state == "up",
            "needed": self.needed,
            "ok": self.ok,
            "pid": self.pid,
            "checks": self.checks,
            "detail": self.detail,
        }


def summary(parts: list[Part], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One JSON object: ``ok``, the node, and one entry per part."""
    out: dict[str, Any] = {"ok": all(p.ok for p in parts), "node": socket.gethostname()}
    out.update(extra or {})
    for part in parts:
        out[part.name] = part.to_json()
    return out


# -- probes ----------------------------------------------------------------------------------------


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_running(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` when that process runs and its command line contains ``marker``."""
    pid = read_pid(pid_file)
    if pid is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return None
    return pid if marker.encode() in cmdline else None


def http_status(url: str, auth: tuple[str, str] | None = None, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        return httpx.get(url, auth=auth, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def worker_checks(port: int, pid: int | None = None, timeout: float = 2.0) -> dict[str, bool] | None:
    """The ``hotline_ready`` checks a worker serves on loopback, or None when it does not answer (or,
    given ``pid``, when another process serves that port: e.g. a second hotline on the machine)."""
    from prometheus_client.parser import text_string_to_metric_families

    if port <= 0:
        return None
    try:
        resp = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout)
    except httpx.HTTPError:
        return None
    if resp.status_code != 200:
        return None
    checks: dict[str, bool] = {}
    served_by: int | None = None
    for family in text_string_to_metric_families(resp.text):
        if family.name == "hotline_ready":
            for sample in family.samples:
                checks[sample.labels.get("check", "")] = sample.value >= 1
        elif family.name == "hotline_worker_pid" and family.samples:
            served_by = int(family.samples[0].value)
    if pid is not None and served_by != pid:
        return None
    return checks


def database_part(url: str) -> Part:
    """Reachable and at the latest schema."""
    from ticketing.db import migrate
    from ticketing.db.engine import sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return Part("database", "down", True, f"not created yet: {path} (hotline db upgrade)")
    try:
        current = set(migrate.current_revisions(url))
        heads = set(migrate.head_revisions())
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Part("database", "down", True, f"unreachable: {first[:200]}")
    if current != heads:
        return Part("database", "down", True, "schema not up to date (hotline db upgrade)")
    return Part("database", "up", True, "reachable, schema up to date", checks={"reachable": True})


def lease_holder(url: str) -> str | None:
    """Who holds the scheduler's sweep lease now (None: nobody)."""
    from datetime import UTC, datetime

    from ticketing.db.engine import make_engine, make_session_factory
    from ticketing.db.leases import SqlLeases
    from ticketing.scheduler import SWEEP_LEASE

    engine = make_engine(url)
    try:
        return SqlLeases(make_session_factory(engine)).holder(SWEEP_LEASE, datetime.now(UTC))
    finally:
        engine.dispose()

"""A backup taken while a call is in progress (real Asterisk, SIPp caller, the AI operator in this loop),
restored into a fresh data directory: every ticket, attachment hash, audit row and call record the
backup holds is exactly what the live hotline had, and the tickets finished before the backup are
shown identically by ``hotline tickets show --json`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.asterisk import AsteriskInstance
from tests.live_app import settings_env
from tests.sipcaller import place_call_async
from tests.test_backup import ATTACHMENTS, AUDIT, pg_empty, rows  # noqa: F401 (fixture)
from tests.test_live_call import AiApp, ai_app, report_script  # noqa: F401 (fixture)
from ticketing.domain.model import AttachmentKind

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
EVENTS = "SELECT t.code, e.seq, e.at, e.actor, e.action, e.to_status FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id ORDER BY t.code, e.seq"  # noqa: E501
CALLS = "SELECT channel_id, caller, started_at, ended_at, outcome, ticket_code FROM calls ORDER BY id"


def hotline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def has_recording(app: AiApp, code: str) -> bool:
    return any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_backup_during_a_live_call_restores_everything_it_holds(
    backend: str,
    ai_app: Callable[..., Any],  # noqa: F811
    asterisk: AsteriskInstance,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    script = report_script()
    db_url = ""
    restored_url = ""
    if backend == "postgresql":
        make = request.getfixturevalue("pg_empty")
        db_url, restored_url = make(), make()
    app: AiApp = await ai_app(script.transcripts, db_url=db_url)
    env = settings_env(app.settings)

    # a first call, finished with its ticket and recording before the backup
    result = await place_call_async(
        asterisk, tmp_path / "sipp1", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    first = app.handlers[-1]
    await app.wait_for(lambda: first.done.is_set(), 20, "the first dialogue")
    code = first.ports.filed[0][0]
    await app.wait_for(lambda: has_recording(app, code), 30, "the first recording")

    # a second call; the backup is taken while it is in progress
    call = asyncio.create_task(
        place_call_async(
            asterisk, tmp_path / "sipp2", script, hangup="far_end", wait_bye_s=script.duration_s + 30
        )
    )
    await app.wait_for(lambda: len(app.handlers) == 2, 20, "the second call")
    second = app.handlers[-1]
    await app.wait_for(lambda: len(second.stats.heard) >= 2, 40, "the second caller speaking")
    backup = tmp_path / "backup"
    done = await asyncio.to_thread(hotline, env, "backup", "create", str(backup))
    assert done.returncode == 0, done.stderr
    assert not second.done.is_set(), "the backup was meant to be taken during the call"
    assert (await call).returncode == 0
    await app.wait_for(lambda: second.done.is_set(), 20, "the second dialogue")
    await app.wait_for(lambda: has_recording(app, second.ports.filed[0][0]), 30, "the second recording")

    verified = await asyncio.to_thread(hotline, env, "backup", "verify", str(backup))
    assert verified.returncode == 0, verified.stderr
    fresh = tmp_path / "fresh"
    restored_env = {**env, "HOTLINE_DATA_DIR": str(fresh), "HOTLINE_DATABASE__URL": restored_url}
    done = await asyncio.to_thread(hotline, restored_env, "backup", "restore", str(backup))
    assert done.returncode == 0, done.stderr

    old_url = app.settings.database_url
    new_url = restored_url or f"sqlite:///{fresh / 'hotline.db'}"
    # the ticket finished before the backup: shown identically
    shown = [
        await asyncio.to_thread(hotline, e, "tickets", "show", code, "--json", "--show-personal")
        for e in (env, restored_env)
    ]
    assert all(s.returncode == 0 for s in shown), [s.stderr for s in shown]
    original, again = (json.loads(s.stdout) for s in shown)
    assert again == original and original["attachments"], again
    # every audit row, history event, attachment and call record in the backup is the live one
    # (a consistent snapshot: each table a prefix of the live table at a single moment)
    for sql in (AUDIT, ATTACHMENTS):  # append-only tables
        live, back = rows(old_url, sql), rows(new_url, sql)
        assert back and back == live[: len(back)], sql
    live_events, back_events = rows(old_url, EVENTS), rows(new_url, EVENTS)
    assert set(back_events) <= set(live_events) and back_events
    # the finished call's record is the live one; the call in progress is in the backup as open
    calls, live_calls = rows(new_url, CALLS), rows(old_url, CALLS)
    assert len(calls) == 2 and calls[0] == live_calls[0] and calls[0][3] is not None, calls
    assert calls[1][0] == live_calls[1][0] and calls[1][3] is None and live_calls[1][3] is not None
    # every attachment the restored database names is there with its hash
    for _id, _ticket, sha, *_ in rows(new_url, ATTACHMENTS):
        blob = fresh / "attachments" / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha

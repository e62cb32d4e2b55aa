"""The report call of test_live_call.py with the whole app (tickets, call log, outbox) on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.asterisk import AsteriskInstance
from tests.sipcaller import place_call_async
from tests.test_live_call import CALLER, AiApp, ai_app, report_script  # noqa: F401 (fixture)
from ticketing.calls import Outcome
from ticketing.domain.model import AttachmentKind, Status

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.postgres]


async def test_report_call_on_postgresql(
    ai_app: Callable[..., Any],  # noqa: F811
    asterisk: AsteriskInstance,
    tmp_path: Path,
    pg_url: str,
) -> None:
    script = report_script()
    app: AiApp = await ai_app(script.transcripts, db_url=pg_url)
    result = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    code, complete = handler.ports.filed[0]
    assert complete and app.tickets.get(code).status is Status.NEW
    sms = [m for m in app.outbox() if m["ticket_code"] == code and m["channel"] == "sms"]
    assert sms and sms[0]["recipient"] == CALLER
    await app.wait_for(
        lambda: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments),
        30,
        "the recording attachment",
    )
    assert app.records()[0].outcome is Outcome.AI_HANDLED

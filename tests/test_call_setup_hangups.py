"""Callers who hang up at any moment of the call setup never freeze the PBX (decision 044).

Real calls: SIPp -> the session's real Asterisk -> the real app (ARI + AudioSocket) with a handler
that only listens, so the media is idle for the whole call, the case in which Asterisk's AudioSocket
read used to hold its channel lock and a caller's hangup froze the PBX. Each caller hangs up at a
different moment: before the app has answered the ARI events, while the media channel is being
created and bridged, and once the call is set up. Every call must end with its record, no channel may
be left behind, and a normal call afterwards must still be answered.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.asterisk import AsteriskInstance
from tests.sipcaller import CallerScript, ListeningApp, place_call_async, running
from ticketing.calls import Outcome

HANGUP_AFTER_S = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5] * 2


async def wait_records_ended(app: ListeningApp, count: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = app.records(limit=count + 5)
        if len(records) >= count and all(r.ended_at is not None for r in records):
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{sum(r.ended_at is None for r in records)} call(s) never ended: the PBX is stuck")
        await asyncio.sleep(0.1)


@pytest.mark.asterisk
@pytest.mark.slow
async def test_hangups_during_setup_never_freeze_the_pbx(asterisk: AsteriskInstance, tmp_path: Path) -> None:
    async for app in running(ListeningApp(asterisk, tmp_path / "app")):
        before = len(app.records(limit=1000))
        for i, after in enumerate(HANGUP_AFTER_S):
            script = CallerScript().silence(2.5)
            result = await place_call_async(
                asterisk, tmp_path / f"c{i}", script, hangup="early", hangup_after_s=after
            )
            assert result.returncode == 0 and result.successful == 1, result.log
            await wait_records_ended(app, before + i + 1)
        records = app.records(limit=len(HANGUP_AFTER_S))
        assert {r.outcome for r in records} == {Outcome.ABANDONED}
        # a caller after all of them is answered, heard and recorded as usual
        result = await place_call_async(asterisk, tmp_path / "last", CallerScript().dtmf("1").silence(1.0))
        assert result.returncode == 0 and result.successful == 1, result.log
        await wait_records_ended(app, before + len(HANGUP_AFTER_S) + 1)
        assert app.handlers[-1].digits == ["1"]
        channels = await asyncio.to_thread(asterisk.cli, "core show channels count")
        assert "0 active channels" in channels, channels

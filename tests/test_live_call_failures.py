"""The AI operator's failure paths on real calls: SIPp -> the real test Asterisk -> the app in this loop
(ARI, AudioSocket, the dialogue engine) -> a real database, with a real part failing mid-call:
Rasa stopped (a real Rasa server), Asterisk reloaded, PostgreSQL cut off (a TCP proxy in front of the
real server), espeak-ng broken, no operator logged in, and the app itself killed (``hotline app run``
in a subprocess, SIGKILL). Each call ends with the caller reaching an operator or a call-back ticket,
an error in the log, and nothing lost.

Speech recognition: :mod:`tests.transcript_seam` (TEST SEAM: the known transcript at the real
endpointer's end of utterance), as in tests/test_live_call.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from nlu.interpreter import Tally
from nlu.rasa_server import stop as stop_rasa
from pbx.ai_operator.pending import PendingRecordings, pending_path
from pbx.ami import AmiMonitor
from tests.asterisk import AsteriskInstance
from tests.live_app import app_settings, settings_env
from tests.sipcaller import CallerScript, OperatorPhone, place_call_async
from tests.tcp_proxy import TcpProxy
from tests.test_live_call import CALLER, REPORT, AiApp, report_script
from ticketing.db import migrate
from ticketing.domain.model import AttachmentKind, Status
from ticketing.journal import TicketJournal, journal_path

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
async def start_app(asterisk: AsteriskInstance, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    apps: list[AiApp] = []

    async def start(
        transcripts: list[str],
        *,
        inst: AsteriskInstance | None = None,
        db_url: str = "",
        data_dir: Path | None = None,
        call: dict[str, Any] | None = None,
        nlu: dict[str, Any] | None = None,
    ) -> AiApp:
        settings = app_settings(inst or asterisk, data_dir or tmp_path / f"app{len(apps)}")
        update: dict[str, Any] = {}
        if db_url:
            await asyncio.to_thread(migrate.upgrade, db_url)
            update["database"] = settings.database.model_copy(update={"url": db_url})
        if call:
            update["call"] = settings.call.model_copy(update=call)
        if nlu:
            update["nlu"] = settings.nlu.model_copy(update=nlu)
        app = AiApp(settings.model_copy(update=update), transcripts)
        await app.start()
        apps.append(app)
        return app

    try:
        yield start
    finally:
        for app in apps:
            await app.stop()


def has_recording(app: AiApp, code: str) -> bool:
    return any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments)


BackendSpy = Tally  # wraps the app's real interpreter and notes which backend answered each turn


async def wait_ready(proc: asyncio.subprocess.Process, timeout_s: float = 90.0) -> list[bytes]:
    """Read ``hotline app run``'s stderr until its "ready" line; keep draining it afterwards."""
    assert proc.stderr is not None
    stderr = proc.stderr
    lines: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not any(b"ready" in line for line in lines):
        line = await asyncio.wait_for(stderr.readline(), max(0.1, deadline - loop.time()))
        assert line, b"".join(lines)
        lines.append(line)

    async def drain() -> None:
        while line := await stderr.readline():
            lines.append(line)

    task = asyncio.create_task(drain())
    proc._hotline_drain = task  # type: ignore[attr-defined]  # kept alive with the process
    return lines


def never_now_hours() -> list[str]:
    """Operators' hours that never include now: a one-minute span twelve hours away."""
    later = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=12)
    return [f"{later:%H}:00-{later:%H}:01"]


# ---- a. Rasa stopped mid-call ---------------------------------------------------------------------


async def test_rasa_stopped_mid_call_the_fallback_interpreter_finishes_the_report(
    start_app: Callable[..., Any],
    asterisk: AsteriskInstance,
    own_rasa_server: tuple[str, str, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nlu.interpreter")
    url, token, run_dir = own_rasa_server
    script = report_script()
    app: AiApp = await start_app(
        script.transcripts, nlu={"rasa_url": url, "rasa_token": token, "rasa_timeout_s": 2.0}
    )
    assert app.app.calls is not None
    spy = BackendSpy(app.app.calls.services.interpreter)
    app.app.calls.services.interpreter = spy
    call = asyncio.create_task(
        place_call_async(
            asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
        )
    )
    await app.wait_for(lambda: len(spy.backends) >= 1, 40, "the first turn")
    assert spy.backends == ["rasa"], spy.backends  # the real Rasa server understood the first turn
    assert await asyncio.to_thread(stop_rasa, run_dir)  # Rasa goes away between two caller turns
    result = await call
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert spy.backends[0] == "rasa" and set(spy.backends[1:]) == {"fallback"}, spy.backends
    assert "Rasa unavailable" in caplog.text and "fallback interpreter used" in caplog.text
    assert handler.outcome == "finished", [t for t, _ in handler.said]
    code, complete = handler.ports.filed[0]
    assert complete and app.tickets.get(code).status is Status.NEW
    assert app.tickets.get(code).place.ward_name == "Phường Đống Đa"
    await app.wait_for(lambda: has_recording(app, code), 30, "the recording attachment")


# ---- b. Asterisk reload during a call -------------------------------------------------------------


async def test_asterisk_reload_during_a_call_the_call_goes_on_and_the_next_call_works(
    start_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = report_script()
    app: AiApp = await start_app(script.transcripts)
    call = asyncio.create_task(
        place_call_async(
            asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
        )
    )
    await app.wait_for(lambda: app.handlers and len(app.handlers[-1].stats.heard) >= 2, 60, "two turns")
    handler = app.handlers[-1]
    frames_before = handler.stats.frames_in
    reload_out = await asyncio.to_thread(asterisk.cli, "core reload")
    reloaded_at = asyncio.get_running_loop().time()
    result = await call
    assert result.returncode == 0, (reload_out, result.log)
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.outcome == "finished", [t for t, _ in handler.said]
    # audio kept flowing after the reload: every remaining turn was heard
    assert handler.stats.heard == script.transcripts, handler.stats.heard
    after_s = (handler.stats.frames_in - frames_before) / 50
    assert after_s > 0.8 * (asyncio.get_running_loop().time() - reloaded_at - 30), after_s
    assert after_s > 20, after_s
    code = handler.ports.filed[0][0]
    assert app.tickets.get(code).status is Status.NEW
    await app.wait_for(lambda: has_recording(app, code), 30, "the recording attachment")
    # the next call works
    nxt = CallerScript(caller=CALLER).silence(2.0).say(REPORT[0]).silence(3.0)
    result = await place_call_async(asterisk, tmp_path / "sipp2", nxt, hangup="after", tail_s=0.5)
    assert result.returncode == 0, result.log
    await app.wait_for(lambda: len(app.handlers) == 2 and app.handlers[1].done.is_set(), 20, "call 2")
    assert app.handlers[1].stats.heard == [REPORT[0]]
    assert app.handlers[1].outcome == "hung_up" and app.handlers[1].ports.filed


# ---- c. the database down during a call -----------------------------------------------------------


async def test_database_down_mid_call_journals_the_report_transfers_and_replays_with_the_recording(
    start_app: Callable[..., Any],
    asterisk: AsteriskInstance,
    pg_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    migrate.upgrade(pg_url)
    real = make_url(pg_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    port = proxy.open()
    proxied = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    script = report_script(goodbye=False).silence(15.0)
    app: AiApp = await start_app(script.transcripts, db_url=proxied, call={"require_operator": False})
    try:
        call = asyncio.create_task(
            place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
        )
        await app.wait_for(lambda: app.handlers and app.handlers[-1].stats.heard, 40, "the first turn")
        proxy.close()  # PostgreSQL unreachable from here on; open connections cut
        result = await call
        assert result.returncode == 0, result.log
        handler = app.handlers[-1]
        await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
        assert handler.stats.heard == script.transcripts
        # the report went to the journal, the caller to the operators with a message
        assert len(handler.ports.filed) == 1, handler.ports.filed
        entry_id, complete = handler.ports.filed[0]
        assert entry_id.startswith("J-") and complete
        assert handler.outcome == "transferred"
        said = " ".join(t for t, _ in handler.said)
        assert "tổng đài viên" in said, said
        assert "database unavailable" in caplog.text
        assert app.app.ami is not None
        await app.app.ami.wait_for_event(
            lambda e: e.name == "QueueCallerJoin" and e.fields.get("CallerIDNum") == CALLER, 10
        )
        # the recording, once the call is over, goes into the journal entry
        attacher = app.app.calls.attacher  # type: ignore[union-attr]
        await app.wait_for(lambda: any(c == entry_id for c, _ in attacher.attached), 40, "journal rec")
        journal = TicketJournal(journal_path(app.settings.data_dir))
        (entry,) = journal.pending()
        assert entry.id == entry_id and len(entry.recordings) == 1
        # the database is back: `hotline journal replay` files it with its recording
        proxy.open()
        env = {**os.environ, **settings_env(app.settings)}
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", "import cli; cli.main()", "journal", "replay"],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        code = journal.replayed_code(entry_id)
        assert code, (done.stdout, done.stderr)
        ticket = app.tickets.get(code)
        assert ticket.status is Status.NEW and ticket.caller.phone == CALLER
        assert ticket.place.ward_name == "Phường Đống Đa" and REPORT[0] in ticket.transcript
        assert has_recording(app, code)
        assert not journal.pending()
    finally:
        proxy.shutdown()


# ---- d. speech synthesis broken mid-call ----------------------------------------------------------


async def test_tts_failure_mid_call_plays_the_prerendered_transfer_prompt_and_queues_the_caller(
    start_app: Callable[..., Any],
    asterisk: AsteriskInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = report_script(goodbye=False).silence(10.0)
    script.write_pcap(tmp_path / "warm.pcap")  # the caller's own speech is made before espeak breaks
    app: AiApp = await start_app(script.transcripts, call={"require_operator": False})
    broken = tmp_path / "broken-bin"
    broken.mkdir()
    espeak = broken / "espeak-ng"
    espeak.write_text("#!/bin/sh\necho 'espeak-ng: cannot open voice data' >&2\nexit 1\n")
    espeak.chmod(espeak.stat().st_mode | stat.S_IXUSR)
    call = asyncio.create_task(
        place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
    )
    await app.wait_for(lambda: app.handlers and app.handlers[-1].stats.heard, 40, "the first turn")
    monkeypatch.setenv("PATH", f"{broken}{os.pathsep}{os.environ['PATH']}")  # espeak-ng now fails
    result = await call
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert "speech synthesis failed" in caplog.text and "tts_failed" in caplog.text
    assert handler.outcome == "transferred"
    # never silence: the pre-rendered transfer prompt was played to the end
    assert handler.fallback_playback is not None and handler.fallback_playback.done.result() is True
    # the draft so far is kept for the operator
    assert handler.draft_id and app.tickets.get(handler.draft_id).status is Status.DRAFT
    assert REPORT[0] in app.tickets.get(handler.draft_id).transcript
    assert app.app.ami is not None
    await app.app.ami.wait_for_event(
        lambda e: e.name == "QueueCallerJoin" and e.fields.get("CallerIDNum") == CALLER, 10
    )


# ---- e. no operator logged in -----------------------------------------------------------------------


async def test_no_operator_logged_in_makes_a_call_back_ticket_and_a_logged_in_one_takes_the_call(
    start_app: Callable[..., Any],
    asterisk_factory: Callable[[str], AsteriskInstance],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    own = asterisk_factory("op")  # a fresh PBX: no operator registered yet
    script = CallerScript(caller=CALLER).silence(2.0).say("cho tôi gặp tổng đài viên").silence(25.0)
    app: AiApp = await start_app(script.transcripts, inst=own)  # call.require_operator: the default
    ami = app.app.ami
    assert ami is not None and await ami.operators_logged_in("operators") == 0
    result = await place_call_async(
        own, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 20
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.outcome == "callback"
    said = " ".join(t for t, _ in handler.said)
    assert "chưa có tổng đài viên" in said and "gọi lại" in said, said
    assert handler.draft_id and app.tickets.get(handler.draft_id).status is Status.DRAFT
    assert "no operator for call" in caplog.text
    await app.wait_for(lambda: has_recording(app, handler.draft_id), 30, "the recording attachment")
    # an operator logs in: the same request now goes to the queue and the operator's phone rings
    phone = OperatorPhone(own, tmp_path / "operator", "optest")
    await asyncio.to_thread(phone.start)
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while await ami.operators_logged_in("operators") < 1:
            assert asyncio.get_running_loop().time() < deadline, "the operator never became available"
            await asyncio.sleep(0.5)
        short = CallerScript(caller=CALLER).silence(2.0).say("cho tôi gặp tổng đài viên").silence(12.0)
        result = await place_call_async(own, tmp_path / "sipp2", short, hangup="after", tail_s=0.5)
        assert result.returncode == 0, result.log
        second = app.handlers[-1]
        await app.wait_for(lambda: second.done.is_set(), 20, "the end of the second dialogue")
        assert second is not handler and second.outcome == "transferred"
        channel_id = second.call.channel_id  # type: ignore[union-attr]
        await ami.wait_for_event(
            lambda e: e.name == "AgentConnect" and e.fields.get("Uniqueid") == channel_id, 15
        )
    finally:
        await asyncio.to_thread(phone.stop)


# ---- f. the app killed mid-call -----------------------------------------------------------------------


async def test_app_killed_mid_dialogue_caller_reaches_the_queue_and_the_pending_recording_is_attached(
    start_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """``hotline app run`` (the AI operator: no speech model there, so the keypad menu) files a
    call-back ticket (operators' hours are over) and is SIGKILLed while it tells the caller so, before
    the call's recording could be attached. The restarted app sends the orphaned caller to the queue
    (the dialplan fallback) and attaches the pending recording once the call is over."""
    data_dir = tmp_path / "app"
    settings = app_settings(asterisk, data_dir)
    env = {
        **os.environ,
        **settings_env(settings),
        "HOTLINE_CALL__OPERATOR_HOURS": f'["{never_now_hours()[0]}"]',
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import cli; cli.main()", "app", "run",
        env=env, cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    user, secret = asterisk.ami_auth
    ami = AmiMonitor("127.0.0.1", asterisk.ami_port, user, secret)
    await ami.connect()
    store = PendingRecordings(pending_path(data_dir))
    call = None
    try:
        app_log = await wait_ready(proc)
        await asyncio.sleep(1.0)  # the supervisor registers the app right after "ready"
        script = CallerScript(caller=CALLER).silence(4.0).dtmf("0").silence(40.0)
        call = asyncio.create_task(
            place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        while not store.pending():
            assert loop.time() < deadline, b"".join(app_log).decode(errors="replace")[-3000:]
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGKILL)  # mid-call, the recording attachment still pending
        await proc.wait()
        (pending,) = store.pending()
        assert not any(e.name == "QueueCallerJoin" for e in ami.events)
        restarted: AiApp = await start_app([], data_dir=data_dir)
        assert restarted.app.calls is not None and restarted.app.calls.attacher.pending >= 1
        join = await ami.wait_for_event(
            lambda e: e.name == "QueueCallerJoin" and e.fields.get("Uniqueid") == pending.channel_id, 15
        )
        assert join.fields["Queue"] == "operators"
        result = await call
        assert result.returncode == 0, result.log
        ticket = restarted.tickets.get(pending.code)
        assert ticket.status is Status.DRAFT and ticket.caller.phone == CALLER
        await restarted.wait_for(lambda: has_recording(restarted, pending.code), 40, "the recording")
        attachments = restarted.tickets.get(pending.code).attachments
        rec = next(a for a in attachments if a.kind is AttachmentKind.RECORDING)
        assert rec.size > 0.8 * script.duration_s * 16000  # the whole call, queue part included
        # the store is marked right after the attachment commits
        await restarted.wait_for(lambda: not store.pending(), 10, "the pending entry to be cleared")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if call is not None and not call.done():
            call.cancel()
        ami.close()

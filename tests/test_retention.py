"""``hotline retention``: personal data of tickets closed past the retention (caller, transcript,
recordings, audit values) and of old calls (number, Asterisk recording) is erased only with --apply;
the tickets stay for the statistics; blobs nothing refers to are swept after a grace period."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

from tests.test_service import REPORT, World, _evidence
from tests.test_service import world as world
from ticketing.calls import CallRecord, Outcome
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.retention import SqlRetentionRepository
from ticketing.retention import RetentionService

PHONE = REPORT["caller"]["phone"]


def _blob(w: World, sha256: str) -> Path:
    return w.store.path_for(sha256)


def test_retention_erases_personal_data_of_old_closed_tickets(
    world: World, db_url: str, tmp_path: Path
) -> None:
    w = world
    report = {**REPORT, "transcript": "Tôi là Phạm Thị Hoa, số 0987654321"}
    old = w.tickets.create(report, "ai-bot").ticket.code
    w.tickets.attach_bytes(old, b"RIFF old call audio", "call.wav", "recording", "ai-bot")
    w.tickets.dispatch(old, "dp")
    w.tickets.accept(old, "ubnd")
    w.tickets.complete(old, "Đã thu gom", "ubnd", [_evidence(tmp_path)])
    still_open = w.tickets.create(report, "ai-bot").ticket.code
    w.tickets.attach_bytes(still_open, b"RIFF open call audio", "call.wav", "recording", "ai-bot")
    recordings = {a.filename: a.sha256 for a in w.tickets.get(old).attachments}
    open_recording = w.tickets.get(still_open).attachments[0].sha256

    # Asterisk's own recordings of the two calls, and a stray blob from a crash (an hour old)
    asterisk_dir = tmp_path / "monitor"
    asterisk_dir.mkdir()
    calls = SqlCallRepository(make_session_factory(make_engine(db_url)))
    ended = w.clock.now() + timedelta(minutes=5)
    for code, name in ((old, "old.wav"), (still_open, "open.wav")):
        (asterisk_dir / name).write_bytes(b"RIFF" + bytes(1000))
        calls.add(
            CallRecord(
                name,
                "0987654321",
                "1022",
                w.clock.now(),
                ended_at=ended,
                outcome=Outcome.AI_HANDLED,
                recording=str(asterisk_dir / name),
                ticket_code=code,
            )
        )
    stray = w.store.put_bytes(b"evidence of a refused step")
    os.utime(_blob(w, stray.sha256), (time.time() - 7200, time.time() - 7200))
    fresh_stray = w.store.put_bytes(b"an in-flight step's evidence")

    later = w.clock.now() + timedelta(days=1826)
    service = RetentionService(
        SqlRetentionRepository(make_session_factory(make_engine(db_url))),
        w.store.root,
        Path,
        lambda: later,
        1825,
        1.0,
    )
    dry = service.run()
    assert [t.code for t in dry.tickets] == [old] and dry.tickets[0].recordings == 1
    assert [c.channel_id for c in dry.calls] == ["old.wav"] and dry.call_files == [asterisk_dir / "old.wav"]
    assert [p.name for p in dry.orphan_blobs] == [stray.sha256]
    assert w.tickets.get(old).caller.phone == PHONE  # a dry run changes nothing
    assert (asterisk_dir / "old.wav").exists() and _blob(w, stray.sha256).exists()

    done = service.run(apply=True)
    assert done.applied and done.freed_bytes > 1000
    t = w.tickets.get(old)
    assert (t.caller.name, t.caller.phone, t.caller.cccd, t.transcript) == ("", "", "", "")
    assert t.content == REPORT["content"] and t.result == "Đã thu gom"  # the statistics keep the rest
    assert [a.kind.value for a in t.attachments] == ["evidence"]
    assert not _blob(w, recordings["call.wav"]).exists() and _blob(w, recordings["bien_ban.jpg"]).exists()
    trail = w.tickets.audit_trail(old)
    assert trail[-1].action == "retention_erase"
    assert PHONE not in json.dumps([e.before for e in trail] + [e.after for e in trail], default=str)
    assert not (asterisk_dir / "old.wav").exists() and (asterisk_dir / "open.wav").exists()
    old_call = calls.by_channel("old.wav")
    assert old_call is not None and old_call.caller == "" and old_call.recording == ""
    assert not _blob(w, stray.sha256).exists() and _blob(w, fresh_stray.sha256).exists()  # grace period
    # the open ticket keeps everything
    assert w.tickets.get(still_open).caller.phone == PHONE and _blob(w, open_recording).exists()
    again = service.run(apply=True)  # nothing left to do
    assert again.tickets == [] and again.calls == [] and again.orphan_blobs == []


def test_retention_command_is_a_dry_run_unless_applied(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main
    from config.settings import get_settings

    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_DATABASE__URL": "", "HOTLINE_CITY": "hanoi"}
    runner = CliRunner()

    def run(*args: str) -> str:
        get_settings.cache_clear()
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    store = tmp_path / "var" / "attachments" / "ab" / "cd"
    store.mkdir(parents=True)
    orphan = store / ("abcd" + "0" * 60)
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    dry = json.loads(run("retention", "--json"))
    assert dry["applied"] is False and dry["orphan_blobs"] == [orphan.name] and orphan.exists()
    assert "dry run" in run("retention")
    done = json.loads(run("retention", "--apply", "--json"))
    assert done["applied"] is True and not orphan.exists() and done["freed_bytes"] == len(b"left by a crash")
    get_settings.cache_clear()

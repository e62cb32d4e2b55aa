"""The rendered configuration loaded by a real Asterisk: modules, endpoints, dialplan, queues, ARI and
AMI auth on loopback, a SIPp call with no app landing in the operator queue and being recorded, an
INVITE from an unknown IP refused, and stop/start/reload."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from pbx.fallback_calls import JOURNAL_NAME, import_journal
from pbx.process import PbxError, parse_endpoints
from pbx.render import REQUIRED_MODULES
from tests.asterisk import AsteriskInstance, sipp_call
from ticketing.calls import Outcome
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.operators import new_endpoint

pytestmark = pytest.mark.asterisk


def wait_for(predicate: Callable[[], bool], timeout: float = 20, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_every_required_module_is_running(asterisk: AsteriskInstance) -> None:
    out = asterisk.cli("module show")
    running = {m.group(1) for m in re.finditer(r"^(\S+\.so)\s.*\bRunning\b", out, flags=re.M)}
    assert set(REQUIRED_MODULES) <= running, set(REQUIRED_MODULES) - running
    assert not re.search(r"^chan_iax2\.so", out, flags=re.M)  # autoload = no: nothing unlisted


def test_endpoints_dialplan_and_queues_are_loaded(asterisk: AsteriskInstance) -> None:
    endpoints = {e.name for e in parse_endpoints(asterisk.cli("pjsip show endpoints"))}
    assert {"dev-local", "optest"} <= endpoints
    assert "127.0.0.1:" + str(asterisk.sip_port) in asterisk.cli("pjsip show transports")
    inbound = asterisk.cli("dialplan show 1022@hotline-inbound")
    for app in ("Answer()", "MixMonitor(${HOTLINE_RECORDING})", "Stasis(hotline)"):
        assert app in inbound
    assert "Queue(${HOTLINE_QUEUE}" in asterisk.cli("dialplan show hotline-operators")
    assert f"agi://127.0.0.1:{asterisk.agi_port}/dtmf" in asterisk.cli("dialplan show hotline-fallback")
    queues = asterisk.cli("queue show")
    assert "operators has" in queues and "operators-urgent has" in queues
    assert "(PJSIP/optest)" in asterisk.cli("queue show operators")


def test_ari_needs_the_password_and_listens_on_loopback(asterisk: AsteriskInstance) -> None:
    info = f"{asterisk.ari_url}/asterisk/info"
    ok = httpx.get(info, auth=asterisk.ari_auth, timeout=10)
    assert ok.status_code == 200 and "system" in ok.json()
    assert httpx.get(info, timeout=10).status_code == 401
    assert httpx.get(info, auth=(asterisk.ari_auth[0], "wrong-password-123"), timeout=10).status_code == 401
    status = asterisk.cli("http show status")
    assert f"127.0.0.1:{asterisk.http_port}" in status
    assert "0.0.0.0" not in status


def hanoi_day() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y/%m/%d")


def ami_login(port: int, user: str, secret: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.recv(1024)  # banner
        sock.sendall(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")


def test_ami_needs_the_password(asterisk: AsteriskInstance) -> None:
    user, secret = asterisk.ami_auth
    assert "Response: Success" in ami_login(asterisk.ami_port, user, secret)
    assert "Response: Error" in ami_login(asterisk.ami_port, user, "wrong-password-123")
    assert f"127.0.0.1:{asterisk.ami_port}" in asterisk.cli("manager show settings")


def test_a_call_without_the_app_lands_in_the_queue_and_is_recorded(
    asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    before = set(asterisk.recordings())
    days = {hanoi_day()}
    sipp = sipp_call(asterisk, tmp_path, background=True)
    assert isinstance(sipp, subprocess.Popen)
    try:
        assert wait_for(lambda: "PJSIP/dev-local-" in asterisk.cli("queue show operators"), timeout=20), (
            asterisk.cli("core show channels")
        )
        queued = asterisk.cli("queue show operators")
        assert "Callers:" in queued
        channels = asterisk.cli("core show channels concise")
        assert "hotline-operators" in channels and "Queue" in channels
        out, _ = sipp.communicate(timeout=90)
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert sipp.returncode == 0, out
    assert wait_for(lambda: len(set(asterisk.recordings()) - before) == 1, timeout=10)
    (recording,) = set(asterisk.recordings()) - before
    assert recording.is_relative_to(asterisk.recordings_dir)
    days.add(hanoi_day())
    # Filed under the city's date (Asia/Ho_Chi_Minh), not the host clock's zone (UTC here).
    assert recording.parent.relative_to(asterisk.recordings_dir).as_posix() in days
    assert wait_for(lambda: recording.stat().st_size > 32_000, timeout=10)  # >2 s of 8 kHz 16-bit audio
    assert recording.read_bytes()[:4] == b"RIFF"
    log = asterisk.host_path(f"{asterisk.layout.log_dir}/messages.log").read_text(errors="replace")
    assert "Stasis app 'hotline' doesn't exist" in log  # the app was absent: the fallback took the call
    # messages.log names the call by its id, never by the caller's number ("sipp" from SIPp)
    assert "|sipp|" not in log and "call from sipp" not in log and "Executing [" not in log
    # The app never saw the call; Asterisk's fallback journal gives the call log its record anyway.
    journal = asterisk.host_path(f"{asterisk.layout.log_dir}/{JOURNAL_NAME}")
    assert journal.stat().st_mode & 0o077 == 0, "the journal holds callers' numbers"
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    migrate.upgrade(db)
    engine = make_engine(db)
    try:
        repo = SqlCallRepository(make_session_factory(engine))
        assert wait_for(
            lambda: (
                import_journal(journal, tmp_path / "offset", repo) >= 0
                and ((r := repo.by_channel(recording.stem)) is not None and r.ended_at is not None)
            ),
            timeout=10,
        ), journal.read_text()
        record = repo.by_channel(recording.stem)
        assert record is not None and record.outcome is Outcome.ABANDONED  # no operator answered
        lines = [line.split("|")[0] for line in journal.read_text().splitlines() if recording.stem in line]
        assert lines == ["arrive", "start", "end"]  # noted on arrival, before the app was even tried
        assert record.caller == "sipp"  # the caller ID SIPp sends
        assert asterisk.layout.to_host(record.recording) == recording
        assert record.duration_s is not None and record.duration_s >= 2
    finally:
        engine.dispose()


def test_an_invite_from_an_unknown_ip_is_rejected(asterisk: AsteriskInstance, tmp_path: Path) -> None:
    result = sipp_call(asterisk, tmp_path, source_ip="127.0.0.2")
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode != 0
    errors = (
        (tmp_path / "errors.log").read_text(errors="replace") if (tmp_path / "errors.log").exists() else ""
    )
    assert re.search(r"SIP/2\.0 (401|403)", errors), errors[-2000:] + result.stdout[-2000:]
    assert "PJSIP/" not in asterisk.cli("core show channels concise")


def test_reload_picks_up_a_new_operator(asterisk: AsteriskInstance) -> None:
    endpoint, _password = new_endpoint("opreload", "Lê Thị C")
    original = list(asterisk.endpoints)
    try:
        asterisk.render([*original, endpoint])
        asterisk.reload()
        assert wait_for(
            lambda: "opreload" in {e.name for e in parse_endpoints(asterisk.cli("pjsip show endpoints"))}
        )
        assert wait_for(lambda: "(PJSIP/opreload)" in asterisk.cli("queue show operators"))
    finally:
        asterisk.render(original)
        asterisk.reload()
    assert wait_for(lambda: "(PJSIP/opreload)" not in asterisk.cli("queue show operators"))


def test_stop_and_start_again(asterisk_factory: Callable[[str], AsteriskInstance]) -> None:
    inst = asterisk_factory("cycle")
    first = inst.process.pid()
    assert first is not None and inst.process.is_running()
    assert inst.stop() is True
    assert inst.process.pid() is None
    with pytest.raises(PbxError):
        inst.cli("core show version")
    assert inst.stop() is False  # stopping a stopped instance is harmless
    second = inst.start()
    assert second != first and inst.process.is_running()
    status = inst.process.status()
    assert status.running and "uptime" in status.uptime.lower()
    assert {"dev-local", "optest"} <= {e.name for e in status.endpoints}


def test_a_taken_port_is_refused_before_start(asterisk_factory: Callable[[str], AsteriskInstance]) -> None:
    inst = asterisk_factory("busy")
    inst.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("127.0.0.1", inst.sip_port))
        with pytest.raises(PbxError, match="already in use"):
            inst.start()
    assert inst.process.pid() is None

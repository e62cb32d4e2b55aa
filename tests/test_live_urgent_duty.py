"""An urgent call with no operator logged in reaches the competent agency's duty phone over the trunk,
and the draft is in the outbox as an SMS to that phone (HP Art. 9.1).

Real parts: SIPp caller -> the test Asterisk (PJSIP, the ``urgent`` dialplan, Dial over a configured
trunk) -> the app (ARI, AudioSocket, the dialogue engine) -> SQLite and its outbox; the duty phone is a
SIPp UAS on 127.0.0.3 behind the trunk "duty". Speech: the transcript seam (see test_live_call.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import TrunkSettings
from pbx.install import AsteriskLayout
from pbx.process import AsteriskProcess, PbxError
from tests.asterisk import AsteriskInstance, ensure_root, free_port, instance_settings
from tests.live_app import app_settings
from tests.sipcaller import CallerScript, parse_message_log, place_call_async
from tests.test_live_call import CALLER, AiApp
from wiring import build

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

DUTY_IP = "127.0.0.3"
DUTY_PHONE = "0987000111"
URGENT = "cháy lớn ở chợ phường hoàn kiếm đang bốc khói"


@pytest.fixture
def duty_pbx(tmp_path: Path) -> Iterator[tuple[AsteriskInstance, int]]:
    """A test Asterisk with no operator at all and a trunk "duty" to a SIPp UAS on 127.0.0.3."""
    data_dir = tmp_path / "pbx"
    root = ensure_root(data_dir)
    duty_port = free_port(socket.SOCK_DGRAM, DUTY_IP)
    trunk = TrunkSettings(name="duty", host=f"{DUTY_IP}:{duty_port}", match=[DUTY_IP])
    agi_port = free_port()
    instance = f"t{os.getpid()}duty"
    settings = instance_settings(
        data_dir, instance, fastagi_url=f"agi://127.0.0.1:{agi_port}/dtmf", trunks=[trunk]
    )
    lay = AsteriskLayout("chroot", root, instance, (data_dir / f"asterisk-{instance}").resolve())
    inst = AsteriskInstance(settings, lay, AsteriskProcess(lay), agi_port)
    try:
        inst.start()
    except PbxError as exc:
        inst.stop()
        pytest.fail(f"cannot start the test Asterisk: {exc}")
    try:
        yield inst, duty_port
    finally:
        inst.stop()
        inst.remove_state()


DUTY_SCENARIO = Path(__file__).parent / "data" / "sipp" / "duty_phone_uas.xml"


def start_duty_phone(workdir: Path, port: int) -> subprocess.Popen[str]:
    """SIPp's built-in UAS, also answering the trunk's OPTIONS probes (Asterisk qualifies the trunk at
    any time): answers the call, keeps the messages it received. Runs until killed."""
    workdir.mkdir(parents=True, exist_ok=True)
    sipp = shutil.which("sipp")
    assert sipp, "sipp is installed by scripts/setup.sh (sip-tester)"
    argv = [sipp, "-sf", str(DUTY_SCENARIO), "-i", DUTY_IP, "-p", str(port), "-nostdin", "-trace_msg",
            "-message_file", str(workdir / "duty-messages.log"), "-trace_err",
            "-error_file", str(workdir / "duty-errors.log")]  # fmt: skip
    return subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize(
    "call_settings",
    [
        pytest.param({}, id="nobody-logged-in-straight-to-duty"),
        # the app does not check the queue: the caller waits in it, no one answers, then the duty phone
        pytest.param({"require_operator": False, "urgent_operator_wait_s": 4}, id="queue-timeout-then-duty"),
    ],
)
async def test_urgent_call_without_operators_reaches_the_duty_phone_and_the_sms_is_queued(
    duty_pbx: tuple[AsteriskInstance, int], tmp_path: Path, call_settings: dict[str, object]
) -> None:
    inst, duty_port = duty_pbx
    settings = app_settings(inst, tmp_path / "app")
    settings = settings.model_copy(update={"call": settings.call.model_copy(update=call_settings)})
    root = build(settings)
    root.admin.import_agencies(settings.city, "test")
    agency = root.admin.test_route("PCCC", "00070").agency  # fire in Phường Hoàn Kiếm
    root.admin.set_duty_phone(agency, DUTY_PHONE, "test")

    phone = start_duty_phone(tmp_path / "duty", duty_port)
    script = CallerScript(caller=CALLER).silence(2.0).say(URGENT).silence(20.0)
    app = AiApp(settings, script.transcripts)
    await app.start()
    try:
        result = await place_call_async(inst, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
        assert result.returncode == 0, result.log
        handler = app.handlers[-1]
        await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
        assert handler.outcome == "transferred" and handler.engine is not None
        assert handler.engine.draft.urgent and handler.engine.draft.category == "PCCC"
        sms = [m for m in app.outbox() if m["kind"] == "urgent_duty"]
        assert [(m["recipient"], m["channel"]) for m in sms] == [(DUTY_PHONE, "sms")]
        assert "KHAN" in sms[0]["body"] and "chay lon" in sms[0]["body"].lower()
        log_file = tmp_path / "duty" / "duty-messages.log"

        def duty_call_ended() -> bool:
            text = log_file.read_text(errors="replace") if log_file.is_file() else ""
            return any(m.first_line.startswith("BYE ") for m in parse_message_log(text))

        await app.wait_for(duty_call_ended, 30, "the duty phone's call to end")
        received = parse_message_log(log_file.read_text(errors="replace"))
        invites = [m for m in received if m.first_line.startswith("INVITE ")]
        assert invites and invites[0].first_line.startswith(f"INVITE sip:{DUTY_PHONE}@{DUTY_IP}"), received
        assert any(m.first_line.startswith("BYE ") for m in received)  # answered, then the caller hung up
        ami = app.app.ami
        assert ami is not None
        await ami.wait_for_event(lambda e: e.fields.get("UserEvent") == "HotlineDuty", 10)
        if call_settings:
            left = await ami.wait_for_event(lambda e: e.fields.get("UserEvent") == "HotlineQueueLeft", 10)
            assert left.fields.get("Status") == "TIMEOUT", left.fields
    finally:
        if phone.poll() is None:
            phone.kill()
            phone.wait(5)
        await app.stop()

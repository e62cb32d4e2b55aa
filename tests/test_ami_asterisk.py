"""AMI monitor (panoramisk) against the real Asterisk: queue and operator state."""

from __future__ import annotations

import pytest

from pbx.ami import AmiError, AmiMonitor, parse_queue_status
from tests.asterisk import AsteriskInstance

pytestmark = [pytest.mark.asterisk]


async def test_queue_state_lists_operators(asterisk: AsteriskInstance) -> None:
    user, secret = asterisk.ami_auth
    ami = AmiMonitor("127.0.0.1", asterisk.ami_port, user, secret)
    await ami.connect()
    try:
        states = {q.name: q for q in await ami.queue_states()}
        assert {"operators", "operators-urgent"} <= set(states)
        members = states["operators"].members
        assert [m.interface for m in members] == ["PJSIP/optest"]
        # the test operator's softphone is not registered: nobody is logged in to take calls
        assert await ami.operators_logged_in("operators") == 0
        assert states["operators"].waiting == 0
    finally:
        ami.close()


async def test_wrong_secret_is_refused(asterisk: AsteriskInstance) -> None:
    ami = AmiMonitor("127.0.0.1", asterisk.ami_port, asterisk.ami_auth[0], "wrong-secret-123")
    with pytest.raises(AmiError, match="refused the login"):
        await ami.connect(timeout_s=5)
    ami.close()


def test_parse_queue_status_from_recorded_messages() -> None:
    messages = [
        {"Event": "QueueParams", "Queue": "operators", "Calls": "2"},
        {"Event": "QueueMember", "Queue": "operators", "Name": "Lan", "StateInterface": "PJSIP/op1",
         "Status": "1", "Paused": "0"},
        {"Event": "QueueMember", "Queue": "operators", "Name": "Minh", "StateInterface": "PJSIP/op2",
         "Status": "2", "Paused": "0"},
        {"Event": "QueueMember", "Queue": "operators", "Name": "Hoa", "StateInterface": "PJSIP/op3",
         "Status": "5", "Paused": "0"},
        {"Event": "QueueStatusComplete"},
    ]  # fmt: skip
    (state,) = parse_queue_status(messages)
    assert state.waiting == 2
    assert state.operators_logged_in == 2 and state.operators_available == 1

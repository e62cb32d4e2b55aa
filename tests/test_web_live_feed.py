"""The live feed's routing of AMI events: a delivered call goes to the page of the operator whose SIP
endpoint rang, with the draft announced earlier by the AI; a waiting call goes to every operator."""

from __future__ import annotations

from pbx.ami import AmiEvent
from web.staff.live import DELIVERED, WAITING, LiveFeed


async def test_delivered_calls_reach_only_their_operator() -> None:
    feed = LiveFeed(None)
    mine, other = feed.subscribe("op1001"), feed.subscribe("op1002")
    await feed.on_event(
        AmiEvent(
            "UserEvent",
            {
                "UserEvent": "HotlineDraft",
                "Uniqueid": "1.1",
                "Draft": "000000013",
                "Reason": "caller_request",
            },
        )
    )
    await feed.on_event(AmiEvent("QueueCallerJoin", {"Uniqueid": "1.1", "CallerIDNum": "0912345678"}))
    assert mine.get_nowait().kind == WAITING and other.get_nowait().kind == WAITING
    await feed.on_event(
        AmiEvent("AgentConnect", {"Uniqueid": "1.1", "Interface": "PJSIP/op1001", "Queue": "operators"})
    )
    call = mine.get_nowait()
    assert (call.kind, call.operator, call.draft, call.reason) == (
        DELIVERED,
        "op1001",
        "000000013",
        "caller_request",
    )
    assert other.empty()
    assert [c.draft for c in feed.recent_for("op1001")] == ["000000013"] and feed.recent_for("op1002") == []
    feed.unsubscribe("op1001", mine)
    await feed.on_event(AmiEvent("AgentConnect", {"Uniqueid": "1.2", "Interface": "PJSIP/op1001"}))
    assert mine.empty()

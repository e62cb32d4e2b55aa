"""The operator's live page on a real call: SIPp calls the real test Asterisk, the AI operator takes the
report and the caller asks for a person; the queue rings the operator's SIP phone (a second SIPp,
endpoint ``optest``) and the portal page of the user ``optest``, open in the Debian Chromium, shows
the draft (code, content, the reason for the handover) pushed by server-sent events, and the operator
completes it into a ticket from that page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wiring
from tests.asterisk import AsteriskInstance
from tests.portal_server import browser, login, serve, shot
from tests.sipcaller import CallerScript, OperatorPhone, place_call_async
from tests.test_live_call import CALLER, AiApp, ai_app  # noqa: F401 - the fixture
from ticketing.domain.model import Status
from web.staff.live import LiveFeed

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]
PASSWORD = "mat-khau-tong-dai-vien"


def _watch_live_page(base: str, started: Any, seen: dict[str, Any]) -> None:
    with browser() as b:
        page = b.new_page(viewport={"width": 1100, "height": 900})
        login(page, base, "optest", PASSWORD)
        page.goto(f"{base}/live")
        page.wait_for_selector("#live-state[data-stream='open']", timeout=20_000)
        started.set()
        card = page.wait_for_selector(".call.delivered .draft-code", timeout=120_000)
        seen["at"] = time.monotonic()
        seen["code"] = card.inner_text().strip()
        seen["text"] = page.locator(".call.delivered").first.inner_text()
        shot(page, "09-live-operator")
        # the operator completes the draft while talking
        form = page.locator(".call.delivered .draft-form").first
        form.get_by_label("Họ tên người gọi").fill("Lê Văn An")
        form.get_by_label("Phường/xã").fill("Phường Hoàn Kiếm")
        form.get_by_role("button", name="Lưu thành phiếu mới").click()
        page.wait_for_selector("text=Đã hoàn thiện phiếu.")
        shot(page, "10-draft-completed")


async def test_operator_page_shows_the_draft_of_a_handed_over_call(
    ai_app: Callable[..., Any],  # noqa: F811
    asterisk: AsteriskInstance,
    tmp_path: Path,
) -> None:
    script = (
        CallerScript(caller=CALLER)
        .silence(2.0)
        .say("tôi muốn phản ánh rác thải ứ đọng ở đầu ngõ 5 phố hàng bông")
        .silence(3.0)
        .say("cho tôi gặp tổng đài viên")
        .silence(20.0)
    )
    app: AiApp = await ai_app(script.transcripts)
    services = wiring.build(app.settings)
    services.users.add("optest", "operator", "test", password=PASSWORD)
    phone = OperatorPhone(asterisk, tmp_path / "operator", "optest")
    await asyncio.to_thread(phone.start)
    try:
        ami = app.app.ami
        assert ami is not None
        deadline = asyncio.get_running_loop().time() + 30
        while await ami.operators_logged_in("operators") < 1:
            assert asyncio.get_running_loop().time() < deadline, "the operator never became available"
            await asyncio.sleep(0.5)
        with serve(services, live=LiveFeed.from_settings(app.settings)) as base:
            import threading

            started, seen = threading.Event(), {}
            watcher = asyncio.create_task(asyncio.to_thread(_watch_live_page, base, started, seen))
            assert await asyncio.to_thread(started.wait, 60), "the live page never opened its stream"
            result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
            assert result.returncode == 0, result.log
            await asyncio.wait_for(watcher, 60)
        handler = app.handlers[-1]
        assert handler.outcome == "transferred"
        code = handler.draft_id
        ticket = app.tickets.get(code)
        assert ticket.status is Status.NEW and ticket.caller.name == "Lê Văn An"
        assert ticket.place.ward_code == "00070"
        assert seen["code"] == code
        assert "rác" in seen["text"].lower() and "0912" in seen["text"]
    finally:
        await asyncio.to_thread(phone.stop)
        services.close()

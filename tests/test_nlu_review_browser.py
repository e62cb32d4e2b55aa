"""The AI review page in a real browser (Playwright + the Debian Chromium) against a real uvicorn
server: the supervisor finds it in the navigation, plays the turn's span of the call recording, labels
one turn with its intent and name, discards the other; screenshots go to test-output/review/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.portal_server import OUTPUT, browser, login, serve, shot
from tests.test_nlu_review_desk import queue_call
from tests.web_world import PASSWORD, WebWorld, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


def review_shot(page: Any, name: str) -> None:
    path = shot(page, name)
    folder = OUTPUT / "review"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)


def test_the_supervisor_labels_and_discards_in_a_browser(world: WebWorld) -> None:
    first, second = queue_call(world)
    with serve(world.services) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        login(page, base, "giamsat", PASSWORD)
        page.get_by_role("link", name="Rà soát AI").click()
        expect(page.get_by_role("heading", name="Rà soát câu nói của AI")).to_be_visible()
        expect(page.get_by_role("heading", name="“tên tôi là bùi văn long”")).to_be_visible()
        expect(page.get_by_text("2 câu chờ rà soát")).to_be_visible()
        player = page.get_by_label(f"Ghi âm câu nói {first}")
        expect(player).to_be_visible()
        duration = player.evaluate(
            "a => new Promise((ok, bad) => { a.onloadedmetadata = () => ok(a.duration);"
            " a.onerror = () => bad(String(a.error && a.error.code)); a.preload = 'auto'; a.load(); })"
        )
        assert abs(duration - 2.0) < 0.05  # the turn's span (1 s) padded by 0.5 s each side
        review_shot(page, "01-queue")

        page.locator(f"#intent-{first}").select_option("inform")
        page.locator(f"#name-{first}").fill("Bùi Văn Long")
        page.locator(f"#t-{first} ~ form").get_by_role("button", name="Gán nhãn").click()
        expect(page.get_by_role("status")).to_contain_text("Đã gán nhãn “Cung cấp thông tin”")
        expect(page.get_by_text("1 câu chờ rà soát")).to_be_visible()
        review_shot(page, "02-labelled")

        page.locator(f"#t-{second} ~ form").get_by_role("button", name="Loại bỏ").click()
        expect(page.get_by_text("Không có câu nào chờ rà soát.")).to_be_visible()

        page.goto(f"{base}/dashboard?month=2026-12")
        expect(page.get_by_role("heading", name="Những gì AI đã học")).to_be_visible()
        review_shot(page, "04-dashboard")

        phone = b.new_page(viewport={"width": 390, "height": 844})
        login(phone, base, "giamsat", PASSWORD)
        queue = world.services.review_desk.queue
        queue.add([queue.get(first).item], city="hanoi", call="1733470999.7")
        phone.goto(f"{base}/nlu/review")
        expect(phone.get_by_role("button", name="Gán nhãn")).to_be_visible()
        review_shot(phone, "03-phone")

    by_id = {q.id: q for q in world.services.review_desk.queue.all()}
    labelled = by_id[first]
    assert (labelled.status, labelled.label_intent, labelled.reviewer) == ("labelled", "inform", "giamsat")
    assert labelled.label_entities == {"name": "Bùi Văn Long"}
    assert (by_id[second].status, by_id[second].reviewer) == ("discarded", "giamsat")

"""The learning loop's review queue in the staff portal: the service built by the composition root
(permission checks, the reviewer recorded, the audio span cut from the recording), the pages through
the ASGI app (list, label, discard, the authorised audio route), and the "Những gì AI đã học" figures
of the monthly report (queue and training-run log)."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlu.dialogue.review import ReviewItem
from nlu.gate import compare
from nlu.learning import TrainingLog, learning_stats
from nlu.review import ReviewError, ReviewQueue, training_yaml
from pbx.install import layout
from tests.web_world import WebWorld, csrf_token, logged_in_client, make_world
from ticketing.access import Actor, Grant, Role
from ticketing.staff import Forbidden
from web.app import create_app

RECORDING = "/var/spool/asterisk/monitor/2026/12/06/1733470000.1.wav"
SUPERVISOR = Actor(1, "giamsat", grants=(Grant(Role.SUPERVISOR),))
OPERATOR = Actor(2, "dtv.lan", grants=(Grant(Role.OPERATOR),))
ADMIN = Actor(3, "quantri", grants=(Grant(Role.ADMIN),))
OFFICER = Actor(4, "canbo.a", grants=(Grant(Role.OFFICER, "UBND-00070"),))


def item(text: str, reason: str = "not_understood", turn: int = 1, **kw: object) -> ReviewItem:
    return ReviewItem(reason, text, kw.pop("intent", ""), 0.2, phase="report", slot="time", turn=turn, **kw)  # type: ignore[arg-type]


def write_recording(path: Path, seconds: float = 10.0, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * int(seconds * rate))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    w = make_world(tmp_path / "var")
    yield w
    w.services.close()


def queue_call(world: WebWorld) -> list[str]:
    """One call's turns in the queue, the first with its span in a real WAV recording."""
    write_recording(layout(world.settings).to_host(RECORDING))
    q = world.services.review_desk.queue
    turns = q.add(
        [item("tên tôi là bùi văn long", turn=1), item("ờ thì cái đó", "low_confidence", turn=2)],
        city="hanoi",
        call="1733470000.1",
        recording=RECORDING,
        spans=[(2.0, 3.0)],
        now=datetime(2026, 12, 6, 9, 0),
    )
    return [t.id for t in turns]


def test_the_desk_refuses_roles_that_do_not_supervise_the_ai(world: WebWorld) -> None:
    first, _ = queue_call(world)
    desk = world.services.review_desk
    for actor in (OPERATOR, ADMIN, OFFICER):
        with pytest.raises(Forbidden):
            desk.pending(actor)
        with pytest.raises(Forbidden):
            desk.label(actor, first, "inform", {"name": "Bùi Văn Long"})
        with pytest.raises(Forbidden):
            desk.discard(actor, first)
        with pytest.raises(Forbidden):
            desk.audio(actor, first)
    assert [q.status for q in desk.queue.all()] == ["pending", "pending"]  # nothing changed


def test_labels_and_discards_record_the_reviewer(world: WebWorld) -> None:
    first, second = queue_call(world)
    desk = world.services.review_desk
    assert [q.id for q in desk.pending(SUPERVISOR)] == [second, first]  # newest turn first
    assert "inform" in desk.intents and "report" in desk.intents  # from the training data's domain
    labelled = desk.label(SUPERVISOR, first, "inform", {"name": " Bùi Văn Long ", "phone": ""})
    assert labelled.status == "labelled" and labelled.reviewer == "giamsat" and labelled.reviewed_at
    assert labelled.label_entities == {"name": "Bùi Văn Long"}
    dropped = desk.discard(SUPERVISOR, second)
    assert dropped.status == "discarded" and dropped.reviewer == "giamsat"
    # the same file the CLI and the calls use
    again = ReviewQueue(world.settings.data_dir).get(first)
    assert again.reviewer == "giamsat" and again.label_intent == "inform"
    assert "tên tôi là [bùi văn long](name)" in training_yaml(ReviewQueue(world.settings.data_dir).labelled())
    assert desk.pending(SUPERVISOR) == []
    with pytest.raises(ReviewError):
        desk.label(SUPERVISOR, first, "report", {})  # already reviewed
    with pytest.raises(ReviewError):
        desk.discard(SUPERVISOR, "nosuch")


def test_unknown_intent_or_slot_is_refused(world: WebWorld) -> None:
    first, _ = queue_call(world)
    desk = world.services.review_desk
    with pytest.raises(ReviewError):
        desk.label(SUPERVISOR, first, "order_pizza", {})
    with pytest.raises(ReviewError):
        desk.label(SUPERVISOR, first, "inform", {"password": "x"})
    assert desk.queue.get(first).status == "pending"


def test_the_audio_is_the_turns_span_of_the_recording(world: WebWorld) -> None:
    first, second = queue_call(world)
    desk = world.services.review_desk
    clip = desk.audio(SUPERVISOR, first)
    assert clip.media_type == "audio/wav" and not clip.whole
    with wave.open(io.BytesIO(clip.body)) as w:
        assert w.getframerate() == 8000
        assert w.getnframes() == 2 * 8000  # 2.0-3.0 s, padded by 0.5 s each side
    whole = desk.audio(SUPERVISOR, second)  # no span known: the whole call
    assert whole.whole and len(whole.body) > len(clip.body)


def client_for(world: WebWorld, user: str) -> TestClient:
    client: TestClient = logged_in_client(world, user)
    return client


def test_the_review_page_lists_labels_and_discards(world: WebWorld) -> None:
    first, second = queue_call(world)
    c = client_for(world, "giamsat")
    page = c.get("/nlu/review")
    assert page.status_code == 200
    assert 'href="/nlu/review"' in page.text  # in the supervisor's navigation
    assert "tên tôi là bùi văn long" in page.text and "ờ thì cái đó" in page.text
    assert f'src="/nlu/review/{first}/audio"' in page.text and f"/nlu/review/{second}/audio" in page.text
    token = csrf_token(page.text)
    r = c.post(
        f"/nlu/review/{first}/label",
        data={"csrf_token": token, "intent": "inform", "slot_name": "Bùi Văn Long"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Đã gán nhãn" in c.get("/nlu/review").text
    r = c.post(f"/nlu/review/{second}/discard", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    statuses = {q.id: (q.status, q.reviewer) for q in world.services.review_desk.queue.all()}
    assert statuses == {first: ("labelled", "giamsat"), second: ("discarded", "giamsat")}
    r = c.post(f"/nlu/review/{second}/discard", data={"csrf_token": "bad"}, follow_redirects=False)
    assert r.status_code == 403  # CSRF


def test_the_audio_route_is_authorised(world: WebWorld) -> None:
    first, _ = queue_call(world)
    anonymous = TestClient(create_app(world.services))
    r = anonymous.get(f"/nlu/review/{first}/audio", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    operator = client_for(world, "dtv.lan")
    assert operator.get(f"/nlu/review/{first}/audio").status_code == 403
    assert operator.get("/nlu/review").status_code == 403
    assert 'href="/nlu/review"' not in operator.get("/centre").text
    r = client_for(world, "giamsat").get(f"/nlu/review/{first}/audio")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.headers["cache-control"] == "no-store" and r.content[:4] == b"RIFF"


def test_what_the_ai_learned_in_a_month(tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path)
    nov = q.add([item("a"), item("b", "correction", 2)], city="hanoi", now=datetime(2026, 11, 30, 23, 0))
    dec = q.add(
        [item("c"), item("d", "handoff", 2), item("e", "low_confidence", 3)],
        city="hanoi",
        now=datetime(2026, 12, 2, 8, 0),
    )
    q.label(nov[0].id, "inform", reviewer="giamsat", now=datetime(2026, 12, 1, 9, 0))  # reviewed in Dec
    q.discard(nov[1].id, reviewer="giamsat", now=datetime(2026, 11, 30, 23, 30))  # in Nov
    q.label(dec[0].id, "report", reviewer="giamsat", now=datetime(2026, 12, 3, 9, 0))
    q.discard(dec[1].id, reviewer="giamsat", now=datetime(2026, 12, 3, 9, 5))

    def scores(i: float, s: float) -> dict[str, float]:
        return {"intent_accuracy": i, "slot_f1": s}

    log = TrainingLog(tmp_path)
    refused = compare(["hotline_eval"], lambda _: scores(0.9, 0.8), lambda _: scores(0.7, 0.8), 0.01)
    passed = compare(["hotline_eval"], lambda _: scores(0.9, 0.8), lambda _: scores(0.92, 0.81), 0.01)
    log.record("nlu-aaa.tar.gz", refused, promoted=False, forced=False, labelled=2, tolerance=0.01,
               now=datetime(2026, 12, 4, 10, 0))  # fmt: skip
    log.record("nlu-bbb.tar.gz", passed, promoted=True, forced=False, labelled=2, tolerance=0.01,
               now=datetime(2026, 12, 5, 10, 0))  # fmt: skip
    log.record("nlu-old.tar.gz", None, promoted=True, forced=False, labelled=0, tolerance=0.01,
               now=datetime(2026, 11, 5, 10, 0))  # fmt: skip
    stats = learning_stats(tmp_path, date(2026, 12, 1), date(2026, 12, 31))
    assert dict(stats.queued) == {"not_understood": 1, "low_confidence": 1, "correction": 0, "handoff": 1}
    assert (stats.labelled, stats.discarded, stats.pending) == (2, 1, 1)
    runs = [(r.model, r.promoted) for r in stats.runs]
    assert runs == [("nlu-aaa.tar.gz", False), ("nlu-bbb.tar.gz", True)]
    first = stats.runs[0].sets[0]
    assert (first.name, first.intent_before, first.intent_after) == ("hotline_eval", 0.9, 0.7)
    assert learning_stats(tmp_path, date(2026, 11, 1), date(2026, 11, 30)).discarded == 1


def test_the_city_dashboard_shows_what_the_ai_learned(world: WebWorld) -> None:
    first, _ = queue_call(world)
    month = datetime(2026, 12, 6)
    world.services.review_desk.queue.label(first, "inform", reviewer="giamsat", now=datetime(2026, 12, 6, 10))
    c = client_for(world, "giamsat")
    page = c.get(f"/dashboard?month={month:%Y-%m}").text
    assert "Những gì AI đã học" in page and "2 câu nói đưa vào rà soát · 1 đã gán nhãn" in page
    assert 'href="/nlu/review"' in page
    leader = client_for(world, "lanhdao").get(f"/dashboard?month={month:%Y-%m}").text
    assert "Những gì AI đã học" in leader and "Rà soát câu nói của AI" not in leader

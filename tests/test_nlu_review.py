"""The learning loop's review queue: the engine keeps the turns a supervisor should see, the console
stores them, ``hotline nlu review`` labels or discards them and exports the labelled ones as training
data in their own file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from dialogue_helpers import NOW

from cli import main
from config.settings import get_settings
from nlu.dialogue import DialogueEngine, Heard
from nlu.interpreter import FallbackInterpreter
from nlu.knowledge import default_index
from nlu.review import ReviewQueue, training_yaml


@pytest.fixture(autouse=True)
def _fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HOTLINE_DATABASE__URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def engine() -> DialogueEngine:
    e = DialogueEngine(
        FallbackInterpreter("hanoi"), default_index(), caller_id="0912345678", clock=lambda: NOW
    )
    e.start()
    return e


def test_the_engine_keeps_not_understood_turns_corrections_and_handoffs() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh rác ở đầu ngõ phường láng không ai thu gom"))
    e.handle(Heard("xyz abc"))  # no Vietnamese: not understood
    e.handle(Heard("tối qua"))
    e.handle(Heard("tôi tên là nguyễn văn an"))
    e.handle(Heard("đúng rồi"))
    e.handle(Heard("sai rồi, tên tôi là nguyễn văn ân"))
    reasons = [(r.reason, r.text) for r in e.review_items]
    assert ("not_understood", "xyz abc") in reasons
    assert ("correction", "sai rồi, tên tôi là nguyễn văn ân") in reasons
    item = next(r for r in e.review_items if r.reason == "correction")
    assert item.phase == "confirm" and item.turn == 5 and item.entities.get("name") == "Nguyễn Văn Ân"
    e2 = engine()
    e2.handle(Heard("cho tôi gặp tổng đài viên"))
    assert [r.reason for r in e2.review_items] == ["handoff"]


def test_queue_label_discard_and_training_file(tmp_path: Path) -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh rác ở đầu ngõ phường láng không ai thu gom"))
    e.handle(Heard("xyz abc"))
    e.handle(Heard("qwe rty"))
    queue = ReviewQueue(tmp_path)
    queued = queue.add(e.review_items, city="hanoi")
    assert len(queued) == 3 and [q.item.reason for q in queued].count("not_understood") == 2
    assert stat.S_IMODE(os.stat(queue.path).st_mode) == 0o600  # callers' words are personal data
    queue.label(queued[0].id, "inform", {"name": "xyz"})
    queue.discard(queued[1].id)
    assert [q.id for q in queue.pending()] == [queued[2].id]
    data = yaml.safe_load(training_yaml(queue.labelled()))
    assert data["nlu"] == [{"intent": "inform", "examples": "- [xyz](name) abc\n"}]


def test_cli_review_lists_labels_and_exports(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    lines = ["tôi muốn phản ánh rác ở đầu ngõ phường láng không ai thu gom", "xyz abc", "/hangup"]
    result = runner.invoke(
        main, ["chat", "--interpreter", "fallback", "--create"], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["nlu", "review"])
    assert "not_understood" in result.output and "xyz abc" in result.output
    item_id = result.output.split()[0]
    bad = runner.invoke(main, ["nlu", "review", "--label", item_id, "--intent", "nonsense"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "unknown intent" in bad.output
    ok = runner.invoke(main, ["nlu", "review", "--label", item_id, "--intent", "inform"])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "reviewed.yml"
    exported = runner.invoke(main, ["nlu", "review", "--export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["nlu"][0]["intent"] == "inform"
    assert "Hàng đợi trống" in runner.invoke(main, ["nlu", "review"]).output
    missing = runner.invoke(main, ["nlu", "review", "--discard", "nope"])
    assert missing.exit_code != 0 and "no review item" in missing.output

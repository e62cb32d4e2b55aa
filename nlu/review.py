"""The review queue of the learning loop: turns the AI did not understand, understood with low
confidence, got corrected on, or handed over after (:class:`nlu.dialogue.review.ReviewItem`), kept
with their dialogue state for a supervisor to label (intent and slots) or discard.

The queue is a private JSON-lines file (``<data_dir>/nlu/review.jsonl``, mode 0600: callers' words can
hold personal data). Labelled items become training examples in their own file of the Rasa project
(``nlu/rasa_project/data/reviewed.yml``), so ``hotline nlu train`` learns from them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from config.private_files import open_private_text, private_dir
from nlu.dialogue.review import REASONS, ReviewItem

STATUSES = ("pending", "labelled", "discarded")
INTENTS = (
    "report", "dossier_lookup", "procedure_question", "request_operator", "complaint_denunciation",
    "affirm", "deny", "inform", "greet", "goodbye",
)  # fmt: skip


class ReviewError(ValueError):
    """A bad review command: unknown item, intent or status."""


@dataclass(frozen=True)
class QueuedTurn:
    id: str
    created: str  # ISO time the call ended
    city: str
    call: str  # the call's id (channel) or "console"
    recording: str  # the call's recording, "" when none; ``turn`` finds the span in it
    item: ReviewItem
    status: str = "pending"
    label_intent: str = ""
    label_entities: dict[str, str] = field(default_factory=dict)
    reviewer: str = ""  # who labelled or discarded it (portal user name, or "cli:<login>")
    reviewed_at: str = ""  # ISO time of the label or discard
    span: tuple[float, ...] = ()  # (start, end) of the turn in the recording, seconds; () unknown

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> QueuedTurn:
        data: dict[str, Any] = json.loads(line)
        data["item"] = ReviewItem(**data["item"])
        data["span"] = tuple(data.get("span", ()))
        return cls(**data)


class ReviewQueue:
    """The queue file of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "nlu" / "review.jsonl"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: the call app appends while a reviewer rewrites the file."""
        private_dir(self.path.parent)
        with open_private_text(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield

    def add(
        self, items: list[ReviewItem], *, city: str, call: str = "console", recording: str = "",
        now: datetime | None = None, spans: Sequence[tuple[float, float] | None] = (),
    ) -> list[QueuedTurn]:  # fmt: skip
        """Queue a call's turns; returns them with their ids. ``spans``: each item's (start, end) in
        the recording, in seconds (None or missing: unknown)."""
        if not items:
            return []
        when = (now or datetime.now()).isoformat(timespec="seconds")
        found = list(spans) + [None] * (len(items) - len(spans))
        queued = [
            QueuedTurn(uuid.uuid4().hex[:8], when, city, call, recording, item, span=tuple(span or ()))
            for item, span in zip(items, found, strict=False)
        ]
        with self._locked(), open_private_text(self.path, "a") as out:
            for q in queued:
                out.write(q.to_json() + "\n")
        return queued

    def all(self) -> list[QueuedTurn]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [QueuedTurn.from_json(line) for line in lines if line.strip()]

    def pending(self, reason: str = "") -> list[QueuedTurn]:
        if reason and reason not in REASONS:
            raise ReviewError(f"lý do không hợp lệ / unknown reason {reason!r}: {', '.join(REASONS)}")
        return [q for q in self.all() if q.status == "pending" and (not reason or q.item.reason == reason)]

    def get(self, item_id: str) -> QueuedTurn:
        for q in self.all():
            if q.id == item_id:
                return q
        raise ReviewError(f"không có mục {item_id!r} trong hàng đợi / no review item {item_id!r}")

    def _save(self, turns: list[QueuedTurn]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open_private_text(tmp, "w") as out:
            for q in turns:
                out.write(q.to_json() + "\n")
        tmp.replace(self.path)

    def _update(self, item_id: str, **changes: Any) -> QueuedTurn:
        with self._locked():
            turns = self.all()
            for k, q in enumerate(turns):
                if q.id == item_id:
                    turns[k] = replace(q, **changes)
                    self._save(turns)
                    return turns[k]
        raise ReviewError(f"không có mục {item_id!r} trong hàng đợi / no review item {item_id!r}")

    def label(
        self,
        item_id: str,
        intent: str,
        entities: dict[str, str] | None = None,
        *,
        reviewer: str = "",
        now: datetime | None = None,
    ) -> QueuedTurn:
        if intent not in INTENTS:
            raise ReviewError(f"ý định không hợp lệ / unknown intent {intent!r}: {', '.join(INTENTS)}")
        clean = {k.strip(): v.strip() for k, v in (entities or {}).items() if k.strip() and v.strip()}
        return self._update(
            item_id,
            status="labelled",
            label_intent=intent,
            label_entities=clean,
            reviewer=reviewer,
            reviewed_at=(now or datetime.now()).isoformat(timespec="seconds"),
        )

    def discard(self, item_id: str, *, reviewer: str = "", now: datetime | None = None) -> QueuedTurn:
        when = (now or datetime.now()).isoformat(timespec="seconds")
        return self._update(item_id, status="discarded", reviewer=reviewer, reviewed_at=when)

    def labelled(self) -> list[QueuedTurn]:
        return [q for q in self.all() if q.status == "labelled"]


def training_yaml(turns: list[QueuedTurn]) -> str:
    """Rasa NLU training data (version 3.1) of the labelled turns, one example each under its intent;
    a labelled name found in the text is annotated as the ``name`` entity."""
    by_intent: dict[str, list[str]] = {}
    for q in turns:
        text = " ".join(q.item.text.split())
        name = q.label_entities.get("name", "")
        at = text.lower().find(name.lower()) if name else -1
        if at >= 0:
            text = f"{text[:at]}[{text[at : at + len(name)]}](name){text[at + len(name) :]}"
        examples = by_intent.setdefault(q.label_intent, [])
        if text not in examples:
            examples.append(text)
    lines = ['version: "3.1"', "", "# Turns labelled in the review queue (hotline nlu review).", "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {t}" for t in by_intent[intent]]
    return "\n".join(lines) + "\n"

"""The supervisor's side of the learning loop in the staff portal: the review queue
(:class:`nlu.review.ReviewQueue`, the same file ``hotline nlu review`` works on) behind the ``nlu_review``
permission, with every label and discard recorded with the reviewer's user name, and the audio span of
a queued turn cut from the call's recording (also behind ``recording_listen``).

The permission checks live here, not in the pages: a page asks with the acting user and gets
:class:`ticketing.staff.Forbidden` when the user may not.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from nlu.review import INTENTS, QueuedTurn, ReviewError, ReviewQueue
from ticketing.access import Actor, Permission
from ticketing.staff import Forbidden

DOMAIN_FILE = Path(__file__).resolve().parent / "rasa_project" / "domain.yml"
SLOTS: Mapping[str, str] = {
    "name": "Họ tên",
    "phone": "Số điện thoại",
    "cccd": "Số CCCD",
    "ward": "Xã/phường",
    "category": "Lĩnh vực",
    "time": "Thời gian",
    "dossier_code": "Mã hồ sơ",
}
"""The slots a reviewer may set, with their labels (the keys the interpreter and the eval sets use)."""
PAD_S = 0.5  # around a turn's span: the recording and the call's clock differ by a few frames
REFUSED = "Bạn không có quyền rà soát câu nói của AI / you may not review the AI's turns"


@dataclass(frozen=True)
class AudioClip:
    body: bytes
    media_type: str
    whole: bool  # the whole recording (no span known, or not a WAV file)


def domain_intents(domain: Path = DOMAIN_FILE) -> tuple[str, ...]:
    """The intents of the NLU training data (``domain.yml``), those a label may choose."""
    data = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    found = tuple(str(i) for i in data.get("intents", ()))
    return tuple(i for i in found if i in INTENTS) or INTENTS


def cut_wav(path: Path, start_s: float, end_s: float) -> bytes:
    """The part ``[start_s, end_s]`` of a WAV file as a WAV file of its own."""
    with wave.open(str(path), "rb") as src:
        rate = src.getframerate()
        first = max(0, int(start_s * rate))
        last = min(src.getnframes(), int(end_s * rate))
        src.setpos(min(first, src.getnframes()))
        frames = src.readframes(max(0, last - first))
        params = src.getparams()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return buf.getvalue()


class ReviewDesk:
    """The review queue for portal users; built by the composition root (``Services.review_desk``)."""

    def __init__(self, queue: ReviewQueue, recording_to_host: Callable[[str], Path]) -> None:
        self.queue = queue
        self._to_host = recording_to_host

    @cached_property
    def intents(self) -> tuple[str, ...]:
        return domain_intents()

    @staticmethod
    def may_review(actor: Actor) -> bool:
        return actor.has(Permission.NLU_REVIEW)

    def _require(self, actor: Actor) -> None:
        if not self.may_review(actor):
            raise Forbidden(REFUSED)

    def pending(self, actor: Actor, reason: str = "") -> list[QueuedTurn]:
        """Pending turns, newest call first."""
        self._require(actor)
        return sorted(self.queue.pending(reason), key=lambda q: (q.created, q.item.turn), reverse=True)

    def label(self, actor: Actor, item_id: str, intent: str, slots: Mapping[str, str]) -> QueuedTurn:
        self._require(actor)
        if intent not in self.intents:
            raise ReviewError(f"ý định không hợp lệ / unknown intent {intent!r}")
        unknown = [k for k, v in slots.items() if v.strip() and k not in SLOTS]
        if unknown:
            raise ReviewError(f"thông tin không hợp lệ / unknown slot(s): {', '.join(unknown)}")
        current = self.queue.get(item_id)
        if current.status != "pending":
            raise ReviewError(f"mục {item_id} đã được rà soát / item {item_id} was already reviewed")
        return self.queue.label(item_id, intent, dict(slots), reviewer=actor.name)

    def discard(self, actor: Actor, item_id: str) -> QueuedTurn:
        self._require(actor)
        current = self.queue.get(item_id)
        if current.status != "pending":
            raise ReviewError(f"mục {item_id} đã được rà soát / item {item_id} was already reviewed")
        return self.queue.discard(item_id, reviewer=actor.name)

    def has_audio(self, q: QueuedTurn) -> bool:
        return bool(q.recording) and self._to_host(q.recording).is_file()

    def audio(self, actor: Actor, item_id: str) -> AudioClip:
        """The turn's span of the call recording (the whole recording when no span is known)."""
        self._require(actor)
        if not actor.has(Permission.RECORDING_LISTEN):
            raise Forbidden("Bạn không có quyền nghe ghi âm / you may not listen to recordings")
        q = self.queue.get(item_id)
        if not self.has_audio(q):
            raise ReviewError(f"mục {item_id} không có ghi âm / item {item_id} has no recording")
        path = self._to_host(q.recording)
        if len(q.span) == 2 and path.suffix.lower() == ".wav":
            start, end = q.span
            return AudioClip(cut_wav(path, max(0.0, start - PAD_S), end + PAD_S), "audio/wav", False)
        media = "audio/wav" if path.suffix.lower() == ".wav" else "application/octet-stream"
        return AudioClip(path.read_bytes(), media, True)

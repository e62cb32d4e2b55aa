"""Answers of the public lists kept for a few seconds and reused while the data stays the same.

An entry is reused only when the publication's stamp (newest ticket, event, audit entry and
attachment: four primary-key lookups) is unchanged, the service clock has not moved backwards and
at most ``ttl`` seconds passed on it. Concurrent askers of the same missing answer wait for one
computation instead of each running it (the lists are CPU-bound Python: masking and rendering).
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    stamp: object
    at: datetime
    value: T


class AnswerCache(Generic[T]):
    """A small LRU of computed answers, keyed by the request's normalised parameters."""

    def __init__(self, ttl_s: float = 5.0, size: int = 256) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def _fresh(self, key: Hashable, stamp: object, now: datetime) -> _Entry[T] | None:
        with self._guard:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None
            age = (now - entry.at).total_seconds()
            if not 0 <= age <= self.ttl_s:
                return None
            self._entries.move_to_end(key)
            return entry

    def get(self, key: Hashable, stamp: object, now: datetime, compute: Callable[[], T]) -> T:
        entry = self._fresh(key, stamp, now)
        if entry is not None:
            return entry.value
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._fresh(key, stamp, now)  # another asker may have computed it meanwhile
            if entry is not None:
                return entry.value
            value = compute()
            with self._guard:
                self._entries[key] = _Entry(stamp, now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    old, _ = self._entries.popitem(last=False)
                    self._locks.pop(old, None)
            return value

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()


def answers(state: object, name: str, ttl_s: float = 5.0) -> AnswerCache[Any]:
    """The app's cache called ``name`` (one per app: each app has its own database)."""
    attr = f"answers_{name}"
    cache = getattr(state, attr, None)
    if cache is None:
        cache = AnswerCache[Any](ttl_s)
        setattr(state, attr, cache)
    return cache


@dataclass(frozen=True)
class KeptBody:
    """A rendered answer, also gzip-compressed once (a 1,000-request list is ~600 kB, ~10x less)."""

    body: bytes
    gzipped: bytes
    media_type: str | None

    @classmethod
    def of(cls, response: Response) -> KeptBody:
        body = bytes(response.body)
        return cls(body, gzip.compress(body, compresslevel=5, mtime=0), response.media_type)

    def response(self, request: Request) -> Response:
        """The answer, compressed for a client that accepts gzip."""
        headers = {"Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)

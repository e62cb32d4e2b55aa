"""Answers of the public lists kept for a few seconds and reused while the data stays the same.

An entry is reused only when the publication's stamp (newest ticket, event, audit entry and
attachment) is unchanged, the service clock has not moved backwards and at most ``ttl`` seconds
passed on it. Concurrent askers of the same missing answer wait for one computation instead of each
running it (the lists are CPU-bound Python: masking and rendering). An entry whose stamp still holds
but which outlived its time to live is recomputed by one asker while the others are served it (only
the sliding "last 90 days" window can have moved; nothing public changed). See
docs/decisions/180-public-answers-kept-by-stamp.md and 190-public-stamp-reuse.md.
"""

from __future__ import annotations

import gzip
import hashlib
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

    def _lookup(self, key: Hashable, stamp: object, now: datetime) -> tuple[_Entry[T] | None, bool]:
        """The entry of ``key`` if its stamp holds and the clock did not go back, and whether it is
        still within its time to live."""
        with self._guard:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None, False
            age = (now - entry.at).total_seconds()
            if age < 0:
                return None, False
            self._entries.move_to_end(key)
            return entry, age <= self.ttl_s

    def get(self, key: Hashable, stamp: object, now: datetime, compute: Callable[[], T]) -> T:
        entry, fresh = self._lookup(key, stamp, now)
        if entry is not None and fresh:
            return entry.value
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if entry is not None and not lock.acquire(blocking=False):
            # same stamp, only older than its time to live, and another asker is computing it
            # already: nothing public changed, so the kept answer is served meanwhile
            return entry.value
        if entry is None:
            lock.acquire()
        try:
            entry, fresh = self._lookup(key, stamp, now)  # another asker may have computed it meanwhile
            if entry is not None and fresh:
                return entry.value
            value = compute()
            with self._guard:
                self._entries[key] = _Entry(stamp, now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    old, _ = self._entries.popitem(last=False)
                    self._locks.pop(old, None)
            return value
        finally:
            lock.release()

    def peek(self, key: Hashable, stamp: object, now: datetime) -> T | None:
        """The kept answer when :meth:`get` would return it without computing (within its time to
        live, or past it while another asker recomputes it), else None; never blocks, for a caller
        on the event loop."""
        entry, fresh = self._lookup(key, stamp, now)
        if entry is None:
            return None
        if fresh:
            return entry.value
        with self._guard:
            lock = self._locks.get(key)
        return entry.value if lock is not None and lock.locked() else None

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
    """A rendered answer, also gzip-compressed once (a 1,000-request list is ~600 kB, ~10x less),
    with an entity tag of its bytes: a client that sends it back in ``If-None-Match`` gets a 304."""

    body: bytes
    gzipped: bytes
    media_type: str | None
    etag: str = ""

    @classmethod
    def of(cls, response: Response) -> KeptBody:
        body = bytes(response.body)
        tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return cls(body, gzip.compress(body, compresslevel=5, mtime=0), response.media_type, tag)

    def response(self, request: Request) -> Response:
        """The answer, compressed for a client that accepts gzip; 304 when the client has it."""
        headers = {"Vary": "Accept-Encoding", "ETag": self.etag, "Cache-Control": "no-cache"}
        asked = request.headers.get("if-none-match", "")
        if asked and self.etag in (t.strip().removeprefix("W/") for t in asked.split(",")):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)

"""The public lists' answer cache: reused only while the stamp holds and within its time to live,
computed once for concurrent askers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from web.public.cache import AnswerCache, answers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_reused_while_the_stamp_holds_and_recomputed_when_it_changes() -> None:
    cache: AnswerCache[int] = AnswerCache(ttl_s=5)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", (1, 2), T0, compute) == 1
    assert cache.get("k", (1, 2), T0 + timedelta(seconds=3), compute) == 1
    assert cache.get("k", (1, 3), T0 + timedelta(seconds=3), compute) == 2  # a new ticket or event
    assert cache.get("other", (1, 3), T0, compute) == 3  # another query


def test_expires_after_its_time_to_live_and_when_the_clock_goes_back() -> None:
    cache: AnswerCache[int] = AnswerCache(ttl_s=5)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    cache.get("k", "s", T0, compute)
    assert cache.get("k", "s", T0 + timedelta(seconds=6), compute) == 2
    assert cache.get("k", "s", T0 - timedelta(days=1), compute) == 3


def test_concurrent_askers_wait_for_one_computation() -> None:
    cache: AnswerCache[str] = AnswerCache()
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "answer"

    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", 1, T0, compute))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["answer"] * 8
    assert len(calls) == 1


def test_a_failed_computation_is_not_kept() -> None:
    cache: AnswerCache[int] = AnswerCache()

    def fail() -> int:
        raise ValueError("bad date")

    with pytest.raises(ValueError):
        cache.get("k", 1, T0, fail)
    assert cache.get("k", 1, T0, lambda: 7) == 7


def test_each_app_state_has_its_own_cache() -> None:
    class State:
        pass

    a, b = State(), State()
    assert answers(a, "x") is answers(a, "x")
    assert answers(a, "x") is not answers(b, "x")


def test_past_its_time_to_live_the_kept_answer_is_served_while_one_asker_recomputes() -> None:
    cache: AnswerCache[str] = AnswerCache(ttl_s=5)
    cache.get("k", 1, T0, lambda: "old")
    later = T0 + timedelta(seconds=6)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    got: list[str] = []
    worker = threading.Thread(target=lambda: got.append(cache.get("k", 1, later, slow)))
    worker.start()
    assert started.wait(5)
    assert cache.get("k", 1, later, lambda: "never") == "old"  # same stamp: the kept one, no waiting
    assert cache.peek("k", 1, later) == "old"
    release.set()
    worker.join()
    assert got == ["new"]
    assert cache.peek("k", 1, later) == "new"


def test_peek_never_computes_and_misses_a_changed_stamp() -> None:
    cache: AnswerCache[int] = AnswerCache(ttl_s=5)
    assert cache.peek("k", 1, T0) is None
    cache.get("k", 1, T0, lambda: 7)
    assert cache.peek("k", 1, T0 + timedelta(seconds=2)) == 7
    assert cache.peek("k", 2, T0) is None  # something public changed
    assert cache.peek("k", 1, T0 + timedelta(seconds=6)) is None  # expired and nobody recomputing
    assert cache.peek("k", 1, T0 - timedelta(seconds=1)) is None  # the clock went back

"""Abuse limits of the public doors: per-address rate limits (the web form, the one-time codes, the
API), request size limits, and the services the doors use (from the app's composition root).

Rate limits count in this process's memory with the ``limits`` library's sliding window counter (two
counters per address and limit, constant time per request); several web processes each keep their
own count (see docs/decisions/121-public-abuse-limits.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from wiring import Services

MAX_BODY = 30 * 1024 * 1024  # a form with 5 photos
MAX_PHOTO = 8 * 1024 * 1024
MAX_PHOTOS = 5
MAX_TEXT = 5000

DEFAULT_LIMITS = {
    "form": "5/minute;30/hour",  # web reports from one address
    "code": "5/10minutes;20/day",  # one-time codes asked for or tried from one address
    "track": "60/minute",  # tracking lookups
    "api": "120/minute",  # Open311 and REST calls from one address
    "api_write": "30/minute",  # Open311 POST requests from one address
}


class RateLimited(Exception):
    """Too many requests from one address."""


@dataclass
class RateLimits:
    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    def __post_init__(self) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._items: dict[str, list[RateLimitItem]] = {}
        for name, text in self.rules.items():
            self._items[name] = [parse(part) for part in text.split(";") if part.strip()]

    def hit(self, name: str, key: str) -> None:
        """Count one request of ``key`` (an address) against the named limit; raises when over it."""
        for item in self._items.get(name, []):
            if not self._limiter.hit(item, name, key):
                raise RateLimited(name)

    def reset(self) -> None:
        self.__post_init__()


def services(request: Request) -> Services:
    """The composition root's services, set on the app by the app factory."""
    found: Services = request.app.state.services
    return found


def rate_limits(request: Request) -> RateLimits:
    state = request.app.state
    if getattr(state, "rate_limits", None) is None:
        configured = services(request).settings.web.public_limits
        state.rate_limits = RateLimits({**DEFAULT_LIMITS, **configured})
    limits: RateLimits = state.rate_limits
    return limits


AGENCY_NAMES_TTL_S = 60.0


def agency_names(request: Request) -> dict[str, str]:
    """Agency code -> name, re-read at most once a minute (every public page names agencies)."""
    state = request.app.state
    cached = getattr(state, "agency_names", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > AGENCY_NAMES_TTL_S:
        cached = (now, {a.code: a.name for a in services(request).admin.agencies()})
        state.agency_names = cached
    names: dict[str, str] = cached[1]
    return names


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request, name: str) -> None:
    rate_limits(request).hit(name, client_address(request))


def body_too_large(request: Request, limit: int = MAX_BODY) -> bool:
    """Whether the declared body is over ``limit`` (the form parser limits each part as it streams)."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > limit

"""The one call through which the public doors (the web form, Open311, the REST API) file a report:
the resilient filing path of every channel (:class:`ticketing.filing.ReportFiler`), which parses the
report against the intake contract (:class:`ticketing.intake.NewReport`), files the ticket, and when
the database is down journals it for replay (the tracking code then follows by SMS).

:func:`in_filing_thread` runs a filing off the event loop, at most :data:`FILING_CONCURRENCY` at once
in a web process: a filing is mostly Python work that holds the interpreter lock, so more threads
filing at once only take turns with it (measured: 11 ms of CPU per ticket one at a time, 16.5 ms with
20 at once, docs/benchmarks.md); the other requests wait their turn in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from ticketing.filing import Filed
from ticketing.service import NewAttachment
from wiring import Services

T = TypeVar("T")
FILING_CONCURRENCY = 4


def file_report(
    services: Services, data: Mapping[str, Any], actor: str, attachments: Sequence[NewAttachment] = ()
) -> Filed:
    """File a new report (channel, kind, category, caller, place, content...) as ``actor``."""
    return services.filer.file(data, actor, attachments)


async def in_filing_thread(state: Any, work: Callable[[], T]) -> T:
    """Run ``work`` (a filing, with what it checks first) in a worker thread, at most
    :data:`FILING_CONCURRENCY` at once per app (``state``: the app's ``state``)."""
    limiter = getattr(state, "filing_limiter", None)
    if limiter is None:
        limiter = state.filing_limiter = anyio.CapacityLimiter(FILING_CONCURRENCY)
    return await anyio.to_thread.run_sync(work, limiter=limiter)

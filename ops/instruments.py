"""In-process instruments of the worker processes (call-control app, scheduler): latency histograms,
operator-queue gauges and readiness checks, in prometheus_client's default registry.

Each worker serves them on loopback (:func:`serve`) at ``/metrics``; ``hotline status`` reads the
``hotline_ready`` gauges from there. The counts that span processes and nodes (calls, tickets, outbox)
are not kept here but read from the database (:mod:`ops.metrics`). Importing this module only defines
the metrics; nothing is opened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from threading import Thread
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

REPLY_LATENCY = Histogram(
    "hotline_reply_latency_seconds",
    "From the end of the caller's utterance to the first frame of the AI operator's reply.",
    buckets=_LATENCY_BUCKETS,
)
ASR_LATENCY = Histogram(
    "hotline_asr_latency_seconds",
    "Speech recogniser time per batch of caller audio fed (decode latency).",
    buckets=_LATENCY_BUCKETS,
)
NLU_LATENCY = Histogram(
    "hotline_nlu_latency_seconds",
    "Time to interpret one utterance, by backend (rasa, fallback).",
    ["backend"],
    buckets=_LATENCY_BUCKETS,
)
HANDOFFS = Counter(
    "hotline_handoffs",
    "Calls this worker handed to the operators, by reason (caller_request, urgent, not_understood, "
    "no_response, failure, ...).",
    ["reason"],
)
REFUSALS = Counter(
    "hotline_refusals",
    "Requests the AI operator of this worker refused as outside the hotline's remit, by reason "
    "(complaint, advertising, insult, state_secret).",
    ["reason"],
)
CALLBACKS = Counter(
    "hotline_callbacks",
    "Calls this worker could not hand over (no operator, out of hours): a call-back ticket, by reason.",
    ["reason"],
)
QUEUE_WAITING = Gauge("hotline_queue_waiting_callers", "Callers waiting in the operator queue.", ["queue"])
QUEUE_LONGEST_WAIT = Gauge(
    "hotline_queue_longest_wait_seconds",
    "Wait of the longest-waiting caller in the operator queue.",
    ["queue"],
)
QUEUE_OPERATORS = Gauge(
    "hotline_queue_operators", "Operators in the queue by state (logged_in, available).", ["queue", "state"]
)
WORKER_PID = Gauge("hotline_worker_pid", "Process id of the worker serving this endpoint.")
WORKER_PID.set_function(lambda: float(os.getpid()))
READY = Gauge(
    "hotline_ready",
    "Readiness checks of this process (1 ready, 0 not): ari, database, speech_model, nlu.",
    ["check"],
)


def ready_check(name: str, check: Callable[[], bool]) -> None:
    """Register a readiness check evaluated at each scrape (an exception counts as not ready)."""

    def value() -> float:
        try:
            return 1.0 if check() else 0.0
        except Exception:
            return 0.0

    READY.labels(name).set_function(value)


def serve(port: int, host: str = "127.0.0.1", registry: Any = None) -> Any:
    """Serve ``registry`` (default: the process's default one) at ``http://host:port/metrics`` from a
    daemon thread.

    Returns the server (``shutdown()`` stops it), or None when ``port`` is 0 or already taken (logged:
    a worker without its metrics endpoint still takes calls).
    """
    if port <= 0:
        return None
    try:
        server: Any
        if registry is None:
            server, thread = start_http_server(port, addr=host)
        else:
            server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.warning("metrics endpoint not started on %s:%d: %s", host, port, exc)
        return None
    if isinstance(thread, Thread):
        thread.name = "metrics-http"
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server

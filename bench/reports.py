"""Monthly report over 1,000,000 tickets in PostgreSQL.

Creates a scratch database, migrates it, bulk-loads tickets (with transfer events for some) and calls
with ``COPY ... FROM STDIN`` through psycopg, runs ``ANALYZE``, then times the monthly report's
computation (every SQL aggregate of :func:`ticketing.db.reports.compute`) and its HTML rendering.
Target: the monthly report in <= 5 s.

    .venv/bin/python bench/reports.py [--tickets 1000000] [--month 2026-10] [--keep]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/]

Prints the numbers (and the generator's rows/s) and writes bench/results/reports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reference
from ticketing.db import migrate
from ticketing.db.engine import make_engine
from ticketing.db.reports import Filters, compute
from ticketing.domain.model import Status
from ticketing.reports import periods
from ticketing.reports.render import html

START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_S = 2 * 365 * 86400  # tickets spread over 2025-2026
TICKET_COLUMNS = (
    "code", "channel", "kind", "category", "priority", "status", "city",
    "caller_name", "caller_cccd", "caller_phone", "caller_address", "caller_email", "caller_confidential",
    "place_address", "ward_code", "ward_name", "place_city", "content", "transcript",
    "created_at", "created_by", "lead_agency", "dispatch_due", "due_at", "dispatched_at", "accepted_at",
    "closed_at", "extensions", "escalation_level", "overdue", "overdue_reason", "draft_result", "result",
    "rejection_reason", "duplicate_of", "clarification_request", "clarification_answer", "version",
)  # fmt: skip


def _libpq(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def generate(dsn: str, n: int, seed: int = 6) -> dict[str, Any]:
    rng = random.Random(seed)
    wards = [(u.code, u.name) for u in reference.units("hanoi")]
    categories = list(reference.categories())
    agencies = [a.code for a in reference.agencies("hanoi")][:40]
    late_share = {a: rng.choice((0.05, 0.1, 0.2, 0.35, 0.5)) for a in agencies}
    statuses = [
        (Status.DONE.value, 0.62),
        (Status.IN_PROGRESS.value, 0.15),
        (Status.DISPATCHED.value, 0.06),
        (Status.NEW.value, 0.05),
        (Status.REJECTED.value, 0.1),
        (Status.DRAFT.value, 0.02),
    ]
    names, weights = zip(*statuses, strict=True)
    transferred: list[int] = []
    cols = ", ".join(TICKET_COLUMNS)
    null = "\\N"
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY tickets ({cols}) FROM STDIN") as copy:
            # text-format COPY lines built directly: no value contains a tab, newline or backslash
            chunk: list[str] = []
            # tickets arrive in time order, so rows of one month sit together on disk as in production
            offsets = sorted(rng.randrange(SPAN_S) for _ in range(n))
            for i, offset in enumerate(offsets, start=1):
                created = START + timedelta(seconds=offset)
                ward, ward_name = rng.choice(wards)
                agency = rng.choice(agencies)
                status = rng.choices(names, weights)[0]
                open_ = status in (Status.NEW.value, Status.DRAFT.value)
                closed = status in (Status.DONE.value, Status.REJECTED.value)
                overdue = status != Status.DRAFT.value and rng.random() < late_share[agency]
                if overdue and rng.random() < 0.2:
                    transferred.append(i)
                ts = created.isoformat()
                dispatched = null if open_ else (created + timedelta(hours=2)).isoformat()
                due = null if open_ else (created + timedelta(days=9)).isoformat()
                closed_at = (created + timedelta(days=rng.randint(1, 14))).isoformat() if closed else null
                row = (
                    f"{i:09d}", "phone", "field_report", rng.choice(categories), "normal", status, "hanoi",
                    "Nguyễn Văn A", "", "0912345678", "", "", "f",
                    f"Ngõ {rng.randint(1, 400)}", ward, ward_name, "hanoi", "Rác thải tồn đọng", "",
                    ts, "ai-bot", agency, (created + timedelta(hours=8)).isoformat(), due, dispatched,
                    dispatched, closed_at, "0", "1" if overdue else "0", "t" if overdue else "f",
                    "quá hạn" if overdue else "", "", "Đã xử lý" if closed else "", "", "", "", "", "1",
                )  # fmt: skip
                chunk.append("\t".join(row))
                if len(chunk) >= 5000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk.clear()
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        ticket_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY ticket_events (ticket_id, seq, at, actor, action, from_status, to_status, note) "
                "FROM STDIN"
            ) as copy,
        ):
            for tid in transferred:
                copy.write_row((tid, 2, START, "bench", "transfer", None, None, "chuyển đơn vị"))
        calls = n // 2
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY calls (channel_id, caller, called, started_at, answered_at, ended_at, outcome, "
                "recording, ticket_code, draft_id) FROM STDIN"
            ) as copy,
        ):
            outcomes = ("ai_handled", "transferred", "abandoned", "failed")
            for i in range(calls):
                started = START + timedelta(seconds=rng.randrange(SPAN_S))
                outcome = rng.choices(outcomes, (0.6, 0.3, 0.08, 0.02))[0]
                answered = None if outcome == "abandoned" else started + timedelta(seconds=2)
                ended = started + timedelta(seconds=rng.randint(20, 600))
                copy.write_row(
                    (f"bench-{i}", "0900000000", "1022", started, answered, ended, outcome, "", "", "")
                )
        other_s = time.perf_counter() - t1
        conn.commit()
        t2 = time.perf_counter()
        conn.execute("ANALYZE")
        analyze_s = time.perf_counter() - t2
    return {
        "tickets": n,
        "ticket_load_s": round(ticket_s, 2),
        "tickets_per_s": round(n / ticket_s),
        "transfer_events": len(transferred),
        "calls": calls,
        "events_and_calls_load_s": round(other_s, 2),
        "calls_per_s": round(calls / other_s) if other_s else None,
        "analyze_s": round(analyze_s, 2),
    }


def time_report(url: str, month: str, repeats: int) -> dict[str, Any]:
    engine = make_engine(url)
    period = periods.month(month)
    timings: list[float] = []
    render_s: list[float] = []
    steps: dict[str, list[float]] = {}
    report = None
    try:
        for _ in range(repeats):
            with Session(engine) as session:
                t0 = last = time.perf_counter()

                def lap(step: str) -> None:
                    nonlocal last
                    now = time.perf_counter()
                    steps.setdefault(step, []).append(now - last)
                    last = now

                report = compute(session, period, Filters(city="hanoi"), datetime.now(UTC), lap)
                timings.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            html(report)
            render_s.append(time.perf_counter() - t1)
    finally:
        engine.dispose()
    assert report is not None
    return {
        "month": month,
        "tickets_in_month": report.tickets.received,
        "calls_in_month": report.calls.received,
        "agencies_flagged": len(report.flagged_agencies),
        "repeated_issues": len(report.repeats),
        "compute_s_first": round(timings[0], 3),
        "compute_s_median": round(statistics.median(timings), 3),
        "step_s_median": {k: round(statistics.median(v), 3) for k, v in steps.items()},
        "html_render_s_median": round(statistics.median(render_s), 3),
        "report_total_s_median": round(statistics.median(timings) + statistics.median(render_s), 3),
        "target_s": 5.0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--month", default="2026-10")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"),
    )
    args = p.parse_args()
    name = f"hotline_bench_reports_{uuid.uuid4().hex[:8]}"
    admin = _libpq(args.pg_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(args.pg_url).set(drivername="postgresql+psycopg", database=name).render_as_string(False)
    try:
        migrate.upgrade(url)
        gen = generate(_libpq(args.pg_url, name), args.tickets)
        print(
            f"generator: {gen['tickets']:,} tickets in {gen['ticket_load_s']} s = "
            f"{gen['tickets_per_s']:,} rows/s; {gen['calls']:,} calls + {gen['transfer_events']:,} events "
            f"in {gen['events_and_calls_load_s']} s"
        )
        rep = time_report(url, args.month, args.repeats)
        print(
            f"monthly report {rep['month']}: {rep['tickets_in_month']:,} tickets, "
            f"{rep['calls_in_month']:,} calls; "
            f"compute first {rep['compute_s_first']} s, median {rep['compute_s_median']} s; "
            f"HTML with charts {rep['html_render_s_median']} s; total {rep['report_total_s_median']} s "
            f"(target <= {rep['target_s']} s)"
        )
        result = {
            "benchmark": "reports",
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "generator": gen,
            "monthly_report": rep,
        }
        out = Path(__file__).resolve().parent / "results" / "reports.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print("steps (median s):", json.dumps(rep["step_s_median"]))
        print(f"wrote {out}")
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

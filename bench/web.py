"""The staff portal under load: 1,000,000 tickets in PostgreSQL, 50 concurrent logged-in users.

Creates a scratch database, migrates it, imports Hanoi's agencies, bulk-loads tickets (valid tracking
codes, two history events each) with ``COPY``, adds staff users, starts the real portal
(``hotline web run`` as a subprocess, one uvicorn process as shipped) and lets N users (officers and
heads of several agencies, supervisors, leaders) log in through the form and then, each in a loop with
a think time, open their agency queue, a ticket of their agency and the dashboard. Prints p50/p95/p99
per page and writes bench/results/web.json. Target: p95 <= 100 ms for each page.

    .venv/bin/python bench/web.py [--tickets 1000000] [--users 50] [--rounds 10] [--think 1.0]
        [--workers 1] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/] [--keep] [--db KEPT_DB]

Traffic goes only to the portal this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import reference  # noqa: E402
import wiring  # noqa: E402
from config.settings import Settings  # noqa: E402
from ticketing.db import migrate  # noqa: E402
from ticketing.domain import tracking  # noqa: E402
from ticketing.domain.model import Status  # noqa: E402

PASSWORD = "mat-khau-bench-portal"
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_S = 2 * 365 * 86400
AGENCIES = 40
COLUMNS = (
    "code", "channel", "kind", "category", "priority", "status", "city",
    "caller_name", "caller_cccd", "caller_phone", "caller_address", "caller_email", "caller_confidential",
    "place_address", "ward_code", "ward_name", "place_city", "content", "transcript",
    "created_at", "created_by", "lead_agency", "dispatch_due", "due_at", "dispatched_at", "accepted_at",
    "closed_at", "extensions", "escalation_level", "overdue", "overdue_reason", "draft_result", "result",
    "rejection_reason", "duplicate_of", "clarification_request", "clarification_answer", "version",
)  # fmt: skip


def _libpq(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def load(dsn: str, n: int, agencies: list[str], seed: int = 13) -> dict[str, Any]:
    rng = random.Random(seed)
    wards = [(u.code, u.name) for u in reference.units("hanoi")]
    categories = list(reference.categories())
    statuses = [
        (Status.DONE.value, 0.6),
        (Status.IN_PROGRESS.value, 0.15),
        (Status.DISPATCHED.value, 0.1),
        (Status.AWAITING_APPROVAL.value, 0.03),
        (Status.NEW.value, 0.02),
        (Status.REJECTED.value, 0.1),
    ]
    names, weights = zip(*statuses, strict=True)
    null = "\\N"
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY tickets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            chunk: list[str] = []
            offsets = sorted(rng.randrange(SPAN_S) for _ in range(n))
            for i, offset in enumerate(offsets, start=1):
                created = START + timedelta(seconds=offset)
                ward, ward_name = rng.choice(wards)
                status = rng.choices(names, weights)[0]
                new = status == Status.NEW.value
                closed = status in (Status.DONE.value, Status.REJECTED.value)
                overdue = rng.random() < 0.12
                dispatched = null if new else (created + timedelta(hours=2)).isoformat()
                row = (
                    tracking.make_code(i), "phone", "field_report", rng.choice(categories), "normal", status,
                    "hanoi", "Nguyễn Văn A", "001190012345", "0912345678", "", "", "f",
                    f"Ngõ {rng.randint(1, 400)}", ward, ward_name, "hanoi",
                    "Rác thải tồn đọng ở đầu ngõ nhiều ngày chưa được thu gom", "",
                    created.isoformat(), "ai-bot", rng.choice(agencies),
                    (created + timedelta(hours=8)).isoformat(),
                    null if new else (created + timedelta(days=9)).isoformat(), dispatched, dispatched,
                    (created + timedelta(days=rng.randint(1, 14))).isoformat() if closed else null,
                    "0", "0", "t" if overdue else "f", "quá hạn" if overdue else "", "",
                    "Đã xử lý" if closed else "", "", "", "", "", "1",
                )  # fmt: skip
                chunk.append("\t".join(row))
                if len(chunk) >= 5000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk.clear()
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        ticket_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute(
            "INSERT INTO ticket_events (ticket_id, seq, at, actor, action, from_status, to_status, note) "
            "SELECT id, 1, created_at, 'ai-bot', 'create', NULL, 'Mới tạo', 'phone' FROM tickets"
        )
        conn.execute(
            "INSERT INTO ticket_events (ticket_id, seq, at, actor, action, from_status, to_status, note) "
            "SELECT id, 2, dispatched_at, 'giamsat', 'dispatch', 'Mới tạo', 'Đã chuyển xử lý', lead_agency "
            "FROM tickets WHERE dispatched_at IS NOT NULL"
        )
        conn.commit()
        events_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        conn.execute("ANALYZE")
        analyze_s = time.perf_counter() - t2
    return {
        "tickets": n,
        "ticket_load_s": round(ticket_s, 1),
        "events_load_s": round(events_s, 1),
        "analyze_s": round(analyze_s, 1),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[k] * 1000, 1)


async def log_in(base: str, name: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:200]
    r = await client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert r.status_code == 303, (name, r.status_code)
    return client


async def user_loop(
    client: httpx.AsyncClient,
    name: str,
    codes: list[str],
    rounds: int,
    think: float,
    rng: random.Random,
    out: dict[str, list[float]],
    warmup: int = 0,
) -> None:
    await asyncio.sleep(rng.random() * think)
    for n in range(warmup + rounds):
        for kind, path in (
            ("queue", "/queue"),
            ("ticket", f"/tickets/{rng.choice(codes)}"),
            ("dashboard", "/dashboard"),
        ):
            t0 = time.perf_counter()
            r = await client.get(path)
            elapsed = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"{name} {path}: {r.status_code}")
            if n >= warmup:  # warm-up rounds fill the dashboards' kept reports: not recorded
                out[kind].append(elapsed)
            await asyncio.sleep(think * (0.5 + rng.random()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--think", type=float, default=1.0, help="seconds between a user's requests (mean)")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"),
    )
    p.add_argument("--workers", type=int, default=1, help="portal worker processes (web.workers)")
    p.add_argument("--warmup", type=int, default=0, help="rounds per user before measuring (not recorded)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--db", default="", help="reuse a database kept by an earlier --keep run")
    args = p.parse_args()

    name = args.db or f"hotline_bench_web_{uuid.uuid4().hex[:8]}"
    admin = _libpq(args.pg_url, "postgres")
    if not args.db:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(args.pg_url).set(drivername="postgresql+psycopg", database=name)
    db_url = url.render_as_string(hide_password=False)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        migrate.upgrade(db_url)
        settings = Settings(data_dir=data_dir, database={"url": db_url})  # type: ignore[arg-type]
        services = wiring.build(settings)
        agencies = [a.code for a in reference.agencies("hanoi") if a.kind == "commune"][:AGENCIES]
        if args.db:
            with psycopg.connect(_libpq(args.pg_url, name)) as conn:
                count = conn.execute("SELECT count(*) FROM tickets").fetchone()
                conn.execute("DELETE FROM users")
                conn.commit()
            loaded: dict[str, Any] = {"tickets": int(count[0]) if count else 0, "reused": name}
        else:
            services.admin.import_agencies("hanoi", "bench")
            print(f"loading {args.tickets:,} tickets into {name} ...", flush=True)
            loaded = load(_libpq(args.pg_url, name), args.tickets, agencies)
        print(json.dumps(loaded), flush=True)

        # users: officers and heads of the first agencies, supervisors, leaders
        users: list[tuple[str, str | None]] = []
        for i in range(args.users):
            if i % 10 == 8:
                role, agency = "supervisor", None
            elif i % 10 == 9:
                role, agency = "leader", None
            else:
                role, agency = ("officer" if i % 2 else "head"), agencies[i % len(agencies)]
            uname = f"u{i:03d}"
            services.users.add(uname, role, "bench", agency=agency, password=PASSWORD)
            users.append((uname, agency))
        # tickets each user may open: its agency's open ones (a city-wide user: any)
        sample: dict[str | None, list[str]] = {}
        with psycopg.connect(_libpq(args.pg_url, name)) as conn:
            for agency in {a for _, a in users}:
                if agency is None:
                    rows = conn.execute("SELECT code FROM tickets ORDER BY random() LIMIT 200").fetchall()
                else:
                    rows = conn.execute(
                        "SELECT code FROM tickets WHERE lead_agency = %s AND status <> %s "
                        "ORDER BY random() LIMIT 200",
                        (agency, Status.NEW.value),
                    ).fetchall()
                sample[agency] = [r[0] for r in rows]
        services.close()

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(
            {
                "HOTLINE_CONFIG": str(data_dir / "absent.toml"),
                "HOTLINE_DATA_DIR": str(data_dir),
                "HOTLINE_DATABASE__URL": db_url,
                "HOTLINE_WEB__PORT": str(port),
                "HOTLINE_WEB__LOGIN_ATTEMPTS": "1000",
                "HOTLINE_WEB__WORKERS": str(args.workers),
                "PYTHONPATH": str(ROOT),
            }
        )
        hotline = str(Path(sys.executable).with_name("hotline"))
        proc = subprocess.Popen([hotline, "web", "run"], env=env, cwd=data_dir)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the portal did not start")
            time.sleep(0.3)

        out: dict[str, list[float]] = {"queue": [], "ticket": [], "dashboard": []}
        rng = random.Random(7)

        async def run_all() -> float:
            # staff log in over the morning, not all in one instant: the logins are not measured
            clients = [await log_in(base, u) for u, _ in users]
            try:
                t0 = time.perf_counter()
                await asyncio.gather(
                    *(
                        user_loop(
                            c,
                            u,
                            sample[a],
                            args.rounds,
                            args.think,
                            random.Random(rng.random()),
                            out,
                            args.warmup,
                        )
                        for c, (u, a) in zip(clients, users, strict=True)
                    )
                )
                return time.perf_counter() - t0
            finally:
                for c in clients:
                    await c.aclose()

        print(f"{args.users} users x {args.rounds} rounds (think {args.think} s) ...", flush=True)
        wall = asyncio.run(run_all())
        requests = sum(len(v) for v in out.values())
        result: dict[str, Any] = {
            "benchmark": "web",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "database": "postgresql",
            "load": loaded,
            "users": args.users,
            "workers": args.workers,
            "warmup_rounds": args.warmup,
            "rounds": args.rounds,
            "think_s": args.think,
            "requests": requests,
            "wall_s": round(wall, 1),
            "throughput_rps": round(requests / wall, 1),
            "target_p95_ms": 100,
            "pages": {
                k: {
                    "n": len(v),
                    "p50_ms": pct(v, 50),
                    "p95_ms": pct(v, 95),
                    "p99_ms": pct(v, 99),
                    "mean_ms": round(statistics.mean(v) * 1000, 1),
                }
                for k, v in out.items()
            },
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        results = ROOT / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        (results / "web.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            print(f"dropping {name} (keep it with --keep, reuse with --db)", flush=True)
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

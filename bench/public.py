"""The public doors under load: Open311 and the published results over many PostgreSQL tickets.

Loads tickets into a scratch database with ``bench/web.py``'s ``COPY`` loader (the head's publication
approval is recorded for the done ones), starts the real web app (``hotline web run``, one uvicorn
process as shipped) and measures, with N concurrent clients each in a loop:

* ``GET /open311/v2/requests.json`` (the defaults: last 90 days, up to 1,000 requests);
* ``GET /ket-qua`` (the published results list, first page);
* ``POST /open311/v2/requests.json`` throughput (tickets filed per second, through the intake path;
  spread over the city's wards and categories as real reports are).

Each reader's first round (``--warmup``) fills the kept answers and is not recorded. Prints p50/p95/p99,
the machine's load average after each phase and the server's CPU time per request (user + system of
the server's processes: comparable between runs on a machine shared with other work), and writes
bench/results/public.json; with a baseline (``--baseline FILE``, default bench/baselines/public.json)
it also prints the numbers before and after side by side.
Targets (issue): p95 <= 100 ms at 50 clients with 1,000,000 tickets; POST >= 100 tickets/s.

    .venv/bin/python bench/public.py [--tickets 1000000] [--clients 50] [--rounds 20] [--warmup 1]
        [--posts 500] [--workers 1]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/] [--keep] [--db KEPT_DB]
        [--baseline bench/baselines/public.json]

Traffic goes only to the app this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
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
from ticketing.credentials import CredentialKind  # noqa: E402
from ticketing.db import migrate  # noqa: E402
from ticketing.domain.workflow import COMPLAINT_CATEGORY  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_web", ROOT / "bench" / "web.py")
assert _spec is not None and _spec.loader is not None
bench_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_web)


def pct(values: list[float], q: float) -> float:
    return bench_web.pct(values, q)  # type: ignore[no-any-return]


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": pct(values, 50),
        "p95_ms": pct(values, 95),
        "p99_ms": pct(values, 99),
        "mean_ms": round(statistics.mean(values) * 1000, 1),
    }


async def reader(
    client: httpx.AsyncClient,
    path: str,
    rounds: int,
    out: list[float],
    errors: list[int],
    warmup: int = 0,
) -> None:
    for n in range(warmup + rounds):
        t0 = time.perf_counter()
        try:
            # the body as sent (gzip): read to its last byte, not decompressed (the client's CPU is
            # not the server's latency)
            async with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
                async for _ in r.aiter_raw():
                    pass
                status = r.status_code
        except httpx.HTTPError:  # an overloaded server drops connections: counted, not fatal
            status = -1
        if n >= warmup:  # the first answers compute what the later ones reuse: not recorded
            out.append(time.perf_counter() - t0)
        if status != 200:
            errors.append(status)


def post_targets() -> list[tuple[str, str]]:
    """(category, ward name) pairs the POSTs cycle through: a city's reports spread over its wards
    and categories (complaints are refused by design). Filing them all into one ward and category
    would make each filing's duplicate search read every earlier bench ticket of the run."""
    categories = sorted(c for c in reference.categories() if c != COMPLAINT_CATEGORY)
    wards = [u.name for u in reference.units("hanoi")]
    return [(categories[i % len(categories)], wards[(i * 7) % len(wards)]) for i in range(len(wards) * 4)]


async def poster(
    client: httpx.AsyncClient, key: str, n: int, out: list[float], errors: list[int], first: int = 0
) -> None:
    targets = post_targets()
    for i in range(first, first + n):
        category, ward = targets[i % len(targets)]
        form = {
            "api_key": key,
            "service_code": category,
            "description": f"Rác tồn đọng ở ngõ {i} chưa được thu gom (bench)",
            "address_string": f"Ngõ {i}",
            "attribute[ward]": ward,
            "phone": "0912345678",
            "first_name": "Nguyễn",
            "last_name": "An",
        }
        t0 = time.perf_counter()
        r = await client.post("/open311/v2/requests.json", data=form)
        out.append(time.perf_counter() - t0)
        if r.status_code != 201:
            errors.append(r.status_code)


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process ``root`` and its descendants (uvicorn workers), from
    /proc: what the server spent, whatever else runs on the machine."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(pid, 0.0) for pid in tree)


WRK_GZIP = """
wrk.headers["Accept-Encoding"] = "gzip"
"""
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "errors": %d, "non_2xx": %d, "p50_ms": %.1f, ' ..
    '"p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def postgres_cpu_seconds() -> float:
    """CPU time (user + system) of the PostgreSQL server's processes alive now, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "cmdline").read_bytes().startswith(b"postgres"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def post_script(key: str) -> str:
    """A wrk script that POSTs Open311 requests: each connection its own running number, spread over
    the city's wards and categories like :func:`poster` (form-encoded as a client sends them)."""
    q = urllib.parse.quote_plus
    targets = ",\n".join(f'{{"{q(c)}", "{q(w)}"}}' for c, w in post_targets())
    fixed = urllib.parse.urlencode(
        {"api_key": key, "phone": "0912345678", "first_name": "Nguyễn", "last_name": "An"}
    )
    return f"""
local targets = {{
{targets}
}}
local counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("first", threads * 10000000) end
init = function(args) counter = first or 0 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  local body = "{fixed}&service_code=" .. t[1] .. "&attribute%5Bward%5D=" .. t[2] ..
    "&description={q("Rác tồn đọng ở ngõ")}+" .. counter .. "{q(" chưa được thu gom (bench)")}" ..
    "&address_string={q("Ngõ")}+" .. counter
  return wrk.format(nil, nil, nil, body)
end
"""


def run_wrk(url: str, clients: int, seconds: int, server_pid: int, script: str = WRK_GZIP) -> dict[str, Any]:
    """``url`` under ``clients`` open connections for ``seconds`` with wrk (a C load generator: on a
    small shared machine an asyncio client in Python runs out of CPU before the server does)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + WRK_DONE)
    try:
        cpu0, pg0 = cpu_seconds(server_pid), postgres_cpu_seconds()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", f.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
        cpu, pg = cpu_seconds(server_pid) - cpu0, postgres_cpu_seconds() - pg0
    finally:
        os.unlink(f.name)
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    found["rps"] = round(found["requests"] / seconds, 1)
    found["server_cpu_ms_per_request"] = round(cpu * 1000 / max(1, found["requests"]), 2)
    found["postgres_cpu_ms_per_request"] = round(max(0.0, pg) * 1000 / max(1, found["requests"]), 2)
    found["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return found


def ticket_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM tickets").fetchone()
    return int(row[0]) if row else 0


def comparison(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A before/after table of the measured numbers (``before``: an earlier run's JSON)."""
    lines = [
        f"{'':22}{'before':>22}{'after':>22}",
        f"{'tickets':22}{before['load'].get('tickets', 0):>22,}{after['load'].get('tickets', 0):>22,}",
    ]
    for kind in ("open311_list", "published_list", "open311_post"):
        b, a = before["pages"].get(kind, {}), after["pages"].get(kind, {})
        for q in ("p50_ms", "p95_ms"):
            lines.append(f"{kind + ' ' + q:22}{b.get(q, '-'):>22}{a.get(q, '-'):>22}")
    for kind in ("open311_list", "published_list"):
        b, a = before.get("wrk", {}).get(kind, {}), after.get("wrk", {}).get(kind, {})
        for q in ("p50_ms", "p95_ms", "rps", "server_cpu_ms_per_request"):
            if q in a or q in b:
                label = f"{kind.split('_')[0]} wrk {q.replace('server_cpu_ms_per_request', 'cpu_ms/req')}"
                lines.append(f"{label:22}{b.get(q, '-'):>22}{a.get(q, '-'):>22}")
    per_s = "open311_post_tickets_per_s"
    lines.append(f"{'POST tickets/s':22}{before.get(per_s, '-'):>22}{after.get(per_s, '-'):>22}")
    b, a = before.get("wrk", {}).get("open311_post", {}), after.get("wrk", {}).get("open311_post", {})
    for q in ("tickets_per_s", "p95_ms", "server_cpu_ms_per_request", "postgres_cpu_ms_per_request"):
        if q in a or q in b:
            label = "POST wrk " + q.replace("server_cpu_ms_per_request", "cpu_ms/ticket").replace(
                "postgres_cpu_ms_per_request", "pg_cpu_ms/ticket"
            )
            lines.append(f"{label:22}{b.get(q, '-'):>22}{a.get(q, '-'):>22}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--warmup", type=int, default=1, help="rounds per client before measuring (not recorded)")
    p.add_argument(
        "--wrk-seconds",
        type=int,
        default=0,
        help="also measure the GET lists with wrk (if installed) for this many seconds each",
    )
    p.add_argument("--post-clients", type=int, default=10, help="concurrent POSTing clients")
    p.add_argument("--workers", type=int, default=1, help="web worker processes (web.workers)")
    p.add_argument("--posts", type=int, default=500, help="tickets to file through POST requests.json")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"),
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--db", default="", help="reuse a database kept by an earlier --keep run")
    p.add_argument(
        "--baseline",
        default="",
        help="an earlier run's JSON to compare with (default: bench/baselines/public.json)",
    )
    args = p.parse_args()

    name = args.db or f"hotline_bench_public_{uuid.uuid4().hex[:8]}"
    admin = bench_web._libpq(args.pg_url, "postgres")
    if not args.db:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    db_url = (
        make_url(args.pg_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )
    dsn = bench_web._libpq(args.pg_url, name)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-public-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        migrate.upgrade(db_url)
        settings = Settings(data_dir=data_dir, database={"url": db_url})  # type: ignore[arg-type]
        services = wiring.build(settings)
        if args.db:
            loaded: dict[str, Any] = {"tickets": ticket_count(dsn), "reused": name}
        else:
            services.admin.import_agencies("hanoi", "bench")
            agencies = [a.code for a in reference.agencies("hanoi") if a.kind == "commune"][
                : bench_web.AGENCIES
            ]
            print(f"loading {args.tickets:,} tickets into {name} ...", flush=True)
            loaded = bench_web.load(dsn, args.tickets, agencies)
            t0 = time.perf_counter()
            with psycopg.connect(dsn) as conn:
                conn.execute(
                    "INSERT INTO audit_log (at, actor, entity, entity_id, action) "
                    "SELECT closed_at, 'truong', 'ticket', code, 'approve_publication' FROM tickets "
                    "WHERE status = 'Đã hoàn thành'"
                )
                conn.execute("ANALYZE audit_log")
                conn.commit()
            loaded["publication_s"] = round(time.perf_counter() - t0, 1)
            # filing numbers codes from the sequence (migration 0017): start it after the loaded codes
            with psycopg.connect(dsn) as conn:
                conn.execute("UPDATE code_sequences SET value = %s WHERE name = 'ticket'", (args.tickets,))
                conn.execute("SELECT setval('ticket_code_seq', %s)", (args.tickets,))
                conn.commit()
        print(json.dumps(loaded), flush=True)
        _, key = services.credentials.create(CredentialKind.API_KEY, f"bench-{uuid.uuid4().hex[:6]}", "bench")
        services.close()

        port = bench_web.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        unlimited = {k: "1000000/minute" for k in ("form", "code", "track", "api", "api_write")}
        env.update(
            {
                "HOTLINE_CONFIG": str(data_dir / "absent.toml"),
                "HOTLINE_DATA_DIR": str(data_dir),
                "HOTLINE_DATABASE__URL": db_url,
                "HOTLINE_WEB__PORT": str(port),
                "HOTLINE_WEB__PUBLIC_LIMITS": json.dumps(unlimited),
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
                if httpx.get(f"{base}/phan-anh", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the web app did not start")
            time.sleep(0.3)

        timings: dict[str, list[float]] = {"open311_list": [], "published_list": [], "open311_post": []}
        errors: dict[str, list[int]] = {k: [] for k in timings}
        walls: dict[str, float] = {}
        loadavg: dict[str, list[float]] = {}
        cpu_ms: dict[str, float] = {}

        async def run(kind: str) -> None:
            limits = httpx.Limits(max_connections=args.clients + 5)
            async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
                t0 = time.perf_counter()
                if kind == "open311_post":
                    per = max(1, args.posts // args.post_clients)
                    await asyncio.gather(
                        *(
                            poster(client, key, per, timings[kind], errors[kind], n * per)
                            for n in range(args.post_clients)
                        )
                    )
                else:
                    path = "/open311/v2/requests.json" if kind == "open311_list" else "/ket-qua"
                    await asyncio.gather(
                        *(
                            reader(client, path, args.rounds, timings[kind], errors[kind], args.warmup)
                            for _ in range(args.clients)
                        )
                    )
                walls[kind] = time.perf_counter() - t0

        for kind in timings:
            print(f"{kind} ...", flush=True)
            cpu0 = cpu_seconds(proc.pid)
            asyncio.run(run(kind))
            # the server's CPU per request (warm-up included): comparable between loaded runs
            done = len(timings[kind]) + (args.clients * args.warmup if kind != "open311_post" else 0)
            cpu_ms[kind] = round((cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, done), 2)
            # the machine's 1-minute load average after each phase (it is shared with other work)
            loadavg[kind] = [round(x, 2) for x in os.getloadavg()]

        wrk: dict[str, Any] = {}
        if args.wrk_seconds > 0 and shutil.which("wrk"):
            for kind, path in (("open311_list", "/open311/v2/requests.json"), ("published_list", "/ket-qua")):
                print(f"{kind} (wrk, {args.wrk_seconds} s) ...", flush=True)
                wrk[kind] = run_wrk(base + path, args.clients, args.wrk_seconds, proc.pid)
            print(
                f"open311_post (wrk, {args.post_clients} connections, {args.wrk_seconds} s) ...", flush=True
            )
            before = ticket_count(dsn)
            post = run_wrk(
                base + "/open311/v2/requests.json",
                args.post_clients,
                args.wrk_seconds,
                proc.pid,
                post_script(key),
            )
            # what was filed, counted in the database (a 201 is not taken on trust)
            post["tickets_filed"] = ticket_count(dsn) - before
            post["tickets_per_s"] = round(post["tickets_filed"] / args.wrk_seconds, 1)
            wrk["open311_post"] = post

        posted = len(timings["open311_post"]) - len(errors["open311_post"])
        result: dict[str, Any] = {
            "benchmark": "public",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "database": "postgresql",
            "load": loaded,
            "clients": args.clients,
            "rounds": args.rounds,
            "warmup_rounds": args.warmup,
            "post_clients": args.post_clients,
            "workers": args.workers,
            "target_p95_ms": 100,
            "target_post_per_s": 100,
            "pages": {k: {**stats(v), "errors": len(errors[k])} for k, v in timings.items()},
            "open311_post_tickets_per_s": round(posted / walls["open311_post"], 1),
            "walls_s": {k: round(v, 1) for k, v in walls.items()},
            "loadavg_after": loadavg,
            "server_cpu_ms_per_request": cpu_ms,
            "wrk": wrk,
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        results = ROOT / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        baseline = Path(args.baseline) if args.baseline else ROOT / "bench" / "baselines" / "public.json"
        if baseline.is_file():
            result["before"] = json.loads(baseline.read_text())
            print(comparison(result["before"], result))
        (results / "public.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep and not args.db:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif args.keep:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()

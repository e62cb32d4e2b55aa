"""Cluster numbers and the sizing table: Kamailio's CPU per call set-up, each node's CPU per call, the
spread of calls over the nodes, and how many nodes of how many cores take 3,600 calls an hour at peak.

A real cluster on this machine (``hotline cluster up --nodes 2``: Kamailio, two Asterisk nodes on their
own loopback addresses, ``hotline app run`` + ``hotline scheduler run`` per node, a fresh PostgreSQL
database), loaded with SIPp callers through the front (tests/sipcaller.py scripts: the caller keys 0 and
gets a call-back draft with its recording; the node apps run keypad-only, no speech model here).

Measured here, from /proc CPU counters of the real processes:

- Kamailio CPU per call set-up: CPU of every Kamailio process over a burst of short calls, minus the
  idle rate (OPTIONS probing) measured just before, divided by the calls.
- Per node: Asterisk CPU and app CPU per second of call, under ``--concurrent`` calls through the front.

Taken from ``bench/results/call.json`` (bench/call.py) when present, else the numbers published in
docs/benchmarks.md: app CPU per call on the dialogue path and the recognition limit (talking callers
per core at the reply-latency target). The sizing then assumes ``--aht`` seconds per call and callers
speaking ``--talk`` of the call time, and keeps ``--headroom`` of every core free.

    .venv/bin/python bench/cluster.py [--calls 60] [--concurrent 12] [--aht 180] [--quick]

Prints numbers and a Markdown sizing table, writes bench/results/cluster.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy.engine import make_url

from tests.asterisk import CACHE_ROOT, ensure_root
from tests.sipcaller import CallerScript, read_stats
from tests.test_cluster_live import Cluster, make_cluster

RESULTS = Path(__file__).parent / "results"
PG_SERVER_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
TICK = os.sysconf("SC_CLK_TCK")
PEAK_CALLS_PER_HOUR = 3600
# docs/benchmarks.md (bench/call.py, bench/pbx.py) when bench/results/call.json is not there
PUBLISHED = {
    "app_cpu_per_call": 0.0135,  # share of a core per call, dialogue path, 20 concurrent calls
    "media_calls_per_2_cores": 20,  # every media target met (jitter p95 <= 5 ms, backlog <= 1 frame)
    "talking_callers_per_2_cores_with_asr": 2,  # reply latency p95 <= 265 ms with streaming ASR
}


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def group_pids(leader: int) -> list[int]:
    """Every process of ``leader``'s process group (Kamailio forks its workers into it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == leader:
                pids.append(int(entry.name))
    return pids


def group_cpu(leader: int) -> float:
    return sum(cpu_seconds(p) for p in group_pids(leader))


def pid_of(path: Path) -> int:
    return int(path.read_text().strip())


def create_db() -> str:
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(PG_SERVER_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_db(url: str) -> None:
    name = make_url(url).database
    admin = make_url(PG_SERVER_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_load(
    cluster: Cluster, workdir: Path, script: CallerScript, calls: int, concurrent: int, rate: float
) -> dict[str, str]:
    proc = cluster.place(workdir, script, calls=calls, rate=rate, concurrent=concurrent)
    proc.wait(timeout=3600)
    return read_stats(workdir / "stats.csv")


def call_numbers() -> dict[str, float]:
    path = RESULTS / "call.json"
    numbers = dict(PUBLISHED)
    source = "docs/benchmarks.md"
    if path.is_file():
        data = json.loads(path.read_text())
        dialogue = data.get("dialogue", {})
        for row in dialogue.get("latency", []):
            if row.get("concurrent", 0) >= 10 and row.get("app_cpu_per_call"):
                numbers["app_cpu_per_call"] = float(row["app_cpu_per_call"])
        cap = dialogue.get("asr_capacity", {}).get("max_calls_within_backlog")
        if cap:
            numbers["talking_callers_per_2_cores_with_asr"] = float(cap)
        source = str(path)
    numbers["source"] = source  # type: ignore[assignment]
    return numbers


def poisson_quantile(mean: float, p: float) -> int:
    """Smallest n with P(X <= n) >= p for X ~ Poisson(mean): concurrent calls at peak, with margin."""
    term = math.exp(-mean) if mean < 700 else 0.0
    if term == 0.0:  # normal approximation for large means
        return math.ceil(mean + 3.09 * math.sqrt(mean))
    total, n = term, 0
    while total < p:
        n += 1
        term *= mean / n
        total += term
    return n


def sizing(
    measured: dict[str, Any], numbers: dict[str, Any], aht: float, talk: float, headroom: float
) -> dict[str, Any]:
    offered = PEAK_CALLS_PER_HOUR * aht / 3600  # Erlangs at peak
    concurrent = poisson_quantile(offered, 0.999)
    # CPU per call (share of a core), media path without ASR: this machine's Asterisk + the app
    per_call_media = measured["asterisk_cpu_per_call"] + max(
        numbers["app_cpu_per_call"], measured["app_cpu_per_call"]
    )
    # recognition: talking callers per core at the reply-latency target -> calls per core
    talking_per_core = numbers["talking_callers_per_2_cores_with_asr"] / 2
    calls_per_core_asr = talking_per_core / talk
    calls_per_core_media = min(1 / per_call_media, numbers["media_calls_per_2_cores"] / 2)
    calls_per_core = min(calls_per_core_asr, calls_per_core_media) * (1 - headroom)
    rows = []
    for cores in (2, 4, 8, 16):
        per_node = math.floor(calls_per_core * cores)
        nodes = math.ceil(concurrent / per_node) if per_node else 0
        rows.append({"cores": cores, "calls_per_node": per_node, "nodes": nodes, "nodes_n_plus_1": nodes + 1})
    kamailio_cores = PEAK_CALLS_PER_HOUR / 3600 * measured["kamailio_cpu_per_setup_s"]
    return {
        "peak_calls_per_hour": PEAK_CALLS_PER_HOUR,
        "aht_s": aht,
        "talk_fraction": talk,
        "offered_erlangs": offered,
        "concurrent_calls_p999": concurrent,
        "cpu_per_call_media": per_call_media,
        "calls_per_core_media": calls_per_core_media,
        "calls_per_core_asr": calls_per_core_asr,
        "calls_per_core_planned": calls_per_core,
        "kamailio_cores_at_peak": kamailio_cores,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="calls of the per-node load")
    parser.add_argument("--concurrent", type=int, default=12)
    parser.add_argument("--setups", type=int, default=40, help="short calls of the Kamailio burst")
    parser.add_argument("--aht", type=float, default=180.0, help="average call length at peak, seconds")
    parser.add_argument("--talk", type=float, default=0.35, help="share of a call the caller speaks")
    parser.add_argument("--headroom", type=float, default=0.3, help="share of every core kept free")
    parser.add_argument("--quick", action="store_true", help="small loads (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.concurrent, args.setups = 12, 6, 12
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-cluster-"))
    ensure_root(work / "install")
    db_url = create_db()
    cluster = make_cluster(work / "data", db_url)
    measured: dict[str, Any] = {}
    try:
        up = cluster.hotline("cluster", "up", "--nodes", "2")
        if up.returncode != 0:
            raise SystemExit(f"cluster up failed: {up.stdout}{up.stderr}")
        front = pid_of(work / "data/cluster/front/kamailio.pid")
        # 1. Kamailio: idle rate (probes), then a burst of short calls
        idle_from, t0 = group_cpu(front), time.monotonic()
        time.sleep(10)
        idle_rate = (group_cpu(front) - idle_from) / (time.monotonic() - t0)
        short = CallerScript(caller="0912345678").silence(1.0)
        before, t0 = group_cpu(front), time.monotonic()
        stats = run_load(cluster, work / "setups", short, args.setups, min(args.setups, 10), 5.0)
        elapsed = time.monotonic() - t0
        spent = group_cpu(front) - before - idle_rate * elapsed
        ok = int(stats.get("SuccessfulCall(C)", 0))
        measured["kamailio_cpu_per_setup_s"] = max(spent, 0.0) / max(ok, 1)
        measured["kamailio_idle_cpu_share"] = idle_rate
        measured["setup_calls_ok"] = ok
        # 2. per node: Asterisk and app CPU per call-second under load through the front
        nodes = cluster.nodes()
        ast = {n: pid_of(CACHE_ROOT / f"run/asterisk-{n}/asterisk.pid") for n in nodes}
        app = {n: pid_of(work / f"data/cluster/{n}/app.pid") for n in nodes}
        ast0 = {n: cpu_seconds(p) for n, p in ast.items()}
        app0 = {n: cpu_seconds(p) for n, p in app.items()}
        script = CallerScript(caller="0912345678").silence(3.0).dtmf("0").silence(12.0)
        known = {r["channel_id"] for r in cluster.calls()}
        t0 = time.monotonic()
        stats = run_load(cluster, work / "load", script, args.calls, args.concurrent, 1.0)
        load_s = time.monotonic() - t0
        rows = [r for r in cluster.calls() if r["channel_id"] not in known]
        call_seconds = sum(r["duration_s"] or 0.0 for r in rows)
        spread = Counter(r["node"] for r in rows)
        measured["load_calls_ok"] = int(stats.get("SuccessfulCall(C)", 0))
        measured["load_calls_failed"] = int(stats.get("FailedCall(C)", 0))
        measured["load_seconds"] = load_s
        measured["spread"] = dict(spread)
        measured["call_seconds"] = call_seconds
        ast_cpu = sum(cpu_seconds(p) - ast0[n] for n, p in ast.items())
        app_cpu = sum(cpu_seconds(p) - app0[n] for n, p in app.items())
        measured["asterisk_cpu_per_call"] = ast_cpu / call_seconds if call_seconds else 0.0
        measured["app_cpu_per_call"] = app_cpu / call_seconds if call_seconds else 0.0
    finally:
        cluster.hotline("cluster", "down", timeout=180)
        for node in cluster.nodes():
            for parent in ("etc", "run", "var/spool", "var/log", "var/lib", "var/cache"):
                shutil.rmtree(CACHE_ROOT / parent / f"asterisk-{node}", ignore_errors=True)
        drop_db(db_url)
    numbers = call_numbers()
    plan = sizing(measured, numbers, args.aht, args.talk, args.headroom)
    result = {"measured": measured, "call_bench": numbers, "sizing": plan, "args": vars(args)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cluster.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    m = measured
    print(
        f"Kamailio CPU per call set-up: {m['kamailio_cpu_per_setup_s'] * 1000:.2f} ms "
        f"({m['setup_calls_ok']} calls; idle probing {m['kamailio_idle_cpu_share'] * 100:.2f} % of a core)"
    )
    print(f"load: {m['load_calls_ok']} ok, {m['load_calls_failed']} failed, spread {m['spread']}")
    print(
        f"per call: Asterisk {m['asterisk_cpu_per_call'] * 100:.2f} % of a core, "
        f"app (keypad, no ASR) {m['app_cpu_per_call'] * 100:.2f} %"
    )
    print(
        f"from {numbers['source']}: app CPU per call {numbers['app_cpu_per_call'] * 100:.2f} %, "
        f"{numbers['talking_callers_per_2_cores_with_asr']} talking callers per 2 cores with ASR"
    )
    p = plan
    print(
        f"\n3,600 calls/hour, AHT {p['aht_s']:.0f} s: {p['offered_erlangs']:.0f} Erlangs, "
        f"{p['concurrent_calls_p999']} concurrent calls (99.9 % of peak seconds); "
        f"{p['calls_per_core_planned']:.2f} calls per core with ASR and {args.headroom:.0%} headroom; "
        f"Kamailio needs {p['kamailio_cores_at_peak'] * 100:.2f} % of one core\n"
    )
    print("| cores per node | calls per node | nodes | nodes with one spare (N+1) |")
    print("|---|---|---|---|")
    for row in p["rows"]:
        print(f"| {row['cores']} | {row['calls_per_node']} | {row['nodes']} | {row['nodes_n_plus_1']} |")
    print(f"\nwrote {RESULTS / 'cluster.json'}")


if __name__ == "__main__":
    main()

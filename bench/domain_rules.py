"""Throughput of the pure per-ticket rules: tracking codes, routing and duplicate candidates.

Duplicate search runs at every ticket creation against the tickets of the same category and ward of
the last 7 days, so its cost per candidate matters; routing runs once per ticket with the rule table.
Prints numbers and writes bench/results/domain_rules.json.

    .venv/bin/python bench/domain_rules.py [-n 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's packages, not bench/*.py

import reference
from ticketing.domain import workflow
from ticketing.domain.duplicates import find_candidates, similarity
from ticketing.domain.model import Caller, Channel, Kind, Place, Priority
from ticketing.domain.routing import ANY, RoutingRule, route
from ticketing.domain.tracking import is_valid, make_code

RESULTS = Path(__file__).parent / "results"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 9, 9, 0, tzinfo=VN)

PHRASES = [
    "Rác thải ùn ứ nhiều ngày không thu gom ở đầu ngõ {n} {street}, bốc mùi hôi thối",
    "Cây xanh bị đổ chắn ngang đường trước số nhà {n} phố {street}",
    "Quán karaoke số {n} {street} hát to đến 1 giờ sáng",
    "Đèn đường trên phố {street} đoạn gần số {n} bị tắt cả tuần nay",
    "Lấn chiếm vỉa hè bán hàng trước số {n} {street}, người đi bộ phải xuống lòng đường",
    "Nước thải chảy tràn ra đường ở ngõ {n} {street}",
]
STREETS = ["Hàng Bài", "Hào Nam", "Kim Mã", "Tràng Tiền", "Đội Cấn", "Láng Hạ", "Cầu Giấy", "Bạch Mai"]


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench_tracking(n: int) -> dict[str, float]:
    start = time.perf_counter()
    codes = [make_code(i) for i in range(1, n + 1)]
    made = time.perf_counter() - start
    start = time.perf_counter()
    assert all(is_valid(c) for c in codes)
    checked = time.perf_counter() - start
    return {"make_code_per_s": per_second(n, made), "is_valid_per_s": per_second(n, checked)}


def bench_routing(n: int, rng: random.Random) -> dict[str, float]:
    wards = [u.code for u in reference.units("hanoi")]
    categories = [c for c in reference.categories() if c != "KNTC"]
    rules = [
        RoutingRule(rng.choice(categories), rng.choice(wards), f"A{i}", rng.randint(0, 3)) for i in range(200)
    ]
    rules += [RoutingRule(c, ANY, f"D-{c}") for c in categories[:5]] + [
        RoutingRule(ANY, w, "X") for w in wards[:20]
    ]
    queries = [(rng.choice(categories), rng.choice(wards)) for _ in range(n)]
    route(*queries[0], rules, "hanoi")  # warm the reference caches
    start = time.perf_counter()
    for category, ward in queries:
        route(category, ward, rules, "hanoi")
    return {"rules": len(rules), "routes_per_s": per_second(n, time.perf_counter() - start)}


def bench_duplicates(n: int, rng: random.Random) -> dict[str, float]:
    def text() -> str:
        return rng.choice(PHRASES).format(n=rng.randint(1, 120), street=rng.choice(STREETS))

    start = time.perf_counter()
    for _ in range(n):
        similarity(text(), text())
    pairs_per_s = per_second(n, time.perf_counter() - start)

    # A busy ward: 300 open reports of one category in the last week, one new report checked against them.
    recent = [
        workflow.new_ticket(
            make_code(i + 1),
            Channel.PHONE,
            Kind.FIELD_REPORT,
            "VSMT",
            Priority.NORMAL,
            Caller(),
            Place(ward_code="00070"),
            text(),
            "bench",
            T0 - timedelta(minutes=20 * i),
        )
        for i in range(300)
    ]
    timings = []
    for i in range(200):
        probe = workflow.new_ticket(
            make_code(10_000 + i),
            Channel.PHONE,
            Kind.FIELD_REPORT,
            "VSMT",
            Priority.NORMAL,
            Caller(),
            Place(ward_code="00070"),
            text(),
            "bench",
            T0,
        )
        start = time.perf_counter()
        find_candidates(probe, recent)
        timings.append(time.perf_counter() - start)
    timings.sort()
    return {
        "similarity_pairs_per_s": pairs_per_s,
        "find_candidates_300_p50_ms": statistics.median(timings) * 1000,
        "find_candidates_300_p95_ms": timings[int(len(timings) * 0.95)] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="operations per measurement")
    args = parser.parse_args()
    rng = random.Random(1022)
    results = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "n": args.n,
        **bench_tracking(args.n),
        **bench_routing(args.n, rng),
        **bench_duplicates(args.n, rng),
    }
    for key, value in results.items():
        print(f"{key:32} {value:,.2f}" if isinstance(value, float) else f"{key:32} {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "domain_rules.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

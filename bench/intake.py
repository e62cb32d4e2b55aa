"""Cost of the typed intake and of the masking policy, per report and per ticket shown.

* parsing a report into :class:`ticketing.intake.NewReport` (every create goes through it);
* making a long call draft fit (:func:`ticketing.intake.bounded`);
* the masked JSON view of a ticket with a 40-turn call transcript (:func:`ticketing.privacy.ticket_view`).

    .venv/bin/python bench/intake.py [--n 2000]

Prints the numbers and writes bench/results/intake.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ticketing.domain.model import Caller, Channel, Kind, Place, Priority, Ticket
from ticketing.intake import bounded, parse_report
from ticketing.privacy import ticket_view

RESULTS = Path(__file__).resolve().parent / "results" / "intake.json"

REPORT: dict[str, Any] = {
    "channel": "phone",
    "category": "VSMT",
    "caller": {"name": "Trần Thị Bích Ngọc", "phone": "0912 345 678", "cccd": "001190012345"},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070", "ward_name": "Phường Hoàn Kiếm"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày nay, bốc mùi.",
    "incident_time": "2026-03-01T18:30+07:00",
    "transcript": "\n".join(f"Người gọi: câu thứ {i} của cuộc gọi về rác thải ở ngõ 5" for i in range(40)),
}
TURN = "Người gọi: tôi tên là trần thị bích ngọc, số của tôi là không chín một hai ba bốn năm sáu bảy tám"


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p95_us": round(samples[int(0.95 * (len(samples) - 1))], 1),
        "n": n,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="repetitions of each measurement")
    args = parser.parse_args(argv)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    ticket = Ticket(
        code="000000013",
        channel=Channel.PHONE,
        kind=Kind.FIELD_REPORT,
        category="VSMT",
        priority=Priority.NORMAL,
        caller=Caller(name="Trần Thị Bích Ngọc", phone="0912345678", cccd="001190012345", confidential=True),
        place=Place(address="Ngõ 5 Hàng Bông", ward_code="00070"),
        content=REPORT["content"],
        created_at=at,
        created_by="ai-operator",
        transcript="\n".join([TURN] * 40),
    )
    long_draft = {**REPORT, "content": "rác " * 3000, "caller": {"phone": "sip-user"}}
    results: dict[str, Any] = {"benchmark": "intake", "loadavg_1m": round(os.getloadavg()[0], 2)}
    results["parse_report"] = timed(lambda: parse_report(REPORT), args.n)
    results["bounded_long_draft"] = timed(lambda: parse_report(bounded(long_draft)), max(1, args.n // 10))
    results["masked_ticket_view"] = timed(lambda: ticket_view(ticket, show_personal=False), args.n)
    for name in ("parse_report", "bounded_long_draft", "masked_ticket_view"):
        r = results[name]
        print(f"{name:<20} p50 {r['p50_us']:>8} µs  p95 {r['p95_us']:>8} µs  (n={r['n']})")
    print(f"load {results['loadavg_1m']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return results


if __name__ == "__main__":
    main()

"""Operations speed: backup create / verify / restore of a populated hotline (SQLite), and the time one
/metrics scrape spends reading the database. Prints numbers and writes bench/results/ops.json.

    .venv/bin/python bench/ops.py [--tickets 2000] [--recording-kb 256]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import generate_latest

from config.settings import Settings
from ops.backup import create_backup, restore_backup, verify_backup
from ops.metrics import registry_for
from ticketing.calls import CallRecord, Outcome
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from wiring import build

RESULTS = Path(__file__).parent / "results"
REPORT = {
    "category": "VSMT",
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom",
    "caller": {"name": "Phạm Thị Hoa", "phone": "0987654321"},
    "place": {"ward_name": "Phường Hoàn Kiếm"},
}


def populate(settings: Settings, tickets: int, recording_kb: int) -> None:
    services = build(settings)
    svc = services.tickets
    calls = SqlCallRepository(services.session_factory)
    now = datetime.now(UTC)
    for i in range(tickets):
        code = svc.create(REPORT, "bench").ticket.code
        if i % 10 == 0:  # one in ten with a call recording
            svc.attach_bytes(code, os.urandom(recording_kb * 1024), f"ghi-am-{i}.wav", "recording", "ai-bot")
        calls.add(
            CallRecord(
                channel_id=f"bench-{i}", caller="0912345678", called="1022", ticket_code=code,
                started_at=now - timedelta(minutes=3), ended_at=now, outcome=Outcome.AI_HANDLED,
            )
        )  # fmt: skip
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--recording-kb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "var")
        (root / "var").mkdir()
        migrate.upgrade(settings.database_url)
        t0 = time.perf_counter()
        populate(settings, args.tickets, args.recording_kb)
        populate_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        manifest = create_backup(settings, root / "backup")
        create_s = time.perf_counter() - t0
        size = sum(e.size for e in manifest.files)
        t0 = time.perf_counter()
        report = verify_backup(root / "backup")
        verify_s = time.perf_counter() - t0
        assert report.ok, report.problems
        t0 = time.perf_counter()
        restore_backup(root / "backup", Settings(data_dir=root / "restored"))
        restore_s = time.perf_counter() - t0

        services = build(settings)
        registry = registry_for(services.engine, settings)
        scrapes = []
        for _ in range(20):
            t0 = time.perf_counter()
            generate_latest(registry)
            scrapes.append(time.perf_counter() - t0)
        services.close()

    result = {
        "tickets": args.tickets,
        "files": len(manifest.files),
        "backup_bytes": size,
        "populate_s": round(populate_s, 2),
        "backup_create_s": round(create_s, 3),
        "backup_verify_s": round(verify_s, 3),
        "backup_restore_s": round(restore_s, 3),
        "backup_mb_per_s": round(size / 1e6 / create_s, 1),
        "metrics_scrape_median_ms": round(statistics.median(scrapes) * 1000, 2),
        "metrics_scrape_max_ms": round(max(scrapes) * 1000, 2),
    }
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ops.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

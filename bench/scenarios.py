"""Whole-call scenario suite: outcome correct %, AI-completed share of the calls that should not need a
human, and the uncooperative calls apart.

Each scenario (tests/data/scenarios/*.yaml, format in nlu/scenarios.py) is played through the console's
path: the dialogue engine, the console's ports (``hotline chat --create``: the real ticket service on a
fresh SQLite database, a dossier table) and the interpreter chosen:

  .venv/bin/python bench/scenarios.py                         # rule-based fallback interpreter
  .venv/bin/python bench/scenarios.py --rasa URL --token T    # a running Rasa server
  .venv/bin/python bench/scenarios.py --show-failures

Writes ``bench/results/scenarios_<interpreter>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu import scenarios
from nlu.dialogue.draft import Draft
from nlu.dialogue.ports import Interpreter

NOW = datetime(2026, 11, 22, 21, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "data" / "scenarios"
RESULTS = ROOT / "bench" / "results"
DOSSIERS = "code,status,procedure,due_date\nH26-261120-0012,Đang xử lý,Đăng ký thường trú,2026-11-30\n"


@dataclass
class Suite:
    """The console's ports on a fresh database, and the code of a report filed before the calls."""

    ports: Any
    tracking_code: str
    root: Any  # wiring.Services of the suite's data directory


@contextmanager
def console_suite() -> Iterator[Suite]:
    """``hotline chat --create``'s ports on a fresh SQLite database in a temporary data dir."""
    import wiring
    from commands.chat import console_ports
    from config.settings import get_settings
    from ticketing.db import migrate

    with tempfile.TemporaryDirectory(prefix="scenarios-") as tmp:
        old = os.environ.get("HOTLINE_DATA_DIR")
        os.environ["HOTLINE_DATA_DIR"] = tmp
        os.environ.pop("HOTLINE_DATABASE__URL", None)
        get_settings.cache_clear()
        try:
            settings = get_settings()
            migrate.upgrade(settings.database_url)
            table = Path(tmp) / "dossiers.csv"
            table.write_text(DOSSIERS, encoding="utf-8")
            root = wiring.build(settings)
            ports = console_ports(root, table, create=True)
            seed = Draft(
                caller_id="0912000111",
                city="hanoi",
                category="VSMT",
                name="Nguyễn Văn Mẫu",
                phone="0912000111",
                phone_confirmed=True,
                ward="Phường Hoàn Kiếm",
                incident_time="2026-11-15",
                content="Rác thải tồn đọng ở đầu ngõ",
            )
            code = ports.create_ticket(seed, complete=True)
            yield Suite(ports, str(code), root)
        finally:
            if old is None:
                os.environ.pop("HOTLINE_DATA_DIR", None)
            else:
                os.environ["HOTLINE_DATA_DIR"] = old
            get_settings.cache_clear()


def run_suite(
    interpreter_for: Any, suite: Suite, chosen: list[scenarios.Scenario] | None = None
) -> list[scenarios.Result]:
    """Every scenario through the engine; ``interpreter_for(city)`` gives each call's interpreter."""
    from nlu.knowledge import default_index

    procedures = default_index()
    out = []
    for scenario in chosen if chosen is not None else scenarios.load([SCENARIOS]):
        interpreter: Interpreter = interpreter_for(scenario.city)
        out.append(
            scenarios.run(scenario, interpreter, suite.ports, procedures, lambda: NOW, suite.tracking_code)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa", default="", help="URL of a running Rasa server (default: the fallback)")
    parser.add_argument("--token", default="", help="the Rasa server's auth token")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()

    from nlu.interpreter import FallbackInterpreter, RasaInterpreter

    if args.rasa:
        kind = "rasa"

        def interpreter_for(city: str) -> Interpreter:
            return RasaInterpreter(args.rasa, args.token, timeout_s=10.0, city=city)
    else:
        kind = "fallback"

        def interpreter_for(city: str) -> Interpreter:
            return FallbackInterpreter(city)

    started = time.perf_counter()
    with console_suite() as suite:
        results = run_suite(interpreter_for, suite)
    elapsed = time.perf_counter() - started
    summary = scenarios.summarise(results)
    summary.update(
        interpreter=kind,
        elapsed_s=round(elapsed, 2),
        python=platform.python_version(),
        at=datetime.now().isoformat(timespec="seconds"),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scenarios_{kind}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for part in ("all", "cooperative", "uncooperative"):
        b = summary[part]
        print(
            f"{kind:8} {part:13} calls {b['calls']:3}  outcome correct {b['outcome_correct_pct']:5.1f} %  "
            f"AI-completed {b['ai_completed_pct']:5.1f} % of {b['self_service_calls']}"
        )
    if args.show_failures:
        for r in results:
            if not r.correct:
                print(f"\n--- {r.scenario.id}: {'; '.join(r.problems)}")
                for who, text in r.transcript:
                    print(f"  {who:6} {text}")


if __name__ == "__main__":
    main()

"""Dialogue engine step time: p50/p95/max per event over whole scripted conversations.

The interpreter is a table lookup here, so the numbers are the engine's own cost (state machine, slot
filling, Jinja2 prompts, procedure retrieval). Target: p95 <= 1 ms.
Run: ``.venv/bin/python bench/dialogue.py``. Writes ``bench/results/dialogue.json``.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu.dialogue import (
    CallerHangup,
    DialogueEngine,
    Digits,
    DossierResult,
    Heard,
    Interpretation,
    Silence,
    TicketCreated,
)
from nlu.knowledge import default_index
from ticketing.domain import tracking

NOW = datetime(2026, 11, 22, 21, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
REPORT = "tôi muốn phản ánh rác thải đổ trộm ở đầu ngõ 12 phố Hàng Bông mấy hôm nay không ai thu gom"


def i(intent: str, **entities: str) -> Interpretation:
    return Interpretation(intent, 0.95, dict(entities), "table")


TABLE = {
    REPORT: i("report", category="VSMT"),
    "phường hoàn kiếm": i("inform", ward="Phường Hoàn Kiếm"),
    "tối nay lúc chín giờ": i("inform", time="2026-11-22T21:00"),
    "tôi tên là nguyễn văn an": i("inform", name="Nguyễn Văn An"),
    "có": i("affirm"),
    "đúng rồi": i("affirm"),
    "không": i("deny"),
    "tra cứu hồ sơ": i("dossier_lookup"),
    "cho hỏi thủ tục đăng ký kết hôn cần gì": i("procedure_question"),
}


class Table:
    def interpret(self, text: str, now: datetime) -> Interpretation:
        return TABLE.get(text, i("inform"))


CONVERSATIONS = [
    [
        Heard(REPORT),
        Heard("phường hoàn kiếm"),
        Heard("tối nay lúc chín giờ"),
        Heard("tôi tên là nguyễn văn an"),
        Heard("có"),
        Heard("đúng rồi"),
        TicketCreated(tracking.make_code(77)),
        Heard("không"),
    ],
    [
        Heard("tra cứu hồ sơ"),
        Heard("ờ"),
        Digits("2611200012#"),
        DossierResult("2611200012", True, "Đang xử lý"),
        Heard("không"),
    ],
    [Heard("cho hỏi thủ tục đăng ký kết hôn cần gì"), Heard("không")],
    [Heard(REPORT), Silence(), Heard("phường hoàn kiếm"), CallerHangup()],
]


def main(rounds: int = 300) -> dict[str, object]:
    index = default_index()
    samples: list[float] = []
    for _ in range(rounds):
        for events in CONVERSATIONS:
            engine = DialogueEngine(Table(), index, caller_id="0912345678", clock=lambda: NOW)
            t0 = time.perf_counter()
            engine.start()
            samples.append(time.perf_counter() - t0)
            for event in events:
                t0 = time.perf_counter()
                engine.handle(event)
                samples.append(time.perf_counter() - t0)
    ms = sorted(s * 1000 for s in samples)
    result = {
        "benchmark": "dialogue_engine_step",
        "steps": len(ms),
        "p50_ms": round(statistics.median(ms), 4),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 4),
        "max_ms": round(ms[-1], 4),
        "target_p95_ms": 1.0,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    out = Path(__file__).resolve().parent / "results" / "dialogue.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    r = main()
    print(
        f"engine step over {r['steps']} events: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
        f"max {r['max_ms']} ms "
        f"(target p95 <= {r['target_p95_ms']} ms)"
    )

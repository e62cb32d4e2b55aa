"""Benchmark of the Vietnamese normalisers: extract_entities and each normaliser per utterance.

Prints p50/p95 in milliseconds and writes bench/results/normalize.json.
Run from the repository root: .venv/bin/python -m bench.normalize
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's packages, not bench/*.py

from nlu.normalize import (
    classify_category,
    detect_urgency,
    extract_entities,
    find_ward,
    normalize_phone,
    normalize_time,
    parse_digits,
)

NOW = datetime(2026, 11, 22, 22, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
UTTERANCES = [
    "tôi tên là nguyễn văn an số điện thoại không chín một hai ba bốn năm sáu bảy tám tôi muốn phản ánh "
    "có người đổ trộm rác ở phường hoàn kiếm tối hôm qua lúc chín giờ",
    "có cháy ở phường cầu giấy",
    "mã hồ sơ của tôi là hát hai sáu gạch hai sáu không chín ba mươi gạch không không mười hai",
    "quán karaoke hát ầm ĩ từ mười giờ tối đến hai giờ sáng không ai ngủ được",
    "vâng đúng rồi",
    "dạ ở phường hoàn kím ạ",
    "căn cước của tôi là không không một không tám chín không không một hai ba bốn",
    "mất nắp cống ở đầu ngõ ba trăm linh năm đường láng nguy hiểm lắm",
]


def _measure(fn, rounds: int = 300) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        for text in UTTERANCES:
            t0 = time.perf_counter()
            fn(text)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 4),
        "p95_ms": round(samples[int(len(samples) * 0.95)], 4),
        "max_ms": round(samples[-1], 4),
    }


def main() -> None:
    t0 = time.perf_counter()
    find_ward("phường hoàn kiếm")  # builds the gazetteer
    classify_category("rác")
    warmup_ms = (time.perf_counter() - t0) * 1000
    results = {
        "warmup_first_call_ms": round(warmup_ms, 2),
        "extract_entities": _measure(lambda t: extract_entities(t, NOW)),
        "parse_digits": _measure(parse_digits),
        "normalize_phone": _measure(normalize_phone),
        "normalize_time": _measure(lambda t: normalize_time(t, NOW)),
        "find_ward": _measure(find_ward),
        "classify_category": _measure(classify_category),
        "detect_urgency": _measure(detect_urgency),
        "utterances": len(UTTERANCES),
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    out = Path(__file__).parent / "results" / "normalize.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

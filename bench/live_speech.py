"""End to end with real Vietnamese speech: one SIP call per utterance (SIPp -> test Asterisk ->
AudioSocket -> the app's call handler -> Silero endpointing + Whisper -> the dialogue engine). The
caller's audio is a natural recording (the vieneu voices) or a domain sentence spoken by espeak-ng.
Per utterance: what the app heard (its first recognised turn), the WER against what was said, and
how the interpreter the call uses (Rasa if it answers at nlu.rasa_url, else the rule-based fallback)
understood the heard text, against the intended intent and slots. Writes bench/results/live_speech.json.

    .venv/bin/python bench/live_speech.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jiwer

from config.settings import get_settings
from nlu.asr import engines
from nlu.asr.evaluation import normalise
from nlu.asr.whisper import WhisperRecognizer
from nlu.interpreter import FallbackInterpreter, RasaInterpreter, ResilientInterpreter
from pbx.ai_operator.handler import DialogueCallHandler
from pbx.app import HotlineApp
from tests.asterisk import make_instance
from tests.live_app import app_settings
from tests.sipcaller import CallerScript, place_call_async
from tests.speech import vieneu_samples

RESULTS = Path(__file__).parent / "results"
# (what is said, intended intent, intended slots); None: not a hotline request (nothing to find)
DOMAIN = [
    ("tôi muốn phản ánh đèn đường bị hỏng", "report", {"category": "CS"}),
    ("cho tôi gặp tổng đài viên", "request_operator", {}),
    ("tôi muốn tra cứu hồ sơ", "dossier_lookup", {}),
]


async def one_call(
    app: HotlineApp, handlers: list[DialogueCallHandler], inst: Any, work: Path, script: CallerScript
) -> DialogueCallHandler:
    handlers.clear()
    result = await place_call_async(inst, work, script, hangup="after", tail_s=0.5)
    if result.returncode != 0:
        print(result.log[-800:])
    deadline = asyncio.get_running_loop().time() + 30
    while not (handlers and handlers[-1].done.is_set()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    return handlers[-1]


async def main_async() -> dict[str, Any]:
    settings = get_settings()
    _, engine = engines.load(settings, "whisper")
    tmp = Path(tempfile.mkdtemp(prefix="bench-speech-"))
    inst = make_instance(tmp, f"speech{os.getpid()}")
    base = app_settings(inst, tmp / "app")
    app_set = base.model_copy(update={"call": base.call.model_copy(update={"require_operator": False})})
    handlers: list[DialogueCallHandler] = []

    def make() -> DialogueCallHandler:
        assert app.calls is not None
        h = DialogueCallHandler(app.calls.services)
        handlers.append(h)
        return h

    app = HotlineApp(app_set, handler_factory=make, recognizers=lambda: WhisperRecognizer(engine))
    nlu = settings.nlu
    interpreter = ResilientInterpreter(
        RasaInterpreter(nlu.rasa_url, nlu.rasa_token, nlu.rasa_timeout_s, settings.city),
        FallbackInterpreter(settings.city),
    )
    cases: list[tuple[str, str, str | None, dict[str, str], Any]] = []
    for wav, text in vieneu_samples():
        cases.append(("natural:" + wav.stem, text, None, {}, wav))
    for text, intent, slots in DOMAIN:
        cases.append(("espeak", text, intent, slots, None))
    rows = []
    try:
        await app.start()
        assert app.supervisor is not None
        await asyncio.wait_for(app.supervisor.connected.wait(), 15)
        for i, (kind, text, intent, slots, wav) in enumerate(cases):
            script = CallerScript().silence(2.0)
            script = script.say_recording(wav, text) if wav is not None else script.say(text)
            script.silence(8.0)
            h = await one_call(app, handlers, inst, tmp / f"sipp{i}", script)
            heard = h.stats.heard[0] if h.stats.heard else ""
            got = interpreter.interpret(heard) if heard else None
            row = {
                "kind": kind,
                "said": text,
                "heard": heard,
                "wer": round(float(jiwer.wer(normalise(text), normalise(heard) or "-")), 3),
                "intent": got.intent if got else "",
                "entities": got.entities if got else {},
                "intended_intent": intent,
                "intent_ok": None if intent is None else bool(got and got.intent == intent),
                "slots_ok": None
                if intent is None
                else bool(got and all(got.entities.get(k) == v for k, v in slots.items())),
                "reply_latency_s": [round(x, 2) for x in h.stats.reply_latency_s],
            }
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False))
    finally:
        await app.stop()
        inst.stop()
        inst.remove_state()
    natural = [r for r in rows if r["kind"].startswith("natural")]
    domain = [r for r in rows if r["intended_intent"]]
    return {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "natural_wer_mean": round(sum(r["wer"] for r in natural) / max(1, len(natural)), 3),
        "domain_intent_accuracy": round(sum(bool(r["intent_ok"]) for r in domain) / max(1, len(domain)), 3),
        "rows": rows,
    }


def main() -> None:
    out = asyncio.run(main_async())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "live_speech.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print({k: v for k, v in out.items() if k != "rows"})


if __name__ == "__main__":
    main()

"""Real Vietnamese speech on a real call, recognised by Whisper: SIPp plays natural recordings (the
``vieneu`` voices) as the caller's RTP -> the test Asterisk -> AudioSocket -> the app's call handler ->
Silero endpointing and Whisper -> the dialogue engine (rule-based interpreter: Rasa is not started
here). What the app heard must be what the caller said; speech off the hotline's topics is not
answered turn by turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jiwer
import pytest

from nlu.asr.evaluation import normalise
from nlu.asr.vad import Endpointer
from nlu.asr.whisper import WhisperRecognizer
from tests.asterisk import AsteriskInstance
from tests.live_app import app_settings
from tests.sipcaller import CallerScript, place_call_async
from tests.speech import vieneu_samples, whisper_dir, whisper_engine  # noqa: F401
from tests.test_live_call import CALLER, AiApp

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


async def test_natural_speech_is_heard_through_the_phone_line(
    asterisk: AsteriskInstance,
    tmp_path: Path,
    whisper_engine: Any,  # noqa: F811
) -> None:
    samples = vieneu_samples()
    said = [samples[1], samples[0]]  # "Chúng ta có thể áp dụng logic ...", "Anh chỉ muốn được ..."
    script = CallerScript(caller=CALLER).silence(2.0)
    for wav, text in said:
        script.say_recording(wav, text).silence(6.0)  # the second one talks over the re-asked question
    script.silence(8.0)
    settings = app_settings(asterisk, tmp_path / "app")
    settings = settings.model_copy(
        update={"call": settings.call.model_copy(update={"require_operator": False})}
    )
    app = AiApp(
        settings,
        [],
        recognizers=lambda: WhisperRecognizer(whisper_engine, Endpointer()),
    )
    await app.start()
    try:
        result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
        assert result.returncode == 0, result.log
        handler = app.handlers[-1]
        await app.wait_for(lambda: handler.done.is_set(), 30, "the end of the dialogue")
    finally:
        await app.stop()
    heard = handler.stats.heard
    assert len(heard) >= 2, (heard, [t for t, _ in handler.said])
    for (_, reference), got in zip(said, heard, strict=False):
        wer = jiwer.wer(normalise(reference), normalise(got))
        assert wer <= 0.5, (reference, got, wer)
    assert "có thể áp dụng" in normalise(heard[0])
    # the engine answered every heard turn (the rule-based interpreter takes the first sentence for a
    # report and asks where; the second is not an address and the question is asked again)
    prompts = [t for t, _ in handler.said]
    assert len(prompts) >= 3 and "phường" in prompts[1], prompts
    assert handler.stats.asr_frames < 0.8 * handler.stats.frames_in

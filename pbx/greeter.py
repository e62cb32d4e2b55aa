"""The call handler used until the dialogue engine drives calls: greet, offer the operator, hand off.

Flow: the greeting and the "press 0 or say ... for an operator" prompt play; the caller's speech
cuts a playing prompt (barge-in, detected by frame energy). Pressing 0, or speaking after the offer
(without speech recognition any request is one the AI cannot serve yet), or staying silent until
``wait_s`` has passed, hands the call to the operator queue after the transfer prompt. Every path
ends with a human: the hotline never leaves a caller in silence.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import math

from pbx.controller import CallSession
from pbx.prompts import PromptLibrary

log = logging.getLogger(__name__)

SPEECH_RMS = 1200.0  # slin16 RMS of a 20 ms frame that counts as speech (espeak-ng speech ~3000-6000)
SPEECH_FRAMES = 5  # 100 ms of consecutive speech frames


def frame_rms(pcm: bytes) -> float:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class OperatorOfferHandler:
    """One instance per call (the factory is ``lambda: OperatorOfferHandler(prompts)``)."""

    def __init__(self, prompts: PromptLibrary, wait_s: float = 8.0) -> None:
        self._prompts = prompts
        self._wait_s = wait_s
        self._call: CallSession | None = None
        self._decided = asyncio.Event()
        self._speech_run = 0
        self._offer_done = False
        self._task: asyncio.Task[None] | None = None
        self.digits: list[str] = []
        self.audio_frames = 0
        self.barge_ins = 0
        self.reason = ""

    async def on_start(self, call: CallSession) -> None:
        self._call = call
        self._task = asyncio.create_task(self._run(call), name=f"greeter-{call.channel_id}")

    async def _run(self, call: CallSession) -> None:
        try:
            greeting = call.play(await self._prompts.audio("greeting"))
            offer = call.play(await self._prompts.audio("operator_offer"))
            await greeting.wait()
            await offer.wait()
            self._offer_done = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._decided.wait(), self._wait_s)
            self.reason = self.reason or "timeout"
            call.cut()
            await call.play(await self._prompts.audio("transfer")).wait()
            await call.transfer_to_operator()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("greeter failed; handing the caller to the operators")
            await call.transfer_to_operator()

    def _decide(self, reason: str) -> None:
        if not self._decided.is_set():
            self.reason = reason
            self._decided.set()

    async def on_audio(self, pcm: bytes) -> None:
        self.audio_frames += 1
        if frame_rms(pcm) >= SPEECH_RMS:
            self._speech_run += 1
        else:
            self._speech_run = 0
        if self._speech_run == SPEECH_FRAMES and self._call is not None:
            if self._call.media.playing and not self._offer_done:
                self.barge_ins += 1
                self._call.cut()
            if self._offer_done:
                self._decide("speech")

    async def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)
        if digit == "0" and self._call is not None:
            self._call.cut()
            self._offer_done = True
            self._decide("dtmf")

    async def on_hangup(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

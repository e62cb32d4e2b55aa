"""Speech/non-speech per 20 ms telephone frame with the Silero VAD network, and 8 → 16 kHz audio.

The Silero v6 ONNX model shipped inside the faster-whisper wheel is run frame-synchronously: each call
keeps the network's recurrent state and the last 64 samples of context, and every 512 samples (32 ms
at 16 kHz) yield one speech probability; the latest decision (with hysteresis: on above 0.5, off
below 0.35) applies to each 20 ms frame. One ONNX session is shared by every call (``run`` is
thread-safe); the state is per call. The 8 → 16 kHz conversion is libsoxr's (``soxr``): on the
telephone-band test recordings it cost Whisper about one word in 44 less than a 31-tap interpolator.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

CHUNK = 512  # samples at 16 kHz per network step
CONTEXT = 64
ON_PROB = 0.5
OFF_PROB = 0.35

Floats = npt.NDArray[np.float32]


def upsample_8k_to_16k(pcm: bytes) -> Floats:
    """16-bit little-endian 8 kHz PCM -> float32 16 kHz samples in [-1, 1] (libsoxr, high quality)."""
    import soxr

    x = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0
    if not len(x):
        return x
    out: Floats = soxr.resample(x, 8000, 16000, quality="HQ").astype(np.float32)
    return out


def silero_path() -> Path:
    import faster_whisper

    return Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    return onnxruntime.InferenceSession(
        str(silero_path()), providers=["CPUExecutionProvider"], sess_options=opts
    )


def available() -> bool:
    """Whether the Silero model and onnxruntime can be loaded here."""
    try:
        _session()
    except Exception:
        return False
    return True


class SileroStream:
    """One call's Silero state: feed 16 kHz samples, read :attr:`speech` (the current decision)."""

    def __init__(self) -> None:
        self._session = _session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.speech = False
        self.probability = 0.0

    def feed(self, samples: Floats) -> bool:
        """Advance over ``samples`` (16 kHz float32); returns the speech decision after them."""
        buf = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n = len(buf) // CHUNK * CHUNK
        for start in range(0, n, CHUNK):
            chunk = buf[start : start + CHUNK]
            batch = np.concatenate([self._context, chunk])[None, :]
            out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
            self._context = chunk[-CONTEXT:]
            self.probability = float(np.asarray(out).reshape(-1)[0])
            if self.speech and self.probability < OFF_PROB:
                self.speech = False
            elif not self.speech and self.probability >= ON_PROB:
                self.speech = True
        self._pending = buf[n:].copy()
        return self.speech

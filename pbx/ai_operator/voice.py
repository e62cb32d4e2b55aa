"""Voice activity on a live call: the speech onset that cuts a playing prompt (barge-in), and the gate
that hands the recogniser audio from the onset on (with a short pre-roll), not the silence before it.

A cheap energy detector on the event loop (``frame_dbfs``): :data:`ONSET_FRAMES` loud frames in a row
are an onset. While a prompt plays and the caller has not started speaking, frames wait in a
:data:`PRE_ROLL_FRAMES` ring; at the onset (or once the line is quiet: no prompt playing or being
made) the gate opens and the ring goes to the recogniser first.
"""

from __future__ import annotations

from collections import deque

from nlu.asr.vad import frame_dbfs

SPEECH_DBFS = -40.0  # the endpointer's speech threshold
ONSET_FRAMES = 3  # 60 ms of speech: barge-in, and the recogniser starts
PRE_ROLL_FRAMES = 15  # kept while a prompt plays, handed to the recogniser at the onset


class VoiceGate:
    def __init__(self) -> None:
        self.armed = False  # open: every frame goes to the recogniser
        self._loud_run = 0
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)

    def hear(self, pcm: bytes) -> bool:
        """Note one inbound frame; True exactly at a speech onset."""
        loud = frame_dbfs(pcm) >= SPEECH_DBFS
        self._loud_run = self._loud_run + 1 if loud else 0
        return self._loud_run == ONSET_FRAMES

    def gate(self, pcm: bytes, line_quiet: bool) -> list[bytes]:
        """The frames for the recogniser now (the pre-roll at the opening), or none yet."""
        if self.armed:
            return [pcm]
        self._pre_roll.append(pcm)
        if self._loud_run >= ONSET_FRAMES or line_quiet:
            self.armed = True
            frames = list(self._pre_roll)
            self._pre_roll.clear()
            return frames
        return []

    def open(self) -> None:
        """Silence from here counts (the caller may answer now)."""
        self.armed = True
        self._pre_roll.clear()

    def close(self) -> None:
        """A new turn: wait for the onset (or a quiet line) again."""
        self.armed = False
        self._pre_roll.clear()

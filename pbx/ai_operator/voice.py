"""Voice activity on a live call: the speech onset that cuts a playing prompt (barge-in), and the gate
that hands the recogniser audio from the onset on (with a short pre-roll), not the silence before it.

A cheap energy detector on the event loop (``frame_dbfs``): :data:`ONSET_FRAMES` loud frames in a row
are an onset. While a prompt plays and the caller has not started speaking, frames wait in a
:data:`PRE_ROLL_FRAMES` ring; at the onset (or once the line is quiet: no prompt playing or being
made) the gate opens and the ring goes to the recogniser first. Between turns (while a turn is
being understood and answered) the caller's audio is held, so a caller who goes on talking is
recognised from the start of what they say next (:meth:`VoiceGate.still_talking`).
"""

from __future__ import annotations

from collections import deque

from nlu.asr.vad import frame_dbfs

SPEECH_DBFS = -40.0  # the endpointer's speech threshold
ONSET_FRAMES = 3  # 60 ms of speech: barge-in, and the recogniser starts
PRE_ROLL_FRAMES = 15  # kept while a prompt plays, handed to the recogniser at the onset
BETWEEN_TURNS_FRAMES = 500  # 10 s of the caller kept while a turn is being understood and answered
TALKING_FRAMES = 15  # a loud frame within the last 300 ms: the caller is talking
TURN_GAP_FRAMES = 25  # 500 ms of quiet separates what the caller says next from the last turn


class VoiceGate:
    def __init__(self) -> None:
        self.armed = False  # open: every frame goes to the recogniser
        self._loud_run = 0
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        # the caller's audio between the end of a turn and the next Listen (recognition and the
        # engine's answer take time: a caller who goes on talking meanwhile is not cut)
        self._between: deque[tuple[bytes, bool]] = deque(maxlen=BETWEEN_TURNS_FRAMES)

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

    def end_turn(self) -> None:
        """The turn is over: closed, and nothing held from before."""
        self.close()
        self._between.clear()

    def hold(self, pcm: bytes) -> None:
        """Keep a frame heard between turns (the last :meth:`hear` said whether it was loud)."""
        self._between.append((pcm, self._loud_run > 0))

    def still_talking(self) -> list[bytes]:
        """If the caller is talking now, the frames since they started (after the last 500 ms of
        quiet, with a little pre-roll); else nothing. Empties the between-turns buffer."""
        frames = list(self._between)
        self._between.clear()
        if not any(loud for _, loud in frames[-TALKING_FRAMES:]):
            return []
        start, quiet = 0, 0
        for i in range(len(frames) - 1, -1, -1):
            quiet = 0 if frames[i][1] else quiet + 1
            if quiet >= TURN_GAP_FRAMES:
                start = i + TURN_GAP_FRAMES
                break
        return [pcm for pcm, _ in frames[max(0, start - PRE_ROLL_FRAMES) :]]

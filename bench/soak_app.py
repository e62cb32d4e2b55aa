"""The app worker of the soak (bench/soak.py): the real call-control app with the AI operator, in its
own process so the soak can SIGKILL it. Settings come from the environment (``HOTLINE_*``), like
``hotline app run``; speech recognition is the transcript test seam (tests/transcript_seam.py: the
real endpointer on the call audio, the known report transcript at each end of utterance), because no
Vietnamese speech model can be fetched on the test machines.

    HOTLINE_... python bench/soak_app.py "turn 1" "turn 2" ...
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import log_redaction
from config.settings import get_settings
from pbx.app import HotlineApp
from tests.transcript_seam import recognizer_factory


async def main(transcripts: list[str]) -> None:
    factory, _ = recognizer_factory(transcripts)
    app = HotlineApp(get_settings(), recognizers=factory)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    print("soak app ready", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await app.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install()
    asyncio.run(main(sys.argv[1:]))

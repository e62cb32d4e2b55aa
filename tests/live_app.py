"""Helpers for tests that run the call-control app in-process against the real test Asterisk."""

from __future__ import annotations

import array
import asyncio
import math
import wave
from pathlib import Path
from typing import Any

from config.settings import Settings
from pbx.app import HotlineApp
from pbx.controller import CallHandler
from pbx.greeter import OperatorOfferHandler
from tests.asterisk import AsteriskInstance, sipp_call
from tests.rtp_pcap import RtpStream
from ticketing.calls import CallLog, CallRecord
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory

SCENARIO = Path(__file__).parent / "data" / "sipp" / "uac_stream.xml"


def app_settings(asterisk: AsteriskInstance, data_dir: Path) -> Settings:
    url = f"sqlite:///{data_dir / 'hotline.db'}"
    migrate.upgrade(url)
    return asterisk.settings.model_copy(
        update={
            "data_dir": data_dir,
            "database": asterisk.settings.database.model_copy(update={"url": url}),
            "pbx": asterisk.settings.pbx.model_copy(update={"audiosocket_port": 0}),
        }
    )


class LiveApp:
    """The real app (ARI supervisor, AudioSocket server, AMI) with its handlers kept for inspection."""

    def __init__(self, settings: Settings, wait_s: float = 30.0) -> None:
        self.settings = settings
        self.handlers: list[OperatorOfferHandler] = []
        self.wait_s = wait_s
        self.app = HotlineApp(settings, handler_factory=self._make_handler)

    def _make_handler(self) -> CallHandler:
        handler = OperatorOfferHandler(self.app.prompts, wait_s=self.wait_s)
        self.handlers.append(handler)
        return handler

    async def start(self) -> None:
        await self.app.start()
        assert self.app.supervisor is not None
        await asyncio.wait_for(self.app.supervisor.connected.wait(), 15)

    async def stop(self) -> None:
        await self.app.stop()

    def records(self) -> list[CallRecord]:
        engine = make_engine(self.settings.database_url)
        try:
            return CallLog(SqlCallRepository(make_session_factory(engine))).recent(50)
        finally:
            engine.dispose()

    async def wait_for(self, predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)


def write_scenario(workdir: Path, stream: RtpStream, tail_s: float = 1.0) -> list[str]:
    """A SIPp scenario playing ``stream`` and hanging up ``tail_s`` after it ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    pcap = stream.write_pcap(workdir / "caller.pcap")
    xml = SCENARIO.read_text()
    xml = xml.replace("{pcap}", str(pcap)).replace(
        "{pause_ms}", str(int((stream.duration_s + tail_s) * 1000))
    )
    path = workdir / "scenario.xml"
    path.write_text(xml)
    return ["-sf", str(path)]


async def place_call(
    asterisk: AsteriskInstance, workdir: Path, stream: RtpStream, tail_s: float = 1.0
) -> tuple[int, str]:
    scenario = write_scenario(workdir, stream, tail_s)
    done = await asyncio.to_thread(sipp_call, asterisk, workdir, scenario=scenario)
    return done.returncode, str(done.stdout)[-2000:]  # type: ignore[union-attr]


def wav_rms_windows(path: Path, window_s: float = 0.5) -> list[float]:
    """RMS of consecutive windows of a 16-bit mono WAV (MixMonitor's format)."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        rate = wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    step = int(rate * window_s)
    out = []
    for i in range(0, len(samples) - step + 1, step):
        chunk = samples[i : i + step]
        out.append(math.sqrt(sum(s * s for s in chunk) / len(chunk)))
    return out


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that give a ``hotline`` subprocess these settings."""
    env = {
        "HOTLINE_DATA_DIR": str(settings.data_dir),
        "HOTLINE_DATABASE__URL": settings.database_url,
        "HOTLINE_CONFIG": str(settings.data_dir / "none.toml"),
        "HOTLINE_SECRETS_FILE": str(settings.data_dir / "none-secrets.toml"),
    }
    for key, value in settings.pbx.model_dump().items():
        if isinstance(value, str | int | bool):
            env[f"HOTLINE_PBX__{key.upper()}"] = str(value)
    return env


def counter_total(name: str) -> float:
    """The total of a Prometheus counter of this process (every label), as the worker's /metrics
    serves it: ``name`` without the ``_total`` suffix."""
    from prometheus_client import REGISTRY

    return sum(
        s.value for m in REGISTRY.collect() if m.name == name for s in m.samples if s.name.endswith("_total")
    )

"""The FastAGI process (``hotline agi run``): its services from the composition root, and the run loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from urllib.parse import urlsplit

from agi.dossiers import KeyedDossiers
from agi.server import FastAgiServer, PromptStore
from config.settings import Settings, SettingsError
from pbx.install import layout
from pbx.prompts import CITY_NAMES, PromptLibrary

DEFAULT_PORT = 4573
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def listen_address(settings: Settings) -> tuple[str, int]:
    """Host and port from ``pbx.fastagi_url`` (``agi://127.0.0.1:4573/dtmf``)."""
    url = settings.pbx.fastagi_url
    if not url:
        raise SettingsError("pbx.fastagi_url is not set (e.g. agi://127.0.0.1:4573/dtmf)")
    parts = urlsplit(url)
    if parts.scheme != "agi" or not parts.hostname:
        raise SettingsError(f"pbx.fastagi_url must look like agi://HOST:PORT/ROUTE, not {url!r}")
    if parts.hostname not in LOOPBACK_HOSTS:
        # FastAGI has no authentication: only the local Asterisk may reach it.
        raise SettingsError(f"pbx.fastagi_url must be on loopback (127.0.0.1), not {parts.hostname!r}")
    return parts.hostname, parts.port or DEFAULT_PORT


def build_server(settings: Settings) -> FastAgiServer:
    lay = layout(settings)
    prompts_dir = f"{lay.spool_dir}/hotline-prompts"
    store = PromptStore(lay.to_host(prompts_dir), prompts_dir)
    prompts = PromptLibrary(
        settings.data_dir / "prompts",
        hotline_number=settings.pbx.hotline_number,
        city_name=CITY_NAMES[settings.city],
    )
    import wiring  # the composition root: the dossier source every channel uses

    return FastAgiServer(prompts, store, KeyedDossiers(wiring.build(settings).dossiers))


async def run(settings: Settings, ready: Callable[[int], None] | None = None) -> None:
    host, port = listen_address(settings)
    server = build_server(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = await server.start(host, port)
    if ready is not None:
        ready(bound)
    try:
        await stop.wait()
    finally:
        await server.close()

"""The call-control process (``hotline app run``): ARI supervisor + AudioSocket server + AMI monitor.

:class:`HotlineApp` wires real adapters from settings; :func:`run` runs it until SIGTERM/SIGINT. On a
clean stop every live caller is handed to the operator queue before the app lets go of the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Settings, require_secret
from ops import instruments
from pbx.ai_operator.handler import DialogueCallHandler, RecognizerFactory
from pbx.ami import AmiError, AmiEvent, AmiMonitor
from pbx.ari.client import AriClient
from pbx.ari.supervisor import AriSupervisor
from pbx.audiosocket.server import AudioSocketServer
from pbx.controller import CallController, CallHandler, HandlerFactory
from pbx.greeter import OperatorOfferHandler
from pbx.install import InstallError, layout
from pbx.prompts import prompt_library
from pbx.render import system_name
from ticketing.calls import AsyncCallLog, CallRecord

if TYPE_CHECKING:
    from wiring import Services
    from wiring.calls import CallWiring

log = logging.getLogger(__name__)

JOURNAL_REPLAY_S = 60.0
QUEUE_POLL_S = 5.0  # how often the operator-queue gauges are refreshed from AMI
RECONCILE_S = 60.0  # how often call records of calls that ended out of the app's sight are closed


class HotlineApp:
    def __init__(
        self,
        settings: Settings,
        handler_factory: HandlerFactory | None = None,
        recognizers: RecognizerFactory | None = None,
        services: Services | None = None,
    ) -> None:
        pbx = settings.pbx
        self.settings = settings
        if services is None:
            import wiring  # the composition root (the call app is one of its front doors)

            services = wiring.build(settings)
            self._own_services = True
        else:
            self._own_services = False
        self.services = services
        self._ari_password = require_secret(pbx.ari_password, "pbx.ari_password")
        self.prompts = prompt_library(settings)
        self._handler_factory = handler_factory or self._default_handler
        self._recognizers = recognizers
        self.calls: CallWiring | None = None  # the AI operator's services (None: greeter only)
        self.nlu_status = "NLU: fallback — the AI operator is not running"
        self.media_server = AudioSocketServer(pbx.local_host, pbx.audiosocket_port)
        self.ari: AriClient | None = None
        self.controller: CallController | None = None
        self.supervisor: AriSupervisor | None = None
        self.ami: AmiMonitor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.reconcile_every_s = RECONCILE_S
        self._to_host: Callable[[str], Path] = Path
        with contextlib.suppress(InstallError):  # no Asterisk layout: paths are taken as they are
            self._to_host = layout(settings).to_host

    def _recording_end(self, record: CallRecord) -> datetime | None:
        """The last write of a call's recording: MixMonitor closes the file when the call ends."""
        if not record.recording:
            return None
        try:
            mtime = self._to_host(record.recording).stat().st_mtime
        except OSError:
            return None
        return datetime.fromtimestamp(mtime, UTC)

    async def _reconcile(self) -> None:
        """Close call records of calls that ended while no app drove them, every minute."""
        while True:
            await asyncio.sleep(self.reconcile_every_s)
            supervisor, controller = self.supervisor, self.controller
            if controller is not None and supervisor is not None and supervisor.connected.is_set():
                try:
                    await controller.reconcile()
                except Exception:
                    log.exception("closing stale call records failed")

    def _default_handler(self) -> CallHandler:
        """The AI operator; the simple greeter only when its services could not be built."""
        if self.calls is not None:
            return DialogueCallHandler(self.calls.services)
        return OperatorOfferHandler(self.prompts)

    async def _replay_journal(self) -> None:
        """File tickets journaled while the database was down, now and every minute."""
        while self.calls is not None:
            try:
                report = await asyncio.to_thread(self.calls.replay_journal)
                if report.filed:
                    log.info("journal replay: %d journal entries filed or queued", len(report.filed))
            except Exception:
                log.exception("journal replay failed")
            await asyncio.sleep(JOURNAL_REPLAY_S)

    async def start(self) -> None:
        pbx = self.settings.pbx
        await asyncio.to_thread(self.prompts.warm)
        call_log = AsyncCallLog(self.services.call_log)
        await self.media_server.start()
        self.ari = AriClient(pbx.local_host, pbx.http_port, pbx.ari_user, self._ari_password, pbx.app_name)
        self.controller = CallController(
            self.ari,
            self.media_server,
            call_log,
            self._handler_factory,
            external_host=f"{pbx.local_host}:{self.media_server.port}",
            app_name=pbx.app_name,
            ended_at_of=self._recording_end,
            channel_prefix=f"{system_name(pbx.instance)}-",
        )
        self.supervisor = AriSupervisor(
            self.ari,
            self.controller.on_event,
            self.controller.on_connected,
            self.controller.on_disconnected,
        )
        self._tasks.append(asyncio.create_task(self.supervisor.run(), name="ari-supervisor"))
        self._tasks.append(asyncio.create_task(self._reconcile(), name="call-reconcile"))
        if pbx.ami_password:
            ami_secret = require_secret(pbx.ami_password, "pbx.ami_password")
            self.ami = AmiMonitor(pbx.local_host, pbx.ami_port, pbx.ami_user, ami_secret)
            self.ami.subscribe(self._log_ami)
            try:
                await self.ami.connect()
            except AmiError as exc:
                # Queue state is informational for call control; the calls work without it.
                log.warning("%s; continuing without queue state", exc)
                self.ami = None
        try:
            ari = self.ari
            self.calls = await asyncio.to_thread(
                lambda: self.services.call_wiring(self.prompts, ari, lambda: self.ami, self._recognizers)
            )
        except Exception:
            log.exception("the AI operator cannot run; calls get the greeting and the operator queue")
            self.calls = None
        if self.calls is not None:
            interpreter = self.calls.services.interpreter
            self.nlu_status = await asyncio.to_thread(self.services.nlu_status, interpreter)
            log.info("%s", self.nlu_status)
            await self.calls.attacher.resume()
            self._tasks.append(asyncio.create_task(self._replay_journal(), name="journal-replay"))

    @staticmethod
    async def _log_ami(event: AmiEvent) -> None:
        log.info("AMI %s %s", event.name, event.fields.get("UserEvent", event.fields.get("Queue", "")))

    async def stop(self) -> None:
        if self.controller is not None:
            await self.controller.shutdown()
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.calls is not None:
            await self.calls.attacher.close()
            self.calls = None  # also ends the journal replay loop
        for task in self._tasks:
            if task.get_name() in ("journal-replay", "call-reconcile"):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        if self.ami is not None:
            self.ami.close()
        await self.media_server.close()
        if self.ari is not None:
            await self.ari.aclose()
        if self._own_services:
            self.services.close()


def register_readiness(app: HotlineApp) -> None:
    """The readiness checks of this worker, read by ``hotline status`` from its loopback /metrics."""

    def database() -> bool:
        from ticketing.db.ops import ping

        return ping(app.services.engine)

    instruments.ready_check("ari", lambda: app.supervisor is not None and app.supervisor.connected.is_set())
    instruments.ready_check("database", database)
    instruments.ready_check(
        "speech_model", lambda: app.calls is not None and app.calls.services.recognizer_factory is not None
    )
    instruments.ready_check(
        "nlu", lambda: app.calls is not None and not getattr(app.calls.services.interpreter, "degraded", True)
    )


def worker_registry(app: HotlineApp) -> object:
    """This worker's instruments plus the hotline-wide counts read from the database."""
    from ops.metrics import registry_for
    from pbx.fallback_calls import JOURNAL_NAME

    fallback: Path | None = None
    with contextlib.suppress(InstallError):
        lay = layout(app.settings)
        fallback = lay.to_host(f"{lay.log_dir}/{JOURNAL_NAME}")
    return registry_for(app.services.engine, app.settings, fallback)


async def watch_queue(app: HotlineApp, every_s: float = QUEUE_POLL_S) -> None:
    """Keep the operator-queue gauges (waiting callers, longest wait, operators) current from AMI."""
    while True:
        if app.ami is not None:
            try:
                for queue in await app.ami.queue_states():
                    instruments.QUEUE_WAITING.labels(queue.name).set(queue.waiting)
                    instruments.QUEUE_LONGEST_WAIT.labels(queue.name).set(queue.longest_wait_s)
                    instruments.QUEUE_OPERATORS.labels(queue.name, "logged_in").set(queue.operators_logged_in)
                    instruments.QUEUE_OPERATORS.labels(queue.name, "available").set(queue.operators_available)
            except (TimeoutError, AmiError, OSError) as exc:
                log.debug("queue state unavailable: %s", exc)
        await asyncio.sleep(every_s)


async def run(settings: Settings, ready: Callable[[HotlineApp], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, with the worker's metrics and readiness on loopback."""
    app = HotlineApp(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    register_readiness(app)
    metrics = instruments.serve(settings.ops.app_metrics_port, registry=worker_registry(app))
    watcher = asyncio.create_task(watch_queue(app), name="queue-gauges")
    if ready is not None:
        ready(app)
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        await app.stop()
        if metrics is not None:
            metrics.shutdown()

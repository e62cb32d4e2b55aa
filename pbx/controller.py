"""Per-call control over ARI: the caller's StasisStart -> answer -> mixing bridge -> externalMedia
(AudioSocket) -> a :class:`pbx.media.MediaSession` driven by a :class:`CallHandler`.

The AudioSocket channel is added to the bridge only on its own StasisStart (adding it right after
``POST /channels/externalMedia`` fails with 422: it is not in Stasis yet). When the caller leaves
Stasis (hangup or handoff) the controller destroys the bridge and hangs up the media channel itself:
Asterisk leaves both behind. Every call gets a call record, abandoned ones included. If anything in
the setup fails the caller is sent to the operator queue: a caller never sits in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ops import logs
from pbx.ari.client import AriError
from pbx.ari.events import (
    Bridge,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    Event,
    StasisEnd,
    StasisStart,
)
from pbx.audiosocket.server import AudioSocketConnection
from pbx.media import FrameClock, MediaSession, Playback
from ticketing.calls import CallRecord, Outcome

log = logging.getLogger(__name__)

OPERATOR_CONTEXT = "hotline-operators"
# The dialplan's own fallback: it journals the call (Asterisk's fallback journal, imported into the call
# log later) and then takes the caller to the operators. Used when no call record could be written.
FALLBACK_CONTEXT = "hotline-fallback"
FALLBACK_EXTEN = "s"
OPERATOR_EXTEN = "s"
URGENT_EXTEN = "urgent"
OPERATOR_PRIORITY = 1
DRAFT_VARIABLE = "HOTLINE_DRAFT"
CALL_VARIABLE = "HOTLINE_CALL"
MEDIA_CONNECT_TIMEOUT_S = 5.0
PBX_CHECK_S = 2.0  # at a call's end: no ARI answer in this time means Asterisk is gone
MEDIA_CHANNEL_PREFIX = "hotline-media-"


class AriPort(Protocol):
    """The ARI operations the controller uses (:class:`pbx.ari.client.AriClient` implements them)."""

    async def channels(self) -> list[Channel]: ...
    async def answer(self, channel_id: str) -> None: ...
    async def hangup(self, channel_id: str, reason: str = "normal") -> None: ...
    async def set_variable(self, channel_id: str, name: str, value: str) -> None: ...
    async def get_variable(self, channel_id: str, name: str) -> str: ...
    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str = "s", priority: int = 1
    ) -> None: ...
    async def create_bridge(self, bridge_type: str = "mixing", name: str | None = None) -> Bridge: ...
    async def add_channel(self, bridge_id: str, channel_id: str) -> None: ...
    async def destroy_bridge(self, bridge_id: str) -> None: ...
    async def external_media(
        self,
        external_host: str,
        data: str,
        encapsulation: str = "audiosocket",
        transport: str = "tcp",
        audio_format: str = "slin",
        channel_id: str | None = None,
    ) -> Channel: ...


class MediaServerPort(Protocol):
    def expect(self, call_uuid: uuid.UUID) -> asyncio.Future[AudioSocketConnection]: ...
    def forget(self, call_uuid: uuid.UUID) -> None: ...


class CallLogPort(Protocol):
    """The async face of :class:`ticketing.calls.CallLog` (see :class:`ThreadedCallLog`)."""

    async def start(self, channel_id: str, caller: str, called: str, recording: str = "") -> CallRecord: ...
    async def answered(self, channel_id: str) -> CallRecord: ...
    async def set_draft(self, channel_id: str, draft_id: str) -> CallRecord: ...
    async def mark_outcome(self, channel_id: str, outcome: Outcome) -> CallRecord: ...
    async def finish(
        self, channel_id: str, outcome: Outcome, ended_at: datetime | None = None
    ) -> CallRecord: ...
    async def open_calls(self, limit: int = 1000) -> list[CallRecord]: ...


class CallHandler(Protocol):
    """What drives a call once its media flows (the dialogue engine, or :mod:`pbx.greeter`)."""

    async def on_start(self, call: CallSession) -> None: ...
    async def on_audio(self, pcm: bytes) -> None: ...
    async def on_dtmf(self, digit: str) -> None: ...
    async def on_hangup(self) -> None: ...


HandlerFactory = Callable[[], CallHandler]


@dataclass
class _Call:
    channel: Channel
    handler: CallHandler
    record_id: int | None = None
    bridge_id: str = ""
    media_uuid: uuid.UUID = field(default_factory=uuid.uuid4)
    media_channel_id: str = ""
    media_in_bridge: asyncio.Event = field(default_factory=asyncio.Event)
    media: MediaSession | None = None
    session: CallSession | None = None
    outcome: Outcome | None = None
    draft_id: str = ""
    recording: str = ""  # MixMonitor file as Asterisk sees it (pbx.install.layout(...).to_host)
    extension: str = OPERATOR_EXTEN  # where a handoff continues: "s" or "urgent"
    variables: dict[str, str] = field(default_factory=dict)  # set on the channel before the handoff
    setup: asyncio.Task[None] | None = None
    ended: bool = False


def _channel_gone(exc: BaseException) -> bool:
    """ARI's answer for a channel that has hung up meanwhile ("Channel not found", 400 or 404)."""
    return isinstance(exc, AriError) and exc.status in (400, 404) and "not found" in str(exc).lower()


class _DtmfFromAri:
    """Media consumer: audio and hangup from AudioSocket; DTMF comes from ARI events instead (the
    caller's own channel reports every digit; the AudioSocket copy would duplicate it)."""

    def __init__(self, handler: CallHandler) -> None:
        self._handler = handler
        self.audiosocket_digits: list[str] = []
        self.ready = False  # set once the media channel is in the caller's bridge

    async def on_audio(self, pcm: bytes) -> None:
        if self.ready:  # before the bridge no audio of the caller reaches this channel
            await self._handler.on_audio(pcm)

    async def on_dtmf(self, digit: str) -> None:
        self.audiosocket_digits.append(digit)

    async def on_hangup(self) -> None:
        return None  # the call ends on the caller's StasisEnd, not when the media socket closes


class CallSession:
    """The handle a :class:`CallHandler` gets: the caller, outbound audio, and the handoff."""

    def __init__(self, controller: CallController, call: _Call, media: MediaSession) -> None:
        self._controller = controller
        self._call = call
        self.media = media

    @property
    def channel_id(self) -> str:
        return self._call.channel.id

    @property
    def caller(self) -> str:
        return self._call.channel.caller.number

    @property
    def called(self) -> str:
        return self._call.channel.dialplan.exten

    @property
    def record_id(self) -> int | None:
        return self._call.record_id

    @property
    def recording(self) -> str:
        """The MixMonitor file of the whole call, as Asterisk sees it ("" if unknown)."""
        return self._call.recording

    def play(self, pcm: bytes) -> Playback:
        return self.media.play(pcm)

    def cut(self) -> int:
        return self.media.cut()

    async def set_draft(self, draft_id: str) -> None:
        """Note the draft on the call (the handoff carries it) and on the call record."""
        self._call.draft_id = draft_id
        try:
            await self._controller.call_log.set_draft(self.channel_id, draft_id)
        except Exception as exc:  # the database down must not keep the caller from the operators
            log.error("could not note draft %s on the call record of %s: %s", draft_id, self.channel_id, exc)

    async def transfer_to_operator(self, draft_id: str | None = None, urgent: bool = False) -> None:
        if draft_id is not None:
            await self.set_draft(draft_id)
        if urgent:
            self._call.extension = URGENT_EXTEN
        await self._controller.handoff(self._call)

    async def transfer_urgent(self, draft_id: str | None, variables: dict[str, str]) -> None:
        """Hand an urgent call to the urgent queue with the duty-phone variables
        (:mod:`pbx.ai_operator.urgent`) that the dialplan's ``urgent`` extension reads."""
        self._call.variables.update(variables)
        await self.transfer_to_operator(draft_id, urgent=True)

    async def finish(self) -> None:
        """The AI operator handled the call: hang up."""
        self._call.outcome = Outcome.AI_HANDLED
        with contextlib.suppress(AriError):
            await self._controller.ari.hangup(self.channel_id)


class CallController:
    def __init__(
        self,
        ari: AriPort,
        media_server: MediaServerPort,
        call_log: CallLogPort,
        handler_factory: HandlerFactory,
        external_host: str,
        app_name: str,
        keep_lateness: bool = True,
        frame_clock: FrameClock | None = None,
        ended_at_of: Callable[[CallRecord], datetime | None] | None = None,
        channel_prefix: str = "",
    ) -> None:
        self.ari = ari
        # When a call nobody drove ended (see :meth:`reconcile`): e.g. its recording's last write.
        self.ended_at_of = ended_at_of or (lambda record: None)
        # Channel ids of this Asterisk start with its system name: records of another PBX sharing the
        # database are never closed from here.
        self.channel_prefix = channel_prefix
        self._lost_tasks: set[asyncio.Task[None]] = set()  # calls ending after their PBX died
        self.frame_clock = frame_clock or FrameClock()  # one 20 ms tick paces every call's audio
        self.media_server = media_server
        self.call_log = call_log
        self.handler_factory = handler_factory
        self.external_host = external_host
        self.app_name = app_name
        self.keep_lateness = keep_lateness
        self.calls: dict[str, _Call] = {}  # caller channel id -> call
        self._by_media: dict[str, _Call] = {}  # media channel id -> call
        self.finished: list[_Call] = []
        self.on_call_ended: Callable[[str], None] | None = None

    # ---- events --------------------------------------------------------------------------------
    async def on_event(self, event: Event) -> None:
        if isinstance(event, StasisStart):
            if event.channel.id in self._by_media or event.channel.id.startswith(MEDIA_CHANNEL_PREFIX):
                await self._media_arrived(event.channel)
            elif event.channel.is_audiosocket:
                log.warning(
                    "AudioSocket channel %s in Stasis belongs to no call; hanging up", event.channel.id
                )
                with contextlib.suppress(AriError):
                    await self.ari.hangup(event.channel.id)
            elif event.channel.id not in self.calls:
                self._begin(event.channel)
        elif isinstance(event, ChannelDtmfReceived):
            call = self.calls.get(event.channel.id)
            if call is not None and call.session is not None:
                await call.handler.on_dtmf(event.digit)
        elif isinstance(event, StasisEnd | ChannelDestroyed):
            call = self.calls.get(event.channel.id)
            if call is not None:
                await self._end(call)

    async def on_disconnected(self) -> None:
        """The ARI connection dropped. If Asterisk itself is gone (a crashed node), so are its calls:
        each live call ends now as lost with its PBX (its handler keeps what the caller said as a
        call-back draft) instead of talking on into a dead channel."""
        if not self.calls or not await self._pbx_unreachable():
            return
        for call in list(self.calls.values()):
            if not call.ended:
                task = asyncio.create_task(self._end(call), name=f"lost-{call.channel.id}")
                self._lost_tasks.add(task)
                task.add_done_callback(self._lost_tasks.discard)

    async def on_connected(self) -> None:
        """(Re-)registered: forget calls whose channel is gone, hand over channels nobody drives."""
        try:
            live = {c.id: c for c in await self.ari.channels()}
        except AriError as exc:
            log.warning("could not list channels after (re)connect: %s", exc)
            return
        for channel_id, call in list(self.calls.items()):
            if channel_id not in live:
                await self._end(call)
        for channel in live.values():
            in_our_app = channel.dialplan.app_name == "Stasis" and channel.dialplan.app_data.split(",")[
                0
            ] == (self.app_name)
            if not in_our_app or channel.id in self.calls or channel.id in self._by_media:
                continue
            if channel.is_audiosocket or channel.id.startswith(MEDIA_CHANNEL_PREFIX):
                with contextlib.suppress(AriError):
                    await self.ari.hangup(channel.id)
            else:
                # A caller left in Stasis by an earlier run of the app: the operator takes over.
                # Its record may never have been written (the earlier run died during the setup, or
                # the database is down): then the dialplan fallback journals the call on its way.
                recorded = await self._note_handoff(channel.id, Outcome.TRANSFERRED)
                context, exten = (
                    (OPERATOR_CONTEXT, OPERATOR_EXTEN) if recorded else (FALLBACK_CONTEXT, FALLBACK_EXTEN)
                )
                log.warning(
                    "orphaned caller %s found at (re)connect; sending it to the operators (%s)",
                    channel.id,
                    context,
                )
                try:
                    await self.ari.continue_in_dialplan(channel.id, context, exten)
                except AriError as exc:
                    log.warning("could not hand the orphaned caller %s over: %s", channel.id, exc)
                    continue
        await self.reconcile(set(live))

    async def reconcile(self, live: set[str] | None = None) -> int:
        """Close the call records of calls that ended while no app drove them.

        A record stays open when the app that wrote it died mid-call: the caller then hung up while
        the app was down, or the restarted app handed the orphan to the operators (:meth:`on_connected`)
        and the call ended in the queue, out of the app's sight. Such a record is closed once its
        channel is gone, at the best known end (the recording's last write), keeping the outcome
        already noted (a transfer) or else ``failed``: the call was ours to handle and we did not.
        ``live`` is the set of channel ids Asterisk has (listed now when not given). Returns how many
        records were closed.
        """
        if live is None:
            try:
                live = {c.id for c in await self.ari.channels()}
            except AriError as exc:
                log.warning("could not list channels to close stale call records: %s", exc)
                return 0
        try:
            open_records = await self.call_log.open_calls()
        except Exception as exc:
            log.error("could not read the open call records: %s", exc)
            return 0
        closed = 0
        for record in open_records:
            if record.channel_id in live or record.channel_id in self.calls:
                continue
            if not record.channel_id.startswith(self.channel_prefix):
                continue
            try:
                ended_at = self.ended_at_of(record)
                final = await self.call_log.finish(
                    record.channel_id, record.outcome or Outcome.FAILED, ended_at
                )
            except Exception as exc:
                log.error("could not close the call record of %s: %s", record.channel_id, exc)
                continue
            closed += 1
            log.warning(
                "call %s ended while no app drove it; its record is closed as %s",
                record.channel_id,
                final.outcome,
            )
        return closed

    # ---- call life -----------------------------------------------------------------------------
    def _begin(self, channel: Channel) -> None:
        call = _Call(channel=channel, handler=self.handler_factory())
        call.media_channel_id = f"{MEDIA_CHANNEL_PREFIX}{call.media_uuid}"
        self.calls[channel.id] = call
        self._by_media[call.media_channel_id] = call
        # the call's set-up and every task its handler starts log with the call id (ops.logs)
        log_ctx, _holder = logs.call_context(channel.id)
        call.setup = asyncio.create_task(self._setup(call), name=f"call-{channel.id}", context=log_ctx)

    async def _setup(self, call: _Call) -> None:
        channel = call.channel
        try:
            recording = ""
            with contextlib.suppress(AriError):
                recording = await self.ari.get_variable(channel.id, "MIXMONITOR_FILENAME")
            call.recording = recording
            record = await self.call_log.start(
                channel.id, channel.caller.number, channel.dialplan.exten, recording
            )
            call.record_id = record.id
            if channel.state != "Up":
                await self.ari.answer(channel.id)
            await self.call_log.answered(channel.id)
            if call.record_id is not None:
                with contextlib.suppress(AriError):
                    await self.ari.set_variable(channel.id, CALL_VARIABLE, str(call.record_id))
            bridge = await self.ari.create_bridge("mixing", name=f"hotline-{channel.id}")
            call.bridge_id = bridge.id
            await self.ari.add_channel(bridge.id, channel.id)
            connection = self.media_server.expect(call.media_uuid)
            await self.ari.external_media(
                self.external_host, str(call.media_uuid), channel_id=call.media_channel_id
            )
            conn = await asyncio.wait_for(connection, MEDIA_CONNECT_TIMEOUT_S)
            # The media flows (idle silence to Asterisk) from the moment the socket is ours, before
            # the channel is even in the bridge: see pbx.media on why Asterisk must never wait on it.
            consumer = _DtmfFromAri(call.handler)
            media = MediaSession(
                conn,
                consumer,
                keep_lateness=self.keep_lateness,
                frame_clock=self.frame_clock,
                idle_silence=True,
            )
            call.media = media
            media.start()
            await asyncio.wait_for(call.media_in_bridge.wait(), MEDIA_CONNECT_TIMEOUT_S)
            if call.ended:
                return
            consumer.ready = True
            call.session = CallSession(self, call, media)
            await call.handler.on_start(call.session)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.media_server.forget(call.media_uuid)
            if call.media is not None and call.session is None:
                await call.media.close()
                call.media = None
                with contextlib.suppress(AriError):
                    await self.ari.hangup(call.media_channel_id)
            if _channel_gone(exc):
                log.warning("caller %s hung up during the call setup (%s)", channel.id, exc)
                call.outcome = Outcome.ABANDONED
            elif not call.ended and call.record_id is None:
                # No call record (the database is down): the dialplan fallback journals the call and
                # takes the caller to the operators; the journal import writes the record later.
                log.error(
                    "call %s has no call record (%s); sending it through the dialplan fallback",
                    channel.id,
                    exc,
                )
                call.outcome = Outcome.TRANSFERRED
                try:
                    await self.ari.continue_in_dialplan(channel.id, FALLBACK_CONTEXT, FALLBACK_EXTEN, 1)
                except AriError as err:
                    log.error("fallback of %s failed: %s", channel.id, err)
                    call.outcome = Outcome.ABANDONED if err.status == 404 else Outcome.FAILED
            elif not call.ended:
                log.error("call %s setup failed (%s); sending the caller to the operators", channel.id, exc)
                call.outcome = Outcome.FAILED
                await self.handoff(call)

    async def _media_arrived(self, channel: Channel) -> None:
        call = self._by_media.get(channel.id)
        if call is None or call.ended or not call.bridge_id:
            with contextlib.suppress(AriError):
                await self.ari.hangup(channel.id)
            return
        await self.ari.add_channel(call.bridge_id, channel.id)
        call.media_in_bridge.set()

    async def handoff(self, call: _Call) -> None:
        """``continue`` the caller into the operator-queue context, carrying the draft id."""
        channel_id = call.channel.id
        try:
            await self.ari.set_variable(channel_id, DRAFT_VARIABLE, call.draft_id)
            for name, value in call.variables.items():
                await self.ari.set_variable(channel_id, name, value)
            await self.ari.continue_in_dialplan(
                channel_id, OPERATOR_CONTEXT, call.extension, OPERATOR_PRIORITY
            )
        except AriError as exc:
            if exc.status == 404:  # the caller hung up first (e.g. during the setup): abandoned
                log.warning("caller %s hung up before the handoff", channel_id)
                call.outcome = Outcome.ABANDONED
                return
            log.error("handoff of %s failed: %s", channel_id, exc)
            call.outcome = Outcome.FAILED
            return
        if call.outcome is None:
            call.outcome = Outcome.TRANSFERRED
        await self._note_handoff(channel_id, call.outcome)

    async def _note_handoff(self, channel_id: str, outcome: Outcome) -> bool:
        """Set the outcome of a handed-over call on its record; False when there is no record to set
        it on (not written yet: handed over before the setup wrote it, or by an earlier run that died
        first) or the database cannot be reached."""
        try:
            await self.call_log.mark_outcome(channel_id, outcome)
        except KeyError:
            return False
        except Exception as exc:
            log.error("could not note the handoff of %s on its call record: %s", channel_id, exc)
            return False
        return True

    async def _end(self, call: _Call) -> None:
        if call.ended:
            return
        call.ended = True
        if call.setup is not None and not call.setup.done() and call.setup is not asyncio.current_task():
            call.setup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await call.setup
        self.media_server.forget(call.media_uuid)
        if call.session is not None and await self._pbx_unreachable():
            # Asterisk died under the call (a node of a cluster crashed): not the caller's doing.
            log.error("Asterisk is unreachable: call %s was lost with its PBX", call.channel.id)
            call.outcome = call.outcome or Outcome.FAILED
            lost = getattr(call.handler, "on_pbx_lost", None)
            if lost is not None:
                lost()
        if call.session is not None:
            try:
                await call.handler.on_hangup()
            except Exception:
                log.exception("handler failed on hangup")
        if call.media is not None:
            await call.media.close()
        with contextlib.suppress(AriError):
            await self.ari.hangup(call.media_channel_id)
        if call.bridge_id:
            with contextlib.suppress(AriError):
                await self.ari.destroy_bridge(call.bridge_id)
        try:
            if call.record_id is None:  # hung up before the setup wrote the record
                channel = call.channel
                await self.call_log.start(channel.id, channel.caller.number, channel.dialplan.exten)
            await self.call_log.finish(call.channel.id, call.outcome or Outcome.ABANDONED)
        except Exception:
            log.exception("could not write the call record of %s", call.channel.id)
        self.calls.pop(call.channel.id, None)
        self._by_media.pop(call.media_channel_id, None)
        self.finished.append(call)
        if self.on_call_ended is not None:
            self.on_call_ended(call.channel.id)

    async def _pbx_unreachable(self) -> bool:
        """True when ARI cannot be reached at all (connection refused or no answer), i.e. Asterisk is
        gone; an HTTP answer of any kind means the PBX is alive."""
        try:
            await asyncio.wait_for(self.ari.channels(), PBX_CHECK_S)
        except TimeoutError:
            return True
        except AriError as exc:
            return exc.status == 0  # no HTTP status: the connection itself failed
        except Exception:
            return False
        return False

    async def shutdown(self) -> None:
        """Stopping the app: every live caller goes to the operators, then everything is cleaned up."""
        for call in list(self.calls.values()):
            if call.outcome is None or call.outcome is not Outcome.TRANSFERRED:
                await self.handoff(call)
            await self._end(call)
        await self.frame_clock.close()

"""Call controller with a fake ARI (it enforces Asterisk's 422 rule) and a real AudioSocket socket.

The real-Asterisk flows live in test_call_flow_asterisk.py; this tier checks the controller's own
bookkeeping: setup order, cleanup, call records for every outcome, resync and shutdown.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

import pbx.controller as controller_module
from pbx.ari.client import AriError
from pbx.ari.events import (
    Bridge,
    Channel,
    ChannelDtmfReceived,
    DialplanCep,
    StasisEnd,
    StasisStart,
)
from pbx.audiosocket.codec import Audio, Uuid, encode
from pbx.audiosocket.server import AudioSocketServer
from pbx.controller import (
    DRAFT_VARIABLE,
    FALLBACK_CONTEXT,
    OPERATOR_CONTEXT,
    CallController,
    CallSession,
)
from pbx.media import FRAME_BYTES
from ticketing.calls import CallRecord, Outcome


def caller_channel(cid: str = "100.1", state: str = "Up") -> Channel:
    return Channel.model_validate(
        {
            "id": cid,
            "name": "PJSIP/dev-0001",
            "state": state,
            "caller": {"name": "", "number": "0912345678"},
            "dialplan": {"context": "hotline-inbound", "exten": "1022", "priority": 5,
                         "app_name": "Stasis", "app_data": "hotline"},
        }
    )  # fmt: skip


@dataclass
class FakeAri:
    media_port: int
    controller: CallController | None = None
    log: list[tuple[str, ...]] = field(default_factory=list)
    in_stasis: set[str] = field(default_factory=set)
    live: list[Channel] = field(default_factory=list)
    peers: list[asyncio.StreamWriter] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)

    async def channels(self) -> list[Channel]:
        return self.live

    async def answer(self, channel_id: str) -> None:
        self.log.append(("answer", channel_id))

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self.log.append(("hangup", channel_id))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self.variables[(channel_id, name)] = value

    async def get_variable(self, channel_id: str, name: str) -> str:
        if name == "MIXMONITOR_FILENAME":
            return "/var/spool/asterisk-main/monitor/hotline/x.wav"
        raise AriError("no such variable", 404)

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str = "s", priority: int = 1
    ):
        self.log.append(("continue", channel_id, context, extension))

    async def create_bridge(self, bridge_type: str = "mixing", name: str | None = None) -> Bridge:
        self.log.append(("bridge", bridge_type))
        return Bridge(id="br-1", bridge_type=bridge_type)

    async def add_channel(self, bridge_id: str, channel_id: str) -> None:
        if channel_id.startswith("hotline-media-") and channel_id not in self.in_stasis:
            raise AriError("Channel not in Stasis application", 422)
        self.log.append(("add", bridge_id, channel_id))

    async def destroy_bridge(self, bridge_id: str) -> None:
        self.log.append(("destroy", bridge_id))

    async def external_media(self, external_host: str, data: str, encapsulation: str = "audiosocket",
                             transport: str = "tcp", audio_format: str = "slin",
                             channel_id: str | None = None) -> Channel:  # fmt: skip
        assert channel_id is not None
        self.log.append(("externalMedia", external_host, encapsulation, transport, audio_format))
        asyncio.get_running_loop().create_task(self._asterisk_side(channel_id, uuid.UUID(data)))
        return Channel(id=channel_id, name="AudioSocket/x", state="Up")

    async def _asterisk_side(self, channel_id: str, call_uuid: uuid.UUID) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", self.media_port)
        writer.write(encode(Uuid(call_uuid)))
        self.peers.append(writer)
        await asyncio.sleep(0.01)
        self.in_stasis.add(channel_id)
        assert self.controller is not None
        await self.controller.on_event(
            StasisStart(type="StasisStart", channel=Channel(id=channel_id, name="AudioSocket/x", state="Up"))
        )


class MemoryCallLog:
    def __init__(self) -> None:
        self.records: dict[str, CallRecord] = {}

    async def start(self, channel_id: str, caller: str, called: str, recording: str = "") -> CallRecord:
        rec = CallRecord(
            channel_id, caller, called, datetime.now(UTC), id=len(self.records) + 1, recording=recording
        )
        self.records[channel_id] = rec
        return rec

    def _set(self, channel_id: str, **kw: object) -> CallRecord:
        import dataclasses

        self.records[channel_id] = dataclasses.replace(self.records[channel_id], **kw)  # type: ignore[arg-type]
        return self.records[channel_id]

    async def answered(self, channel_id: str) -> CallRecord:
        return self._set(channel_id, answered_at=datetime.now(UTC))

    async def set_draft(self, channel_id: str, draft_id: str) -> CallRecord:
        return self._set(channel_id, draft_id=draft_id)

    async def mark_outcome(self, channel_id: str, outcome: Outcome) -> CallRecord:
        return self._set(channel_id, outcome=outcome)

    async def finish(self, channel_id: str, outcome: Outcome, ended_at: datetime | None = None) -> CallRecord:
        rec = self.records[channel_id]
        if rec.ended_at:
            return rec
        end = ended_at or datetime.now(UTC)
        return self._set(channel_id, ended_at=end, outcome=rec.outcome or outcome)

    async def open_calls(self, limit: int = 1000) -> list[CallRecord]:
        return [r for r in self.records.values() if r.ended_at is None][:limit]


class ScriptedHandler:
    def __init__(self, transfer_on: str = "0") -> None:
        self.started = asyncio.Event()
        self.audio: list[bytes] = []
        self.digits: list[str] = []
        self.hangups = 0
        self.call: CallSession | None = None
        self.transfer_on = transfer_on

    async def on_start(self, call: CallSession) -> None:
        self.call = call
        call.play(bytes(FRAME_BYTES * 3))
        self.started.set()

    async def on_audio(self, pcm: bytes) -> None:
        self.audio.append(pcm)

    async def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)
        if digit == self.transfer_on and self.call is not None:
            await self.call.transfer_to_operator(draft_id="D-42")

    async def on_hangup(self) -> None:
        self.hangups += 1


async def make(handler: ScriptedHandler) -> tuple[CallController, FakeAri, MemoryCallLog, AudioSocketServer]:
    server = AudioSocketServer("127.0.0.1", 0)
    await server.start()
    ari = FakeAri(server.port)
    calls = MemoryCallLog()
    ctl = CallController(ari, server, calls, lambda: handler, f"127.0.0.1:{server.port}", "hotline")
    ari.controller = ctl
    return ctl, ari, calls, server


async def test_setup_audio_dtmf_transfer_and_cleanup() -> None:
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)
    chan = caller_channel(state="Ring")
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(handler.started.wait(), 3)
    kinds = [entry[0] for entry in ari.log]
    assert kinds[:4] == ["answer", "bridge", "add", "externalMedia"]
    media_id = ctl.calls[chan.id].media_channel_id
    assert ("add", "br-1", media_id) in ari.log  # added only after its own StasisStart

    ari.peers[0].write(b"".join(encode(Audio(bytes([7]) * FRAME_BYTES)) for _ in range(10)))
    for _ in range(100):
        if len(handler.audio) == 10:
            break
        await asyncio.sleep(0.01)
    assert len(handler.audio) == 10

    await ctl.on_event(ChannelDtmfReceived(type="ChannelDtmfReceived", channel=chan, digit="0"))
    assert ("continue", chan.id, OPERATOR_CONTEXT, "s") in ari.log
    assert ari.variables[(chan.id, DRAFT_VARIABLE)] == "D-42"
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert ("destroy", "br-1") in ari.log and ("hangup", media_id) in ari.log
    rec = calls.records[chan.id]
    assert rec.outcome is Outcome.TRANSFERRED and rec.ended_at and rec.draft_id == "D-42"
    assert rec.recording.endswith("x.wav") and rec.answered_at is not None
    assert handler.hangups == 1 and not ctl.calls
    await server.close()


async def test_caller_hangs_up_during_setup_is_abandoned() -> None:
    handler = ScriptedHandler()
    ctl, _ari, calls, server = await make(handler)
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert calls.records[chan.id].outcome is Outcome.ABANDONED
    assert not handler.started.is_set()
    await server.close()


async def test_no_call_record_sends_the_caller_through_the_journaling_fallback() -> None:
    """The database is down at StasisStart: no record can be written, so the caller goes through the
    dialplan fallback, which journals the call (imported into the call log later) on its way to the
    operators; before, the caller reached the queue but the call left no trace."""
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)

    async def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database down")

    calls.start = down  # type: ignore[method-assign, assignment]
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(ctl.calls[chan.id].setup, 3)  # type: ignore[arg-type]
    assert ("continue", chan.id, FALLBACK_CONTEXT, "s") in ari.log
    assert not any(e[0] == "continue" and e[2] == OPERATOR_CONTEXT for e in ari.log)
    assert not handler.started.is_set()
    await server.close()


async def test_media_never_connects_sends_caller_to_operators() -> None:
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)

    async def broken(*args: object, **kwargs: object) -> Channel:
        raise AriError("externalMedia failed", 500)

    ari.external_media = broken  # type: ignore[method-assign]
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(ctl.calls[chan.id].setup, 3)  # type: ignore[arg-type]
    assert ("continue", chan.id, OPERATOR_CONTEXT, "s") in ari.log
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert calls.records[chan.id].outcome is Outcome.FAILED
    await server.close()


async def test_caller_gone_before_the_bridge_is_abandoned() -> None:
    """The caller hangs up while the app bridges it (ARI: channel not found); StasisEnd comes later."""
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)
    chan = caller_channel()

    async def gone_add(bridge_id: str, channel_id: str) -> None:
        raise AriError("Channel not found", 400)

    async def gone_continue(*args: object, **kwargs: object) -> None:
        raise AriError("Channel not found", 404)

    ari.add_channel = gone_add  # type: ignore[method-assign]
    ari.continue_in_dialplan = gone_continue  # type: ignore[method-assign]
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(ctl.calls[chan.id].setup, 3)  # type: ignore[arg-type]
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert calls.records[chan.id].outcome is Outcome.ABANDONED
    assert not handler.started.is_set()
    await server.close()


async def test_media_never_bridged_is_closed_and_hung_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The AudioSocket connection came but its channel never reached the bridge: the setup gives up,
    closes the socket and hangs the media channel up, and the caller goes to the operators."""
    monkeypatch.setattr(controller_module, "MEDIA_CONNECT_TIMEOUT_S", 0.3)
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)

    async def no_stasis_start(channel_id: str, call_uuid: uuid.UUID) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", ari.media_port)
        writer.write(encode(Uuid(call_uuid)))
        ari.peers.append(writer)

    ari._asterisk_side = no_stasis_start  # type: ignore[method-assign]
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    call = ctl.calls[chan.id]
    await asyncio.wait_for(call.setup, 3)  # type: ignore[arg-type]
    assert call.media is None and ("hangup", call.media_channel_id) in ari.log
    assert ("continue", chan.id, OPERATOR_CONTEXT, "s") in ari.log
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert calls.records[chan.id].outcome is Outcome.FAILED
    await server.close()


async def test_resync_after_reconnect_and_shutdown_handoff() -> None:
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)
    gone, kept = caller_channel("1.1"), caller_channel("2.2")
    for chan in (gone, kept):
        await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(handler.started.wait(), 3)
    orphan = caller_channel("3.3")  # left in Stasis by an earlier run of the app
    stranger = Channel(id="4.4", name="PJSIP/x", state="Up", dialplan=DialplanCep(app_name="Queue"))
    ari.live = [kept, orphan, stranger]
    await ctl.on_connected()
    assert calls.records["1.1"].outcome is Outcome.ABANDONED  # its channel vanished (Asterisk restart)
    # no call record was ever written for it: the dialplan fallback journals it on its way to the queue
    assert ("continue", "3.3", FALLBACK_CONTEXT, "s") in ari.log
    assert not any(e[0] == "continue" and e[1] == "4.4" for e in ari.log)
    await ctl.shutdown()
    assert ("continue", "2.2", OPERATOR_CONTEXT, "s") in ari.log
    assert calls.records["2.2"].outcome is Outcome.TRANSFERRED
    await server.close()


async def test_records_of_calls_that_ended_out_of_sight_are_closed() -> None:
    """The app died mid-call: the restarted app hands the orphan over (its record says transferred)
    and closes records whose channel vanished meanwhile, at the end the recording tells."""
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    for cid in ("5.5", "6.6"):  # written by the earlier run, never closed
        calls.records[cid] = CallRecord(cid, "0912345678", "1022", t0, recording=f"/rec/{cid}.wav")
    ctl.ended_at_of = lambda rec: t0 + timedelta(seconds=30) if rec.channel_id == "5.5" else None
    orphan = caller_channel("6.6")
    ari.live = [orphan]
    await ctl.on_connected()
    hung_up = calls.records["5.5"]  # the caller hung up while no app was there
    assert hung_up.outcome is Outcome.FAILED and hung_up.ended_at == t0 + timedelta(seconds=30)
    handed = calls.records["6.6"]  # still in the queue: open, but already noted as transferred
    assert ("continue", "6.6", OPERATOR_CONTEXT, "s") in ari.log
    assert handed.outcome is Outcome.TRANSFERRED and handed.ended_at is None
    # a call the app drives now is never touched, whatever ARI lists
    live_call = caller_channel("7.7")
    await ctl.on_event(StasisStart(type="StasisStart", channel=live_call))
    await asyncio.wait_for(handler.started.wait(), 3)
    ari.live = []  # the orphan's call ended in the queue
    assert await ctl.reconcile() == 1
    assert calls.records["6.6"].outcome is Outcome.TRANSFERRED
    assert calls.records["6.6"].ended_at is not None
    assert calls.records["7.7"].ended_at is None and "7.7" in ctl.calls

    async def down() -> list[Channel]:
        raise AriError("connection refused", 0)

    # another PBX sharing the database: its records are not this Asterisk's to close
    calls.records["other-1.1"] = CallRecord("other-1.1", "0912345678", "1022", t0)
    ctl.channel_prefix = "hotline-main-"
    calls.records["hotline-main-8.8"] = CallRecord("hotline-main-8.8", "0912345678", "1022", t0)
    assert await ctl.reconcile() == 1
    assert calls.records["other-1.1"].ended_at is None
    assert calls.records["hotline-main-8.8"].outcome is Outcome.FAILED

    ari.channels = down  # type: ignore[method-assign]
    assert await ctl.reconcile() == 0  # ARI unreachable: nothing is closed on a guess
    await ctl.shutdown()
    await server.close()


async def test_asterisk_dying_under_a_call_ends_it_as_failed_and_tells_the_handler() -> None:
    """A cluster node's Asterisk crashes: the ARI socket drops and ARI refuses connections. The live
    call ends at once as failed and its handler hears it was lost with the PBX (a call-back draft)."""
    handler = ScriptedHandler()
    lost: list[bool] = []
    handler.on_pbx_lost = lambda: lost.append(True)  # type: ignore[attr-defined]
    ctl, ari, calls, server = await make(handler)
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(handler.started.wait(), 3)

    async def refused() -> list[Channel]:
        raise AriError("GET /channels: All connection attempts failed")  # no HTTP status at all

    ari.channels = refused  # type: ignore[method-assign]
    await ctl.on_disconnected()
    for _ in range(200):
        if not ctl.calls:
            break
        await asyncio.sleep(0.01)
    assert not ctl.calls and lost == [True] and handler.hangups == 1
    assert calls.records[chan.id].outcome is Outcome.FAILED and calls.records[chan.id].ended_at
    await server.close()


async def test_a_dropped_ari_socket_with_asterisk_alive_leaves_calls_alone() -> None:
    handler = ScriptedHandler()
    ctl, ari, calls, server = await make(handler)
    chan = caller_channel()
    await ctl.on_event(StasisStart(type="StasisStart", channel=chan))
    await asyncio.wait_for(handler.started.wait(), 3)
    ari.live = [chan]
    await ctl.on_disconnected()  # ARI still answers: a network blip, the reconnect resyncs
    await asyncio.sleep(0.05)
    assert chan.id in ctl.calls and handler.hangups == 0
    await ctl.on_event(StasisEnd(type="StasisEnd", channel=chan))
    assert calls.records[chan.id].outcome is Outcome.ABANDONED
    await server.close()

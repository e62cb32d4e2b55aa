"""Whole conversations through the dialogue engine with a scripted interpreter (engine layer only)."""

from __future__ import annotations

from dialogue_helpers import NOW, engine, i, says

from nlu.dialogue import (
    AnswerProcedure,
    CallerHangup,
    CreateTicket,
    Digits,
    DossierResult,
    Hangup,
    Heard,
    Listen,
    LookupDossier,
    LookupTicket,
    SendProcedureSms,
    Silence,
    TicketCreated,
    TicketStatus,
    Timeout,
    Transfer,
)
from nlu.dialogue.slots import code_vi
from ticketing.domain import tracking

REPORT = "tôi muốn phản ánh rác thải đổ trộm ở đầu ngõ 12 phố Hàng Bông mấy hôm nay không ai thu gom"
SCRIPT = {
    REPORT: i("report", category="VSMT"),
    "phường hoàn kiếm": i("inform", ward="Phường Hoàn Kiếm"),
    "tối nay lúc chín giờ": i("inform", time="2026-11-22T21:00"),
    "tôi tên là nguyễn văn an": i("inform", name="Nguyễn Văn An"),
    "đúng rồi": i("affirm"),
    "có": i("affirm"),
    "không": i("deny"),
    "không phải": i("deny"),
    "không cảm ơn": i("deny"),
    "tạm biệt": i("goodbye"),
}


def last_listen(actions: list) -> Listen:
    listens = [a for a in actions if isinstance(a, Listen)]
    assert listens, actions
    return listens[-1]


def test_greeting_is_the_1022_operator_and_listens_freely() -> None:
    e = engine(SCRIPT)
    out = e.start()
    assert says(out).startswith("Tổng đài 1022 xin nghe")
    assert last_listen(out) == Listen("intent", "free")


def test_happy_path_report_collects_confirms_files_and_reads_code_twice() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Heard(REPORT))
    assert "phường hoặc xã" in says(out) and last_listen(out).slot == "ward"
    out = e.handle(Heard("phường hoàn kiếm"))
    assert last_listen(out).slot == "time"
    out = e.handle(Heard("tối nay lúc chín giờ"))
    assert last_listen(out).slot == "name"
    out = e.handle(Heard("tôi tên là nguyễn văn an"))
    # phone defaults to the caller ID, which must be confirmed
    assert "không chín một hai, ba bốn năm, sáu bảy tám" in says(out)
    assert last_listen(out) == Listen("phone_confirm", "yesno")
    out = e.handle(Heard("có"))
    text = says(out)
    assert "Nguyễn Văn An" in text and "Phường Hoàn Kiếm" in text and "21 giờ 00 ngày 22 tháng 11" in text
    assert "Rác thải đổ trộm ở đầu ngõ 12 phố Hàng Bông" in text
    assert last_listen(out) == Listen("confirm", "yesno")
    out = e.handle(Heard("đúng rồi"))
    [create] = [a for a in out if isinstance(a, CreateTicket)]
    d = create.draft
    assert create.complete and d.is_complete
    assert (d.name, d.phone, d.ward, d.incident_time, d.category) == (
        "Nguyễn Văn An",
        "0912345678",
        "Phường Hoàn Kiếm",
        "2026-11-22T21:00",
        "VSMT",
    )
    assert ("caller", REPORT) in d.transcript
    code = tracking.make_code(1234)
    out = e.handle(TicketCreated(code))
    spoken = code_vi(code)
    assert code == "377023628" and spoken == "ba bảy bảy, không hai ba, sáu hai tám"
    assert says(out).count(f"theo dõi là: {spoken}.") == 2
    assert last_listen(out).slot == "more"
    out = e.handle(Heard("không cảm ơn"))
    assert isinstance(out[-1], Hangup) and e.finished


def test_everything_in_one_sentence_goes_straight_to_read_back() -> None:
    text = "tôi là nguyễn văn an phản ánh có đống rác to ở phường hoàn kiếm từ tối nay"
    entities = {"name": "Nguyễn Văn An", "ward": "Phường Hoàn Kiếm", "time": "2026-11-22", "category": "VSMT"}
    e = engine({text: i("report", **entities)})
    e.start()
    out = e.handle(Heard(text))
    assert last_listen(out).slot == "phone_confirm"


def test_a_name_given_when_asked_for_the_time_is_not_taken_for_the_time() -> None:
    e = engine(SCRIPT)
    e.start()
    e.handle(Heard(REPORT))
    out = e.handle(Heard("phường hoàn kiếm"))
    assert last_listen(out).slot == "time"
    out = e.handle(Heard("tôi tên là nguyễn văn an"))
    assert e.draft.name == "Nguyễn Văn An" and not e.draft.time_text
    assert last_listen(out).slot == "time"  # asked again
    out = e.handle(Heard("mấy hôm nay rồi"))  # vague: kept as the caller said it
    assert e.draft.time_text == "mấy hôm nay rồi" and last_listen(out).slot == "phone_confirm"


def test_correction_during_read_back_with_the_new_value() -> None:
    script = dict(SCRIPT)
    script["không phải, số điện thoại là 0987654321"] = i("deny", phone="0987654321")
    e = engine(script)
    e.start()
    for text in (REPORT, "phường hoàn kiếm", "tối nay lúc chín giờ", "tôi tên là nguyễn văn an", "có"):
        e.handle(Heard(text))
    out = e.handle(Heard("không phải, số điện thoại là 0987654321"))
    assert "không chín tám bảy, sáu năm bốn, ba hai một" in says(out)
    assert last_listen(out).slot == "confirm"
    out = e.handle(Heard("đúng rồi"))
    [create] = [a for a in out if isinstance(a, CreateTicket)]
    assert create.draft.phone == "0987654321"


def test_caller_says_khong_phai_then_names_the_wrong_field() -> None:
    script = dict(SCRIPT)
    script["địa chỉ sai rồi"] = i("deny")
    script["phường cửa nam"] = i("inform", ward="Phường Cửa Nam")  # a ward of the city: others are dropped
    e = engine(script)
    e.start()
    for text in (REPORT, "phường hoàn kiếm", "tối nay lúc chín giờ", "tôi tên là nguyễn văn an", "có"):
        e.handle(Heard(text))
    out = e.handle(Heard("không phải"))
    assert last_listen(out).slot == "correction" and "thông tin nào chưa đúng" in says(out)
    out = e.handle(Heard("địa chỉ sai rồi"))
    assert last_listen(out).slot == "ward"
    out = e.handle(Heard("phường cửa nam"))
    assert "Phường Cửa Nam" in says(out) and last_listen(out).slot == "confirm"


def test_caller_denies_caller_id_and_dictates_another_number() -> None:
    script = dict(SCRIPT)
    script["không chín tám bảy sáu năm bốn ba hai một"] = i("inform", phone="0987654321")
    e = engine(script)
    e.start()
    for text in (REPORT, "phường hoàn kiếm", "tối nay lúc chín giờ", "tôi tên là nguyễn văn an"):
        e.handle(Heard(text))
    out = e.handle(Heard("không"))
    assert last_listen(out) == Listen("phone", "digits")
    out = e.handle(Heard("không chín tám bảy sáu năm bốn ba hai một"))
    assert last_listen(out).slot == "confirm" and "không chín tám bảy" in says(out)


def test_failed_phone_offers_keypad_and_keyed_number_is_used() -> None:
    e = engine(SCRIPT, caller_id="")  # withheld caller ID: the number must be asked
    e.start()
    for text in (REPORT, "phường hoàn kiếm", "tối nay lúc chín giờ", "tôi tên là nguyễn văn an"):
        out = e.handle(Heard(text))
    assert last_listen(out) == Listen("phone", "digits")
    out = e.handle(Heard("ờ để tôi xem"))
    assert "bấm số điện thoại trên bàn phím" in says(out)
    assert last_listen(out) == Listen("phone", "digits")
    out = e.handle(Digits("0987654321#"))
    assert last_listen(out).slot == "confirm"
    assert e.draft.phone == "0987654321"


def test_silence_reprompts_then_transfers_with_the_draft() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Heard(REPORT))
    out = e.handle(Silence())
    assert says(out).startswith("Xin lỗi, tôi chưa nghe rõ.") and "phường hoặc xã" in says(out)
    assert last_listen(out).slot == "ward"
    out = e.handle(Silence())
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.reason == "no_response"
    assert transfer.draft is not None and transfer.draft.category == "VSMT"
    assert e.finished and e.handle(Heard("alo")) == []


def test_hangup_mid_way_keeps_an_incomplete_draft() -> None:
    e = engine(SCRIPT)
    e.start()
    e.handle(Heard(REPORT))
    e.handle(Heard("phường hoàn kiếm"))
    out = e.handle(CallerHangup())
    assert isinstance(out[-1], CreateTicket)
    assert out[-1].complete is False
    d = out[-1].draft
    assert d.ward == "Phường Hoàn Kiếm" and d.missing() == ["time", "name", "phone"]
    assert d.note == "caller_hung_up"


def test_hangup_without_a_report_files_nothing() -> None:
    e = engine(SCRIPT)
    e.start()
    assert e.handle(CallerHangup()) == []
    assert e.finished


def test_goodbye_mid_report_keeps_draft_and_hangs_up() -> None:
    e = engine(SCRIPT)
    e.start()
    e.handle(Heard(REPORT))
    out = e.handle(Heard("tạm biệt"))
    assert [type(a).__name__ for a in out] == ["CreateTicket", "Say", "Hangup"]
    assert "tổng đài viên sẽ gọi lại" in says(out)


def test_urgent_report_transfers_at_once_with_priority() -> None:
    text = "cháy nhà ở ngõ 5 phố huế có người mắc kẹt"
    e = engine({text: i("report", urgent="true", category="ANTT")})
    e.start()
    out = e.handle(Heard(text))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.urgent and transfer.reason == "urgent"
    assert transfer.draft is not None and transfer.draft.urgent and transfer.draft.content == text
    assert "114" in says(out)
    assert not any(isinstance(a, Listen) for a in out)


def test_urgent_mid_report_also_transfers() -> None:
    script = dict(SCRIPT)
    script["ôi có người bị điện giật ngay đây"] = i("inform", urgent="true")
    e = engine(script)
    e.start()
    e.handle(Heard(REPORT))
    out = e.handle(Heard("ôi có người bị điện giật ngay đây"))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.urgent and transfer.draft is not None and transfer.draft.content.startswith("Rác thải")


def test_complaint_is_refused_with_the_reason() -> None:
    text = "tôi muốn tố cáo cán bộ phường nhận hối lộ"
    e = engine({text: i("complaint_denunciation")})
    e.start()
    out = e.handle(Heard(text))
    assert "không tiếp nhận khiếu nại, tố cáo" in says(out)
    assert "Luật Khiếu nại" in says(out)
    assert not any(isinstance(a, (CreateTicket, Transfer)) for a in out)
    assert last_listen(out).slot == "more"
    assert e.refused == ["complaint"]  # counted by the call app (hotline_refusals_total)


def test_advertising_is_refused_and_call_ended() -> None:
    text = "bên em đang có chương trình khuyến mãi bảo hiểm ạ"
    e = engine({text: i("inform")})
    e.start()
    out = e.handle(Heard(text))
    assert "không tiếp nhận nội dung quảng cáo" in says(out)
    assert isinstance(out[-1], Hangup)
    assert e.refused == ["advertising"]


def test_insult_is_refused_politely_then_the_call_continues() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Heard("tổng đài ngu thế"))
    assert "xúc phạm" in says(out) and last_listen(out).slot == "more"
    assert e.refused == ["insult"]


def test_operator_on_request_carries_the_draft() -> None:
    script = dict(SCRIPT)
    script["cho tôi gặp tổng đài viên"] = i("request_operator")
    e = engine(script)
    e.start()
    e.handle(Heard(REPORT))
    out = e.handle(Heard("cho tôi gặp tổng đài viên"))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.reason == "caller_request" and not transfer.urgent
    assert transfer.draft is not None and transfer.draft.content


def test_keypad_zero_in_menu_is_an_operator_request() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Digits("0"))
    assert any(isinstance(a, Transfer) and a.reason == "caller_request" for a in out)


def test_two_failed_turns_transfer_to_an_operator() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Heard("ừm à thì là"))
    assert "chưa hiểu" in says(out)
    out = e.handle(Heard("cái gì đó"))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.reason == "not_understood" and transfer.draft is None


def test_low_asr_confidence_counts_as_not_heard() -> None:
    e = engine(SCRIPT)
    e.start()
    out = e.handle(Heard(REPORT, confidence=0.1))
    assert "chưa nghe rõ" in says(out) and e.draft.content == ""


def test_a_success_resets_the_failure_count() -> None:
    e = engine(SCRIPT)
    e.start()
    e.handle(Heard("ừm"))
    e.handle(Heard(REPORT))
    out = e.handle(Heard("ờ"))
    assert not any(isinstance(a, Transfer) for a in out)


def test_dossier_lookup_spoken_code_found() -> None:
    text = "tra cứu hồ sơ mã 000.00.01.H26-261120-0012"
    e = engine({text: i("dossier_lookup", dossier_code="000.00.01.H26-261120-0012"), "không": i("deny")})
    e.start()
    out = e.handle(Heard(text))
    assert out == [LookupDossier("000.00.01.H26-261120-0012")]
    out = e.handle(
        DossierResult("000.00.01.H26-261120-0012", True, "Đang xử lý", "Đăng ký khai sinh", "2026-11-25")
    )
    assert "trạng thái: Đang xử lý" in says(out) and "ngày 25 tháng 11 năm 2026" in says(out)
    assert last_listen(out).slot == "more"


def test_dossier_lookup_by_keypad_after_a_failed_attempt_and_not_found() -> None:
    e = engine({"tôi muốn tra cứu hồ sơ": i("dossier_lookup")})
    e.start()
    out = e.handle(Heard("tôi muốn tra cứu hồ sơ"))
    assert last_listen(out) == Listen("dossier_code", "digits")
    out = e.handle(Heard("mã nó là cái gì nhỉ"))
    assert "bấm mười chữ số cuối" in says(out) and last_listen(out) == Listen("dossier_code", "digits")
    out = e.handle(Digits("2611200012#"))
    assert out == [LookupDossier("2611200012")]
    out = e.handle(DossierResult("2611200012", False))
    assert "không tìm thấy hồ sơ" in says(out) and last_listen(out).slot == "dossier_code"
    out = e.handle(Digits("2611200013#"))
    out = e.handle(DossierResult("2611200013", False))
    assert "không tìm thấy" in says(out) and last_listen(out).slot == "more"


def test_keyed_dossier_tail_with_a_future_date_is_not_looked_up() -> None:
    e = engine({"tra cứu hồ sơ": i("dossier_lookup")})
    e.start()
    e.handle(Heard("tra cứu hồ sơ"))
    out = e.handle(Digits("2712310001#"))
    assert not any(isinstance(a, LookupDossier) for a in out)


def test_lookup_timeout_transfers() -> None:
    e = engine({"tra cứu hồ sơ": i("dossier_lookup", dossier_code="2611200012")})
    e.start()
    e.handle(Heard("tra cứu hồ sơ"))
    out = e.handle(Timeout())
    assert any(isinstance(a, Transfer) and a.reason == "lookup_failed" for a in out)


def test_report_status_by_tracking_code_check_digit_catches_a_slip() -> None:
    code = tracking.make_code(42)
    slip = code[:-1] + str((int(code[-1]) + 1) % 10)
    e = engine({"tôi muốn hỏi kết quả xử lý phản ánh": i("report")})
    e.start()
    out = e.handle(Heard("tôi muốn hỏi kết quả xử lý phản ánh"))
    assert last_listen(out) == Listen("tracking_code", "digits")
    out = e.handle(Digits(slip + "#"))
    assert "chưa đúng" in says(out) and not any(isinstance(a, LookupTicket) for a in out)
    out = e.handle(Digits(code + "#"))
    assert out == [LookupTicket(code)]
    out = e.handle(TicketStatus(code, True, "Đang xử lý", "UBND Phường Hoàn Kiếm"))
    assert "Đang xử lý" in says(out) and "UBND Phường Hoàn Kiếm" in says(out)


def test_procedure_answer_found() -> None:
    text = "cho tôi hỏi thủ tục đăng ký kết hôn cần giấy tờ gì"
    e = engine({text: i("procedure_question")})
    e.start()
    out = e.handle(Heard(text))
    assert AnswerProcedure("ket_hon") in out
    assert "tờ khai đăng ký kết hôn" in says(out) and "Ủy ban nhân dân xã, phường" in says(out)
    assert "Lệ phí" in says(out) and "qua tin nhắn tới số không chín một hai" in says(out)
    assert last_listen(out) == Listen("procedure_sms", "yesno")
    out = e.handle(Heard("có"))  # yes: the guidance goes to the caller's phone by SMS
    [sms] = [a for a in out if isinstance(a, SendProcedureSms)]
    assert (sms.procedure_id, sms.phone, sms.title) == ("ket_hon", "0912345678", "Đăng ký kết hôn")
    assert sms.summary.startswith("Hồ sơ: tờ khai đăng ký kết hôn") and "Lệ phí:" in sms.summary
    assert "gửi hướng dẫn qua tin nhắn" in says(out) and last_listen(out).slot == "more"


def test_procedure_sms_declined_by_keypad_and_without_a_number() -> None:
    text = "cho tôi hỏi thủ tục đăng ký kết hôn cần giấy tờ gì"
    e = engine({text: i("procedure_question")})
    e.start()
    e.handle(Heard(text))
    out = e.handle(Digits("2"))  # "bấm 2": no
    assert not [a for a in out if isinstance(a, SendProcedureSms)] and last_listen(out).slot == "more"
    # an anonymous caller: nothing to send it to, so no offer
    e = engine({text: i("procedure_question")}, caller_id="")
    e.start()
    out = e.handle(Heard(text))
    assert "tin nhắn" not in says(out) and last_listen(out).slot == "more"


def test_another_request_instead_of_answering_the_sms_offer() -> None:
    text = "cho tôi hỏi thủ tục đăng ký kết hôn cần giấy tờ gì"
    e = engine({text: i("procedure_question"), REPORT: i("report", category="VSMT")})
    e.start()
    e.handle(Heard(text))
    out = e.handle(Heard(REPORT))
    assert not [a for a in out if isinstance(a, SendProcedureSms)] and last_listen(out).slot == "ward"


def test_procedure_asked_then_unknown_offers_operator() -> None:
    script = {"tôi muốn hỏi thủ tục": i("procedure_question"), "thủ tục nhận con nuôi": i("inform")}
    e = engine({**script, "có": i("affirm")})
    e.start()
    out = e.handle(Heard("tôi muốn hỏi thủ tục"))
    assert last_listen(out).slot == "procedure"
    out = e.handle(Heard("thủ tục nhận con nuôi"))
    assert "chưa có thông tin về thủ tục này" in says(out)
    assert last_listen(out) == Listen("operator_offer", "yesno")
    out = e.handle(Heard("có"))
    assert any(isinstance(a, Transfer) and a.reason == "procedure_unknown" for a in out)


def test_interpreter_crash_is_a_failed_turn_not_a_dropped_call() -> None:
    class Broken:
        def interpret(self, text, now):
            raise RuntimeError("rasa down")

    from nlu.dialogue import DialogueEngine

    e = DialogueEngine(Broken(), None, clock=lambda: NOW)
    e.start()
    out = e.handle(Heard("alo"))
    assert "chưa hiểu" in says(out)
    out = e.handle(Heard("alo alo"))
    assert any(isinstance(a, Transfer) for a in out)


def test_ticket_creation_failure_transfers_with_the_draft() -> None:
    e = engine(SCRIPT)
    e.start()
    for text in (REPORT, "phường hoàn kiếm", "tối nay lúc chín giờ", "tôi tên là nguyễn văn an", "có"):
        e.handle(Heard(text))
    e.handle(Heard("đúng rồi"))
    out = e.handle(TicketCreated(""))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.reason == "ticket_failed" and transfer.draft is not None and transfer.draft.is_complete


def test_interpreter_gets_the_engine_clock() -> None:
    e = engine(SCRIPT)
    e.start()
    e.handle(Heard(REPORT))
    assert e.interpreter.seen == [(REPORT, NOW)]

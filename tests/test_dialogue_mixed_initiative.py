"""Callers who do not follow the script: volunteered slots are taken and acknowledged, only turns with
nothing understood count as failures, corrections at any point, clean content, names and addresses."""

from __future__ import annotations

from dialogue_helpers import NOW, says

from nlu.dialogue import DialogueEngine, Digits, Heard, Transfer
from nlu.dialogue.engine import Phase
from nlu.dialogue.slots import address_from_place, correction_pieces, time_unknown
from nlu.interpreter import FallbackInterpreter
from nlu.knowledge import default_index
from nlu.normalize import extract_entities
from nlu.normalize.content import report_content


def engine(caller_id: str = "0912345678", city: str = "hanoi") -> DialogueEngine:
    e = DialogueEngine(
        FallbackInterpreter(city), default_index(), caller_id=caller_id, city=city, clock=lambda: NOW
    )
    e.start()
    return e


def test_name_and_phone_at_the_time_question_are_taken_and_do_not_count_as_failures() -> None:
    e = engine()
    out = e.handle(Heard("tôi phản ánh ở phường kim liên có quán karaoke hát to quá"))
    assert "lúc nào" in says(out)
    out = e.handle(Heard("tôi là phạm văn hùng"))
    assert "đã ghi nhận họ tên" in says(out) and "lúc nào" in says(out)
    out = e.handle(Heard("số của tôi là không chín tám tám một hai ba bốn năm sáu"))
    assert "đã ghi nhận số điện thoại" in says(out)
    out = e.handle(Heard("đúng rồi"))  # nothing for the question: one failure, not a transfer
    assert not any(isinstance(a, Transfer) for a in out) and "chưa hiểu" in says(out)
    out = e.handle(Heard("đang diễn ra đây này"))
    assert e.phase is Phase.CONFIRM, says(out)
    assert e.draft.name == "Phạm Văn Hùng" and e.draft.phone == "0988123456" and e.draft.time_text


def test_two_turns_with_nothing_understood_still_hand_over() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh rác ở phường láng không ai thu gom"))
    e.handle(Heard("đúng rồi"))
    out = e.handle(Heard("vâng"))
    assert any(isinstance(a, Transfer) for a in out)


def test_the_caller_not_knowing_the_time_answers_it() -> None:
    for answer in ("tôi không nhớ", "không rõ nữa", "đang diễn ra", "hổng nhớ, chắc mấy bữa rồi"):
        e = engine()
        e.handle(Heard("tôi muốn phản ánh rác ở phường láng không ai thu gom"))
        out = e.handle(Heard(answer))
        assert "họ và tên" in says(out), (answer, says(out))
        assert e.draft.time_text == answer


def test_name_and_id_number_in_one_breath() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh vỉa hè phố kim mã bị lấn chiếm ở phường giảng võ"))
    e.handle(Heard("chiều nay"))
    e.handle(Heard("bùi văn long số căn cước không không một không tám năm không một hai ba bốn năm"))
    assert e.draft.name == "Bùi Văn Long" and e.draft.cccd == "001085012345"


def test_a_name_given_for_the_place_is_a_name_and_the_address_comes_next() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh cống thoát nước bị tắc bốc mùi hôi thối"))
    out = e.handle(Heard("tôi là trần thị thu hà"))
    assert e.draft.name == "Trần Thị Thu Hà" and not e.draft.address
    assert "ở đâu" in says(out)
    e.handle(Heard("ở số 20 ngõ 40 đường xuân thủy phường cầu giấy"))
    assert e.draft.address == "số 20 ngõ 40 đường xuân thủy" and e.draft.ward == "Phường Cầu Giấy"


def test_content_is_filed_without_the_self_introduction() -> None:
    e = engine()
    e.handle(Heard("tên là nguyễn văn an tôi muốn phản ánh có đống rác to ở đầu ngõ 5 phố chùa láng"))
    assert e.draft.name == "Nguyễn Văn An"
    assert e.draft.content == "Có đống rác to ở đầu ngõ 5 phố chùa láng"
    assert any("nguyễn văn an" in text for who, text in e.draft.transcript if who == "caller")


def test_corrections_at_any_point() -> None:
    e = engine(city="cantho")
    e.handle(Heard("em muốn báo cống ở đường mậu thân bể nắp hôi quá"))
    e.handle(Heard("phường an hòa à hông phường tân an"))
    assert e.draft.ward == "Phường Tân An"
    e.handle(Heard("sáng nay"))
    e.handle(Heard("em tên đoàn thị hạnh"))
    e.handle(Heard("hông phải, số em là không bảy không chín tám tám bảy bảy sáu sáu"))
    assert e.draft.phone == "0709887766" and e.phase is Phase.CONFIRM
    e.handle(Heard("không phải phường tân an, phường cái khế"))
    assert e.draft.ward == "Phường Cái Khế" and e.phase is Phase.CONFIRM
    out = e.handle(Heard("sai thời gian rồi"))
    assert "lúc nào" in says(out) and not e.draft.incident_time
    e.handle(Heard("khoảng chín giờ tối qua"))
    assert e.draft.incident_time == "2026-11-21T21:00" and e.phase is Phase.CONFIRM
    e.handle(Heard("tối nay chứ không phải hôm qua"))
    assert e.draft.incident_time.startswith("2026-11-22") and e.phase is Phase.CONFIRM


def test_keypad_one_confirms_the_caller_id() -> None:
    e = engine(city="haiphong")
    e.handle(Heard("tôi muốn phản ánh đường bị đào bới không hoàn trả ở phường đông hải"))
    e.handle(Heard("cả tuần nay rồi"))
    e.handle(Heard("tôi tên là phùng văn toản"))
    e.handle(Digits("1"))
    assert e.phase is Phase.CONFIRM and e.draft.phone == "0912345678" and e.draft.phone_confirmed


def test_report_content_cleaning() -> None:
    assert report_content("alo tổng đài à, tôi muốn báo đèn đường ở ngõ 7 phố thái hà bị hỏng") == (
        "Đèn đường ở ngõ 7 phố thái hà bị hỏng"
    )
    assert report_content("à ừm tôi muốn, ờ, phản ánh cái việc là cái hố ga ở đầu ngõ bị bục nắp") == (
        "Hố ga ở đầu ngõ bị bục nắp"
    )
    text = "tôi là phạm văn hùng số điện thoại không chín tám tám một hai ba bốn năm sáu, nhà tôi bị nứt"
    assert report_content(text, "Phạm Văn Hùng") == "Nhà tôi bị nứt"
    assert report_content("tôi muốn phản ánh") == ""


def test_correction_pieces_time_and_address_helpers() -> None:
    assert correction_pieces("phường an hòa à không phường tân an")[-1] == "phường tân an"
    assert correction_pieces("tối nay chứ không phải hôm qua") == ["tối nay"]
    assert time_unknown("cái đấy thì không rõ lắm") and not time_unknown("tôi là phạm văn hùng")
    assert address_from_place("tôi là trần thị thu hà, phường cầu giấy", "Phường Cầu Giấy") == ""
    assert address_from_place("hẻm 8 đường mậu thân phường tân an", "Phường Tân An") == "hẻm 8 đường mậu thân"


def test_leading_name_needs_a_surname_and_a_next_slot_cue() -> None:
    assert extract_entities("trần văn khoa số căn cước không ba một", NOW)["name"] == "Trần Văn Khoa"
    assert "name" not in extract_entities("đường văn cao số nhà mười hai", NOW)
    assert "name" not in extract_entities("hồ sơ gì ở phường", NOW)


def test_a_ward_of_another_city_is_not_taken() -> None:
    e = engine(city="hanoi")
    e.handle(Heard("tôi muốn phản ánh rác thải ở đầu ngõ không ai thu gom"))
    out = e.handle(Heard("phường ninh kiều"))
    assert not e.draft.ward and "chưa hiểu" in says(out)
    e.handle(Heard("phường cầu giấy"))
    assert e.draft.ward == "Phường Cầu Giấy"


def test_a_street_named_like_a_ward_is_not_a_ward_and_pouring_concrete_is_no_collapse() -> None:
    from nlu.normalize import detect_urgency

    assert "ward" not in extract_entities("cây dầu ở đường hòa bình nghiêng muốn ngã", NOW, "hanoi")
    assert extract_entities("ở phường hòa bình", NOW, "haiphong")["ward"] == "Phường Hoà Bình"
    assert detect_urgency("công trình đang đổ bê tông ầm ầm")[0] is False
    assert detect_urgency("bức tường đang đổ")[0] is True


def test_while_a_report_is_taken_a_model_guess_does_not_end_or_transfer_the_call() -> None:
    from nlu.dialogue import Interpretation

    class Guessing(FallbackInterpreter):
        """A statistical model's misses: an operator request and a goodbye without their words."""

        def interpret(self, text, now=None):  # type: ignore[no-untyped-def]
            found = super().interpret(text, now)
            if text in ("tôi không muốn nói tên", "dạ có, gửi giùm em"):
                return Interpretation("request_operator", 0.8, found.entities, "rasa")
            if text == "ngày nào cũng thế":
                return Interpretation("goodbye", 0.38, found.entities, "rasa")
            return found

    e = DialogueEngine(Guessing("hanoi"), default_index(), caller_id="0912345678", clock=lambda: NOW)
    e.start()
    e.handle(Heard("tôi muốn phản ánh rác ở phường láng không ai thu gom"))
    e.handle(Heard("ngày nào cũng thế"))
    assert not e.finished and e.draft.time_text == "ngày nào cũng thế"
    out = e.handle(Heard("tôi không muốn nói tên"))
    assert not any(isinstance(a, Transfer) for a in out)
    out = e.handle(Heard("cho tôi gặp tổng đài viên"))
    assert any(isinstance(a, Transfer) for a in out)


def test_the_engine_says_which_services_it_gave() -> None:
    e = engine()
    e.handle(Heard("cho tôi hỏi thủ tục đăng ký khai sinh cần giấy tờ gì"))
    e.handle(Heard("tôi muốn khiếu nại cán bộ phường"))
    assert e.answered == ["procedure", "refusal"]

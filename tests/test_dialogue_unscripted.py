"""Callers the tuned scenarios did not foresee: who they are before what they want, the keypad's
operator key at any question, a time said with the incident, the status of a report asked in other
words, advertising asked as a favour, "that's all" and "I'll call back" as closings, names said with
hesitations, and content without the caller's residence or a vocative."""

from __future__ import annotations

import pytest
from dialogue_helpers import NOW, says

from nlu.dialogue import CreateTicket, DialogueEngine, Digits, Heard, Transfer
from nlu.dialogue.actions import LookupTicket
from nlu.dialogue.engine import Phase
from nlu.dialogue.scope import asks_report_status, out_of_scope
from nlu.dialogue.slots import name_from_answer, nothing_more, time_span
from nlu.intent_rules import says_goodbye
from nlu.interpreter import FallbackInterpreter, interpretation_from_rasa
from nlu.knowledge import default_index
from nlu.normalize import classify_category
from nlu.normalize.content import report_content


def engine(caller_id: str = "0912345678", city: str = "hanoi") -> DialogueEngine:
    e = DialogueEngine(
        FallbackInterpreter(city), default_index(), caller_id=caller_id, city=city, clock=lambda: NOW
    )
    e.start()
    return e


def test_identity_before_the_request_is_kept_and_not_asked_again() -> None:
    e = engine(caller_id="", city="cantho")
    out = e.handle(
        Heard(
            "dạ tui là trần văn bảy, căn cước không chín hai không tám không không không năm sáu bảy tám, "
            "số điện thoại không chín không năm một một một hai hai hai"
        )
    )
    assert "đã ghi nhận" in says(out) and "chưa hiểu" not in says(out)
    assert e.phase is Phase.MENU
    e.handle(Heard("tui muốn báo cái cống đường lý tự trọng bị nghẹt, mưa xuống là ngập"))
    e.handle(Heard("phường ninh kiều"))
    out = e.handle(Heard("hổng nhớ, lâu rồi"))
    assert e.phase is Phase.CONFIRM, says(out)
    assert (e.draft.name, e.draft.cccd, e.draft.phone) == ("Trần Văn Bảy", "092080005678", "0905111222")
    assert "căn cước" not in e.draft.content.lower() and "bảy" not in e.draft.content.lower()


def test_keypad_operator_key_works_at_a_report_question() -> None:
    e = engine()
    e.handle(Heard("tôi phản ánh chuyện nước máy nhà tôi bị đục"))
    out = e.handle(Digits("0"))
    [transfer] = [a for a in out if isinstance(a, Transfer)]
    assert transfer.reason == "caller_request" and transfer.draft is not None


def test_keypad_zero_is_a_digit_where_a_number_is_asked() -> None:
    e = engine(caller_id="")
    for text in ("tôi phản ánh đèn đường phố kim mã bị tắt", "phường giảng võ", "tối qua", "lê văn an"):
        e.handle(Heard(text))
    assert e.slot == "phone"
    out = e.handle(Digits("0"))
    assert not any(isinstance(a, Transfer) for a in out)


def test_a_definite_time_with_the_incident_answers_when() -> None:
    e = engine(city="haiphong")
    e.handle(Heard("em muốn báo mất nước từ sáng đến giờ ạ"))
    out = e.handle(Heard("dạ phường an biên ạ"))
    assert "họ và tên" in says(out) and e.draft.time_text == "từ sáng đến giờ"
    # told again at another question: understood, not a failure
    out = e.handle(Heard("từ sáng đến giờ rồi"))
    assert "chưa hiểu" not in says(out) and "họ và tên" in says(out)


def test_a_vague_span_with_the_incident_still_asks_when() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh rác thải đổ trộm ở đầu ngõ mấy hôm nay không ai thu gom"))
    out = e.handle(Heard("phường hoàn kiếm"))
    assert "lúc nào" in says(out)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("mất nước sinh hoạt ba ngày nay ở khu tập thể", "ba ngày nay"),
        ("từ hôm qua tới giờ", "từ hôm qua tới giờ"),
        ("hồi chiều", "hồi chiều"),
        ("nước chảy từ đầu ngõ", ""),
        ("từ tầng 5 rơi xuống", ""),
    ],
)
def test_time_spans(text: str, span: str) -> None:
    assert time_span(text) == span


def test_vague_spans_are_not_specific() -> None:
    assert time_span("mấy hôm nay rồi") and not time_span("mấy hôm nay rồi", specific=True)
    assert not time_span("ngày nào cũng thế", specific=True)


def test_report_status_asked_as_already_handled() -> None:
    assert asks_report_status("tôi gọi hỏi cái phản ánh hôm trước đã xử lý chưa")
    assert asks_report_status("phản ánh hôm trước của tôi được giải quyết chưa ạ")
    assert not asks_report_status("tôi phản ánh mấy lần rồi mà chưa được xử lý")
    e = engine()
    out = e.handle(Heard("tôi gọi hỏi cái phản ánh hôm trước đã xử lý chưa"))
    assert e.phase is Phase.TRACKING and not any(isinstance(a, LookupTicket) for a in out)


def test_advertising_asked_as_a_favour_is_refused_but_illegal_ads_are_reports() -> None:
    assert out_of_scope("bên anh có dịch vụ hút bể phốt giá rẻ, em quảng cáo giúp anh với") == "advertising"
    assert out_of_scope("nhờ tổng đài quảng cáo cho cửa hàng") == "advertising"
    assert out_of_scope("tôi muốn phản ánh biển quảng cáo trái phép") is None
    assert out_of_scope("tờ rơi quảng cáo dán đầy cột điện") is None


@pytest.mark.parametrize(
    "text",
    ["thôi để lúc khác tôi gọi lại nhé", "em gọi lại sau nha", "thôi em bận rồi, chừng nào rảnh em gọi lại"],
)
def test_calling_back_later_is_a_goodbye(text: str) -> None:
    assert says_goodbye(text)


@pytest.mark.parametrize("text", ["từ lúc khác", "tôi đang bận đi làm thì nghe tiếng nổ", "gọi lại cho tôi"])
def test_not_goodbyes(text: str) -> None:
    assert not says_goodbye(text)


def test_leaving_mid_report_keeps_the_draft_without_a_time() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh bãi đỗ xe trái phép ở phường đồ sơn"))
    out = e.handle(Heard("thôi để lúc khác tôi gọi lại nhé"))
    [create] = [a for a in out if isinstance(a, CreateTicket)]
    assert not create.complete and not create.draft.time_text and e.finished


def test_thats_all_answers_anything_else() -> None:
    assert nothing_more("thế thôi") and nothing_more("dạ hổng còn gì nữa chị") and nothing_more("hết rồi")
    assert not nothing_more("thôi cho tôi hỏi thêm") and not nothing_more("vâng")
    e = engine()
    e.handle(Heard("tôi muốn khiếu nại quyết định thu hồi đất của ủy ban phường"))
    e.handle(Heard("thế thôi"))
    assert e.finished


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("tui tên kim văn sol", "Kim Văn Sol"),
        ("dạ em tên là ờ phan văn lợi", "Phan Văn Lợi"),
        ("tôi tên lâm, lâm văn quý", "Lâm Văn Quý"),
        ("nguyễn văn an, phường cầu giấy", ""),
        ("trần thành công", "Trần Thành Công"),
    ],
)
def test_names_from_answers(text: str, name: str) -> None:
    assert name_from_answer(text) == name


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("tôi ở xã đông anh, muốn phản ánh người ta đốt rơm rạ", "Người ta đốt rơm rạ"),
        ("dạ o ơi, tui ở phường hà đông, có cái cây to bị gãy cành", "Có cái cây to bị gãy cành"),
        ("ờ ờ thì là... cái, cái rãnh thoát nước bị tắc", "Cái rãnh thoát nước bị tắc"),
        ("ở phường tương mai có một bãi rác to", "Ở phường tương mai có một bãi rác to"),
    ],
)
def test_content_without_residence_vocative_or_stutter(text: str, content: str) -> None:
    assert report_content(text) == content


def test_a_long_turn_is_no_closing_whatever_the_model_says() -> None:
    text = "cho em hỏi sao khu nhà em cúp điện hoài vậy, tuần này cúp ba lần rồi"
    body = {"intent": {"name": "goodbye", "confidence": 0.9}, "entities": []}
    nlu = interpretation_from_rasa(body, text, NOW, "cantho")
    assert nlu.intent == "report" and nlu.entities.get("category") == "DIEN"
    short = interpretation_from_rasa(body, "thôi chào em nhé", NOW, "cantho")
    assert short.intent == "goodbye"


def test_a_burst_water_main_is_water_supply() -> None:
    assert classify_category("đường ống cấp nước bị vỡ phun nước lên cao") == "NUOC"
    assert classify_category("nước lên tới đầu gối") == "TN"


def test_a_correction_at_read_back_with_a_value_that_reads_the_same_asks_nothing() -> None:
    e = engine(caller_id="")
    for text in (
        "tôi muốn phản ánh ô tô đỗ trên vỉa hè phố nguyễn chí thanh",
        "phường láng",
        "sáng nay",
        "đặng thị hồng nhung",
        "không chín bốn bốn, một hai ba, bốn năm sáu",
    ):
        e.handle(Heard(text))
    assert e.phase is Phase.CONFIRM
    out = e.handle(Heard("à thời gian là chiều nay chứ không phải sáng nay"))
    assert e.phase is Phase.CONFIRM and "nhắc lại" in says(out)
    out = e.handle(Heard("đúng rồi"))
    assert any(isinstance(a, CreateTicket) and a.complete for a in out)

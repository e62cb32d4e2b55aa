"""Conversations through the engine with the real rule-based interpreter and normalisers."""

from __future__ import annotations

from dialogue_helpers import NOW, says

from nlu.dialogue import DialogueEngine, Heard, LookupDossier, LookupTicket, Transfer
from nlu.dialogue.slots import digits_vi
from nlu.interpreter import FallbackInterpreter
from nlu.knowledge import default_index
from ticketing.domain import tracking


def engine(caller_id: str = "0912345678") -> DialogueEngine:
    e = DialogueEngine(FallbackInterpreter("hanoi"), default_index(), caller_id=caller_id, clock=lambda: NOW)
    e.start()
    return e


def test_spoken_dossier_code_is_looked_up() -> None:
    e = engine()
    e.handle(Heard("tôi muốn tra cứu hồ sơ"))
    out = e.handle(Heard("hát hai sáu gạch hai sáu mười một hai mươi gạch không không mười hai"))
    lookups = [a for a in out if isinstance(a, LookupDossier)]
    assert len(lookups) == 1 and lookups[0].code.endswith("261120-0012")


def test_spoken_tracking_code_is_checked_and_looked_up() -> None:
    code = tracking.make_code(345)
    e = engine()
    e.handle(Heard("tôi muốn hỏi tình trạng xử lý phản ánh"))
    out = e.handle(Heard(digits_vi(code)))
    assert LookupTicket(code) in out


def test_full_report_by_voice_reaches_the_read_back() -> None:
    e = engine()
    e.handle(Heard("tôi muốn phản ánh đèn đường ở ngõ 7 phố thái hà bị hỏng cả tuần nay"))
    e.handle(Heard("phường đống đa"))
    e.handle(Heard("từ tối hôm qua"))
    e.handle(Heard("tôi tên là trần thị bích ngọc"))
    out = e.handle(Heard("đúng rồi"))
    assert "Thông tin trên có đúng không" in says(out), says(out)
    assert e.draft.name == "Trần Thị Bích Ngọc" and e.draft.ward == "Phường Đống Đa"
    assert e.draft.category == "CS" and e.draft.incident_time.startswith("2026-11-21")


def test_urgent_voice_report_is_transferred_with_priority() -> None:
    e = engine()
    out = e.handle(Heard("có cây đổ đè vào người đi đường ở phố huế"))
    transfers = [a for a in out if isinstance(a, Transfer)]
    assert transfers and transfers[0].urgent

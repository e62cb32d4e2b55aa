"""Which ticket events queue which messages: the real service, the notification hook and the outbox on
SQLite and PostgreSQL, with the shipped Hanoi and 1022 (Hải Phòng) presets and a clock the test moves."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.scheduler_world import VN, World, set_contacts, world
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import Status
from ticketing.notify import ascii_sms

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=VN)
PERSONAL = ("0912345678", "Nguyễn Văn An", "Nguyen Van An", "001190012345")


def _keys(w: World) -> list[str]:
    return [m.dedupe_key for m in w.messages()]


def _no_personal_data_to_agencies(w: World) -> None:
    for m in w.messages():
        if m.kind in ("assignment", "escalation"):
            for secret in PERSONAL:
                assert secret not in m.body and secret not in m.subject, (m.dedupe_key, secret)


def test_ascii_sms_folds_vietnamese() -> None:
    assert (
        ascii_sms("Ủy ban nhân dân phường Hoàn Kiếm, Đống Đa") == "Uy ban nhan dan phuong Hoan Kiem, Dong Da"
    )


def test_create_dispatch_complete_and_clarification_queue_their_messages(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY) as w:
        set_contacts(w, "UBND-00070", "hk")
        code = w.create("hanoi", "00070")
        assert _keys(w) == [f"tracking_code:{code}:sms"]
        tracking = w.messages()[0]
        assert tracking.recipient == "0912345678" and code in tracking.body and tracking.body.isascii()

        w.clock.advance(hours=1)
        t = w.tickets.dispatch(code, "dieu-phoi")
        assert t.lead_agency == "UBND-00070"
        keys = _keys(w)
        assert f"assignment:{code}:UBND-00070:1:sms" in keys
        assert f"assignment:{code}:UBND-00070:1:email" in keys
        mail = next(m for m in w.messages() if m.dedupe_key.endswith(":1:email"))
        assert mail.recipient == "hk@example.vn"
        assert "Ủy ban nhân dân phường Hoàn Kiếm" in mail.subject
        assert "Kính gửi Cán bộ hk" in mail.body and "Vệ sinh môi trường" in mail.body
        assert "Hạn xử lý: 10:00 11/03/2026." in mail.body  # 7 working days from Mon 02/03 10:00
        sms = next(m for m in w.messages() if m.dedupe_key.endswith(":1:sms"))
        assert sms.recipient == "0901000001" and sms.body.isascii() and "Phuong Hoan Kiem" in sms.body

        w.clock.advance(hours=1)
        w.tickets.accept(code, "hk")
        w.tickets.complete(code, "Đã thu gom xong", "hk", evidence=[w.evidence])
        result = [m for m in w.messages() if m.kind == "result"]
        assert [m.dedupe_key for m in result] == [f"result:{code}:sms"]
        assert result[0].recipient == "0912345678"
        assert f"https://1022.example.gov.vn/tra-cuu/{code}" in result[0].body

        w.clock.advance(hours=2)
        w.tickets.request_clarification(code, "Còn rác ở cuối ngõ", "citizen")
        # the request reaches the lead agency's focal officer (iHN Art. 13)
        asked = [m for m in w.messages() if m.kind == "citizen_follow_up"]
        assert {m.recipient for m in asked} == {"0901000001", "hk@example.vn"}
        assert any("Còn rác ở cuối ngõ" in m.body for m in asked)
        w.tickets.answer_clarification(code, "Đã thu gom nốt cuối ngõ", "hk")
        assert _keys(w)[-1] == f"clarification_answer:{code}:sms"
        _no_personal_data_to_agencies(w)
        assert len(_keys(w)) == len(set(_keys(w))) == 7


def test_a_refused_change_queues_nothing(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY) as w:
        code = w.create("hanoi", "00070")
        before = _keys(w)
        with pytest.raises(ValidationError):
            w.tickets.dispatch(code, "dieu-phoi", agency="NO-SUCH-AGENCY")
        assert _keys(w) == before
        assert w.tickets.get(code).status is Status.NEW


def test_a_ticket_transferred_twice_notifies_each_new_agency(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY) as w:
        for agency in ("UBND-00070", "SO-XD", "MT-HN"):
            set_contacts(w, agency, agency.lower())
        code = w.create("hanoi", "00070")
        w.tickets.dispatch(code, "dieu-phoi")
        w.clock.advance(hours=1)
        w.tickets.transfer(code, "SO-XD", "Thuộc thẩm quyền Sở Xây dựng", "ubnd")
        w.clock.advance(hours=1)
        w.tickets.transfer(code, "MT-HN", "Thu gom rác là việc của URENCO", "so-xd")
        assignments = [m for m in w.messages() if m.kind == "assignment" and m.channel == "email"]
        assert [(m.recipient, m.dedupe_key) for m in assignments] == [
            ("ubnd-00070@example.vn", f"assignment:{code}:UBND-00070:1:email"),
            ("so-xd@example.vn", f"assignment:{code}:SO-XD:2:email"),
            ("mt-hn@example.vn", f"assignment:{code}:MT-HN:3:email"),
        ]


def test_1022_ladder_notifies_focal_head_then_leadership_once(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY, cities=("haiphong",)) as w:
        set_contacts(w, "HP-SO-NNMT", "nnmt")
        code = w.create("haiphong", "10510")
        w.tickets.dispatch(code, "dieu-phoi", agency="HP-SO-NNMT")
        t = w.tickets.get(code)
        assert t.due_at == datetime(2026, 3, 3, 9, 0, tzinfo=VN)  # 8 working hours

        w.clock.at = datetime(2026, 3, 3, 9, 30, tzinfo=VN)
        assert w.tickets.sweep_deadlines("haiphong") == [code]
        esc = [m for m in w.messages() if m.kind == "escalation"]
        assert sorted((m.recipient, m.dedupe_key) for m in esc) == [
            ("0901000002", f"escalation:{code}:1:HEAD:0:sms"),
            ("head-nnmt@example.vn", f"escalation:{code}:1:HEAD:0:email"),
        ]
        assert "chuyển thủ trưởng đơn vị" in next(m.subject for m in esc if m.channel == "email")
        assert not w.tickets.get(code).overdue
        # the head has 48 working hours (6 working days): until Wed 11/03 09:00
        assert w.tickets.sweep_deadlines("haiphong") == []
        w.clock.at = datetime(2026, 3, 11, 9, 0, tzinfo=VN)
        assert w.tickets.sweep_deadlines("haiphong") == []
        w.clock.at = datetime(2026, 3, 11, 9, 1, tzinfo=VN)
        assert w.tickets.sweep_deadlines("haiphong") == [code]
        t = w.tickets.get(code)
        assert t.overdue and t.escalation_level == 2
        esc2 = [m for m in w.messages() if m.kind == "escalation" and ":2:" in m.dedupe_key]
        assert sorted(m.recipient for m in esc2) == sorted(
            ["0901000002", "head-nnmt@example.vn", "0243000111", "lanhdao@example.gov.vn"]
        )
        mail = next(m for m in esc2 if m.recipient == "lanhdao@example.gov.vn")
        assert "đã quá hạn, báo cáo lãnh đạo thành phố" in mail.subject
        assert "Thủ trưởng đơn vị chưa xử lý xong trước hạn 09:00 11/03/2026" in mail.body
        count = len(w.messages())
        w.clock.advance(days=3)
        assert w.tickets.sweep_deadlines("haiphong") == []
        assert len(w.messages()) == count
        _no_personal_data_to_agencies(w)


def test_undispatched_past_its_deadline_reports_to_leadership(db_url: str, tmp_path: Path) -> None:
    with world(db_url, tmp_path, MONDAY) as w:
        code = w.create("hanoi", "00070")
        w.clock.at = datetime(2026, 3, 3, 9, 1, tzinfo=VN)  # 8 working hours after creation have passed
        assert w.tickets.sweep_deadlines("hanoi") == [code]
        esc = [m for m in w.messages() if m.kind == "escalation"]
        assert sorted(m.dedupe_key for m in esc) == [
            f"escalation:{code}:overdue:0:email",
            f"escalation:{code}:overdue:0:sms",
        ]
        assert all(m.recipient in ("0243000111", "lanhdao@example.gov.vn") for m in esc)
        w.clock.advance(hours=5)
        w.tickets.sweep_deadlines("hanoi")
        assert len([m for m in w.messages() if m.kind == "escalation"]) == 2

"""TicketService and AdminService end to end on SQLite and the real PostgreSQL, with the real domain
rules, the shipped calendar/SLA presets and the on-disk attachment store; only the clock is fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from ticketing import calendar_config
from ticketing.attachments import FileAttachmentStore
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.repositories import SqlUnitOfWork
from ticketing.domain import tracking
from ticketing.domain.errors import DomainError, TransitionError, ValidationError
from ticketing.domain.model import AttachmentKind, Priority, Rating, Status
from ticketing.domain.sla import SlaError
from ticketing.ports import AgencyRecord, TicketQuery
from ticketing.service import AdminService, TicketNotFound, TicketService

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@dataclass
class World:
    tickets: TicketService
    admin: AdminService
    clock: FixedClock
    store: FileAttachmentStore
    uow: Any


@pytest.fixture
def world(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    settings = Settings()
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=VN))  # a Monday
    store = FileAttachmentStore(tmp_path / "attachments")

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory)

    svc = TicketService(
        uow,
        store,
        clock,
        lambda city: calendar_config.calendar_for(city, settings),
        lambda city: calendar_config.preset_for(city, settings),
        city="hanoi",
    )
    admin = AdminService(uow, clock, city="hanoi")
    admin.import_agencies("hanoi", "admin")
    yield World(svc, admin, clock, store, uow)
    engine.dispose()


REPORT: dict[str, Any] = {
    "channel": "phone",
    "kind": "field_report",
    "category": "VSMT",
    "priority": "normal",
    "caller": {"name": "Nguyễn Văn An", "phone": "0912345678", "cccd": "001190012345"},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày chưa thu gom",
    "incident_time": "2026-03-01T18:30",
}


def _audit_count(w: World) -> int:
    with w.uow() as uow:
        return len(uow.audit.entries())


def _evidence(tmp_path: Path, name: str = "bien_ban.jpg", data: bytes = b"\xff\xd8 anh hien truong") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_create_assigns_code_routes_and_sets_dispatch_deadline(world: World) -> None:
    created = world.tickets.create(REPORT, "ai-bot")
    t = created.ticket
    assert tracking.is_valid(t.code) and tracking.sequence_of(t.code) == 1
    assert t.status is Status.NEW
    assert t.lead_agency == "UBND-00070"  # place-bound category: the ward People's Committee
    assert "UBND" in created.routing_reason or "ward" in created.routing_reason
    assert t.place.ward_name == "Phường Hoàn Kiếm"
    assert t.incident_time == datetime(2026, 3, 1, 18, 30, tzinfo=VN)
    assert t.dispatch_due == datetime(2026, 3, 3, 9, 0, tzinfo=VN)  # 8 working hours from Mon 09:00
    stored = world.tickets.get(t.code)
    assert stored == t
    (entry,) = world.tickets.audit_trail(t.code)
    assert entry.action == "create" and entry.actor == "ai-bot" and entry.after is not None
    assert entry.after["status"] == "Mới tạo"


def test_routing_rule_overrides_default(world: World) -> None:
    world.admin.add_rule("VSMT", "", "MT-HN", "admin")
    assert world.tickets.create(REPORT, "ai-bot").ticket.lead_agency == "MT-HN"
    decision = world.admin.test_route("VSMT", "00070")
    assert decision.agency == "MT-HN" and decision.rule is not None


def test_full_lifecycle_with_coordinator_and_evidence(world: World, tmp_path: Path) -> None:
    code = world.tickets.create(REPORT, "ai-bot").ticket.code
    world.clock.advance(hours=1)
    t = world.tickets.dispatch(code, "dieu-phoi")
    assert t.status is Status.DISPATCHED and t.lead_agency == "UBND-00070"
    assert t.due_at == datetime(2026, 3, 11, 10, 0, tzinfo=VN)  # 7 working days from Mon 10:00
    world.clock.advance(hours=1)
    t = world.tickets.accept(code, "ubnd-hk")
    assert t.status is Status.IN_PROGRESS
    world.tickets.add_coordinator(code, "MT-HN", "ubnd-hk")
    world.tickets.post_part(code, "MT-HN", "Đã điều xe thu gom lúc 14:00.", "urenco")
    world.clock.advance(hours=3)
    t = world.tickets.complete(code, "Đã thu gom toàn bộ rác.", "ubnd-hk", [_evidence(tmp_path)])
    assert t.status is Status.DONE and t.closed_at == world.clock.at
    (att,) = t.attachments
    assert att.kind is AttachmentKind.EVIDENCE and att.filename == "bien_ban.jpg"
    assert world.store.read(att.sha256) == b"\xff\xd8 anh hien truong"
    world.clock.advance(days=1)
    world.tickets.rate(code, Rating.SATISFIED.value, "citizen")
    t = world.tickets.request_clarification(code, "Xin ảnh sau khi thu gom", "citizen")
    t = world.tickets.answer_clarification(code, "Đã gửi ảnh kèm theo", "ubnd-hk")
    again = world.tickets.get(code)
    assert again == t
    assert [e.action for e in again.history] == [
        "create",
        "dispatch",
        "accept",
        "add_coordinator",
        "post_coordinator_part",
        "add_attachment",
        "complete",
        "rate",
        "request_clarification",
        "answer_clarification",
    ]
    actions = [e.action for e in world.tickets.audit_trail(code)]
    assert actions[0] == "create" and actions[-1] == "answer_clarification" and len(actions) == 9


def test_refused_steps_change_nothing(world: World, tmp_path: Path) -> None:
    code = world.tickets.create(REPORT, "ai-bot").ticket.code
    before, audits = world.tickets.get(code), _audit_count(world)
    with pytest.raises(TransitionError):
        world.tickets.complete(code, "Xong", "x", [_evidence(tmp_path)])  # not accepted yet
    world.tickets.dispatch(code, "d")
    world.tickets.accept(code, "a")
    before, audits = world.tickets.get(code), _audit_count(world)
    with pytest.raises(ValidationError, match=r"evidence|minh chứng"):
        world.tickets.complete(code, "Xong", "a")  # no evidence
    with pytest.raises(ValidationError):
        world.tickets.reject(code, "  ", "a")  # no reason
    with pytest.raises(ValidationError):
        world.tickets.transfer(code, "KHONG-CO", "sai thẩm quyền", "a")  # unknown agency
    with pytest.raises(ValidationError):
        world.tickets.complete(code, "Xong", "a", [tmp_path / "missing.jpg"])
    assert world.tickets.get(code) == before
    assert _audit_count(world) == audits


def test_unknown_ward_creates_nothing_and_consumes_no_number(world: World) -> None:
    bad = {**REPORT, "place": {"ward_code": "99999"}}
    with pytest.raises(ValidationError, match="99999"):
        world.tickets.create(bad, "ai-bot")
    with pytest.raises(ValidationError, match=r"(?i)malformed date"):
        world.tickets.create({**REPORT, "incident_time": "hôm qua"}, "ai-bot")
    with pytest.raises(ValidationError, match="unknown city"):
        world.tickets.create({**REPORT, "city": "hue"}, "ai-bot")
    with pytest.raises(ValidationError, match="unknown fields"):
        world.tickets.create({**REPORT, "colour": "red"}, "ai-bot")
    assert world.tickets.find(TicketQuery()) == []
    assert tracking.sequence_of(world.tickets.create(REPORT, "ai-bot").ticket.code) == 1


def test_bad_codes(world: World) -> None:
    with pytest.raises(ValidationError, match="invalid tracking code"):
        world.tickets.get("000000011")  # wrong check digit
    with pytest.raises(TicketNotFound):
        world.tickets.get(tracking.make_code(42))


def test_transfer_restarts_deadline(world: World) -> None:
    code = world.tickets.create(REPORT, "ai-bot").ticket.code
    world.tickets.dispatch(code, "d")
    world.tickets.accept(code, "a")
    world.clock.advance(days=1)
    t = world.tickets.transfer(code, "MT-HN", "Thuộc thẩm quyền công ty môi trường", "a")
    assert t.status is Status.DISPATCHED and t.lead_agency == "MT-HN"
    assert t.dispatched_at == world.clock.at and t.due_at == datetime(2026, 3, 12, 9, 0, tzinfo=VN)


def test_extension_only_once_and_capped(world: World) -> None:
    code = world.tickets.create({**REPORT, "priority": Priority.COMPLEX.value}, "ai-bot").ticket.code
    world.tickets.dispatch(code, "d")
    t = world.tickets.accept(code, "a")
    first_due = t.due_at
    with pytest.raises(SlaError):
        world.tickets.extend(code, 20, "quá dài", "a")  # 15 + 20 > 30 working days
    t = world.tickets.extend(code, 10, "Cần phối hợp nhiều đơn vị", "a")
    assert t.extensions == 1 and t.due_at is not None and first_due is not None and t.due_at > first_due
    with pytest.raises((SlaError, DomainError)):
        world.tickets.extend(code, 1, "lần hai", "a")


def test_normal_ticket_cannot_be_extended(world: World) -> None:
    code = world.tickets.create(REPORT, "ai-bot").ticket.code
    world.tickets.dispatch(code, "d")
    with pytest.raises(SlaError):
        world.tickets.extend(code, 2, "x", "a")


def test_draft_approve_and_send_back(world: World, tmp_path: Path) -> None:
    code = world.tickets.create(REPORT, "ai-bot").ticket.code
    world.tickets.dispatch(code, "d")
    world.tickets.accept(code, "officer")
    t = world.tickets.draft_result(code, "Đã xử lý", "officer", [_evidence(tmp_path)])
    assert t.status is Status.AWAITING_APPROVAL
    t = world.tickets.send_back(code, "Thiếu ảnh sau xử lý", "head")
    assert t.status is Status.IN_PROGRESS
    world.tickets.draft_result(code, "Đã xử lý, có ảnh", "officer", [_evidence(tmp_path, "sau.jpg", b"sau")])
    t = world.tickets.approve(code, "head")
    assert t.status is Status.DONE and t.result == "Đã xử lý, có ảnh" and len(t.attachments) == 2


def test_duplicates_are_found_and_marked(world: World) -> None:
    first = world.tickets.create(REPORT, "ai-bot").ticket.code
    world.tickets.dispatch(first, "d")
    world.tickets.accept(first, "a")
    world.clock.advance(hours=2)
    second = world.tickets.create(REPORT, "ai-bot")
    assert [c.code for c in second.duplicates] == [first]
    t = world.tickets.mark_duplicate(second.ticket.code, first, "d")
    assert t.status is Status.REJECTED and t.duplicate_of == first
    other_ward = world.tickets.create({**REPORT, "place": {"ward_code": "00004"}}, "ai-bot")
    assert other_ward.duplicates == ()


def test_list_filters_and_overdue_sweep(world: World) -> None:
    a = world.tickets.create(REPORT, "ai-bot").ticket.code
    b = world.tickets.create(
        {**REPORT, "category": "TO", "content": "Karaoke ồn sau 23 giờ"}, "ai-bot"
    ).ticket.code
    world.tickets.dispatch(a, "d")
    assert [t.code for t in world.tickets.find(TicketQuery(category="TO"))] == [b]
    assert [
        t.code
        for t in world.tickets.find(TicketQuery(lead_agency="UBND-00070", statuses=[Status.DISPATCHED]))
    ] == [a]
    world.clock.advance(days=30)
    changed = world.tickets.sweep_deadlines()
    assert sorted(changed) == sorted([a, b])
    assert all(world.tickets.get(c).overdue for c in (a, b))
    assert world.tickets.sweep_deadlines() == []  # idempotent
    overdue = world.tickets.find(TicketQuery(overdue_at=world.clock.at))
    assert {t.code for t in overdue} == {a, b}


def test_admin_agencies(world: World) -> None:
    assert world.admin.import_agencies("hanoi", "admin") == (0, 0)  # idempotent
    hanoi = world.admin.agencies(city="hanoi")
    assert sum(1 for x in hanoi if x.kind == "ward_committee") == 126
    rec = world.admin.set_contact(
        "SO-XD", "admin", name="Trần Thị Bình", phone="0243 825 3666", email="b@hanoi.gov.vn"
    )
    assert rec.focal_name == "Trần Thị Bình"
    assert world.admin.import_agencies("hanoi", "admin") == (0, 0)
    sxd = next(x for x in world.admin.agencies(city="hanoi") if x.code == "SO-XD")
    assert sxd.focal_email == "b@hanoi.gov.vn"
    world.admin.add_agency(AgencyRecord("CTY-X", "Công ty Thoát nước số 2", "utility", "hanoi"), "admin")
    with pytest.raises(ValidationError, match="already exists"):
        world.admin.add_agency(AgencyRecord("CTY-X", "Trùng", "utility", "hanoi"), "admin")
    with pytest.raises(ValidationError):
        world.admin.add_agency(AgencyRecord("CTY-Y", "Y", "spaceship", "hanoi"), "admin")
    with pytest.raises(ValidationError):
        world.admin.set_contact("SO-XD", "admin", email="not-an-email")
    with pytest.raises(ValidationError):
        world.admin.add_rule("VSMT", "99999", "SO-XD", "admin")
    with pytest.raises(ValidationError):
        world.admin.add_rule("VSMT", "00070", "KHONG-CO", "admin")


def test_create_with_recording_in_one_transaction(world: World, tmp_path: Path) -> None:
    from ticketing.service import NewAttachment

    wav = b"RIFF....WAVEfmt " + bytes(200)
    created = world.tickets.create(
        REPORT,
        "ai-operator",
        [
            NewAttachment("call-1.wav", AttachmentKind.RECORDING, data=wav),
            NewAttachment("transcript.txt", AttachmentKind.TRANSCRIPT, data="Người gọi: rác".encode()),
        ],
    )
    t = world.tickets.get(created.ticket.code)
    assert [(a.kind, a.filename) for a in t.attachments] == [
        (AttachmentKind.RECORDING, "call-1.wav"),
        (AttachmentKind.TRANSCRIPT, "transcript.txt"),
    ]
    assert world.store.read(t.attachments[0].sha256) == wav
    assert t.attachments[0].media_type in {"audio/wav", "audio/x-wav"}
    # a bad attachment refuses the whole creation
    with pytest.raises(ValidationError, match="file not found"):
        world.tickets.create(
            REPORT, "ai-operator", [NewAttachment("x.jpg", AttachmentKind.PHOTO, path=tmp_path / "x")]
        )
    assert len(world.tickets.find(TicketQuery())) == 1


def test_draft_is_completed_after_call_back(world: World) -> None:
    draft = world.tickets.create(
        {**REPORT, "complete": False, "content": "", "place": {}}, "ai-operator"
    ).ticket
    assert draft.status is Status.DRAFT and draft.dispatch_due is None
    world.clock.advance(hours=1)
    with pytest.raises(TransitionError):
        world.tickets.dispatch(draft.code, "d")
    t = world.tickets.complete_draft(
        draft.code,
        {"content": "Rác tồn đọng đầu ngõ 5 Hàng Bông", "place": {"ward_code": "00070", "address": "Ngõ 5"}},
        "tong-dai-vien",
    )
    assert t.status is Status.NEW and t.lead_agency == "UBND-00070"
    assert t.dispatch_due == datetime(2026, 3, 3, 10, 0, tzinfo=VN)  # 8 wh from Mon 10:00
    with pytest.raises(ValidationError, match="cannot be set"):
        world.tickets.complete_draft(draft.code, {"status": "done"}, "x")


def test_concurrent_creates_get_distinct_codes(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> str:
        return world.tickets.create({**REPORT, "content": f"Phản ánh số {i}"}, f"worker-{i % 4}").ticket.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(create, range(40)))
    assert sorted(tracking.sequence_of(c) for c in codes) == list(range(1, 41))
    with world.uow() as uow:
        assert len(uow.audit.entries("ticket")) == 40


def test_change_hooks_run_inside_the_transaction(world: World) -> None:
    seen: list[tuple[str, str]] = []

    def hook(uow: Any, action: str, ticket: Any) -> None:
        seen.append((action, ticket.status.value))
        if action == "reject":
            raise ValidationError("hook refused / hook refused")

    svc = TicketService(
        world.tickets.uow,
        world.store,
        world.clock,
        world.tickets.calendar_for,
        world.tickets.preset_for,
        on_change=[hook],
    )
    code = svc.create(REPORT, "ai-bot").ticket.code
    svc.dispatch(code, "d")
    with pytest.raises(ValidationError, match="hook refused"):
        svc.reject(code, "không thuộc thẩm quyền", "d")
    assert seen == [("create", "Mới tạo"), ("dispatch", "Đã chuyển xử lý"), ("reject", "Từ chối")]
    assert svc.get(code).status is Status.DISPATCHED  # the refused change was rolled back


def test_audit_stores_what_changed_not_the_whole_ticket(world: World, tmp_path: Path) -> None:
    """One dispatch of a ticket with a long transcript used to store two full copies of it."""
    import json

    big = {**REPORT, "transcript": "Người gọi: rác tồn đọng ở ngõ 5. " * 2_500}  # ~80,000 characters
    code = world.tickets.create(big, "ai-bot").ticket.code
    world.tickets.dispatch(code, "dieu-phoi")
    world.tickets.accept(code, "ubnd")
    world.tickets.complete(code, "Đã thu gom", "ubnd", [_evidence(tmp_path)])
    create, dispatch, accept, complete = world.tickets.audit_trail(code)
    assert len(json.dumps(create.after, default=str, ensure_ascii=False)) > 80_000  # creating it: all new
    for entry in (dispatch, accept, complete):
        size = len(json.dumps(entry.before, default=str)) + len(json.dumps(entry.after, default=str))
        assert size < 4_000, (entry.action, size)
        assert "transcript" not in (entry.after or {})
    assert dispatch.before is not None and dispatch.after is not None
    assert dispatch.before["status"] == "Mới tạo" and dispatch.after["status"] == "Đã chuyển xử lý"
    assert complete.before["attachments"] == {"count": 0}
    assert complete.after["attachments"]["count"] == 1
    assert complete.after["attachments"]["added"][0]["filename"] == "bien_ban.jpg"


def test_audit_diff_of_nested_fields() -> None:
    from ticketing.service import audit_diff

    before = {"status": "a", "caller": {"name": "", "phone": "09"}, "tags": [1], "same": [1, 2]}
    after = {"status": "a", "caller": {"name": "An", "phone": "09"}, "tags": [2], "same": [1, 2], "new": 1}
    assert audit_diff(before, after) == (
        {"caller": {"name": ""}, "tags": [1], "new": None},
        {"caller": {"name": "An"}, "tags": [2], "new": 1},
    )

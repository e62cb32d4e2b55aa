"""The ticket workflow: every step allowed from the right statuses, refused (changing nothing) from the
others, and the rules of HN Art. 6-10, iHN Art. 7-13 and CT Art. 9 on top."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.domain import workflow as wf
from ticketing.domain.errors import DomainError, TransitionError, ValidationError
from ticketing.domain.model import (
    Attachment,
    AttachmentKind,
    Caller,
    Channel,
    Kind,
    Place,
    Priority,
    Rating,
    Status,
    Ticket,
)
from ticketing.domain.tracking import make_code

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 9, 9, 0, tzinfo=VN)  # a Monday
HOAN_KIEM = "00070"
OFFICER = "canbo.hk"
HEAD = "truongphong.hk"

_seq = iter(range(1, 10**6))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def sha(n: int) -> str:
    return f"{n:064x}"


def attachment(kind: AttachmentKind = AttachmentKind.EVIDENCE, n: int = 1) -> Attachment:
    return Attachment(
        sha256=sha(n),
        kind=kind,
        filename=f"anh-{n}.jpg",
        media_type="image/jpeg",
        size=1024,
        added_at=T0,
        added_by=OFFICER,
    )


def create(complete: bool = True, content: str = "Rác thải ùn ứ ở đầu ngõ 12 Hàng Bài, bốc mùi") -> Ticket:
    return wf.new_ticket(
        make_code(next(_seq)),
        Channel.PHONE,
        Kind.FIELD_REPORT,
        "VSMT",
        Priority.NORMAL,
        Caller(name="Nguyễn Văn An", phone="0912345678"),
        Place(address="ngõ 12 Hàng Bài", ward_code=HOAN_KIEM),
        content,
        "ai-operator",
        T0,
        complete=complete,
    )


def ticket_in(status: Status) -> Ticket:
    """A ticket brought to ``status`` through the real workflow steps."""
    if status == Status.DRAFT:
        return create(complete=False, content="")
    t = create()
    if status == Status.NEW:
        return t
    if status == Status.REJECTED:
        wf.reject(t, "Thông tin không đầy đủ", "phanluong", at(1))
        return t
    wf.dispatch(t, "UBND-00070", "phanluong", at(1))
    if status == Status.DISPATCHED:
        return t
    wf.accept(t, OFFICER, at(2))
    if status == Status.IN_PROGRESS:
        return t
    wf.add_attachment(t, attachment(), OFFICER, at(3))
    if status == Status.DONE:
        wf.complete(t, "Đã thu gom rác", OFFICER, at(4))
        return t
    wf.draft_result(t, "Đã thu gom rác, vệ sinh khu vực", OFFICER, at(4))
    assert status == Status.AWAITING_APPROVAL
    return t


def accepted_original() -> Ticket:
    return ticket_in(Status.IN_PROGRESS)


OPEN = {Status.DRAFT, Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS, Status.AWAITING_APPROVAL}
BEFORE_RESULT = {Status.DRAFT, Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS}

# action name -> (statuses it may start from, resulting status or None for "unchanged", the call)
Step = Callable[[Ticket], None]
TABLE: dict[str, tuple[set[Status], Status | None, Step]] = {
    "complete_draft": (
        {Status.DRAFT},
        Status.NEW,
        lambda t: wf.complete_draft(t, "tongdaivien", at(5), content="Cây đổ chắn ngang đường"),
    ),
    "dispatch": ({Status.NEW}, Status.DISPATCHED, lambda t: wf.dispatch(t, "SO-XD", "phanluong", at(5))),
    "accept": ({Status.DISPATCHED}, Status.IN_PROGRESS, lambda t: wf.accept(t, OFFICER, at(5))),
    "add_coordinator": (
        {Status.DISPATCHED, Status.IN_PROGRESS},
        None,
        lambda t: wf.add_coordinator(t, "MT-HN", OFFICER, at(5)),
    ),
    "transfer": (
        {Status.DISPATCHED, Status.IN_PROGRESS},
        Status.DISPATCHED,
        lambda t: wf.transfer(t, "SO-NNMT", "Không thuộc thẩm quyền của phường", HEAD, at(5)),
    ),
    "draft_result": (
        {Status.IN_PROGRESS},
        Status.AWAITING_APPROVAL,
        lambda t: wf.draft_result(t, "Đã xử lý xong", OFFICER, at(5)),
    ),
    "approve_result": (
        {Status.AWAITING_APPROVAL},
        Status.DONE,
        lambda t: wf.approve_result(t, HEAD, at(5)),
    ),
    "send_back": (
        {Status.AWAITING_APPROVAL},
        Status.IN_PROGRESS,
        lambda t: wf.send_back(t, "Thiếu ảnh sau khắc phục", HEAD, at(5)),
    ),
    "complete": ({Status.IN_PROGRESS}, Status.DONE, lambda t: wf.complete(t, "Đã xử lý", OFFICER, at(5))),
    "reject": (BEFORE_RESULT, Status.REJECTED, lambda t: wf.reject(t, "Không đủ cơ sở", HEAD, at(5))),
    "mark_duplicate": (
        BEFORE_RESULT,
        Status.REJECTED,
        lambda t: wf.mark_duplicate(t, accepted_original(), "phanluong", at(5)),
    ),
    "extend": (
        {Status.DISPATCHED, Status.IN_PROGRESS, Status.AWAITING_APPROVAL},
        None,
        lambda t: wf.extend(t, at(24 * 30), "Cần xin ý kiến sở", HEAD, at(5)),
    ),
    "mark_overdue": (OPEN, None, lambda t: wf.mark_overdue(t, "Quá 7 ngày làm việc", at(5))),
    "escalate": (OPEN, None, lambda t: wf.escalate(t, 1, "Chuyển thủ trưởng", at(5))),
    "rate": ({Status.DONE, Status.REJECTED}, None, lambda t: wf.rate(t, Rating.SATISFIED, "citizen", at(5))),
    "request_clarification": (
        {Status.DONE},
        None,
        lambda t: wf.request_clarification(t, "Đề nghị nói rõ thời gian thu gom", "citizen", at(5)),
    ),
    "add_attachment": (set(Status), None, lambda t: wf.add_attachment(t, attachment(n=99), OFFICER, at(5))),
}

CASES = [(name, status) for name in TABLE for status in Status]


def _prepare(name: str, t: Ticket) -> None:
    """Non-status preconditions, so that only the status decides."""
    needs_evidence = name in ("complete", "approve_result")
    if needs_evidence and t.status in (Status.IN_PROGRESS, Status.AWAITING_APPROVAL) and not t.attachments:
        wf.add_attachment(t, attachment(), OFFICER, at(4.5))


@pytest.mark.parametrize(("name", "status"), CASES, ids=[f"{n}-{s.name}" for n, s in CASES])
def test_transition_table(name: str, status: Status) -> None:
    allowed, target, step = TABLE[name]
    t = ticket_in(status)
    _prepare(name, t)
    before = copy.deepcopy(t)
    if status in allowed:
        step(t)
        assert t.status == (target if target is not None else status)
        assert len(t.history) == len(before.history) + 1
        event = t.history[-1]
        assert event.action == name
        assert event.at == at(5)
        assert event.actor
        if target is not None:
            assert (event.from_status, event.to_status) == (status, target)
        else:
            assert (event.from_status, event.to_status) == (None, None)
    else:
        with pytest.raises(TransitionError) as info:
            step(t)
        assert t == before, "a refused step must change nothing"
        message = str(info.value)
        assert " / " in message and "\n" not in message
        assert status.value in message


def test_allowed_actions_matches_table() -> None:
    for status in Status:
        allowed = {a.value for a in wf.allowed_actions(ticket_in(status))}
        expected = {name for name, (statuses, _, _) in TABLE.items() if status in statuses}
        assert expected <= allowed
        # The two steps not in the table need setup of their own; their statuses are checked below.
        assert allowed - expected <= {"post_coordinator_part", "answer_clarification"}


def assert_refused(exc: type[DomainError], step: Step, t: Ticket) -> str:
    before = copy.deepcopy(t)
    with pytest.raises(exc) as info:
        step(t)
    assert t == before
    message = str(info.value)
    assert " / " in message and "\n" not in message
    return message


# --- creation ------------------------------------------------------------------------------------


def test_new_ticket_is_new_with_a_creation_event() -> None:
    t = create()
    assert t.status == Status.NEW
    assert t.city == "hanoi"
    assert t.place.ward_name == "Phường Hoàn Kiếm"  # filled from the unit list
    assert t.place.city == "hanoi"
    assert t.created_at == T0
    (event,) = t.history
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "create",
        "ai-operator",
        None,
        Status.NEW,
    )


def test_new_ticket_accepts_enum_values_as_strings() -> None:
    t = wf.new_ticket(
        make_code(5),
        "web",
        "waste_report",
        "VSMT",
        "urgent",
        Caller(),
        Place(ward_code=HOAN_KIEM),
        "Rác",
        "web",
        T0,
    )
    assert (t.channel, t.kind, t.priority) == (Channel.WEB, Kind.WASTE_REPORT, Priority.URGENT)


def _new(**overrides: object) -> Ticket:
    args: dict[str, object] = {
        "code": make_code(7),
        "channel": Channel.PHONE,
        "kind": Kind.FIELD_REPORT,
        "category": "TTDT",
        "priority": Priority.NORMAL,
        "caller": Caller(name="Trần Thị Bình", phone="0987654321"),
        "place": Place(address="số 5 Tràng Tiền", ward_code=HOAN_KIEM),
        "content": "Lấn chiếm vỉa hè bán hàng",
        "created_by": "ai-operator",
        "now": T0,
    }
    args.update(overrides)
    return wf.new_ticket(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"category": "KNTC"}, "tiếp công dân"),
        ({"category": "XYZ"}, "unknown category"),
        ({"place": Place(ward_code="99999")}, "unknown ward"),
        ({"place": Place(ward_code="11914")}, "unknown ward"),  # Cát Hải is in Hải Phòng, not Hanoi
        ({"place": Place(ward_code=HOAN_KIEM, city="cantho")}, "differs"),
        ({"content": "   "}, "content is required"),
        ({"now": datetime(2026, 3, 9, 9, 0)}, "timezone-aware"),
        ({"incident_time": datetime(2026, 3, 9, 8, 0)}, "timezone-aware"),
        ({"code": "123456789"}, "invalid tracking code"),
        ({"code": "000012341"}, "invalid tracking code"),
        ({"caller": Caller(cccd="12345")}, "12 digits"),
        ({"channel": "fax"}, "unknown channel"),
        ({"priority": "rất gấp"}, "unknown priority"),
        ({"created_by": ""}, "actor is required"),
        ({"city": "hcmc"}, "unknown city"),
    ],
)
def test_new_ticket_refusals(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        _new(**overrides)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_complaint_is_refused_even_as_a_draft() -> None:
    with pytest.raises(ValidationError, match="citizen-reception procedure"):
        _new(category="KNTC", content="", complete=False)


def test_ward_of_another_city_with_matching_city() -> None:
    t = _new(place=Place(ward_code="11914"), city="haiphong")
    assert t.place.ward_name == "Đặc khu Cát Hải"
    assert t.city == "haiphong"


def test_ticket_without_ward_is_allowed() -> None:
    t = _new(place=Place(address="gần chợ Đồng Xuân"))
    assert t.place.ward_code == "" and t.place.city == "hanoi"


def test_draft_needs_no_content_and_completes_later() -> None:
    t = create(complete=False, content="")
    assert t.status == Status.DRAFT
    assert t.history[0].to_status == Status.DRAFT
    assert_refused(ValidationError, lambda x: wf.complete_draft(x, "tongdaivien", at(1)), t)
    assert_refused(ValidationError, lambda x: wf.complete_draft(x, "tongdaivien", at(1), content="  "), t)
    assert_refused(ValidationError, lambda x: wf.complete_draft(x, "tongdaivien", at(1), status="x"), t)
    assert_refused(
        ValidationError,
        lambda x: wf.complete_draft(x, "tongdaivien", at(1), content="Cây đổ", place=Place(ward_code="1")),
        t,
    )
    assert_refused(
        ValidationError,
        lambda x: wf.complete_draft(x, "tongdaivien", at(1), content="Cây đổ", category="KNTC"),
        t,
    )
    wf.complete_draft(
        t,
        "tongdaivien",
        at(1),
        content="Cây đổ chắn ngang ngõ 12",
        category="CX",
        place=Place(address="ngõ 12 Hàng Bài", ward_code=HOAN_KIEM),
        priority="urgent",
    )
    assert t.status == Status.NEW
    assert (t.content, t.category, t.priority) == ("Cây đổ chắn ngang ngõ 12", "CX", Priority.URGENT)
    assert t.place.ward_name == "Phường Hoàn Kiếm"
    assert t.history[-1].actor == "tongdaivien"


# --- dispatch, coordination, transfer --------------------------------------------------------------


def test_dispatch_sets_lead_and_time() -> None:
    t = create()
    assert_refused(ValidationError, lambda x: wf.dispatch(x, " ", "phanluong", at(1)), t)
    assert_refused(ValidationError, lambda x: wf.dispatch(x, "SO-XD", "", at(1)), t)
    wf.dispatch(t, "UBND-00070", "phanluong", at(1), note="theo địa bàn")
    assert (t.lead_agency, t.dispatched_at, t.status) == ("UBND-00070", at(1), Status.DISPATCHED)
    assert "UBND-00070" in t.history[-1].note and "theo địa bàn" in t.history[-1].note
    wf.accept(t, OFFICER, at(2))
    assert t.accepted_at == at(2)


def test_coordinators_post_parts_and_the_lead_consolidates() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    assert_refused(
        ValidationError, lambda x: wf.add_coordinator(x, "UBND-00070", OFFICER, at(3)), t
    )  # the lead
    wf.add_coordinator(t, "MT-HN", OFFICER, at(3))
    assert_refused(ValidationError, lambda x: wf.add_coordinator(x, "MT-HN", OFFICER, at(3)), t)  # twice
    wf.add_coordinator(t, "SO-NNMT", OFFICER, at(3))
    assert [p.agency for p in t.coordinators] == ["MT-HN", "SO-NNMT"]

    wf.add_attachment(t, attachment(), OFFICER, at(3))
    message = assert_refused(ValidationError, lambda x: wf.complete(x, "Đã xử lý", OFFICER, at(4)), t)
    assert "MT-HN" in message and "SO-NNMT" in message
    assert_refused(ValidationError, lambda x: wf.post_coordinator_part(x, "SO-XD", "x", "a", at(4)), t)
    assert_refused(ValidationError, lambda x: wf.post_coordinator_part(x, "MT-HN", " ", "a", at(4)), t)

    wf.post_coordinator_part(t, "MT-HN", "Đã thu gom 2 tấn rác", "urenco.1", at(4))
    message = assert_refused(ValidationError, lambda x: wf.draft_result(x, "Tổng hợp", OFFICER, at(5)), t)
    assert "SO-NNMT" in message and "MT-HN" not in message
    wf.post_coordinator_part(t, "SO-NNMT", "Đã kiểm tra", "sonnmt.1", at(5))
    wf.post_coordinator_part(t, "SO-NNMT", "Đã kiểm tra, không có vi phạm", "sonnmt.1", at(6))  # update
    part = t.coordinators[1]
    assert (part.text, part.posted_at, part.actor) == ("Đã kiểm tra, không có vi phạm", at(6), "sonnmt.1")
    wf.complete(t, "Đã xử lý, tổng hợp ý kiến các đơn vị", OFFICER, at(7))
    assert t.status == Status.DONE


def test_coordinator_part_is_refused_outside_processing() -> None:
    t = ticket_in(Status.DISPATCHED)
    wf.add_coordinator(t, "MT-HN", OFFICER, at(2))
    assert_refused(TransitionError, lambda x: wf.post_coordinator_part(x, "MT-HN", "xong", "a", at(3)), t)


def test_transfer_needs_a_reason_and_a_new_agency_then_awaits_acceptance() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    wf.add_coordinator(t, "MT-HN", OFFICER, at(3))
    assert_refused(ValidationError, lambda x: wf.transfer(x, "SO-XD", "  ", HEAD, at(4)), t)
    assert_refused(ValidationError, lambda x: wf.transfer(x, "UBND-00070", "lý do", HEAD, at(4)), t)
    assert_refused(ValidationError, lambda x: wf.transfer(x, "MT-HN", "lý do", HEAD, at(4)), t)
    wf.transfer(t, "SO-XD", "Thuộc thẩm quyền Sở Xây dựng", HEAD, at(4))
    assert (t.status, t.lead_agency, t.dispatched_at, t.accepted_at) == (
        Status.DISPATCHED,
        "SO-XD",
        at(4),
        None,
    )
    assert t.history[-1].note == "UBND-00070 -> SO-XD: Thuộc thẩm quyền Sở Xây dựng"
    wf.accept(t, "canbo.soxd", at(5))
    assert t.status == Status.IN_PROGRESS and t.accepted_at == at(5)


# --- completion and approval ------------------------------------------------------------------------


def test_completion_needs_a_result_and_evidence() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    assert_refused(ValidationError, lambda x: wf.complete(x, "Đã xử lý", OFFICER, at(3)), t)
    wf.add_attachment(t, attachment(AttachmentKind.PHOTO, n=2), OFFICER, at(3))
    wf.add_attachment(t, attachment(AttachmentKind.RECORDING, n=3), OFFICER, at(3))
    message = assert_refused(ValidationError, lambda x: wf.complete(x, "Đã xử lý", OFFICER, at(3)), t)
    assert "evidence" in message
    wf.add_attachment(t, attachment(AttachmentKind.EVIDENCE, n=4), OFFICER, at(3))
    assert_refused(ValidationError, lambda x: wf.complete(x, " \n ", OFFICER, at(3)), t)
    wf.complete(t, "  Đã thu gom, khu vực sạch sẽ  ", OFFICER, at(4))
    assert (t.status, t.result, t.closed_at) == (Status.DONE, "Đã thu gom, khu vực sạch sẽ", at(4))


def test_approval_flow_with_send_back() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    assert_refused(ValidationError, lambda x: wf.draft_result(x, "", OFFICER, at(3)), t)
    wf.draft_result(t, "Bản nháp 1", OFFICER, at(3))
    assert (t.status, t.draft_result, t.result) == (Status.AWAITING_APPROVAL, "Bản nháp 1", "")
    assert_refused(ValidationError, lambda x: wf.send_back(x, "", HEAD, at(4)), t)
    assert_refused(ValidationError, lambda x: wf.approve_result(x, HEAD, at(4)), t)  # no evidence yet
    wf.send_back(t, "Bổ sung biên bản kiểm tra", HEAD, at(4))
    assert t.status == Status.IN_PROGRESS and t.history[-1].note == "Bổ sung biên bản kiểm tra"
    wf.add_attachment(t, attachment(), OFFICER, at(5))
    wf.draft_result(t, "Bản nháp 2, có biên bản", OFFICER, at(5))
    wf.approve_result(t, HEAD, at(6), note="Đồng ý công khai")
    assert (t.status, t.result, t.closed_at) == (Status.DONE, "Bản nháp 2, có biên bản", at(6))
    assert [e.action for e in t.history][-5:] == [
        "draft_result",
        "send_back",
        "add_attachment",
        "draft_result",
        "approve_result",
    ]
    assert t.history[-1].actor == HEAD and t.history[-1].note == "Đồng ý công khai"


# --- rejection and duplicates ------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(BEFORE_RESULT, key=list(Status).index))
def test_reject_needs_a_reason(status: Status) -> None:
    t = ticket_in(status)
    assert_refused(ValidationError, lambda x: wf.reject(x, "   ", HEAD, at(5)), t)
    wf.reject(t, "Nội dung có tính chất quảng cáo (HN Điều 6.2c)", HEAD, at(5))
    assert (t.status, t.rejection_reason, t.closed_at) == (
        Status.REJECTED,
        "Nội dung có tính chất quảng cáo (HN Điều 6.2c)",
        at(5),
    )


@pytest.mark.parametrize("original_status", [Status.IN_PROGRESS, Status.AWAITING_APPROVAL, Status.DONE])
def test_duplicate_of_an_accepted_report(original_status: Status) -> None:
    original = ticket_in(original_status)
    dup = create()
    wf.mark_duplicate(dup, original, "phanluong", at(6))
    assert (dup.status, dup.duplicate_of, dup.closed_at) == (Status.REJECTED, original.code, at(6))
    assert original.code in dup.rejection_reason and "6.2b" in dup.rejection_reason
    assert original.status == original_status  # the original is untouched


@pytest.mark.parametrize("original_status", [Status.DRAFT, Status.NEW, Status.DISPATCHED, Status.REJECTED])
def test_duplicate_of_a_report_not_accepted_is_refused(original_status: Status) -> None:
    original = ticket_in(original_status)
    dup = create()
    message = assert_refused(
        ValidationError, lambda x: wf.mark_duplicate(x, original, "phanluong", at(6)), dup
    )
    assert original.code in message


def test_a_ticket_is_not_its_own_duplicate() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    assert_refused(ValidationError, lambda x: wf.mark_duplicate(x, x, "phanluong", at(6)), t)
    twin = copy.deepcopy(t)
    assert_refused(ValidationError, lambda x: wf.mark_duplicate(x, twin, "phanluong", at(6)), t)


# --- extension, overdue, escalation ----------------------------------------------------------------


def test_only_one_extension() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    t.due_at = at(24 * 20)
    assert_refused(ValidationError, lambda x: wf.extend(x, at(24 * 30), "", HEAD, at(5)), t)
    assert_refused(ValidationError, lambda x: wf.extend(x, at(24 * 10), "Cần xác minh", HEAD, at(5)), t)
    assert_refused(ValidationError, lambda x: wf.extend(x, at(24 * 20), "Cần xác minh", HEAD, at(5)), t)
    assert_refused(
        ValidationError, lambda x: wf.extend(x, datetime(2026, 5, 1, 17), "Cần xác minh", HEAD, at(5)), t
    )
    wf.extend(t, at(24 * 30), "Cần lấy ý kiến Sở Xây dựng", HEAD, at(5))
    assert (t.due_at, t.extensions) == (at(24 * 30), 1)
    assert "Cần lấy ý kiến Sở Xây dựng" in t.history[-1].note
    message = assert_refused(ValidationError, lambda x: wf.extend(x, at(24 * 40), "Lần hai", HEAD, at(6)), t)
    assert "once" in message


def test_extension_without_a_due_time_and_not_when_overdue() -> None:
    t = ticket_in(Status.DISPATCHED)
    assert_refused(ValidationError, lambda x: wf.extend(x, at(4), "x", HEAD, at(5)), t)  # not after now
    wf.mark_overdue(t, "Quá hạn tiếp nhận", at(5))
    assert_refused(ValidationError, lambda x: wf.extend(x, at(24 * 30), "Cần xác minh", HEAD, at(6)), t)


def test_overdue_is_a_flag_set_once_by_the_system() -> None:
    t = ticket_in(Status.IN_PROGRESS)
    assert_refused(ValidationError, lambda x: wf.mark_overdue(x, "", at(5)), t)
    wf.mark_overdue(t, "Quá 7 ngày làm việc", at(5))
    assert (t.overdue, t.overdue_reason, t.status) == (True, "Quá 7 ngày làm việc", Status.IN_PROGRESS)
    assert t.history[-1].actor == wf.SYSTEM_ACTOR
    assert_refused(TransitionError, lambda x: wf.mark_overdue(x, "lần nữa", at(6)), t)
    # An overdue ticket can still be completed (late), keeping the flag for the reports.
    wf.add_attachment(t, attachment(), OFFICER, at(6))
    wf.complete(t, "Đã xử lý (muộn)", OFFICER, at(7))
    assert t.overdue and t.status == Status.DONE


def test_escalation_only_goes_up() -> None:
    t = ticket_in(Status.DISPATCHED)
    assert_refused(ValidationError, lambda x: wf.escalate(x, 0, "", at(5)), t)
    wf.escalate(t, 1, "Chuyển thủ trưởng đơn vị (CT Điều 9 bước 3)", at(5))
    assert t.escalation_level == 1 and t.history[-1].actor == wf.SYSTEM_ACTOR
    assert_refused(ValidationError, lambda x: wf.escalate(x, 1, "", at(6)), t)
    assert_refused(ValidationError, lambda x: wf.escalate(x, True, "", at(6)), t)  # type: ignore[arg-type]
    wf.escalate(t, 2, "", at(6))
    assert t.escalation_level == 2 and t.history[-1].note == "1 -> 2"


# --- citizen side ------------------------------------------------------------------------------------


def test_rating_once_with_the_three_levels() -> None:
    t = ticket_in(Status.DONE)
    assert_refused(ValidationError, lambda x: wf.rate(x, "Tuyệt vời", "citizen", at(5)), t)
    wf.rate(t, "Chấp nhận được", "citizen", at(5))
    assert (t.rating, t.rated_at) == (Rating.ACCEPTABLE, at(5))
    assert_refused(ValidationError, lambda x: wf.rate(x, Rating.SATISFIED, "citizen", at(6)), t)


def test_a_rejected_ticket_can_be_rated() -> None:
    t = ticket_in(Status.REJECTED)
    wf.rate(t, Rating.UNSATISFIED, "citizen", at(5))
    assert t.rating == Rating.UNSATISFIED


def _done_at(closed: datetime) -> Ticket:
    t = ticket_in(Status.IN_PROGRESS)
    wf.add_attachment(t, attachment(), OFFICER, at(3))
    wf.complete(t, "Đã xử lý", OFFICER, closed)
    return t


def test_clarification_within_two_days_of_the_result() -> None:
    closed = datetime(2026, 3, 10, 16, 30, tzinfo=VN)
    t = _done_at(closed)
    late = datetime(2026, 3, 13, 0, 0, tzinfo=VN)
    assert_refused(ValidationError, lambda x: wf.request_clarification(x, "Làm rõ", "citizen", late), t)
    # The limit is a local calendar day, whatever the offset of the given time.
    last = datetime(2026, 3, 12, 16, 59, tzinfo=ZoneInfo("UTC"))  # 23:59 in Hanoi
    assert_refused(ValidationError, lambda x: wf.request_clarification(x, " ", "citizen", last), t)
    assert_refused(ValidationError, lambda x: wf.answer_clarification(x, "Trả lời", OFFICER, last), t)
    wf.request_clarification(t, "Đề nghị nói rõ ngày thu gom", "citizen", last)
    assert (t.clarification_request, t.clarification_requested_at) == ("Đề nghị nói rõ ngày thu gom", last)
    assert_refused(ValidationError, lambda x: wf.request_clarification(x, "Lần hai", "citizen", last), t)
    assert_refused(ValidationError, lambda x: wf.answer_clarification(x, "", OFFICER, last), t)
    wf.answer_clarification(t, "Rác được thu gom lúc 18h hằng ngày", OFFICER, last + timedelta(hours=1))
    assert t.clarification_answer == "Rác được thu gom lúc 18h hằng ngày"
    assert_refused(ValidationError, lambda x: wf.answer_clarification(x, "Lần hai", OFFICER, last), t)


def test_clarification_deadline_is_two_local_days() -> None:
    assert wf.clarification_deadline(datetime(2026, 3, 10, 23, 30, tzinfo=VN)).isoformat() == "2026-03-12"
    # 18:00 UTC on the 10th is already the 11th in Hanoi.
    assert wf.clarification_deadline(datetime(2026, 3, 10, 18, 0, tzinfo=ZoneInfo("UTC"))).isoformat() == (
        "2026-03-13"
    )


# --- attachments and the audit trail ----------------------------------------------------------------


def test_attachments_are_checked_and_recorded() -> None:
    t = create()
    bad = Attachment("XYZ", AttachmentKind.PHOTO, "a.jpg", "image/jpeg", 1, T0, OFFICER)
    assert_refused(ValidationError, lambda x: wf.add_attachment(x, bad, OFFICER, at(1)), t)
    negative = Attachment(sha(5), AttachmentKind.PHOTO, "a.jpg", "image/jpeg", -1, T0, OFFICER)
    assert_refused(ValidationError, lambda x: wf.add_attachment(x, negative, OFFICER, at(1)), t)
    wf.add_attachment(t, attachment(AttachmentKind.RECORDING, n=7), "ai-operator", at(1))
    assert_refused(
        ValidationError,
        lambda x: wf.add_attachment(x, attachment(AttachmentKind.RECORDING, n=7), OFFICER, at(1)),
        t,
    )
    wf.add_attachment(t, attachment(AttachmentKind.EVIDENCE, n=7), OFFICER, at(2))  # same file, other role
    assert [a.kind for a in t.attachments] == [AttachmentKind.RECORDING, AttachmentKind.EVIDENCE]
    assert t.history[-1].note == "evidence: anh-7.jpg"


def test_full_life_keeps_an_ordered_audit_trail() -> None:
    t = create()
    wf.dispatch(t, "UBND-00070", "phanluong", at(1))
    wf.accept(t, OFFICER, at(2))
    wf.add_coordinator(t, "MT-HN", HEAD, at(2.5))
    wf.post_coordinator_part(t, "MT-HN", "Đã thu gom", "urenco.1", at(3))
    wf.add_attachment(t, attachment(), OFFICER, at(3.5))
    wf.complete(t, "Đã xử lý", OFFICER, at(4))
    wf.rate(t, Rating.SATISFIED, "citizen", at(5))
    actions = [e.action for e in t.history]
    assert actions == [
        "create",
        "dispatch",
        "accept",
        "add_coordinator",
        "post_coordinator_part",
        "add_attachment",
        "complete",
        "rate",
    ]
    times = [e.at for e in t.history]
    assert times == sorted(times)
    assert all(e.actor for e in t.history)
    statuses = [(e.from_status, e.to_status) for e in t.history if e.to_status is not None]
    assert statuses == [
        (None, Status.NEW),
        (Status.NEW, Status.DISPATCHED),
        (Status.DISPATCHED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.DONE),
    ]


def test_naive_time_is_refused_everywhere() -> None:
    t = ticket_in(Status.NEW)
    naive = datetime(2026, 3, 9, 10, 0)
    assert_refused(ValidationError, lambda x: wf.dispatch(x, "SO-XD", "phanluong", naive), t)
    assert_refused(ValidationError, lambda x: wf.reject(x, "lý do", "phanluong", naive), t)

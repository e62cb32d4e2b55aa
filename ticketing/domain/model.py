"""The ticket and its parts: plain data, no I/O.

Names follow the regulations: statuses are the labels of the work-management system (HN Art. 7.1,
9, 10), kinds are the report kinds of iHanoi (iHN Art. 9-11) and the AI hotline (HN Art. 3.2-3.3).
Rules that change a ticket live in :mod:`ticketing.domain.workflow`; this module only holds data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """Ticket status. The value is the Vietnamese label shown to users and stored in the database."""

    DRAFT = "Chưa đủ thông tin"  # incomplete report kept for an operator call-back (HP Art. 8.3)
    NEW = "Mới tạo"  # HN Art. 7.1
    DISPATCHED = "Đã chuyển xử lý"  # sent to the lead agency, awaiting acceptance (HN Art. 9.1)
    IN_PROGRESS = "Đang xử lý"  # set as soon as the agency accepts (HN Art. 10.1)
    AWAITING_APPROVAL = "Chờ phê duyệt"  # iHanoi: officer drafted the result, head approves (iHN Art. 12)
    DONE = "Đã hoàn thành"  # HN Art. 10.1
    REJECTED = "Từ chối"  # HN Art. 10.2

    @property
    def is_closed(self) -> bool:
        return self in (Status.DONE, Status.REJECTED)


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    EMAIL = "email"
    APP = "app"
    SMS = "sms"
    IN_PERSON = "in_person"
    API = "api"  # another system through Open311 or the REST API (CT Art. 5, HP Art. 6)


class Kind(StrEnum):
    FIELD_REPORT = "field_report"  # phản ánh hiện trường
    PROCEDURE_REPORT = "procedure_report"  # phản ánh về thủ tục hành chính
    WASTE_REPORT = "waste_report"  # phản ánh về rác thải (iHN Art. 9)
    INVESTOR_REPORT = "investor_report"  # phản ánh của nhà đầu tư, doanh nghiệp (iHN Art. 10)
    INITIATIVE = "initiative"  # sáng kiến (iHN Art. 11)
    INFO_REQUEST = "info_request"  # yêu cầu cung cấp thông tin


class Priority(StrEnum):
    URGENT = "urgent"  # ưu tiên cao / khẩn: 4 working hours (HN Art. 9.4)
    NORMAL = "normal"  # 7 working days (HN Art. 9.5)
    COMPLEX = "complex"  # phức tạp, several agencies: 15 working days, one extension (HN Art. 9.5)


class Rating(StrEnum):
    SATISFIED = "Hài lòng"
    ACCEPTABLE = "Chấp nhận được"
    UNSATISFIED = "Chưa hài lòng"


class AttachmentKind(StrEnum):
    RECORDING = "recording"
    TRANSCRIPT = "transcript"
    PHOTO = "photo"
    EVIDENCE = "evidence"  # proof of the result (HN Art. 10.3)
    DOCUMENT = "document"


@dataclass(frozen=True)
class Caller:
    name: str = ""
    cccd: str = ""  # 12-digit citizen ID, optional
    phone: str = ""
    address: str = ""
    email: str = ""
    confidential: bool = False  # iHN Art. 5.7: identity hidden from agencies' publication


@dataclass(frozen=True)
class Place:
    address: str = ""
    ward_code: str = ""  # 5-digit NSO code of the ward/commune (xã/phường/đặc khu)
    ward_name: str = ""  # full official name, e.g. "Phường Hoàn Kiếm"
    city: str = ""  # "hanoi" | "haiphong" | "cantho"
    lat: float | None = None  # WGS 84 degrees, when the reporter gave a position (Open311 lat/long)
    lon: float | None = None


@dataclass(frozen=True)
class Attachment:
    sha256: str
    kind: AttachmentKind
    filename: str
    media_type: str
    size: int
    added_at: datetime
    added_by: str


@dataclass(frozen=True)
class Event:
    """One entry of the ticket's history: who did what, when, with what note."""

    at: datetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status | None
    note: str = ""


@dataclass(frozen=True)
class CoordinatorPart:
    """A coordinating agency's contribution (HN Art. 9.2 "Thêm đơn vị liên quan")."""

    agency: str
    text: str = ""
    posted_at: datetime | None = None
    actor: str = ""


@dataclass
class Ticket:
    code: str  # tracking code (mã số theo dõi), digits with a check digit
    channel: Channel
    kind: Kind
    category: str  # category code, e.g. "VSMT" (see data/categories.csv)
    priority: Priority
    caller: Caller
    place: Place
    content: str
    created_at: datetime
    created_by: str
    incident_time: datetime | None = None
    transcript: str = ""
    status: Status = Status.NEW
    city: str = "hanoi"  # selects the SLA preset and calendar
    lead_agency: str = ""  # agency code
    coordinators: list[CoordinatorPart] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    history: list[Event] = field(default_factory=list)
    # deadlines (aware datetimes, Asia/Ho_Chi_Minh)
    dispatch_due: datetime | None = None
    due_at: datetime | None = None
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    extensions: int = 0
    escalation_level: int = 0  # index into the city's escalation ladder
    overdue: bool = False  # "Quá hạn" flag (HN Art. 9.7); a flag, not a status
    overdue_reason: str = ""
    # outcome
    draft_result: str = ""  # iHanoi: officer's draft awaiting the head's approval
    result: str = ""
    rejection_reason: str = ""
    duplicate_of: str = ""  # tracking code of the original
    rating: Rating | None = None
    rated_at: datetime | None = None
    clarification_request: str = ""
    clarification_requested_at: datetime | None = None
    clarification_answer: str = ""
    id: int | None = None

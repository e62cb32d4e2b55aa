"""The staff-facing ticket service: every method takes the acting user and checks the permissions table.

It wraps :class:`~ticketing.service.TicketService` and :class:`~ticketing.service.AdminService` for the
portal and the API: a ticket outside the actor's scope is "not found" (the same answer as a ticket
that does not exist), an allowed-but-refused step raises :class:`Forbidden`, the user who drafted a
result cannot approve it (separation of duties, iHN Art. 12), and tickets come back through the one
masking policy (:mod:`ticketing.privacy`). Every view of a confidential caller's identity (the caller
fields, the recording or the transcript) is written to the audit log.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ticketing.access import Actor, Permission, Role
from ticketing.domain import duplicates, workflow
from ticketing.domain.calendar import deadline, working_hours, working_time_between
from ticketing.domain.errors import DomainError, ValidationError
from ticketing.domain.model import Attachment, AttachmentKind, Priority, Status, Ticket
from ticketing.ports import AuditEntry, TicketQuery
from ticketing.privacy import CallerView, masked_ticket, reveals_confidential, view_caller
from ticketing.service import AdminService, TicketNotFound, TicketService

P = Permission
PRIVATE_KINDS = frozenset({AttachmentKind.RECORDING, AttachmentKind.TRANSCRIPT})
DUE_SOON = working_hours(8)  # less than one working day left
CALLBACK_WITHIN = working_hours(1)  # HP Art. 8.3: call back an incomplete report within 1 working hour
PER_PAGE = 25
COUNT_CAP = 10_000  # a queue longer than this is shown as "10 000+"


class Forbidden(ValidationError):
    """The actor sees the ticket but may not take this step."""


class AttachmentFiles(Protocol):
    def path_for(self, sha256: str) -> Path: ...


class Assignments(Protocol):
    def of(self, codes: Sequence[str]) -> dict[str, str]: ...

    def codes_of(self, username: str) -> list[str]: ...

    def assign(self, code: str, username: str, audit: AuditEntry) -> None: ...


ReportFor = Callable[[Any, Any], Any]
"""(period, filters) -> report (ticketing.reports); injected by the composition root."""

# Which permission each workflow step needs, and the labels the pages show.
STEP_PERMISSIONS: Mapping[str, Permission] = {
    "accept": P.TICKET_ACCEPT,
    "reject": P.TICKET_REJECT,
    "add_coordinator": P.TICKET_COORDINATE,
    "post_part": P.TICKET_POST_PART,
    "transfer": P.TICKET_TRANSFER,
    "extend": P.TICKET_EXTEND,
    "draft_result": P.RESULT_DRAFT,
    "approve": P.RESULT_APPROVE,
    "send_back": P.RESULT_APPROVE,
    "publish": P.RESULT_PUBLISH,
    "dispatch": P.TICKET_DISPATCH,
    "complete_draft": P.DRAFT_COMPLETE,
    "mark_duplicate": P.TICKET_LINK_DUPLICATE,
    "assign": P.TICKET_ASSIGN,
}
_STEP_ACTIONS: Mapping[str, workflow.Action | None] = {
    "accept": workflow.Action.ACCEPT,
    "reject": workflow.Action.REJECT,
    "add_coordinator": workflow.Action.ADD_COORDINATOR,
    "post_part": workflow.Action.POST_COORDINATOR_PART,
    "transfer": workflow.Action.TRANSFER,
    "extend": workflow.Action.EXTEND,
    "draft_result": workflow.Action.DRAFT_RESULT,
    "approve": workflow.Action.APPROVE_RESULT,
    "send_back": workflow.Action.SEND_BACK,
    "publish": None,
    "dispatch": workflow.Action.DISPATCH,
    "complete_draft": workflow.Action.COMPLETE_DRAFT,
    "mark_duplicate": workflow.Action.MARK_DUPLICATE,
    "assign": None,
}


@dataclass(frozen=True)
class TicketView:
    """A ticket as one actor may see it: personal data masked, private attachments left out."""

    ticket: Ticket
    caller: CallerView
    actions: tuple[str, ...]
    assignee: str
    private_media: bool  # the recording and transcript are shown
    drafted_by: str
    published: bool


@dataclass(frozen=True)
class QueueFilter:
    agency: str = ""
    statuses: tuple[Status, ...] = ()  # empty: the open ones
    closed_too: bool = False  # with no statuses: every status the actor may see
    category: str = ""
    ward_code: str = ""
    overdue: bool = False
    mine: bool = False
    sort: str = "created_desc"  # created_desc | created_asc | due_asc
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class QueueItem:
    code: str
    status: Status
    priority: Priority
    category: str
    ward_name: str
    address: str
    summary: str
    lead_agency: str
    created_at: datetime
    due: datetime | None
    left: timedelta | None  # working time left (negative: overdue)
    state: str  # "overdue" | "due_soon" | "ok" | "closed"
    assignee: str


@dataclass(frozen=True)
class QueuePage:
    items: tuple[QueueItem, ...]
    total: int
    page: int
    pages: int
    agency: str
    more: bool = False  # the total was capped at COUNT_CAP


@dataclass(frozen=True)
class CentreItem:
    item: QueueItem
    route_agency: str
    route_reason: str
    duplicates: tuple[tuple[str, float], ...]
    callback_due: datetime | None


def _mask_ticket(t: Ticket, *, contact: bool, confidential: bool, private_media: bool) -> Ticket:
    """The one masking policy (caller block and every free text), then the recording and transcript
    left out for a viewer who may not have them."""
    shown = masked_ticket(t, contact=contact, confidential=confidential)
    attachments = [a for a in shown.attachments if private_media or a.kind not in PRIVATE_KINDS]
    return dataclasses.replace(
        shown, transcript=shown.transcript if private_media else "", attachments=attachments
    )


def last_drafter(t: Ticket) -> str:
    for e in reversed(t.history):
        if e.action == workflow.Action.DRAFT_RESULT.value:
            return e.actor
    return ""


class StaffService:
    def __init__(
        self,
        tickets: TicketService,
        admin: AdminService,
        files: AttachmentFiles,
        assignments: Assignments,
        report_for: ReportFor | None = None,
        report_ttl_s: float = 60.0,
    ) -> None:
        """Reports (dashboards) are kept ``report_ttl_s`` seconds: a month's aggregates over a
        million tickets take a second or more, and a dashboard a minute old is current enough."""
        self.tickets = tickets
        self.admin = admin
        self.files = files
        self.assignments = assignments
        self.report_for = report_for
        self.report_ttl_s = report_ttl_s
        self._reports: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._reports_lock = threading.Lock()
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}

    # --- visibility ---------------------------------------------------------------------------------

    @staticmethod
    def visible(actor: Actor, t: Ticket) -> bool:
        """City-wide viewers see every ticket; an agency sees the tickets it leads (routed to it, even
        before dispatch) or coordinates, never the hotline centre's incomplete drafts."""
        coordinators = [c.agency for c in t.coordinators]
        if actor.scopes(P.TICKET_VIEW) is None:
            return True
        if t.status is Status.DRAFT:
            return False
        return actor.can(P.TICKET_VIEW, t.lead_agency, coordinators)

    def _load(self, actor: Actor, code: str) -> Ticket:
        t = self.tickets.get(code)
        if not self.visible(actor, t):
            raise TicketNotFound(f"Không có phiếu mã {t.code} / no ticket with code {t.code}")
        return t

    def _may(self, actor: Actor, t: Ticket, step: str) -> bool:
        perm = STEP_PERMISSIONS[step]
        if not actor.can(perm, t.lead_agency, [c.agency for c in t.coordinators]):
            return False
        if step == "post_part":
            return bool(self._my_coordinating(actor, t))
        if step in ("approve", "send_back") and last_drafter(t) == actor.name:
            return False
        action = _STEP_ACTIONS[step]
        if action is not None:
            return t.status in workflow.ALLOWED_FROM[action]
        if step == "publish":
            return t.status is Status.DONE
        return not t.status.is_closed

    def _require(self, actor: Actor, code: str, step: str) -> Ticket:
        t = self._load(actor, code)
        if step in ("approve", "send_back") and last_drafter(t) == actor.name:
            raise Forbidden(
                "Người trình kết quả không được tự phê duyệt / the user who drafted the result cannot "
                "approve it (separation of duties)"
            )
        perm = STEP_PERMISSIONS[step]
        if not actor.can(perm, t.lead_agency, [c.agency for c in t.coordinators]):
            raise Forbidden(
                f"Tài khoản {actor.name} không có quyền {perm.value} với phiếu {t.code} / "
                f"{actor.name} lacks the permission {perm.value} on ticket {t.code}"
            )
        return t

    @staticmethod
    def _my_coordinating(actor: Actor, t: Ticket) -> str:
        mine = set(actor.scopes(P.TICKET_POST_PART) or ())
        for part in t.coordinators:
            if part.agency in mine and part.posted_at is None:
                return part.agency
        return ""

    def _audit(self, actor: Actor, code: str, action: str, detail: dict[str, Any] | None = None) -> None:
        with self.tickets.uow() as uow:
            uow.audit.record(AuditEntry(self.tickets.now(), actor.name, "ticket", code, action, None, detail))
            uow.commit()

    # --- reading ------------------------------------------------------------------------------------

    def view(self, actor: Actor, code: str) -> TicketView:
        t = self._load(actor, code)
        coordinators = [c.agency for c in t.coordinators]
        contact = actor.can(P.CALLER_CONTACT, t.lead_agency)
        confidential = actor.can(P.CALLER_IDENTITY_CONFIDENTIAL, t.lead_agency)
        caller = view_caller(t.caller, contact=contact, confidential=confidential)
        private = actor.can(P.RECORDING_LISTEN, t.lead_agency, coordinators) and not caller.hidden
        if reveals_confidential(t.caller, caller):
            self._audit(actor, t.code, "view_confidential_identity", {"fields": "caller"})
        assignee = self.assignments.of([t.code]).get(t.code, "")
        published = t.status is Status.DONE and any(
            e.action == "approve_publication" for e in self.tickets.audit_trail(t.code)
        )
        actions = tuple(
            step
            for step in STEP_PERMISSIONS
            if self._may(actor, t, step) and not (step == "publish" and published)
        )
        return TicketView(
            _mask_ticket(t, contact=contact, confidential=confidential, private_media=private),
            caller,
            actions,
            assignee,
            private,
            last_drafter(t),
            published,
        )

    def attachment(self, actor: Actor, code: str, sha256: str) -> tuple[Attachment, Path]:
        """An attachment's record and file; the recording and transcript only for roles that need
        them (audited for a confidential caller)."""
        t = self._load(actor, code)
        att = next((a for a in t.attachments if a.sha256 == sha256), None)
        if att is None:
            raise TicketNotFound(f"Không có tệp đính kèm này / no such attachment on {t.code}")
        if att.kind in PRIVATE_KINDS:
            coordinators = [c.agency for c in t.coordinators]
            allowed = actor.can(P.RECORDING_LISTEN, t.lead_agency, coordinators)
            if t.caller.confidential:
                allowed = allowed and actor.can(P.CALLER_IDENTITY_CONFIDENTIAL, t.lead_agency)
            if not allowed:
                raise TicketNotFound(f"Không có tệp đính kèm này / no such attachment on {t.code}")
            if t.caller.confidential:
                self._audit(actor, t.code, "view_confidential_identity", {"attachment": att.kind.value})
        return att, self.files.path_for(att.sha256)

    def time_left(self, t: Ticket, now: datetime) -> tuple[datetime | None, timedelta | None, str]:
        due = t.dispatch_due if t.status in (Status.NEW, Status.DRAFT) else t.due_at
        if t.status.is_closed:
            return due, None, "closed"
        if due is None:
            return None, None, "ok"
        cal = self.tickets.calendar_for(t.city)
        if due <= now:
            left = -working_time_between(due, now, cal)
            return due, left, "overdue"
        left = working_time_between(now, due, cal)
        return due, left, "due_soon" if left <= DUE_SOON else ("overdue" if t.overdue else "ok")

    def _item(self, t: Ticket, now: datetime, assignee: str) -> QueueItem:
        due, left, state = self.time_left(t, now)
        summary = t.content if len(t.content) <= 140 else t.content[:137] + "…"
        return QueueItem(
            t.code,
            t.status,
            t.priority,
            t.category,
            t.place.ward_name,
            t.place.address,
            summary,
            t.lead_agency,
            t.created_at,
            due,
            left,
            state,
            assignee,
        )

    def queue_agencies(self, actor: Actor) -> tuple[str, ...] | None:
        """The agencies whose queue the actor may open (``None``: any, city-wide). City leaders read
        the city-wide list (their dashboards' overdue list); they hold no step permission."""
        if actor.has(P.QUEUE_CITYWIDE) or actor.has(P.DASHBOARD_CITY):
            return None
        scopes = actor.scopes(P.QUEUE_AGENCY)
        return scopes if scopes else ()

    def _queue_agency(self, actor: Actor, agency: str) -> tuple[str, tuple[str, ...] | None]:
        """The agency whose queue is asked for ("" = city-wide), checked against the actor's scope."""
        allowed = self.queue_agencies(actor)
        agency = agency.strip()
        if allowed is not None:
            if not allowed:
                raise Forbidden("Tài khoản không có hàng đợi đơn vị / no agency queue for this user")
            agency = agency or allowed[0]
            if agency not in allowed:
                raise Forbidden(f"Không có quyền xem hàng đợi của {agency} / not your agency's queue")
        return agency, allowed

    def queue(self, actor: Actor, f: QueueFilter) -> QueuePage:
        agency, allowed = self._queue_agency(actor, f.agency)
        statuses = f.statuses
        if not statuses:
            hidden = (Status.DRAFT, Status.NEW) if allowed is not None else ()
            statuses = tuple(s for s in Status if s not in hidden and (f.closed_too or not s.is_closed))
        now = self.tickets.now()
        codes: tuple[str, ...] = ()
        if f.mine:
            codes = tuple(self.assignments.codes_of(actor.name)) or ("-",)
        per_page = max(1, min(f.per_page, 100))
        page = max(1, f.page)
        query = TicketQuery(
            statuses=statuses,
            lead_agency=agency,
            category=f.category,
            ward_code=f.ward_code,
            overdue_at=now if f.overdue else None,
            codes=codes,
            order=f.sort,
            limit=per_page,
            offset=(page - 1) * per_page,
            children=False,
        )
        with self.tickets.uow() as uow:
            rows = uow.tickets.find(query)
            total = uow.tickets.count(query, cap=COUNT_CAP)
        assigned = self.assignments.of([t.code for t in rows])
        items = tuple(self._item(t, now, assigned.get(t.code, "")) for t in rows)
        return QueuePage(items, total, page, max(1, -(-total // per_page)), agency, total >= COUNT_CAP)

    def overdue_list(self, actor: Actor, agency: str = "", limit: int = 20) -> QueuePage:
        """The dashboard's overdue list (kept as long as the dashboard's report)."""
        agency, _ = self._queue_agency(actor, agency)
        result: QueuePage = self._kept(
            ("overdue", agency, limit),
            lambda: self.queue(actor, QueueFilter(agency=agency, overdue=True, per_page=limit)),
        )
        return result

    def _kept(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s answer, kept ``report_ttl_s`` seconds; concurrent askers of the same key
        wait for one computation instead of each running it."""
        with self._reports_lock:
            hit = self._reports.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.report_ttl_s:
                return hit[1]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._reports_lock:
                hit = self._reports.get(key)
                if hit is not None and time.monotonic() - hit[0] < self.report_ttl_s:
                    return hit[1]
            value = compute()
            with self._reports_lock:
                if len(self._reports) > 500:
                    self._reports.clear()
                self._reports[key] = (time.monotonic(), value)
                self._computing.pop(key, None)
            return value

    def centre_queue(self, actor: Actor, limit: int = 50) -> list[CentreItem]:
        """The hotline centre's work: new tickets to dispatch and drafts to call back, urgent first,
        each with the routing suggestion and the duplicate candidates."""
        if not actor.has(P.QUEUE_CITYWIDE):
            raise Forbidden("Chỉ tổng đài viên và giám sát / the hotline centre's queue only")
        now = self.tickets.now()
        found: list[tuple[Ticket, list[tuple[Ticket, float]]]] = []
        with self.tickets.uow() as uow:
            rows = uow.tickets.find(
                TicketQuery(
                    statuses=(Status.NEW, Status.DRAFT), order="created_asc", limit=limit, children=False
                )
            )
            for t in rows:
                recent = uow.tickets.recent(
                    category=t.category,
                    ward_code=t.place.ward_code,
                    since=t.created_at - duplicates.DEFAULT_WINDOW,
                )
                found.append((t, duplicates.find_candidates(t, [r for r in recent if r.code != t.code])))
        out: list[CentreItem] = []
        for t, candidates in found:
            cal = self.tickets.calendar_for(t.city)
            callback = deadline(t.created_at, CALLBACK_WITHIN, cal) if t.status is Status.DRAFT else None
            decision = self.admin.test_route(t.category, t.place.ward_code, t.city)
            item = self._item(t, now, "")
            if callback is not None:
                late = callback <= now
                left = (
                    -working_time_between(callback, now, cal)
                    if late
                    else working_time_between(now, callback, cal)
                )
                item = dataclasses.replace(
                    item, due=callback, left=left, state="overdue" if late else "due_soon"
                )
            out.append(
                CentreItem(
                    item,
                    decision.agency,
                    decision.reason,
                    tuple((c.code, round(score, 2)) for c, score in candidates[:3]),
                    callback,
                )
            )
        urgent_first = {Priority.URGENT: 0, Priority.COMPLEX: 1, Priority.NORMAL: 1}
        out.sort(key=lambda c: (urgent_first[c.item.priority], c.item.created_at))
        return out

    # --- steps --------------------------------------------------------------------------------------

    def accept(self, actor: Actor, code: str, note: str = "") -> Ticket:
        self._require(actor, code, "accept")
        return self.tickets.accept(code, actor.name, note)

    def reject(self, actor: Actor, code: str, reason: str) -> Ticket:
        self._require(actor, code, "reject")
        return self.tickets.reject(code, reason, actor.name)

    def add_coordinator(self, actor: Actor, code: str, agency: str, note: str = "") -> Ticket:
        self._require(actor, code, "add_coordinator")
        return self.tickets.add_coordinator(code, agency, actor.name, note)

    def post_part(self, actor: Actor, code: str, text: str) -> Ticket:
        t = self._require(actor, code, "post_part")
        agency = self._my_coordinating(actor, t)
        if not agency:
            raise Forbidden("Đơn vị của bạn không phối hợp phiếu này / your agency does not coordinate it")
        return self.tickets.post_part(code, agency, text, actor.name)

    def transfer(self, actor: Actor, code: str, to: str, reason: str) -> Ticket:
        self._require(actor, code, "transfer")
        return self.tickets.transfer(code, to, reason, actor.name)

    def extend(self, actor: Actor, code: str, days: int, reason: str) -> Ticket:
        self._require(actor, code, "extend")
        return self.tickets.extend(code, days, reason, actor.name)

    def draft_result(
        self, actor: Actor, code: str, text: str, evidence: Sequence[tuple[str, bytes]]
    ) -> Ticket:
        """The result with its evidence files (name, content), checked and cleaned by the front door."""
        self._require(actor, code, "draft_result")
        with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:
            paths = []
            for i, (name, data) in enumerate(evidence):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                path = folder / (Path(name).name or f"evidence-{i}")
                path.write_bytes(data)
                paths.append(path)
            return self.tickets.draft_result(code, text, actor.name, paths)

    def approve(self, actor: Actor, code: str, note: str = "") -> Ticket:
        self._require(actor, code, "approve")
        return self.tickets.approve(code, actor.name, note)

    def send_back(self, actor: Actor, code: str, reason: str) -> Ticket:
        self._require(actor, code, "send_back")
        return self.tickets.send_back(code, reason, actor.name)

    def publish(self, actor: Actor, code: str) -> None:
        """The head approves publication of the result (CT Art. 12, HP Art. 11), recorded and audited."""
        t = self._require(actor, code, "publish")
        if t.status is not Status.DONE:
            raise Forbidden("Chỉ công khai phiếu đã hoàn thành / only a done ticket can be published")
        self._audit(actor, t.code, "approve_publication")

    def dispatch(self, actor: Actor, code: str, agency: str = "", note: str = "") -> Ticket:
        self._require(actor, code, "dispatch")
        return self.tickets.dispatch(code, actor.name, agency, note)

    def complete_draft(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Ticket:
        self._require(actor, code, "complete_draft")
        return self.tickets.complete_draft(code, data, actor.name)

    def mark_duplicate(self, actor: Actor, code: str, original: str) -> Ticket:
        self._require(actor, code, "mark_duplicate")
        return self.tickets.mark_duplicate(code, original, actor.name)

    def assign(self, actor: Actor, code: str, username: str, users: Callable[[str], Actor | None]) -> None:
        """Assign the ticket to an officer or head of its lead agency."""
        t = self._require(actor, code, "assign")
        target = users(username)
        if target is None or not (
            target.can(P.TICKET_ACCEPT, t.lead_agency) and (target.scopes(P.TICKET_ACCEPT) or ())
        ):
            raise ValidationError(
                f"{username!r} không phải cán bộ của đơn vị {t.lead_agency} / "
                f"{username!r} is not an officer of {t.lead_agency}"
            )
        now = self.tickets.now()
        self.assignments.assign(
            t.code,
            target.name,
            AuditEntry(now, actor.name, "ticket", t.code, "assign", None, {"to": target.name}),
        )

    def bulk(self, actor: Actor, codes: Sequence[str], step: Callable[[str], object]) -> dict[str, str]:
        """Run ``step`` for each code; returns code -> "" (done) or the one-line reason it was refused."""
        out: dict[str, str] = {}
        for code in codes:
            try:
                step(code)
                out[code] = ""
            except DomainError as exc:
                out[code] = str(exc)
        return out

    # --- dashboards ---------------------------------------------------------------------------------

    def dashboard_agencies(self, actor: Actor) -> tuple[str, ...] | None:
        if actor.has(P.DASHBOARD_CITY):
            return None
        return actor.scopes(P.DASHBOARD_AGENCY) or ()

    def report(self, actor: Actor, period: Any, agency: str = "") -> Any:
        """The report of a period for one agency (or the city); reports hold no personal data."""
        from ticketing.db.reports import Filters

        allowed = self.dashboard_agencies(actor)
        if allowed is not None:
            if not allowed:
                raise Forbidden("Tài khoản không xem được báo cáo / no dashboard for this user")
            agency = agency or allowed[0]
            if agency not in allowed:
                raise Forbidden(f"Không có quyền xem báo cáo của {agency} / not your agency")
        if self.report_for is None:
            raise ValidationError("Báo cáo chưa được cấu hình / reports are not wired")
        report_for = self.report_for
        return self._kept(
            ("report", period.first, period.last, agency),
            lambda: report_for(period, Filters(city=self.tickets.city, agency=agency)),
        )

    def may_download(self, actor: Actor, agency: str = "") -> bool:
        return actor.can(P.REPORT_DOWNLOAD, agency or None)


def is_centre(actor: Actor) -> bool:
    return bool(actor.roles & {Role.OPERATOR, Role.SUPERVISOR})

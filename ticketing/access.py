"""Who may do what: named permissions grouped into roles, each grant scoped to one agency or the city.

Pure data and pure checks, no I/O. The model follows FixMyStreet's (named permissions granted per
body): a user holds one or more :class:`Grant` (a role, and an agency code or ``None`` for city-wide),
and :meth:`Actor.can` answers whether any grant gives a permission for a ticket's lead agency (or, for
the few coordination permissions, for a coordinating agency).

Roles (SPEC §2, HN Art. 8-10, iHN Art. 8, 12):

* ``operator`` - hotline centre: takes transfers, completes drafts, calls back incomplete reports;
* ``supervisor`` - hotline centre: dispatch, transfer, link duplicates, urgent list, city-wide queue,
  and the AI's learning loop (review its misunderstood turns);
* ``officer`` - one agency: accept, reject with reason, coordinate, transfer, draft the result;
* ``head`` - one agency: approve or send back a drafted result, approve publication, assign officers;
* ``leader`` - read-only, city-wide dashboards and reports;
* ``admin`` - users, agencies, routing, categories, SLA settings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    HEAD = "head"
    LEADER = "leader"
    ADMIN = "admin"


ROLE_LABELS: Mapping[Role, str] = {
    Role.OPERATOR: "Điện thoại viên",
    Role.SUPERVISOR: "Giám sát tổng đài",
    Role.OFFICER: "Cán bộ xử lý",
    Role.HEAD: "Lãnh đạo đơn vị",
    Role.LEADER: "Lãnh đạo thành phố",
    Role.ADMIN: "Quản trị hệ thống",
}

AGENCY_ROLES = frozenset({Role.OFFICER, Role.HEAD})
"""Roles whose grant names one agency; every other role is city-wide."""


class Permission(StrEnum):
    """Named permissions (FixMyStreet style: ``<object>_<verb>``)."""

    TICKET_VIEW = "ticket_view"  # see the ticket (content, place, history)
    CALLER_CONTACT = "caller_contact"  # see the caller's phone, CCCD, e-mail unmasked
    CALLER_IDENTITY_CONFIDENTIAL = "caller_identity_confidential"  # a confidential caller (audited)
    RECORDING_LISTEN = "recording_listen"  # the call recording and the transcript
    QUEUE_AGENCY = "queue_agency"  # the agency queue
    QUEUE_CITYWIDE = "queue_citywide"  # the hotline centre's city-wide queue
    DRAFT_COMPLETE = "draft_complete"  # complete an incomplete call report after the call-back
    TICKET_CREATE = "ticket_create"  # file a ticket while on the phone
    TICKET_DISPATCH = "ticket_dispatch"
    TICKET_LINK_DUPLICATE = "ticket_link_duplicate"
    TICKET_ACCEPT = "ticket_accept"
    TICKET_REJECT = "ticket_reject"
    TICKET_COORDINATE = "ticket_coordinate"  # add coordinating agencies
    TICKET_POST_PART = "ticket_post_part"  # a coordinating agency posts its part
    TICKET_TRANSFER = "ticket_transfer"
    TICKET_EXTEND = "ticket_extend"
    TICKET_ASSIGN = "ticket_assign"  # assign an officer of the agency
    RESULT_DRAFT = "result_draft"  # draft the result with evidence
    RESULT_APPROVE = "result_approve"  # approve or send back a drafted result
    RESULT_PUBLISH = "result_publish"  # approve publication of the result
    DASHBOARD_AGENCY = "dashboard_agency"
    DASHBOARD_CITY = "dashboard_city"
    REPORT_DOWNLOAD = "report_download"
    USER_MANAGE = "user_manage"
    AGENCY_MANAGE = "agency_manage"
    ROUTING_MANAGE = "routing_manage"
    CATEGORY_MANAGE = "category_manage"
    SLA_MANAGE = "sla_manage"
    NLU_REVIEW = "nlu_review"  # label or discard the AI's misunderstood turns (the learning loop)


P = Permission

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {
            P.TICKET_VIEW,
            P.CALLER_CONTACT,
            P.CALLER_IDENTITY_CONFIDENTIAL,
            P.RECORDING_LISTEN,
            P.QUEUE_CITYWIDE,
            P.DRAFT_COMPLETE,
            P.TICKET_CREATE,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            P.TICKET_VIEW,
            P.CALLER_CONTACT,
            P.CALLER_IDENTITY_CONFIDENTIAL,
            P.RECORDING_LISTEN,
            P.QUEUE_CITYWIDE,
            P.DRAFT_COMPLETE,
            P.TICKET_CREATE,
            P.TICKET_DISPATCH,
            P.TICKET_TRANSFER,
            P.TICKET_LINK_DUPLICATE,
            P.TICKET_REJECT,
            P.DASHBOARD_CITY,
            P.REPORT_DOWNLOAD,
            P.NLU_REVIEW,
        }
    ),
    Role.OFFICER: frozenset(
        {
            P.TICKET_VIEW,
            P.RECORDING_LISTEN,
            P.QUEUE_AGENCY,
            P.TICKET_ACCEPT,
            P.TICKET_REJECT,
            P.TICKET_COORDINATE,
            P.TICKET_POST_PART,
            P.TICKET_TRANSFER,
            P.TICKET_EXTEND,
            P.RESULT_DRAFT,
            P.DASHBOARD_AGENCY,
        }
    ),
    Role.HEAD: frozenset(
        {
            P.TICKET_VIEW,
            P.RECORDING_LISTEN,
            P.QUEUE_AGENCY,
            P.TICKET_ACCEPT,
            P.TICKET_REJECT,
            P.TICKET_COORDINATE,
            P.TICKET_POST_PART,
            P.TICKET_TRANSFER,
            P.TICKET_EXTEND,
            P.TICKET_ASSIGN,
            P.RESULT_APPROVE,
            P.RESULT_PUBLISH,
            P.DASHBOARD_AGENCY,
            P.REPORT_DOWNLOAD,
        }
    ),
    Role.LEADER: frozenset({P.TICKET_VIEW, P.DASHBOARD_AGENCY, P.DASHBOARD_CITY, P.REPORT_DOWNLOAD}),
    Role.ADMIN: frozenset(
        {P.USER_MANAGE, P.AGENCY_MANAGE, P.ROUTING_MANAGE, P.CATEGORY_MANAGE, P.SLA_MANAGE}
    ),
}
"""The permissions table: which role holds which permission (scoped by the grant's agency)."""

COORDINATOR_PERMISSIONS = frozenset({P.TICKET_VIEW, P.TICKET_POST_PART})
"""What an agency grant gives on a ticket where that agency only coordinates (HN Art. 9.2)."""


class AccessError(ValueError):
    """A grant that cannot exist (an agency role without an agency, a city-wide role with one...)."""


@dataclass(frozen=True)
class Grant:
    role: Role
    agency: str | None = None  # agency code; None: the whole city

    def __post_init__(self) -> None:
        role = Role(self.role)
        object.__setattr__(self, "role", role)
        if role in AGENCY_ROLES and not self.agency:
            raise AccessError(
                f"Vai trò {role.value} cần mã đơn vị (--agency) / the {role.value} role needs an agency"
            )
        if role not in AGENCY_ROLES and self.agency:
            raise AccessError(
                f"Vai trò {role.value} áp dụng toàn thành phố, không gắn đơn vị / "
                f"the {role.value} role is city-wide and takes no agency"
            )

    @property
    def label(self) -> str:
        base = ROLE_LABELS[self.role]
        return f"{base} ({self.agency})" if self.agency else base


@dataclass(frozen=True)
class Actor:
    """The user acting through a front door: passed to every staff service method."""

    user_id: int
    username: str
    display_name: str = ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The name recorded in ticket histories and the audit log."""
        return self.username

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    @property
    def agencies(self) -> tuple[str, ...]:
        """The agencies of the actor's agency-scoped grants, in grant order."""
        return tuple(dict.fromkeys(g.agency for g in self.grants if g.agency))

    def has(self, permission: Permission) -> bool:
        """Whether any grant holds the permission, whatever its scope."""
        return any(permission in ROLE_PERMISSIONS[g.role] for g in self.grants)

    def can(
        self, permission: Permission, lead_agency: str | None = None, coordinators: Collection[str] = ()
    ) -> bool:
        """Whether the actor holds ``permission`` for a ticket led by ``lead_agency`` (coordinated by
        ``coordinators``). With ``lead_agency=None`` the question is city-wide (no ticket)."""
        return can(self.grants, permission, lead_agency, coordinators)

    def scopes(self, permission: Permission) -> tuple[str, ...] | None:
        """The agencies where the actor holds ``permission``; ``None`` means city-wide."""
        out: list[str] = []
        for g in self.grants:
            if permission in ROLE_PERMISSIONS[g.role]:
                if g.agency is None:
                    return None
                out.append(g.agency)
        return tuple(dict.fromkeys(out))


def can(
    grants: Iterable[Grant],
    permission: Permission,
    lead_agency: str | None = None,
    coordinators: Collection[str] = (),
) -> bool:
    """The one rule: a city-wide grant covers every agency; an agency grant covers tickets that its
    agency leads, and (only for :data:`COORDINATOR_PERMISSIONS`) tickets it coordinates."""
    for g in grants:
        if permission not in ROLE_PERMISSIONS[g.role]:
            continue
        if g.agency is None:
            return True
        if lead_agency is not None and g.agency == lead_agency:
            return True
        if permission in COORDINATOR_PERMISSIONS and g.agency in coordinators:
            return True
    return False


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccessError(
            f"Vai trò không hợp lệ: {text!r} / unknown role {text!r} (one of: {names})"
        ) from None

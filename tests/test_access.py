"""The permissions table, table-driven: every permission x role x agency pair, the grant rules, and the
one masking policy."""

from __future__ import annotations

import itertools

import pytest

from ticketing.access import (
    AGENCY_ROLES,
    COORDINATOR_PERMISSIONS,
    ROLE_PERMISSIONS,
    AccessError,
    Actor,
    Grant,
    Permission,
    Role,
)
from ticketing.domain.model import Caller
from ticketing.privacy import HIDDEN, mask, view_caller

P = Permission
A, B = "UBND-A", "UBND-B"

# The expected table, written out independently of ROLE_PERMISSIONS: a change to either fails here.
EXPECTED: dict[Role, set[Permission]] = {
    Role.OPERATOR: {
        P.TICKET_VIEW,
        P.CALLER_CONTACT,
        P.CALLER_IDENTITY_CONFIDENTIAL,
        P.RECORDING_LISTEN,
        P.QUEUE_CITYWIDE,
        P.DRAFT_COMPLETE,
        P.TICKET_CREATE,
    },
    Role.SUPERVISOR: {
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
    },
    Role.OFFICER: {
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
    },
    Role.HEAD: {
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
    },
    Role.LEADER: {P.TICKET_VIEW, P.DASHBOARD_AGENCY, P.DASHBOARD_CITY, P.REPORT_DOWNLOAD},
    Role.ADMIN: {P.USER_MANAGE, P.AGENCY_MANAGE, P.ROUTING_MANAGE, P.CATEGORY_MANAGE, P.SLA_MANAGE},
}


def _actor(role: Role) -> Actor:
    agency = A if role in AGENCY_ROLES else None
    return Actor(1, f"u-{role.value}", grants=(Grant(role, agency),))


def test_role_names_are_exact() -> None:
    assert [r.value for r in Role] == ["operator", "supervisor", "officer", "head", "leader", "admin"]
    assert {r: set(p) for r, p in ROLE_PERMISSIONS.items()} == EXPECTED


# (role, permission, ticket's lead agency, coordinating agencies) -> allowed?
CASES = [
    pytest.param(role, perm, lead, coord, id=f"{role.value}-{perm.value}-{lead}-{'+'.join(coord) or 'none'}")
    for role, perm, (lead, coord) in itertools.product(
        Role,
        Permission,
        [(A, ()), (B, ()), (B, (A,)), (None, ())],
    )
]


@pytest.mark.parametrize(("role", "perm", "lead", "coord"), CASES)
def test_every_permission_role_agency_pair(
    role: Role, perm: Permission, lead: str | None, coord: tuple[str, ...]
) -> None:
    held = perm in EXPECTED[role]
    if role not in AGENCY_ROLES or lead == A:  # city-wide: the same answer for every agency
        expected = held
    elif coord and A in coord:  # own agency only coordinates
        expected = held and perm in COORDINATOR_PERMISSIONS
    else:  # another agency's ticket, or a city-wide question
        expected = False
    assert _actor(role).can(perm, lead, coord) is expected


@pytest.mark.parametrize("role", sorted(AGENCY_ROLES))
def test_agency_roles_need_an_agency(role: Role) -> None:
    with pytest.raises(AccessError):
        Grant(role, None)


@pytest.mark.parametrize("role", sorted(set(Role) - AGENCY_ROLES))
def test_city_roles_take_no_agency(role: Role) -> None:
    with pytest.raises(AccessError):
        Grant(role, A)


def test_scopes_and_several_grants() -> None:
    both = Actor(1, "x", grants=(Grant(Role.OFFICER, A), Grant(Role.HEAD, B)))
    assert both.scopes(P.QUEUE_AGENCY) == (A, B)
    assert both.scopes(P.RESULT_APPROVE) == (B,)
    assert both.can(P.RESULT_APPROVE, B) and not both.can(P.RESULT_APPROVE, A)
    assert _actor(Role.SUPERVISOR).scopes(P.TICKET_VIEW) is None
    assert _actor(Role.ADMIN).scopes(P.TICKET_VIEW) == ()


CALLER = Caller("Nguyễn Văn An", "001190012345", "0912345678", "12 Hàng Bông", "an@example.vn")


@pytest.mark.parametrize(
    ("contact", "confidential_ok", "confidential", "name", "phone"),
    [
        (True, True, False, "Nguyễn Văn An", "0912345678"),
        (False, False, False, "Nguyễn Văn An", "09******78"),
        (True, True, True, "Nguyễn Văn An", "0912345678"),
        (False, False, True, HIDDEN, ""),
        (True, False, True, HIDDEN, ""),
    ],
)
def test_masking_policy(
    contact: bool, confidential_ok: bool, confidential: bool, name: str, phone: str
) -> None:
    caller = Caller(**{**CALLER.__dict__, "confidential": confidential})
    view = view_caller(caller, contact=contact, confidential=confidential_ok)
    assert (view.name, view.phone) == (name, phone)
    if not contact:
        assert "0012" not in view.cccd and "an@" not in view.email


def test_mask() -> None:
    assert mask("0912345678") == "09******78"
    assert mask("123") == "***"
    assert mask("") == ""

"""The staff service and users on SQLite and PostgreSQL: scope ("not found" for another agency),
separation of duties, masking, the audit of confidential identities, users and sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_service import REPORT, World, world  # noqa: F401
from ticketing.access import Actor, Role
from ticketing.db.users import SqlAssignments, SqlUserStore
from ticketing.domain.model import Status
from ticketing.privacy import HIDDEN
from ticketing.service import TicketNotFound
from ticketing.staff import Forbidden, QueueFilter, StaffService
from ticketing.users import UserError, UserService

A, B = "UBND-00070", "UBND-00004"  # ward committees of Hoàn Kiếm and Ba Đình


@pytest.fixture
def staff(world: World) -> tuple[StaffService, UserService]:  # noqa: F811
    sessions = world.uow()._factory  # the session factory behind the unit of work
    codes = {a.code for a in world.admin.agencies()}
    users = UserService(SqlUserStore(sessions), world.clock, codes.__contains__)
    svc = StaffService(world.tickets, world.admin, world.store, SqlAssignments(sessions))
    return svc, users


def _user(users: UserService, name: str, role: str, agency: str | None = None) -> Actor:
    rec, _ = users.add(name, role, "test", agency=agency)
    return rec.actor()


def _dispatched(world: World, confidential: bool = False) -> str:  # noqa: F811
    data: dict[str, Any] = {**REPORT, "caller": {**REPORT["caller"], "confidential": confidential}}
    code = world.tickets.create(data, "ai").ticket.code
    world.tickets.dispatch(code, "supervisor", A)
    return code


def test_scope_separation_of_duties_and_masking(world: World, staff: Any, tmp_path: Path) -> None:  # noqa: F811
    svc, users = staff
    officer = _user(users, "can-bo-a", "officer", A)
    head = _user(users, "truong-a", "head", A)
    other = _user(users, "can-bo-b", "officer", B)
    other_head = _user(users, "truong-b", "head", B)
    operator = _user(users, "dtv1", "operator")
    code = _dispatched(world)

    # another agency gets "not found", exactly as for a missing ticket
    for outsider in (other, other_head):
        with pytest.raises(TicketNotFound):
            svc.view(outsider, code)
        with pytest.raises(TicketNotFound):
            svc.accept(outsider, code)

    view = svc.view(officer, code)
    assert view.caller.phone == "09******78" and view.ticket.caller.phone == "09******78"
    assert "accept" in view.actions and "approve" not in view.actions
    assert svc.view(operator, code).caller.phone == "0912345678"

    with pytest.raises(Forbidden):
        svc.approve(officer, code)  # not in status, and not the officer's permission
    page = svc.queue(officer, QueueFilter())
    assert [i.code for i in page.items] == [code] and page.agency == A
    with pytest.raises(Forbidden):
        svc.queue(officer, QueueFilter(agency=B))

    svc.accept(officer, code)
    svc.draft_result(officer, code, "Đã thu gom rác", [("anh.jpg", b"\xff\xd8jpeg")])
    # the drafter cannot approve, even with the head's role
    both = Actor(officer.user_id, officer.username, grants=(*officer.grants, *head.grants))
    with pytest.raises(Forbidden, match="separation of duties"):
        svc.approve(both, code)
    assert "approve" not in svc.view(both, code).actions
    done = svc.approve(head, code, "Đồng ý")
    assert done.status is Status.DONE
    svc.publish(head, code)
    assert svc.view(head, code).published


def test_confidential_identity_is_hidden_and_views_are_audited(world: World, staff: Any) -> None:  # noqa: F811
    svc, users = staff
    officer = _user(users, "can-bo-a", "officer", A)
    operator = _user(users, "dtv1", "operator")
    code = _dispatched(world, confidential=True)
    world.tickets.attach_bytes(code, b"RIFFwav", "call.wav", "recording", "ai")

    view = svc.view(officer, code)
    assert view.caller.name == HIDDEN and view.ticket.caller.name == HIDDEN
    assert not view.private_media and view.ticket.transcript == ""
    assert all(a.kind.value != "recording" for a in view.ticket.attachments)
    rec = next(a for a in world.tickets.get(code).attachments if a.kind.value == "recording")
    with pytest.raises(TicketNotFound):
        svc.attachment(officer, code, rec.sha256)
    assert not [e for e in world.tickets.audit_trail(code) if e.action == "view_confidential_identity"]

    assert svc.view(operator, code).caller.name == "Nguyễn Văn An"
    svc.attachment(operator, code, rec.sha256)
    seen = [e for e in world.tickets.audit_trail(code) if e.action == "view_confidential_identity"]
    assert [e.actor for e in seen] == ["dtv1", "dtv1"]


def test_users_passwords_and_sessions(world: World, staff: Any) -> None:  # noqa: F811
    _svc, users = staff
    rec, password = users.add("can-bo-a", "officer", "root", agency=A)
    assert len(password) >= 12 and rec.password_hash.startswith("$argon2")
    assert users.authenticate("can-bo-a", password) is not None
    assert users.authenticate("can-bo-a", "wrong-password!") is None
    assert users.authenticate("nobody", password) is None
    assert users.session_user(rec.id or 0, rec.session_version) is not None
    new = users.reset_password("can-bo-a", "root")
    assert users.session_user(rec.id or 0, rec.session_version) is None  # the old session ended
    assert users.authenticate("can-bo-a", new) is not None
    users.disable("can-bo-a", "root")
    assert users.authenticate("can-bo-a", new) is None
    with pytest.raises(UserError, match="agency"):
        users.add("x-1", "officer", "root")
    with pytest.raises(UserError, match="unknown agency"):
        users.add("x-2", "officer", "root", agency="NOPE")
    with pytest.raises(UserError):
        users.add("system", "admin", "root")
    with pytest.raises(UserError, match="city-wide"):
        users.add("x-3", "leader", "root", agency=A)
    with pytest.raises(UserError, match="12"):
        users.add("x-4", "admin", "root", password="short")
    with world.uow() as uow:
        actions = [e.action for e in uow.audit.entries("user", "can-bo-a")]
    assert actions == ["add", "reset_password", "disable"]
    assert Role.OFFICER in users.get("can-bo-a").actor().roles

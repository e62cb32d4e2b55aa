"""AdminPortal's permission checks in the service layer: every role but admin is refused each method
(users, agencies, routing, categories, SLA) with nothing changed; admin's changes are audited with the
acting administrator's name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ticketing.access import AGENCY_ROLES, Actor, Grant, Role
from ticketing.admin_portal import AdminPortal
from ticketing.staff import Forbidden
from ticketing.users import UserError

A = "UBND-00070"
CALLS: dict[str, Callable[[AdminPortal, Actor], Any]] = {
    "users": lambda p, a: p.users(a),
    "add_user": lambda p, a: p.add_user(a, "lau.vao", "admin"),
    "disable_user": lambda p, a: p.disable_user(a, "nan.nhan"),
    "enable_user": lambda p, a: p.enable_user(a, "nan.nhan"),
    "reset_password": lambda p, a: p.reset_password(a, "nan.nhan"),
    "agencies": lambda p, a: p.agencies(a),
    "agency": lambda p, a: p.agency(a, A),
    "set_contact": lambda p, a: p.set_contact(a, A, name="X", phone="0900000000", email="x@y.vn"),
    "rules": lambda p, a: p.rules(a),
    "add_rule": lambda p, a: p.add_rule(a, "VSMT", "00070", "UBND-00004"),
    "test_route": lambda p, a: p.test_route(a, "VSMT", "00070"),
    "categories": lambda p, a: p.categories(a),
    "wards": lambda p, a: p.wards(a),
    "sla": lambda p, a: p.sla(a),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import wiring
    from config.settings import Settings
    from ticketing.db import migrate

    data = Path(tmp_path_factory.mktemp("admin-portal"))
    s = Settings(data_dir=data)
    migrate.upgrade(s.database_url)
    services = wiring.build(s)
    services.admin.import_agencies("hanoi", "test")
    services.users.add("nan.nhan", "operator", "test", password="mat-khau-thu-nghiem-12")
    yield services
    services.close()


def actor_of(role: Role) -> Actor:
    return Actor(99, f"thu.{role.value}", grants=(Grant(role, A if role in AGENCY_ROLES else None),))


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.ADMIN}))
@pytest.mark.parametrize("method", sorted(CALLS))
def test_non_admin_roles_are_refused(world: Any, role: Role, method: str) -> None:
    portal: AdminPortal = world.admin_portal
    with pytest.raises(Forbidden):
        CALLS[method](portal, actor_of(role))


def test_refusals_change_nothing(world: Any) -> None:
    portal: AdminPortal = world.admin_portal
    for role in set(Role) - {Role.ADMIN}:
        for call in CALLS.values():
            with pytest.raises(Forbidden):
                call(portal, actor_of(role))
    assert world.users.get("nan.nhan").active
    assert all(u.username != "lau.vao" for u in world.users.list())
    assert world.admin.rules() == []
    assert world.admin_portal.agency(actor_of(Role.ADMIN), A).focal_name == ""


def test_admin_may_do_everything_audited_with_its_name(world: Any) -> None:
    portal: AdminPortal = world.admin_portal
    admin = actor_of(Role.ADMIN)
    results = {name: call(portal, admin) for name, call in CALLS.items() if name != "enable_user"}
    assert results["add_user"][0].username == "lau.vao" and len(results["add_user"][1]) >= 12
    assert results["test_route"].agency == "UBND-00004"
    assert results["sla"].preset.name == "hanoi" and results["sla"].sessions
    assert portal.enable_user(admin, "nan.nhan").active
    with pytest.raises(UserError, match="tự khóa"):
        portal.disable_user(admin, admin.username)
    from sqlalchemy import text

    with world.session_factory() as s:
        actors = {
            (r[0], r[1])
            for r in s.execute(
                text("SELECT entity, action FROM audit_log WHERE actor = :a"), {"a": "thu.admin"}
            )
        }
    assert {
        ("user", "add"),
        ("user", "disable"),
        ("user", "enable"),
        ("user", "reset_password"),
        ("agency", "set_focal"),
        ("routing_rule", "add"),
    } <= actors

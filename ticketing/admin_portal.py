"""The administrator's service of the portal: users, agencies' contacts, routing rules, and read-only
views of the SLA preset and the categories in force. Every method takes the acting user.

It wraps :class:`~ticketing.users.UserService` (the same one ``hotline users`` uses) and
:class:`~ticketing.service.AdminService` (``hotline agencies`` / ``hotline routing``); each call checks
the named permission (``user_manage``, ``agency_manage``, ``routing_manage``, ``category_manage``,
``sla_manage``) and refuses with :class:`~ticketing.staff.Forbidden` otherwise. Changes are audited
with the acting administrator's user name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import reference
from ticketing.access import Actor, Permission, Role
from ticketing.domain import routing
from ticketing.domain.sla import SlaPreset
from ticketing.ports import AgencyRecord, RoutingRuleRecord
from ticketing.service import AdminService
from ticketing.staff import Forbidden
from ticketing.users import UserError, UserRecord, UserService

P = Permission
REFUSED = "Bạn không có quyền quản trị mục này / you may not manage this"


@dataclass(frozen=True)
class SlaView:
    """The SLA preset and the office sessions in force for the configured city."""

    city: str
    preset: SlaPreset
    sessions: tuple[str, ...]


SlaSource = Callable[[], SlaView]


class AdminPortal:
    def __init__(self, users: UserService, admin: AdminService, city: str, sla: SlaSource) -> None:
        self._users = users
        self._admin = admin
        self.city = city
        self._sla = sla

    @staticmethod
    def _require(actor: Actor, permission: Permission) -> None:
        if not actor.can(permission):
            raise Forbidden(REFUSED)

    # --- users --------------------------------------------------------------------------------------

    def users(self, actor: Actor) -> list[UserRecord]:
        self._require(actor, P.USER_MANAGE)
        return sorted(self._users.list(), key=lambda u: (not u.active, u.username))

    def add_user(
        self, actor: Actor, username: str, role: Role | str, agency: str = "", display_name: str = ""
    ) -> tuple[UserRecord, str]:
        """A new user with a generated password, returned once to be shown to the administrator."""
        self._require(actor, P.USER_MANAGE)
        return self._users.add(
            username.strip().lower(), role, actor.name, agency=agency or None, display_name=display_name
        )

    def disable_user(self, actor: Actor, username: str) -> UserRecord:
        self._require(actor, P.USER_MANAGE)
        if username.strip() == actor.username:
            raise UserError("Không thể tự khóa tài khoản của mình / you cannot disable yourself")
        return self._users.disable(username, actor.name)

    def enable_user(self, actor: Actor, username: str) -> UserRecord:
        self._require(actor, P.USER_MANAGE)
        return self._users.enable(username, actor.name)

    def reset_password(self, actor: Actor, username: str) -> str:
        """A new generated password (shown once); the user's open sessions end."""
        self._require(actor, P.USER_MANAGE)
        return self._users.reset_password(username, actor.name)

    # --- agencies -----------------------------------------------------------------------------------

    def agencies(self, actor: Actor, kind: str = "") -> list[AgencyRecord]:
        self._require(actor, P.AGENCY_MANAGE)
        return self._admin.agencies(city=self.city, kind=kind)

    def agency(self, actor: Actor, code: str) -> AgencyRecord:
        self._require(actor, P.AGENCY_MANAGE)
        for a in self._admin.agencies(city=self.city):
            if a.code == code:
                return a
        raise UserError(f"Không có đơn vị mã {code!r} / unknown agency {code!r}")

    def set_contact(
        self, actor: Actor, code: str, *, role: str = "focal", name: str, phone: str, email: str
    ) -> AgencyRecord:
        self._require(actor, P.AGENCY_MANAGE)
        self.agency(actor, code)  # only the configured city's agencies
        return self._admin.set_contact(code, actor.name, role=role, name=name, phone=phone, email=email)

    # --- routing ------------------------------------------------------------------------------------

    def rules(self, actor: Actor) -> list[RoutingRuleRecord]:
        self._require(actor, P.ROUTING_MANAGE)
        return self._admin.rules(self.city)

    def add_rule(
        self, actor: Actor, category: str, ward_code: str, agency: str, priority: int = 0
    ) -> RoutingRuleRecord:
        self._require(actor, P.ROUTING_MANAGE)
        return self._admin.add_rule(
            category.strip().upper(), ward_code, agency, actor.name, city=self.city, priority=priority
        )

    def test_route(self, actor: Actor, category: str, ward_code: str) -> routing.RouteDecision:
        self._require(actor, P.ROUTING_MANAGE)
        return self._admin.test_route(category.strip().upper(), ward_code, self.city)

    # --- read-only settings -------------------------------------------------------------------------

    def categories(self, actor: Actor) -> Sequence[reference.Category]:
        self._require(actor, P.CATEGORY_MANAGE)
        return list(reference.categories().values())

    def wards(self, actor: Actor) -> Sequence[reference.Unit]:
        self._require(actor, P.ROUTING_MANAGE)
        return list(reference.units(self.city))

    def sla(self, actor: Actor) -> SlaView:
        self._require(actor, P.SLA_MANAGE)
        return self._sla()

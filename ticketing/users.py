"""Staff accounts of the portal: users with argon2 password hashes and scoped role grants.

:class:`UserService` adds, lists, disables users and resets passwords (every change audited with the
acting person), and turns a username and password into an :class:`~ticketing.access.Actor`.
Passwords are hashed with argon2 (``pwdlib``); a generated password is returned once and never stored.
Disabling a user or resetting the password bumps ``session_version``, which ends the user's sessions.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from pwdlib import PasswordHash

from ticketing.access import AccessError, Actor, Grant, Role
from ticketing.ports import AuditEntry, Clock

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
RESERVED = frozenset({"system", "cli", "root", "admin-system", "ai", "anonymous", "public"})
MIN_PASSWORD = 12
GENERATED_BYTES = 15  # 20 URL-safe characters

_hasher = PasswordHash.recommended()
# Verified when the username is unknown, so that both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A refused user operation (bad name, unknown user, short password, unknown agency)."""


@dataclass(frozen=True)
class UserRecord:
    id: int | None
    username: str
    display_name: str
    password_hash: str
    grants: tuple[Grant, ...]
    active: bool
    created_at: datetime
    updated_at: datetime
    session_version: int = 1

    def actor(self) -> Actor:
        assert self.id is not None
        return Actor(self.id, self.username, self.display_name or self.username, self.grants)

    def public(self) -> dict[str, object]:
        """For the audit log: everything but the hash."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "grants": [[g.role.value, g.agency] for g in self.grants],
            "active": self.active,
            "session_version": self.session_version,
        }


class UserStore(Protocol):
    """Storage of users; each write stores the user and its audit entry in one transaction."""

    def get(self, username: str) -> UserRecord | None: ...

    def get_id(self, user_id: int) -> UserRecord | None: ...

    def all(self) -> list[UserRecord]: ...

    def add(self, user: UserRecord, audit: AuditEntry) -> UserRecord: ...

    def update(self, user: UserRecord, audit: AuditEntry) -> None: ...


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_BYTES)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_username(name: str) -> str:
    name = name.strip()
    if not USERNAME_RE.match(name) or name in RESERVED:
        raise UserError(
            f"Tên đăng nhập không hợp lệ: {name!r} (2-40 chữ thường không dấu, số, '.', '_', '-'; "
            f"không dùng tên dành riêng) / invalid username {name!r}"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự / the password needs {MIN_PASSWORD}+ characters"
        )
    if any(ch in password for ch in "\r\n\0"):
        raise UserError("Mật khẩu chứa ký tự xuống dòng / the password contains a newline")
    return password


class UserService:
    def __init__(self, store: UserStore, clock: Clock, agency_exists: Callable[[str], bool]) -> None:
        self.store = store
        self.clock = clock
        self.agency_exists = agency_exists

    def add(
        self,
        username: str,
        role: Role | str,
        actor: str,
        *,
        agency: str | None = None,
        display_name: str = "",
        password: str | None = None,
    ) -> tuple[UserRecord, str]:
        """A new user with one grant; returns it and its password (generated when none is given)."""
        name = check_username(username)
        try:
            grant = Grant(Role(str(role).strip().lower()), (agency or "").strip() or None)
        except ValueError as exc:
            if isinstance(exc, AccessError):
                raise UserError(str(exc)) from None
            names = ", ".join(r.value for r in Role)
            raise UserError(f"Vai trò không hợp lệ: {role!r} / unknown role (one of: {names})") from None
        if grant.agency and not self.agency_exists(grant.agency):
            raise UserError(
                f"Không có đơn vị mã {grant.agency!r} (xem 'hotline agencies list') / "
                f"unknown agency {grant.agency!r}"
            )
        plain = check_password(password) if password is not None else generate_password()
        if self.store.get(name) is not None:
            raise UserError(f"Người dùng {name} đã tồn tại / user {name} already exists")
        now = self.clock.now()
        user = UserRecord(None, name, display_name.strip(), hash_password(plain), (grant,), True, now, now)
        saved = self.store.add(user, AuditEntry(now, actor, "user", name, "add", None, user.public()))
        return saved, plain

    def list(self) -> list[UserRecord]:
        return self.store.all()

    def get(self, username: str) -> UserRecord:
        user = self.store.get(username.strip())
        if user is None:
            raise UserError(f"Không có người dùng {username!r} / no user {username!r}")
        return user

    def disable(self, username: str, actor: str) -> UserRecord:
        user = self.get(username)
        new = replace(
            user, active=False, session_version=user.session_version + 1, updated_at=self.clock.now()
        )
        self.store.update(
            new,
            AuditEntry(new.updated_at, actor, "user", user.username, "disable", user.public(), new.public()),
        )
        return new

    def enable(self, username: str, actor: str) -> UserRecord:
        user = self.get(username)
        new = replace(user, active=True, updated_at=self.clock.now())
        self.store.update(
            new,
            AuditEntry(new.updated_at, actor, "user", user.username, "enable", user.public(), new.public()),
        )
        return new

    def reset_password(self, username: str, actor: str, password: str | None = None) -> str:
        """A new password (generated when none is given); the user's open sessions end."""
        user = self.get(username)
        plain = check_password(password) if password is not None else generate_password()
        new = replace(
            user,
            password_hash=hash_password(plain),
            session_version=user.session_version + 1,
            updated_at=self.clock.now(),
        )
        self.store.update(
            new,
            AuditEntry(
                new.updated_at, actor, "user", user.username, "reset_password", user.public(), new.public()
            ),
        )
        return plain

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The active user with this password, or None (the same time either way)."""
        user = self.store.get(username.strip().lower()) if username else None
        if user is None or not user.active:
            _hasher.verify(password, _DUMMY_HASH)
            return None
        ok, new_hash = _hasher.verify_and_update(password, user.password_hash)
        if not ok:
            return None
        if new_hash is not None:
            new = replace(user, password_hash=new_hash, updated_at=self.clock.now())
            self.store.update(
                new, AuditEntry(new.updated_at, user.username, "user", user.username, "rehash", None, None)
            )
            return new
        return user

    def session_user(self, user_id: int, session_version: int) -> UserRecord | None:
        """The user of a session, if still active and the session not ended by a reset."""
        user = self.store.get_id(user_id)
        if user is None or not user.active or user.session_version != session_version:
            return None
        return user

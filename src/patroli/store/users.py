"""User accounts and API tokens in the store (issue 5).

The store keeps password *hashes* only (argon2id PHC strings made by
``patroli.web.security.PasswordHasher``) and the SHA-256 of API tokens; it never sees a
password. Every change is written to the audit log in the same transaction as the
change (``patroli.store.audit.append_entry``): both or neither are committed.

Usernames are case-insensitive: stored lower-case, 2–64 characters of ``a-z 0-9 . _ -``,
starting with a letter or digit (they appear in URLs, logs and the audit log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from patroli.store.audit import append_entry
from patroli.store.models_web import api_tokens, users

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "ROLES",
    "ApiTokenRecord",
    "UserError",
    "UserExistsError",
    "UserNotFoundError",
    "UserRecord",
    "add_api_token",
    "add_user",
    "count_users",
    "get_user",
    "get_user_by_id",
    "list_api_tokens",
    "list_users",
    "normalize_username",
    "record_login",
    "revoke_api_token",
    "set_disabled",
    "set_password_hash",
    "set_role",
    "token_by_hash",
]

#: Roles, most powerful first (the permission table is ``patroli/web/permissions.yaml``).
ROLES: tuple[str, ...] = ("admin", "supervisor", "analyst", "viewer")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    """Invalid username, role or password hash."""


class UserExistsError(UserError):
    """A user with that username exists already."""


class UserNotFoundError(UserError, KeyError):
    """No user has that username (or id)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "no such user"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user. Times are UTC-aware; ``password_hash`` is an argon2 PHC string."""

    id: int
    username: str
    password_hash: str
    role: str
    display_name: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """A stored API token (its hash only)."""

    id: int
    name: str
    token_hash: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def normalize_username(username: str) -> str:
    """The stored form of a username (stripped, lower-case); UserError when invalid."""
    u = (username or "").strip().lower()
    if not _USERNAME.match(u):
        raise UserError(
            "username must be 2-64 characters of a-z, 0-9, '.', '_' or '-', starting "
            f"with a letter or digit (got {username[:70]!r})")
    return u


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def _user(r: Any) -> UserRecord:
    return UserRecord(id=int(r.id), username=r.username, password_hash=r.password_hash,
                      role=r.role, display_name=r.display_name or "",
                      disabled=bool(r.disabled), created_at=r.created_at,
                      last_login_at=r.last_login_at)


def add_user(store: Store, username: str, password_hash: str, role: str, *, actor: str,
             display_name: str = "") -> UserRecord:
    """Create a user; logs ``user.add`` by ``actor``. Returns the stored user.

    Raises UserError (bad username, role or empty hash), UserExistsError.
    """
    name = normalize_username(username)
    _check_role(role)
    if not password_hash.startswith("$argon2"):
        raise UserError("password_hash must be an argon2 PHC string")
    now = datetime.now(UTC)
    try:
        with store._write() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == name)).first():
                raise UserExistsError(f"user {name!r} exists already")
            res = conn.execute(insert(users).values(
                username=name, password_hash=password_hash, role=role,
                display_name=display_name.strip()[:200], disabled=False, created_at=now,
                last_login_at=None))
            append_entry(conn, actor, "user.add", name,
                         {"role": role, "display_name": display_name.strip()[:200]})
            new_id = int(res.inserted_primary_key[0])
    except IntegrityError as exc:  # a concurrent add of the same name
        raise UserExistsError(f"user {name!r} exists already") from exc
    return get_user_by_id(store, new_id)  # type: ignore[return-value]


def get_user(store: Store, username: str) -> UserRecord | None:
    """The user with that username (case-insensitive), or None (also for an invalid name)."""
    try:
        name = normalize_username(username)
    except UserError:
        return None
    with store.engine.connect() as conn:
        r = conn.execute(select(users).where(users.c.username == name)).first()
    return None if r is None else _user(r)


def get_user_by_id(store: Store, user_id: int) -> UserRecord | None:
    """The user with that id, or None."""
    with store.engine.connect() as conn:
        r = conn.execute(select(users).where(users.c.id == user_id)).first()
    return None if r is None else _user(r)


def list_users(store: Store) -> list[UserRecord]:
    """Every user, by username."""
    with store.engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def count_users(store: Store) -> int:
    """Number of users (disabled ones included)."""
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(users)) or 0)


def _change(store: Store, username: str, values: dict[str, Any], *, actor: str,
            action: str, details: dict[str, Any]) -> UserRecord:
    name = normalize_username(username)
    with store._write() as conn:
        old = conn.execute(select(users).where(users.c.username == name)).first()
        if old is None:
            raise UserNotFoundError(f"no user {name!r}")
        conn.execute(update(users).where(users.c.id == old.id).values(**values))
        append_entry(conn, actor, action, name, details)
        new = conn.execute(select(users).where(users.c.id == old.id)).one()
    return _user(new)


def set_disabled(store: Store, username: str, disabled: bool, *, actor: str) -> UserRecord:
    """Disable (True) or enable (False) a user; logs ``user.disable`` / ``user.enable``.
    A disabled user cannot sign in and their open sessions stop working."""
    return _change(store, username, {"disabled": bool(disabled)}, actor=actor,
                   action="user.disable" if disabled else "user.enable", details={})


def set_role(store: Store, username: str, role: str, *, actor: str) -> UserRecord:
    """Change a user's role (effective on their next request); logs ``user.set_role``
    with the old and new role. Raises UserError, UserNotFoundError."""
    _check_role(role)
    old = get_user(store, username)
    if old is None:
        raise UserNotFoundError(f"no user {username.strip().lower()!r}")
    return _change(store, username, {"role": role}, actor=actor, action="user.set_role",
                   details={"from": old.role, "to": role})


def set_password_hash(store: Store, username: str, password_hash: str, *, actor: str,
                      audit: bool = True) -> UserRecord:
    """Replace a user's password hash; logs ``user.set_password`` unless ``audit`` is
    False (used for a transparent re-hash with new argon2 parameters at sign-in)."""
    if not password_hash.startswith("$argon2"):
        raise UserError("password_hash must be an argon2 PHC string")
    if audit:
        return _change(store, username, {"password_hash": password_hash}, actor=actor,
                       action="user.set_password", details={})
    name = normalize_username(username)
    with store._write() as conn:
        conn.execute(update(users).where(users.c.username == name)
                     .values(password_hash=password_hash))
    rec = get_user(store, name)
    if rec is None:
        raise UserNotFoundError(f"no user {name!r}")
    return rec


def record_login(store: Store, user_id: int, *, ip: str | None) -> None:
    """Set ``last_login_at`` (now, UTC) and log ``login.success`` in one transaction."""
    with store._write() as conn:
        r = conn.execute(select(users.c.username).where(users.c.id == user_id)).first()
        if r is None:
            raise UserNotFoundError(f"no user with id {user_id}")
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(last_login_at=datetime.now(UTC)))
        append_entry(conn, r.username, "login.success", r.username, {"ip": ip})


# -- API tokens -------------------------------------------------------------------------


def _token(r: Any) -> ApiTokenRecord:
    return ApiTokenRecord(id=int(r.id), name=r.name, token_hash=r.token_hash,
                          scopes=list(r.scopes or []), created_by=r.created_by,
                          created_at=r.created_at, revoked_at=r.revoked_at,
                          last_used_at=r.last_used_at)


def add_api_token(store: Store, name: str, token_hash: str, scopes: list[str], *,
                  actor: str) -> ApiTokenRecord:
    """Store a new API token by its SHA-256 hex digest; logs ``token.add``."""
    if not re.fullmatch(r"[0-9a-f]{64}", token_hash):
        raise UserError("token_hash must be a SHA-256 hex digest")
    with store._write() as conn:
        res = conn.execute(insert(api_tokens).values(
            name=name.strip()[:200], token_hash=token_hash, scopes=list(scopes),
            created_by=actor, created_at=datetime.now(UTC), revoked_at=None,
            last_used_at=None))
        tid = int(res.inserted_primary_key[0])
        append_entry(conn, actor, "token.add", f"token:{tid}",
                     {"name": name.strip()[:200], "scopes": list(scopes)})
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == tid)).one()
    return _token(row)


def token_by_hash(store: Store, token_hash: str, *, touch: bool = True) -> ApiTokenRecord | None:
    """The unrevoked token with that hash (``last_used_at`` set to now when ``touch``)."""
    with store._write() as conn:
        r = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash,
                                                  api_tokens.c.revoked_at.is_(None))).first()
        if r is None:
            return None
        if touch:
            conn.execute(update(api_tokens).where(api_tokens.c.id == r.id)
                         .values(last_used_at=datetime.now(UTC)))
    return _token(r)


def list_api_tokens(store: Store) -> list[ApiTokenRecord]:
    """Every token (revoked ones too), newest first."""
    with store.engine.connect() as conn:
        return [_token(r) for r in conn.execute(
            select(api_tokens).order_by(api_tokens.c.id.desc()))]


def revoke_api_token(store: Store, token_id: int, *, actor: str) -> None:
    """Revoke a token (idempotent); logs ``token.revoke``. UserNotFoundError if unknown."""
    with store._write() as conn:
        r = conn.execute(select(api_tokens.c.id, api_tokens.c.revoked_at)
                         .where(api_tokens.c.id == token_id)).first()
        if r is None:
            raise UserNotFoundError(f"no API token with id {token_id}")
        if r.revoked_at is None:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                         .values(revoked_at=datetime.now(UTC)))
            append_entry(conn, actor, "token.revoke", f"token:{token_id}", {})

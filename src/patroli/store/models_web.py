"""Tables of the web application (issue 5): user accounts, API tokens, the audit log.

- ``users``: one account per person; ``password_hash`` is an argon2id PHC string
  (``patroli.web.security``); ``role`` one of ``patroli.web.security.ROLES``.
- ``api_tokens``: tokens for partner systems; only the SHA-256 hex digest of a token is
  kept (``token_hash``), with its scopes (JSON list of permission names).
- ``audit_log``: append-only, hash-chained record of logins and every change
  (``patroli.store.audit``). Ids are assigned by the chain (last id + 1), not by the
  database, because each entry's hash covers its id; ``prev_hash`` is unique, so two
  entries can never claim the same predecessor (no forks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, JSONDoc, SafeString, SafeText, UTCDateTime


class User(Base):
    """A person who signs in to the console: username (unique, lower-case), role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: admin / supervisor / analyst / viewer
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(SafeString(), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiToken(Base):
    """An API token: SHA-256 hex of the secret, scopes, who created it, revocation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(SafeString())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    created_by: Mapped[str] = mapped_column(SafeString())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """One audit-log entry; ``hash`` = SHA-256 over the canonical entry + ``prev_hash``."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(SafeString())
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(SafeText(), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


users = User.__table__
api_tokens = ApiToken.__table__
audit_log = AuditEntry.__table__

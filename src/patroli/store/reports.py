"""Public reports (portal *Lapor*) in the store: create, look up, change status, decrypt.

Personal data: the reporter's contact is encrypted with Fernet (AES-128-CBC + HMAC-SHA256,
``cryptography``) before it reaches the database; only ``report_contact`` with the key
decrypts it (the web layer calls it for roles holding ``reports.contact.view``). The key
comes from ``$PATROLI_CONTACT_KEY`` (a Fernet key: 32 url-safe base64-encoded bytes) or,
when that is unset, from a key file beside the SQLite database (``<db>.contact.key``;
``./patroli.contact.key`` for other databases), generated on first use with a logged
warning (``contact_key``). Losing the key loses the contacts, never the reports.

Receipt codes: ``RECEIPT_LENGTH`` characters from ``RECEIPT_ALPHABET`` (no 0/O, 1/I/L:
easy to read aloud and type on a phone), drawn with ``secrets``: 31^10 ≈ 8e14 codes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from patroli.store import Store, StoreError
from patroli.store.models import entities, posts
from patroli.store.models_reports import reports
from patroli.store.values import query_values

__all__ = [
    "CONTACT_KEY_ENV",
    "POST_SOURCE",
    "RECEIPT_ALPHABET",
    "RECEIPT_LENGTH",
    "REPORT_KINDS",
    "REPORT_STATUSES",
    "ReportError",
    "ReportNotFoundError",
    "StatusView",
    "contact_key",
    "count_posts_with_entity",
    "create_report",
    "new_receipt_code",
    "normalize_receipt_code",
    "report_by_code",
    "report_contact",
    "report_screenshot",
    "report_status",
    "set_report_status",
]

log = logging.getLogger(__name__)

#: Environment variable holding the Fernet key of reporter contacts.
CONTACT_KEY_ENV = "PATROLI_CONTACT_KEY"
#: ``posts.source`` of reports.
POST_SOURCE = "portal-report"
#: What a report is about.
REPORT_KINDS: tuple[str, ...] = ("url", "account", "phone", "text")
#: Report statuses, in order: diterima / sedang ditinjau / ditindaklanjuti / selesai.
REPORT_STATUSES: tuple[str, ...] = ("received", "in_review", "actioned", "closed")
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10
_CODE_RX = re.compile(f"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")
_CONTACT_FIELDS = ("name", "phone", "email")


class ReportError(StoreError, ValueError):
    """A report that cannot be stored: unknown kind or status, empty content."""


class ReportNotFoundError(StoreError, KeyError):
    """No report has the given receipt code."""


@dataclass(frozen=True, slots=True)
class StatusView:
    """What the public status page may show: the code, the status and dates (UTC)."""

    receipt_code: str
    status: str
    created_at: datetime
    updated_at: datetime


def new_receipt_code() -> str:
    """A fresh random receipt code (``RECEIPT_LENGTH`` characters of ``RECEIPT_ALPHABET``)."""
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalize_receipt_code(raw: str) -> str | None:
    """The code as stored (upper-case, spaces and dashes removed), or None when ``raw``
    cannot be a receipt code (wrong length or characters)."""
    code = re.sub(r"[\s\-]", "", raw or "").upper()
    return code if _CODE_RX.match(code) else None


# -- contact encryption --------------------------------------------------------------------


def _key_file(store: Store) -> Path:
    url = make_url(store.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database).expanduser().resolve()
        return db.with_name(db.name + ".contact.key")
    return Path("patroli.contact.key").resolve()


def contact_key(store: Store) -> bytes:
    """The Fernet key for reporter contacts.

    ``$PATROLI_CONTACT_KEY`` when set (raises ValueError when it is not a Fernet key);
    else the key file beside the database, created (mode 0600) with a logged warning
    when absent. Raises OSError when the key file cannot be read or written.
    """
    env = os.environ.get(CONTACT_KEY_ENV, "").strip()
    if env:
        try:
            Fernet(env.encode())
        except ValueError:
            raise ValueError(f"{CONTACT_KEY_ENV} is not a Fernet key (32 url-safe base64 "
                             "bytes; make one with `python -c \"from cryptography.fernet "
                             "import Fernet; print(Fernet.generate_key().decode())\"`)"
                             ) from None
        return env.encode()
    path = _key_file(store)
    if path.is_file():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    log.warning("%s is not set: generated a reporter-contact key in %s; back it up and "
                "keep it secret (without it, stored contacts cannot be read)",
                CONTACT_KEY_ENV, path)
    return key


def _encrypt_contact(contact: dict[str, str] | None, key: bytes) -> str | None:
    clean = {k: " ".join(str((contact or {}).get(k) or "").split())[:200]
             for k in _CONTACT_FIELDS}
    if not any(clean.values()):
        return None
    return Fernet(key).encrypt(json.dumps(clean, ensure_ascii=False).encode()).decode("ascii")


# -- reports ---------------------------------------------------------------------------------


def create_report(store: Store, *, kind: str, content: str, description: str = "",
                  platform: str | None = None, contact: dict[str, str] | None = None,
                  key: bytes | None = None, screenshot: bytes | None = None,
                  screenshot_mime: str | None = None, receipt_code: str | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Store a new report with status "received"; returns ``report_by_code``'s dict.

    kind: one of ``REPORT_KINDS``; content: what is reported (non-empty); contact: dict
    with optional name / phone / email, encrypted with ``key`` (required when a contact
    is given); screenshot: already sanitised image bytes with their MIME type;
    receipt_code: the code to use (default a new random one; the caller uses the same
    code as the post key). ``post_source`` / ``post_key`` = ``POST_SOURCE`` / the code.
    Raises ReportError for a bad kind, empty content or a contact without key.
    """
    if kind not in REPORT_KINDS:
        raise ReportError(f"unknown report kind {kind!r}; use one of {', '.join(REPORT_KINDS)}")
    if not content.strip():
        raise ReportError("a report needs content")
    if contact and any((contact.get(k) or "").strip() for k in _CONTACT_FIELDS) and not key:
        raise ReportError("a contact needs the encryption key")
    cipher = _encrypt_contact(contact, key) if key else None
    at = now or datetime.now(UTC)
    for _attempt in range(5):
        code = receipt_code or new_receipt_code()
        try:
            with store._write() as conn:
                conn.execute(insert(reports).values(
                    receipt_code=code, kind=kind, content=content,
                    description=description or "", platform=platform or None,
                    contact_ciphertext=cipher, screenshot=screenshot,
                    screenshot_mime=screenshot_mime if screenshot else None,
                    screenshot_size=len(screenshot) if screenshot else None,
                    status=REPORT_STATUSES[0], created_at=at, updated_at=at,
                    post_source=POST_SOURCE, post_key=code))
            return report_by_code(store, code)
        except IntegrityError:
            if receipt_code is not None:
                raise ReportError(f"receipt code {receipt_code!r} is taken") from None
    raise ReportError("could not draw a free receipt code")  # pragma: no cover


_COLUMNS = [c for c in reports.c if c.name not in ("screenshot", "contact_ciphertext")]


def report_by_code(store: Store, code: str) -> dict[str, Any]:
    """The report with receipt ``code`` (any case, dashes allowed) as a dict: id,
    receipt_code, kind, content, description, platform, has_contact, screenshot_mime,
    screenshot_size, status, created_at, updated_at (UTC), post_source, post_key.
    No contact and no screenshot bytes. Raises ReportNotFoundError."""
    norm = normalize_receipt_code(code)
    if norm is None:
        raise ReportNotFoundError(code)
    has_contact = reports.c.contact_ciphertext.is_not(None).label("has_contact")
    with store.engine.connect() as conn:
        r = conn.execute(select(*_COLUMNS, has_contact)
                         .where(reports.c.receipt_code == norm)).first()
    if r is None:
        raise ReportNotFoundError(code)
    d = dict(r._mapping)
    d["has_contact"] = bool(d["has_contact"])
    return d


def report_status(store: Store, code: str) -> StatusView:
    """Only what the public may see of a report: code, status, dates.
    Raises ReportNotFoundError."""
    norm = normalize_receipt_code(code)
    if norm is None:
        raise ReportNotFoundError(code)
    with store.engine.connect() as conn:
        r = conn.execute(select(reports.c.receipt_code, reports.c.status,
                                reports.c.created_at, reports.c.updated_at)
                         .where(reports.c.receipt_code == norm)).first()
    if r is None:
        raise ReportNotFoundError(code)
    return StatusView(r.receipt_code, r.status, r.created_at, r.updated_at)


def set_report_status(store: Store, code: str, status: str, *,
                      now: datetime | None = None) -> dict[str, Any]:
    """Change a report's status (one of ``REPORT_STATUSES``) and ``updated_at``; returns
    the updated ``report_by_code`` dict. The caller records the change in the audit log.
    Raises ReportError for an unknown status, ReportNotFoundError for an unknown code."""
    if status not in REPORT_STATUSES:
        raise ReportError(f"unknown status {status!r}; use one of {', '.join(REPORT_STATUSES)}")
    norm = normalize_receipt_code(code)
    if norm is None:
        raise ReportNotFoundError(code)
    with store._write() as conn:
        res = conn.execute(update(reports).where(reports.c.receipt_code == norm).values(
            status=status, updated_at=now or datetime.now(UTC)))
        if res.rowcount == 0:
            raise ReportNotFoundError(code)
    return report_by_code(store, norm)


def report_contact(store: Store, code: str, key: bytes) -> dict[str, str] | None:
    """The decrypted contact of a report (dict of name, phone, email; empty strings for
    fields not given), or None when the reporter left none. Only for callers allowed to
    see personal data (``reports.contact.view``). Raises ReportNotFoundError;
    ``cryptography.fernet.InvalidToken`` when ``key`` is not the key it was sealed with."""
    norm = normalize_receipt_code(code)
    if norm is None:
        raise ReportNotFoundError(code)
    with store.engine.connect() as conn:
        row = conn.execute(select(reports.c.contact_ciphertext)
                           .where(reports.c.receipt_code == norm)).first()
    if row is None:
        raise ReportNotFoundError(code)
    if row.contact_ciphertext is None:
        return None
    data = json.loads(Fernet(key).decrypt(row.contact_ciphertext.encode("ascii")))
    return {k: str(data.get(k) or "") for k in _CONTACT_FIELDS}


def report_screenshot(store: Store, code: str) -> tuple[bytes, str] | None:
    """``(image bytes, MIME type)`` of a report's sanitised screenshot, or None.
    Raises ReportNotFoundError."""
    norm = normalize_receipt_code(code)
    if norm is None:
        raise ReportNotFoundError(code)
    with store.engine.connect() as conn:
        row = conn.execute(select(reports.c.screenshot, reports.c.screenshot_mime)
                           .where(reports.c.receipt_code == norm)).first()
    if row is None:
        raise ReportNotFoundError(code)
    if row.screenshot is None:
        return None
    return bytes(row.screenshot), str(row.screenshot_mime)


def count_posts_with_entity(store: Store, kind: str, value: str, *,
                            source: str | None = None,
                            exclude_source: str | None = None) -> int:
    """How many distinct stored posts hold entity ``(kind, value)`` (value as stored or
    as typed, see ``values.query_values``), optionally only from ``source`` or leaving
    out ``exclude_source``. A count only: the public portal never shows other posts."""
    q = (select(func.count(entities.c.post_id.distinct()))
         .where(entities.c.kind == kind, entities.c.value.in_(query_values(kind, value))))
    if source is not None or exclude_source is not None:
        q = q.join_from(entities, posts, posts.c.id == entities.c.post_id)
    if source is not None:
        q = q.where(posts.c.source == source)
    if exclude_source is not None:
        q = q.where(posts.c.source != exclude_source)
    with store.engine.connect() as conn:
        return int(conn.scalar(q) or 0)

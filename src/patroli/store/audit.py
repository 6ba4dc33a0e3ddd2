"""The append-only, hash-chained audit log (issue 5): logins and every change.

Each entry has an id (1, 2, 3... assigned by the chain), ``at`` (UTC), ``actor`` (who:
a username, ``"cli:<os user>"`` or ``"anonymous"``), ``action`` (e.g. ``"login.success"``,
``"user.add"``), ``target`` (what it acted on, e.g. a username), ``details`` (a JSON
object), ``prev_hash`` (the previous entry's hash; ``GENESIS_HASH`` for the first) and
``hash`` = SHA-256 hex of ``canonical_json(entry without hash) + prev_hash``.

Changing, deleting or inserting a row anywhere but at the end breaks the chain, and
``verify_chain`` reports the first entry whose hash or link does not hold. Removing the
*last* entries leaves a shorter valid chain: keep the head hash (``head()``, printed by
``patroli audit verify``) somewhere else to detect that too. The database also refuses
UPDATE and DELETE on the table (triggers of migration 0004).

Appends are serialised: SQLite's write lock (BEGIN IMMEDIATE) or a PostgreSQL advisory
lock, and a unique ``prev_hash`` makes a forked chain impossible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from patroli.store.models import clean_text, to_utc
from patroli.store.models_web import audit_log

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "append",
    "append_entry",
    "canonical_json",
    "entries",
    "entry_hash",
    "head",
    "verify_chain",
]

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64
# PostgreSQL advisory lock key held while appending ("audit" in ASCII, as an int).
_APPEND_LOCK_ID = int.from_bytes(b"pat-audit", "big") & 0x7FFFFFFFFFFFFFFF
_TEXT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit-log entry as stored (``at`` is UTC-aware)."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (``at`` in ISO 8601)."""
        return {
            "id": self.id, "at": self.at.isoformat(), "actor": self.actor,
            "action": self.action, "target": self.target, "details": self.details,
            "prev_hash": self.prev_hash, "hash": self.hash,
        }


def canonical_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 characters kept, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _iso(at: datetime) -> str:
    return to_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(id: int, at: datetime, actor: str, action: str, target: str,
               details: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 hex digest of the canonical JSON of the entry followed by ``prev_hash``.

    at: timezone-aware (a naive value is taken as UTC); hashed as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
    """
    body = canonical_json({"id": id, "at": _iso(at), "actor": actor, "action": action,
                           "target": target, "details": dict(details)})
    return hashlib.sha256((body + prev_hash).encode("utf-8")).hexdigest()


def _clean_tree(obj: Any) -> Any:
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(k): _clean_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean_tree(v) for v in obj]
    return obj


def _clean_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The details as they will read back from the database (JSON round trip, NUL and
    lone surrogates replaced), so that the hash covers exactly what is stored."""
    if not details:
        return {}
    return _clean_tree(json.loads(canonical_json(dict(details))))


def _clean(value: str) -> str:
    return clean_text(str(value))[:_TEXT_LIMIT]


def append_entry(conn: Connection, actor: str, action: str, target: str = "",
                 details: Mapping[str, Any] | None = None, *,
                 at: datetime | None = None) -> AuditRecord:
    """Append one entry inside the caller's open *write* transaction ``conn``.

    Use it to log a change in the same transaction as the change itself (both or
    neither are committed). actor / action / target: text (NUL and lone surrogates
    replaced, cut to 1000 characters); details: a JSON-serialisable mapping (TypeError
    or ValueError otherwise); at: default now (UTC), kept to the microsecond.
    """
    if not action:
        raise ValueError("an audit entry needs an action")
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_APPEND_LOCK_ID)))
    last = conn.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    new_id = 1 if last is None else int(last.id) + 1
    prev = GENESIS_HASH if last is None else str(last.hash)
    when = to_utc(at or datetime.now(UTC))
    rec = AuditRecord(id=new_id, at=when, actor=_clean(actor), action=_clean(action)[:64],
                      target=_clean(target), details=_clean_details(details),
                      prev_hash=prev, hash="")
    digest = entry_hash(rec.id, rec.at, rec.actor, rec.action, rec.target, rec.details, prev)
    conn.execute(insert(audit_log).values(
        id=rec.id, at=rec.at, actor=rec.actor, action=rec.action, target=rec.target,
        details=rec.details, prev_hash=prev, hash=digest))
    return AuditRecord(rec.id, rec.at, rec.actor, rec.action, rec.target, rec.details,
                       prev, digest)


def append(store: Store, actor: str, action: str, target: str = "",
           details: Mapping[str, Any] | None = None) -> AuditRecord:
    """Append one entry in its own transaction; returns it (see ``append_entry``)."""
    with store._write() as conn:
        return append_entry(conn, actor, action, target, details)


def _record(r: Any) -> AuditRecord:
    return AuditRecord(id=int(r.id), at=to_utc(r.at), actor=r.actor, action=r.action,
                       target=r.target or "", details=r.details or {},
                       prev_hash=r.prev_hash, hash=r.hash)


def entries(store: Store, limit: int = 50, *, actor: str | None = None,
            action: str | None = None, before_id: int | None = None) -> list[AuditRecord]:
    """The newest entries first; optional equality filters on actor and action, and
    ``before_id`` to page back (entries with a smaller id)."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor is not None:
        q = q.where(audit_log.c.actor == actor)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    if before_id is not None:
        q = q.where(audit_log.c.id < before_id)
    with store.engine.connect() as conn:
        return [_record(r) for r in conn.execute(q)]


def head(store: Store) -> tuple[int, str]:
    """``(id, hash)`` of the newest entry; ``(0, GENESIS_HASH)`` for an empty log."""
    with store.engine.connect() as conn:
        r = conn.execute(select(audit_log.c.id, audit_log.c.hash)
                         .order_by(audit_log.c.id.desc()).limit(1)).first()
    return (0, GENESIS_HASH) if r is None else (int(r.id), str(r.hash))


def _iter_rows(store: Store, batch: int = 1000) -> Iterator[AuditRecord]:
    after = 0
    while True:
        q = (select(audit_log).where(audit_log.c.id > after)
             .order_by(audit_log.c.id).limit(batch))
        with store.engine.connect() as conn:
            rows = [_record(r) for r in conn.execute(q)]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def verify_chain(store: Store) -> tuple[bool, int | None]:
    """Check the whole chain, oldest first: ``(True, None)`` when every entry holds,
    else ``(False, id)`` of the first entry that does not.

    An entry fails when its id is not the previous id + 1 (first: 1), its ``prev_hash``
    is not the previous entry's stored hash (first: ``GENESIS_HASH``), or its stored hash
    is not the hash recomputed from its stored fields. Reads in batches (flat memory).
    """
    prev_id, prev_hash = 0, GENESIS_HASH
    for rec in _iter_rows(store):
        expected = entry_hash(rec.id, rec.at, rec.actor, rec.action, rec.target,
                              rec.details, rec.prev_hash)
        if rec.id != prev_id + 1 or rec.prev_hash != prev_hash or rec.hash != expected:
            return False, rec.id
        prev_id, prev_hash = rec.id, rec.hash
    return True, None

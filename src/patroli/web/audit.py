"""Audit log for the web layer: ``record(request, ...)`` and the chain check.

The log itself (append-only, hash-chained: each entry's hash is the SHA-256 of its
canonical JSON plus the previous entry's hash) lives in ``patroli.store.audit``; this
module adds who and from where: the signed-in user (or the given ``actor``) and the
client IP in ``details["ip"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from patroli.store import Store
from patroli.store.audit import GENESIS_HASH, AuditRecord, append, entries, head
from patroli.store.audit import verify_chain as _verify_chain
from patroli.web.security import client_ip

__all__ = ["GENESIS_HASH", "AuditRecord", "entries", "head", "record", "verify_chain"]


def record(request: Request, action: str, target: str = "",
           details: Mapping[str, Any] | None = None, *, actor: str | None = None) -> AuditRecord:
    """Append an entry for this request: actor = ``actor`` or the signed-in user's name
    (``"anonymous"`` when nobody is), details + ``{"ip": client IP}``."""
    if actor is None:
        from patroli.web.app import current_user

        user = current_user(request)
        actor = user.username if user else "anonymous"
    return append(request.app.state.store, actor, action, target,
                  {**dict(details or {}), "ip": client_ip(request)})


def verify_chain(store: Store) -> tuple[bool, int | None]:
    """``(True, None)`` when the whole chain holds, else ``(False, first bad entry id)``
    (see ``patroli.store.audit.verify_chain``)."""
    return _verify_chain(store)

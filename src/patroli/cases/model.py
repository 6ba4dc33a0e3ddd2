"""Plain data of cases and evidence (issue 6, part A): statuses, the allowed status
transitions as a table of data, errors, and the dataclasses the store returns.

No I/O here. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "CASE_PRIORITIES",
    "CASE_STATUSES",
    "CUSTODY_ACTIONS",
    "EVIDENCE_KINDS",
    "ITEM_KINDS",
    "PIVOT_KINDS",
    "TRANSITIONS",
    "CaseError",
    "CaseEvent",
    "CaseInfo",
    "CaseItem",
    "CaseNotFoundError",
    "Comment",
    "CustodyEvent",
    "EvidenceItem",
    "FourEyesError",
    "check_transition",
]

#: Case priorities, most urgent first.
CASE_PRIORITIES: tuple[str, ...] = ("high", "normal", "low")

#: Case statuses in life-cycle order.
CASE_STATUSES: tuple[str, ...] = (
    "open", "evidence_collected", "takedown_requested", "resolved", "rejected",
    "reappeared", "closed",
)

#: Allowed status changes: from -> the statuses it may go to. "closed" without any
#: takedown request needs a second person (``request_close`` / ``approve_close``).
#: "reappeared" reopens a resolved or closed case when the content comes back.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("evidence_collected", "takedown_requested", "rejected", "closed"),
    "evidence_collected": ("open", "takedown_requested", "rejected", "closed"),
    "takedown_requested": ("resolved", "rejected", "reappeared", "evidence_collected"),
    "resolved": ("reappeared", "closed"),
    "rejected": ("open", "evidence_collected", "takedown_requested", "closed"),
    "reappeared": ("evidence_collected", "takedown_requested", "resolved", "closed"),
    "closed": ("reappeared", "open"),
}

#: What a case groups.
ITEM_KINDS: tuple[str, ...] = ("post", "entity", "report")
#: Entity kinds a case can hold and pivot on (``types.ENTITY_KINDS`` names; "account" is
#: an author handle as stored in ``posts.author``).
PIVOT_KINDS: tuple[str, ...] = (
    "phone", "telegram", "url", "domain", "email", "bank_account", "ewallet", "account",
)
#: Kinds of evidence artifacts.
EVIDENCE_KINDS: tuple[str, ...] = ("warc", "source_record")
#: Chain-of-custody actions.
CUSTODY_ACTIONS: tuple[str, ...] = ("captured", "exported", "verified", "accessed")


class CaseError(ValueError):
    """A case operation that cannot be done (bad status, transition, argument...)."""


class CaseNotFoundError(CaseError, KeyError):
    """No case has the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "case not found"


class FourEyesError(CaseError):
    """The action needs a second person: e.g. approving one's own close request."""


def check_transition(current: str, new: str) -> None:
    """Raise CaseError unless ``TRANSITIONS`` allows ``current`` -> ``new``.

    The message (Bahasa Indonesia / English) names the allowed next statuses.
    """
    if new not in CASE_STATUSES:
        raise CaseError(f"status tidak dikenal / unknown status {new!r}; "
                        f"use one of {', '.join(CASE_STATUSES)}")
    allowed = TRANSITIONS.get(current, ())
    if new not in allowed:
        raise CaseError(
            f"perubahan status tidak diizinkan / transition not allowed: {current} -> {new}; "
            f"from {current} allowed: {', '.join(allowed) or 'none'}")


@dataclass(slots=True)
class CaseInfo:
    """A case row. ``close_requested_by`` / ``_at`` / ``close_reason`` describe a pending
    four-eyes close (None when none is pending)."""

    id: int
    title: str
    priority: str
    status: str
    assignee: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    close_requested_by: str | None = None
    close_requested_at: datetime | None = None
    close_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601)."""
        return _jsonable(asdict(self))


@dataclass(slots=True)
class CaseItem:
    """A post (``ref`` = post id), entity value (``ref_kind`` = kind) or report
    (``ref`` = receipt code) in a case."""

    id: int
    case_id: int
    item_kind: str
    ref_kind: str
    ref: str
    post_id: int | None
    added_by: str
    added_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))


@dataclass(slots=True)
class Comment:
    """An analyst's comment."""

    id: int
    case_id: int
    author: str
    at: datetime
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))


@dataclass(slots=True)
class CaseEvent:
    """One timeline entry: kind e.g. "created", "status", "post.add", "comment"."""

    id: int
    case_id: int
    at: datetime
    actor: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))


@dataclass(slots=True)
class EvidenceItem:
    """One stored artifact. sha256 / size (bytes) of the file ``path`` (a name under the
    evidence directory); text_*: the extracted text of a WARC capture (None otherwise)."""

    id: int
    case_id: int
    post_id: int | None
    kind: str
    url: str | None
    sha256: str
    size: int
    path: str
    captured_at: datetime
    captured_by: str
    tool_version: str
    http_status: int | None = None
    final_url: str | None = None
    text_sha256: str | None = None
    text_size: int | None = None
    text_path: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))


@dataclass(slots=True)
class CustodyEvent:
    """One chain-of-custody entry of an evidence item."""

    id: int
    evidence_id: int
    at: datetime
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj

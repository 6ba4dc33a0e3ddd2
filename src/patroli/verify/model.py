"""Registry and watchlist records (plain dataclasses; no I/O).

Field names follow the real systems (DOMAIN.md): a P3MI's company licence is its SIP3MI
(``licence_number``); each recruitment permit (SIP2MI, "SIP") belongs to one agency and
one verified job order (destination, employer, position, quota, validity).
All dates are ``datetime.date`` (no time zone: the registry gives calendar days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

#: Agency ``status`` values: the last administrative action on the licence.
AGENCY_STATUSES: tuple[str, ...] = ("active", "suspended", "revoked")
#: Watchlist entry kinds; ``value`` is normalised like the analysis entities of that kind
#: (phone: E.164; telegram: "@handle" lower-case; domain: lower-case host without "www.";
#: url: full URL; email: lower-case; account: "platform:handle" lower-case;
#: bank_account: digits only, optionally "bank:digits").
WATCH_KINDS: tuple[str, ...] = ("phone", "telegram", "domain", "url", "email", "account",
                                "bank_account")
#: ``WatchEntry.list_name``: "watch" (known bad) or "allow" (known good: official domains,
#: hotlines, registered agency contacts).
LIST_NAMES: tuple[str, ...] = ("watch", "allow")


@dataclass(slots=True)
class Agency:
    """A licensed placement company (P3MI) as the registry lists it.

    agency_id: the registry's id ("A001"). name: registered legal name ("PT Lintas
    Samudra Karya"). aliases: other names it trades under. licence_number: SIP3MI
    ("KEP-214/P3MI/2022"). licence_valid_until: last valid day. status: one of
    ``AGENCY_STATUSES``; status_since: date of the last status change when known.
    phones: E.164; websites: full URLs; emails: lower-case.
    """

    agency_id: str
    name: str
    licence_number: str | None = None
    licence_valid_until: date | None = None
    status: str = "active"
    status_since: date | None = None
    aliases: list[str] = field(default_factory=list)
    province: str | None = None
    city: str | None = None
    address: str | None = None
    phones: list[str] = field(default_factory=list)
    websites: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    def in_good_standing(self, on: date) -> bool:
        """Active and licence valid on ``on`` (registry README: both must hold)."""
        return self.status == "active" and (
            self.licence_valid_until is None or self.licence_valid_until >= on)


@dataclass(slots=True)
class Permit:
    """A recruitment permit (SIP2MI) for one job order.

    permit_number: "SIP-2026/TW/0457". destination: ISO 3166-1 alpha-2 ("TW").
    destination_name: as the registry wrote it ("Taiwan"). valid_until: last valid day.
    """

    permit_number: str
    agency_id: str
    destination: str
    destination_name: str | None = None
    employer: str | None = None
    position: str | None = None
    quota: int | None = None
    issued_on: date | None = None
    valid_until: date | None = None

    def valid_on(self, on: date) -> bool:
        return (self.issued_on is None or self.issued_on <= on) and (
            self.valid_until is None or self.valid_until >= on)


@dataclass(slots=True)
class RegistrySnapshot:
    """One dated import of the registry (each import is a new snapshot).

    snapshot_id: the store's id (None before it is saved). imported_at: timezone-aware UTC.
    sources: the imported file names. version: "registry-<id>-<date>" once stored.
    """

    agencies: list[Agency]
    permits: list[Permit]
    imported_at: datetime | None = None
    sources: list[str] = field(default_factory=list)
    snapshot_id: int | None = None

    @property
    def version(self) -> str:
        day = self.imported_at.date().isoformat() if self.imported_at else "unsaved"
        return f"registry-{self.snapshot_id if self.snapshot_id is not None else 0}-{day}"


@dataclass(slots=True)
class WatchEntry:
    """A watchlist or allowlist entry.

    kind: one of ``WATCH_KINDS``; value: normalised (see ``WATCH_KINDS``); list_name:
    "watch" or "allow"; reason: why (shown to analysts as the indicator's reason);
    source: where the knowledge came from (case number, Komdigi notice, registry...);
    added_by: who; added_at: timezone-aware UTC.
    removed_at / removed_by / removed_reason: set when the entry was removed (soft delete;
    None while it is active).
    """

    kind: str
    value: str
    list_name: str = "watch"
    reason: str = ""
    source: str = ""
    added_by: str = ""
    added_at: datetime | None = None
    entry_id: int | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None

"""Registry snapshots and watchlists in the store (functions taking a ``Store``).

Registry: ``save_snapshot`` writes a new dated snapshot per import (never overwrites);
``latest_snapshot`` / ``snapshot`` read one back as a ``RegistrySnapshot``;
``registry_stats`` and ``find_agency`` answer the CLI and the console.

Watchlists: ``add_watch`` (normalises the value; an active duplicate is updated, not
duplicated), ``remove_watch`` (soft delete with who and why), ``watch_entries``,
``import_watchlist`` / ``export_watchlist`` (CSV: kind,value,reason,source,date).
Allowlist ("allow") entries need ``added_by`` and ``reason`` (who and why).

Dates in the registry are calendar days; "today" is the date in Asia/Jakarta (WIB).
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.engine import Connection

from patroli.store import Store, StoreError
from patroli.store.models_registry import (
    RegistryAgencyRow,
    RegistryPermitRow,
    RegistrySnapshotRow,
    WatchEntryRow,
)
from patroli.verify.model import LIST_NAMES, WATCH_KINDS, Agency, Permit, RegistrySnapshot, WatchEntry
from patroli.verify.registry import RegistryRowError, normalize_agency_name
from patroli.verify.watchlist import WatchValueError, normalize_watch_value, read_watchlist

__all__ = [
    "SnapshotNotFoundError",
    "add_watch",
    "export_watchlist",
    "find_agency",
    "import_watchlist",
    "latest_snapshot",
    "registry_stats",
    "remove_watch",
    "save_snapshot",
    "snapshot",
    "snapshots",
    "today_wib",
    "watch_entries",
]

_snapshots: Table = RegistrySnapshotRow.__table__  # type: ignore[assignment]
_agencies: Table = RegistryAgencyRow.__table__  # type: ignore[assignment]
_permits: Table = RegistryPermitRow.__table__  # type: ignore[assignment]
_watch: Table = WatchEntryRow.__table__  # type: ignore[assignment]

_WIB = ZoneInfo("Asia/Jakarta")
#: Lowest rapidfuzz ``WRatio`` score (0-100) for a fuzzy ``find_agency`` hit.
FUZZY_MIN = 80.0
#: Columns of watchlist CSV files (import reads them, export writes them plus added_by).
WATCHLIST_COLUMNS = ("kind", "value", "reason", "source", "date")


class SnapshotNotFoundError(StoreError, KeyError):
    """No registry snapshot has the given id."""


def today_wib() -> date:
    """Today's date in Asia/Jakarta (the registry's calendar)."""
    return datetime.now(_WIB).date()


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- registry ------------------------------------------------------------------------------


def save_snapshot(store: Store, snapshot: RegistrySnapshot, imported_by: str = "", *,
                  counts: dict[str, Any] | None = None) -> RegistrySnapshot:
    """Store ``snapshot`` as a new dated snapshot (one transaction) and return it with
    ``snapshot_id`` and ``imported_at`` (now, UTC) set (the same object).

    counts: extra figures to keep with it (e.g. ``{"errors": 3}``); ``agencies`` and
    ``permits`` are always recorded. Raises ``sqlalchemy.exc.IntegrityError`` when the
    snapshot holds a duplicate agency id or permit number (``read_registry`` never
    produces one).
    """
    now = _utcnow()
    all_counts = {"agencies": len(snapshot.agencies), "permits": len(snapshot.permits),
                  **(counts or {})}
    with store._write() as conn:
        sid = int(conn.execute(insert(_snapshots).values(
            imported_at=now, sources=list(snapshot.sources), counts=all_counts,
            imported_by=imported_by or "")).inserted_primary_key[0])
        a_rows = [{
            "snapshot_id": sid, "agency_id": a.agency_id, "name": a.name,
            "name_normalized": normalize_agency_name(a.name),
            "licence_number": a.licence_number, "licence_valid_until": a.licence_valid_until,
            "status": a.status, "status_since": a.status_since, "aliases": list(a.aliases),
            "province": a.province, "city": a.city, "address": a.address,
            "phones": list(a.phones), "websites": list(a.websites), "emails": list(a.emails),
        } for a in snapshot.agencies]
        p_rows = [{
            "snapshot_id": sid, "permit_number": p.permit_number, "agency_id": p.agency_id,
            "destination": p.destination, "destination_name": p.destination_name,
            "employer": p.employer, "position": p.position, "quota": p.quota,
            "issued_on": p.issued_on, "valid_until": p.valid_until,
        } for p in snapshot.permits]
        for rows, table in ((a_rows, _agencies), (p_rows, _permits)):
            for i in range(0, len(rows), 500):
                conn.execute(insert(table), rows[i:i + 500])
    snapshot.snapshot_id = sid
    snapshot.imported_at = now
    return snapshot


def _agency(r: Any) -> Agency:
    return Agency(agency_id=r.agency_id, name=r.name, licence_number=r.licence_number,
                  licence_valid_until=r.licence_valid_until, status=r.status,
                  status_since=r.status_since, aliases=list(r.aliases or []),
                  province=r.province, city=r.city, address=r.address,
                  phones=list(r.phones or []), websites=list(r.websites or []),
                  emails=list(r.emails or []))


def _permit(r: Any) -> Permit:
    return Permit(permit_number=r.permit_number, agency_id=r.agency_id,
                  destination=r.destination, destination_name=r.destination_name,
                  employer=r.employer, position=r.position, quota=r.quota,
                  issued_on=r.issued_on, valid_until=r.valid_until)


def _load(conn: Connection, row: Any) -> RegistrySnapshot:
    agencies = [_agency(r) for r in conn.execute(
        select(_agencies).where(_agencies.c.snapshot_id == row.id).order_by(_agencies.c.id))]
    permits = [_permit(r) for r in conn.execute(
        select(_permits).where(_permits.c.snapshot_id == row.id).order_by(_permits.c.id))]
    return RegistrySnapshot(agencies=agencies, permits=permits, imported_at=row.imported_at,
                            sources=list(row.sources or []), snapshot_id=int(row.id))


def _latest_id(conn: Connection) -> int | None:
    sid = conn.scalar(select(func.max(_snapshots.c.id)))
    return int(sid) if sid is not None else None


def latest_snapshot(store: Store) -> RegistrySnapshot | None:
    """The newest snapshot (highest id) with all its agencies and permits, or None when
    no registry was ever imported."""
    with store.engine.connect() as conn:
        sid = _latest_id(conn)
        if sid is None:
            return None
        row = conn.execute(select(_snapshots).where(_snapshots.c.id == sid)).one()
        return _load(conn, row)


def snapshot(store: Store, snapshot_id: int) -> RegistrySnapshot:
    """One stored snapshot. Raises ``SnapshotNotFoundError`` for an unknown id."""
    with store.engine.connect() as conn:
        row = conn.execute(select(_snapshots).where(_snapshots.c.id == snapshot_id)).first()
        if row is None:
            raise SnapshotNotFoundError(snapshot_id)
        return _load(conn, row)


def snapshots(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The newest snapshots first: dicts of snapshot_id, imported_at (UTC), sources,
    counts, imported_by, version."""
    q = select(_snapshots).order_by(_snapshots.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        out = []
        for r in conn.execute(q):
            out.append({"snapshot_id": int(r.id), "imported_at": r.imported_at,
                        "sources": list(r.sources or []), "counts": dict(r.counts or {}),
                        "imported_by": r.imported_by,
                        "version": RegistrySnapshot([], [], imported_at=r.imported_at,
                                                    snapshot_id=int(r.id)).version})
        return out


def _resolve_sid(conn: Connection, snapshot_id: int | None) -> int | None:
    if snapshot_id is None:
        return _latest_id(conn)
    if conn.scalar(select(_snapshots.c.id).where(_snapshots.c.id == snapshot_id)) is None:
        raise SnapshotNotFoundError(snapshot_id)
    return snapshot_id


def registry_stats(store: Store, *, on: date | None = None,
                   snapshot_id: int | None = None) -> dict[str, Any]:
    """Figures of a snapshot (default the latest) as of ``on`` (default today, WIB).

    Keys: snapshot_id (None when nothing was imported: every figure is then 0),
    version, imported_at (UTC), imported_by, sources, as_of (date), agencies,
    agencies_by_status {status: n}, licences_expired (licence_valid_until < as_of),
    in_good_standing (active and licence valid), permits, permits_valid (issued and not
    expired on as_of), permits_expired, permits_not_yet_valid, permits_by_destination
    {ISO code: n} (most first). Raises ``SnapshotNotFoundError`` for an unknown id.
    """
    as_of = on or today_wib()
    out: dict[str, Any] = {
        "snapshot_id": None, "version": None, "imported_at": None, "imported_by": None,
        "sources": [], "as_of": as_of, "agencies": 0, "agencies_by_status": {},
        "licences_expired": 0, "in_good_standing": 0, "permits": 0, "permits_valid": 0,
        "permits_expired": 0, "permits_not_yet_valid": 0, "permits_by_destination": {},
    }
    with store.engine.connect() as conn:
        sid = _resolve_sid(conn, snapshot_id)
        if sid is None:
            return out
        snap = conn.execute(select(_snapshots).where(_snapshots.c.id == sid)).one()
        a, p = _agencies.c, _permits.c
        by_status = {r[0]: int(r[1]) for r in conn.execute(
            select(a.status, func.count()).where(a.snapshot_id == sid).group_by(a.status))}
        expired = conn.scalar(select(func.count()).where(
            a.snapshot_id == sid, a.licence_valid_until < as_of)) or 0
        good = conn.scalar(select(func.count()).where(
            a.snapshot_id == sid, a.status == "active",
            (a.licence_valid_until.is_(None)) | (a.licence_valid_until >= as_of))) or 0
        n_permits = conn.scalar(select(func.count()).where(p.snapshot_id == sid)) or 0
        p_expired = conn.scalar(select(func.count()).where(
            p.snapshot_id == sid, p.valid_until < as_of)) or 0
        p_future = conn.scalar(select(func.count()).where(
            p.snapshot_id == sid, p.issued_on > as_of)) or 0
        by_dest = Counter({r[0]: int(r[1]) for r in conn.execute(
            select(p.destination, func.count()).where(p.snapshot_id == sid)
            .group_by(p.destination))})
    out.update(
        snapshot_id=int(snap.id), imported_at=snap.imported_at, imported_by=snap.imported_by,
        sources=list(snap.sources or []),
        version=RegistrySnapshot([], [], imported_at=snap.imported_at,
                                 snapshot_id=int(snap.id)).version,
        agencies=sum(by_status.values()), agencies_by_status=dict(sorted(by_status.items())),
        licences_expired=int(expired), in_good_standing=int(good), permits=int(n_permits),
        permits_expired=int(p_expired), permits_not_yet_valid=int(p_future),
        permits_valid=int(n_permits) - int(p_expired) - int(p_future),
        permits_by_destination=dict(sorted(by_dest.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    return out


def _agency_dict(a: Agency, permits: list[Permit], as_of: date, match: str,
                 score: float) -> dict[str, Any]:
    return {
        "agency_id": a.agency_id, "name": a.name, "licence_number": a.licence_number,
        "licence_valid_until": a.licence_valid_until,
        "licence_expired": a.licence_valid_until is not None and a.licence_valid_until < as_of,
        "status": a.status, "status_since": a.status_since,
        "in_good_standing": a.in_good_standing(as_of), "aliases": a.aliases,
        "province": a.province, "city": a.city, "address": a.address, "phones": a.phones,
        "websites": a.websites, "emails": a.emails,
        "permits": [{
            "permit_number": p.permit_number, "destination": p.destination,
            "destination_name": p.destination_name, "employer": p.employer,
            "position": p.position, "quota": p.quota, "issued_on": p.issued_on,
            "valid_until": p.valid_until, "valid": p.valid_on(as_of),
            "expired": p.valid_until is not None and p.valid_until < as_of,
        } for p in permits],
        "match": match, "score": score,
    }


def find_agency(store: Store, name_or_id: str, *, snapshot_id: int | None = None,
                on: date | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Agencies of a snapshot (default the latest) answering ``name_or_id``, best first.

    Order of tries: agency id (case-insensitive, exact), licence number, permit number
    (its agency), normalised name or alias equal, normalised name containing the query,
    then fuzzy (rapidfuzz ``WRatio`` >= ``FUZZY_MIN``) over names and aliases; the first
    try that finds something answers. Each dict: agency_id, name, licence_number,
    licence_valid_until, licence_expired, status, status_since, in_good_standing,
    aliases, province, city, address, phones, websites, emails, permits (dicts of
    permit_number, destination, destination_name, employer, position, quota, issued_on,
    valid_until, valid, expired; validity as of ``on``, default today WIB), match ("id",
    "licence", "permit", "name", "contains" or "fuzzy") and score (0-100).
    Empty list when nothing matches or no registry was imported.
    """
    from rapidfuzz import fuzz, process

    as_of = on or today_wib()
    q = " ".join((name_or_id or "").split())
    if not q:
        return []
    a, p = _agencies.c, _permits.c
    with store.engine.connect() as conn:
        sid = _resolve_sid(conn, snapshot_id)
        if sid is None:
            return []
        ids: list[tuple[str, str, float]] = []
        upper = q.upper().replace(" ", "")
        for r in conn.execute(select(a.agency_id).where(
                a.snapshot_id == sid, func.upper(a.agency_id) == q.upper())):
            ids.append((r.agency_id, "id", 100.0))
        if not ids:
            for r in conn.execute(select(a.agency_id).where(
                    a.snapshot_id == sid, func.upper(a.licence_number) == upper)):
                ids.append((r.agency_id, "licence", 100.0))
        if not ids:
            for r in conn.execute(select(p.agency_id).where(
                    p.snapshot_id == sid, func.upper(p.permit_number) == upper)):
                ids.append((r.agency_id, "permit", 100.0))
        if not ids:
            key = normalize_agency_name(q)
            rows = conn.execute(select(a.agency_id, a.name_normalized, a.aliases).where(
                a.snapshot_id == sid)).all()
            choices: dict[str, str] = {}
            for r in rows:
                choices[r.agency_id + "\x00"] = r.name_normalized
                for i, al in enumerate(r.aliases or []):
                    choices[f"{r.agency_id}\x00{i}"] = normalize_agency_name(al)
            exact = [k.split("\x00")[0] for k, v in choices.items() if key and v == key]
            contains = [k.split("\x00")[0] for k, v in choices.items() if key and key in v]
            if exact:
                ids = [(i, "name", 100.0) for i in exact]
            elif contains:
                ids = [(i, "contains", 100.0 * len(key) / max(len(choices[k]), 1))
                       for k in choices if key in choices[k] for i in [k.split("\x00")[0]]]
            elif key:
                hits = process.extract(key, choices, scorer=fuzz.WRatio, limit=limit * 3,
                                       score_cutoff=FUZZY_MIN)
                ids = [(k.split("\x00")[0], "fuzzy", float(score)) for _, score, k in hits]
        best: dict[str, tuple[str, float]] = {}
        for agency_id, how, score in ids:
            if agency_id not in best or score > best[agency_id][1]:
                best[agency_id] = (how, score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][1], kv[0]))[:limit]
        if not ranked:
            return []
        wanted = [k for k, _ in ranked]
        agencies = {r.agency_id: _agency(r) for r in conn.execute(select(_agencies).where(
            a.snapshot_id == sid, a.agency_id.in_(wanted)))}
        permits: dict[str, list[Permit]] = {}
        for r in conn.execute(select(_permits).where(
                p.snapshot_id == sid, p.agency_id.in_(wanted)).order_by(p.permit_number)):
            permits.setdefault(r.agency_id, []).append(_permit(r))
    return [_agency_dict(agencies[k], permits.get(k, []), as_of, how, round(score, 1))
            for k, (how, score) in ranked if k in agencies]


# -- watchlists ----------------------------------------------------------------------------


def _check_entry(entry: WatchEntry) -> WatchEntry:
    if entry.list_name not in LIST_NAMES:
        raise WatchValueError(f"daftar tidak dikenal / unknown list {entry.list_name!r} "
                              f"(choose from {', '.join(LIST_NAMES)})")
    value = normalize_watch_value(entry.kind, entry.value)
    if entry.list_name == "allow":
        if not (entry.added_by or "").strip():
            raise WatchValueError("allowlist: siapa yang menambahkan wajib diisi / who adds "
                                  "it (added_by, --by) is required")
        if not (entry.reason or "").strip():
            raise WatchValueError("allowlist: alasan wajib diisi / why (reason, --reason) "
                                  "is required")
    return WatchEntry(kind=entry.kind, value=value, list_name=entry.list_name,
                      reason=(entry.reason or "").strip(), source=(entry.source or "").strip(),
                      added_by=(entry.added_by or "").strip(),
                      added_at=entry.added_at or _utcnow())


def _active(kind: str, value: str, list_name: str) -> Any:
    return and_(_watch.c.kind == kind, _watch.c.value == value,
                _watch.c.list_name == list_name, _watch.c.removed_at.is_(None))


def _add_watch(conn: Connection, e: WatchEntry) -> WatchEntry:
    existing = conn.execute(select(_watch.c.id).where(_active(e.kind, e.value, e.list_name))
                            .order_by(_watch.c.id)).first()
    values = {"reason": e.reason, "source": e.source, "added_by": e.added_by,
              "added_at": e.added_at}
    if existing is not None:
        conn.execute(update(_watch).where(_watch.c.id == existing.id).values(**values))
        e.entry_id = int(existing.id)
    else:
        e.entry_id = int(conn.execute(insert(_watch).values(
            kind=e.kind, value=e.value, list_name=e.list_name, **values)
        ).inserted_primary_key[0])
    return e


def add_watch(store: Store, entry: WatchEntry) -> WatchEntry:
    """Add ``entry`` to its list; returns the stored entry (normalised value, entry_id,
    added_at: the entry's or now, UTC).

    An active entry with the same kind, normalised value and list is updated (reason,
    source, added_by, added_at), not duplicated. Raises ``WatchValueError`` for an
    unknown kind or list, a value that does not normalise, or an allowlist entry without
    ``added_by`` or ``reason``.
    """
    e = _check_entry(entry)
    with store._write() as conn:
        return _add_watch(conn, e)


def remove_watch(store: Store, kind: str, value: str, list_name: str = "watch",
                 removed_by: str = "", reason: str = "") -> bool:
    """Soft-delete the active entry (kind, value normalised, list_name): sets removed_at
    (now, UTC), removed_by and removed_reason. Returns False when no active entry
    matched. Raises ``WatchValueError`` when ``removed_by`` or ``reason`` is empty, or
    for an unknown kind or list."""
    if list_name not in LIST_NAMES:
        raise WatchValueError(f"daftar tidak dikenal / unknown list {list_name!r}")
    if not removed_by.strip() or not reason.strip():
        raise WatchValueError("hapus: siapa dan alasan wajib diisi / removal needs who "
                              "(--by) and why (--reason)")
    try:
        norm = normalize_watch_value(kind, value)
    except WatchValueError:
        if kind not in WATCH_KINDS:
            raise
        norm = value.strip()
    with store._write() as conn:
        res = conn.execute(update(_watch).where(_active(kind, norm, list_name)).values(
            removed_at=_utcnow(), removed_by=removed_by.strip(), removed_reason=reason.strip()))
        return bool(res.rowcount)


def _entry(r: Any) -> WatchEntry:
    return WatchEntry(kind=r.kind, value=r.value, list_name=r.list_name, reason=r.reason,
                      source=r.source, added_by=r.added_by, added_at=r.added_at,
                      entry_id=int(r.id), removed_at=r.removed_at, removed_by=r.removed_by,
                      removed_reason=r.removed_reason)


def watch_entries(store: Store, list_name: str | None = None, kind: str | None = None,
                  active_only: bool = True) -> list[WatchEntry]:
    """Entries in the order added (oldest first); filters: list_name ("watch" /
    "allow"), kind; ``active_only=False`` includes removed entries (with removed_*)."""
    q = select(_watch).order_by(_watch.c.id)
    if list_name is not None:
        q = q.where(_watch.c.list_name == list_name)
    if kind is not None:
        q = q.where(_watch.c.kind == kind)
    if active_only:
        q = q.where(_watch.c.removed_at.is_(None))
    with store.engine.connect() as conn:
        return [_entry(r) for r in conn.execute(q)]


def import_watchlist(store: Store, path: str | Path, list_name: str = "watch",
                     added_by: str = "", source: str = ""
                     ) -> tuple[int, list[RegistryRowError]]:
    """Import a CSV/XLSX list (columns kind,value,reason,source,date) into ``list_name``
    in one transaction. Returns (entries added or updated, bad rows as
    ``RegistryRowError``). ``source`` is used for rows without their own.
    Raises ``RegistryFormatError`` for an unreadable file, ``WatchValueError`` for an
    unknown list or an allowlist import without ``added_by``.
    This writes the entries directly; ``patroli watchlist import --allow`` does not call
    it for the allowlist but files one request per row for a second person
    (``patroli.cases.takedown.request_allowlist_many``)."""
    errors: list[RegistryRowError] = []
    entries = read_watchlist(path, list_name, added_by=added_by, source=source,
                             on_error=errors.append)
    now = _utcnow()
    with store._write() as conn:
        for e in entries:
            e.added_at = e.added_at or now
            _add_watch(conn, e)
    return len(entries), errors


def _guard(s: str) -> str:
    """Formula-injection guard for spreadsheet users (``read_watchlist`` undoes it)."""
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def export_watchlist(store: Store, path: str | Path, list_name: str = "watch") -> int:
    """Write the active entries of ``list_name`` to a UTF-8 CSV (columns kind, value,
    reason, source, date (ISO UTC datetime), added_by) that ``import_watchlist`` reads
    back. Free-text cells starting with = + - @ get a leading ' (spreadsheet formula
    guard). Returns the number of entries written."""
    entries = watch_entries(store, list_name=list_name)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*WATCHLIST_COLUMNS, "added_by"])
        for e in entries:
            w.writerow([e.kind, e.value, _guard(e.reason), _guard(e.source),
                        e.added_at.isoformat() if e.added_at else "", _guard(e.added_by)])
    return len(entries)

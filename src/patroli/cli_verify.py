"""Command line of the verification data: ``patroli registry ...`` and ``patroli watchlist ...``.

Two Typer apps wired into ``patroli.cli.app`` (``registry_app`` as "registry",
``watchlist_app`` as "watchlist"). Each command calls one library function
(``patroli.verify.registry``, ``patroli.store.registry``). One-line errors on stderr,
exit 2 on bad input (unreadable file, bad value, unknown database), 1 when there is
nothing to show or import. Data from files is printed as plain text, never as markup.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from patroli.cli_common import DbOption, console, err_console, fail, open_store

registry_app = typer.Typer(
    name="registry",
    help="Registri P3MI dan SIP / registry of licensed agencies (P3MI) and permits (SIP).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
watchlist_app = typer.Typer(
    name="watchlist",
    help="Daftar pantau dan daftar izin / watchlist (known bad) and allowlist (known good).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
AllowOption = Annotated[bool, typer.Option("--allow", help="Use the allowlist (known good) "
                                           "instead of the watchlist.")]


_fail = fail
_open_store = open_store


def _t(value: Any) -> Text:
    """A cell as plain text (never markup)."""
    if value is None or value == "" or value == []:
        return Text("–", style="dim")
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value))
    if isinstance(value, (date, datetime)):
        return Text(value.isoformat())
    return Text(str(value))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    return str(obj)


# -- registry ------------------------------------------------------------------------------


@registry_app.command("import")
def registry_import(
    agencies: Annotated[Path, typer.Argument(help="Agency export (CSV or XLSX).")],
    permits: Annotated[Path | None, typer.Argument(help="Permit / job-order export "
                                                   "(CSV or XLSX).")] = None,
    db: DbOption = None,
    by: Annotated[str, typer.Option("--by", help="Who imports (kept with the snapshot).")] = "",
    id_column: Annotated[str | None, typer.Option(help="Header of the agency id.")] = None,
    name_column: Annotated[str | None, typer.Option(help="Header of the agency name.")] = None,
    licence_column: Annotated[str | None, typer.Option(help="Header of the licence "
                                                       "(SIP3MI) number.")] = None,
    valid_until_column: Annotated[str | None, typer.Option(help="Header of the licence's "
                                                           "last valid day.")] = None,
    status_column: Annotated[str | None, typer.Option(help="Header of the status.")] = None,
    status_since_column: Annotated[str | None, typer.Option(help="Header of the status "
                                                            "date.")] = None,
    city_column: Annotated[str | None, typer.Option(help="Header of the city.")] = None,
    province_column: Annotated[str | None, typer.Option(help="Header of the province.")] = None,
    address_column: Annotated[str | None, typer.Option(help="Header of the address.")] = None,
    phone_column: Annotated[str | None, typer.Option(help="Header of the phone(s).")] = None,
    website_column: Annotated[str | None, typer.Option(help="Header of the website(s).")] = None,
    email_column: Annotated[str | None, typer.Option(help="Header of the e-mail(s).")] = None,
    aliases_column: Annotated[str | None, typer.Option(help="Header of other names "
                                                       "(separated by ; or |).")] = None,
    permit_column: Annotated[str | None, typer.Option(help="Header of the permit (SIP) "
                                                      "number.")] = None,
    permit_agency_column: Annotated[str | None, typer.Option(help="Header of the permit's "
                                                             "agency id.")] = None,
    destination_column: Annotated[str | None, typer.Option(help="Header of the destination "
                                                           "country.")] = None,
    employer_column: Annotated[str | None, typer.Option(help="Header of the employer.")] = None,
    position_column: Annotated[str | None, typer.Option(help="Header of the position.")] = None,
    quota_column: Annotated[str | None, typer.Option(help="Header of the quota.")] = None,
    issued_column: Annotated[str | None, typer.Option(help="Header of the issue date.")] = None,
    permit_valid_until_column: Annotated[str | None, typer.Option(
        help="Header of the permit's last valid day.")] = None,
    date_format: Annotated[str | None, typer.Option(help="strptime format of dates, e.g. "
                                                    "%d/%m/%Y (default: ISO and day-first "
                                                    "forms are read).")] = None,
    licence_pattern: Annotated[str | None, typer.Option(help="Regex a licence number must "
                                                        "match (default KEP-NNN/P3MI/YYYY).")
                               ] = None,
    permit_pattern: Annotated[str | None, typer.Option(help="Regex a permit number must "
                                                       "match (default SIP-YYYY/CC/NNNN).")
                              ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet name (default the first).")
                     ] = None,
) -> None:
    """Impor ekspor registri sebagai snapshot baru / import a registry export as a new
    dated snapshot. Bad rows are listed with their row number and skipped."""
    from patroli.store.registry import save_snapshot
    from patroli.verify.registry import (
        ColumnMapping,
        RegistryFormatError,
        RegistryRowError,
        read_registry,
    )

    mapping = ColumnMapping(
        agency_id=id_column, name=name_column, licence_number=licence_column,
        licence_valid_until=valid_until_column, status=status_column,
        status_since=status_since_column, city=city_column, province=province_column,
        address=address_column, phone=phone_column, website=website_column,
        email=email_column, aliases=aliases_column, permit_number=permit_column,
        permit_agency_id=permit_agency_column, permit_destination=destination_column,
        permit_employer=employer_column, permit_position=position_column,
        permit_quota=quota_column, permit_issued_on=issued_column,
        permit_valid_until=permit_valid_until_column, date_format=date_format,
        licence_pattern=licence_pattern, permit_pattern=permit_pattern, sheet=sheet)
    errors: list[RegistryRowError] = []
    try:
        snap = read_registry(agencies, permits, mapping=mapping, on_error=errors.append)
    except RegistryFormatError as exc:
        _fail(str(exc))
    for e in errors:
        err_console.print(Text(str(e), style="yellow" if not e.skipped else "red"),
                          soft_wrap=True)
    skipped = sum(1 for e in errors if e.skipped)
    if not snap.agencies:
        _fail(f"tidak ada agensi yang sah, tidak ada yang diimpor / no valid agency rows, "
              f"nothing imported ({skipped} bad rows)", code=1)
    store = _open_store(db)
    try:
        save_snapshot(store, snap, imported_by=by,
                      counts={"bad_rows": skipped, "warnings": len(errors) - skipped})
    finally:
        store.close()
    console.print(Text(
        f"Snapshot {snap.snapshot_id} ({snap.version}): {len(snap.agencies)} agensi / "
        f"agencies, {len(snap.permits)} SIP / permits diimpor / imported; {skipped} baris "
        f"dilewati / bad rows skipped."))


def _status_text(a: dict[str, Any]) -> Text:
    if a["status"] != "active":
        since = f" sejak / since {a['status_since'].isoformat()}" if a["status_since"] else ""
        label = {"suspended": "DIBEKUKAN / SUSPENDED", "revoked": "DICABUT / REVOKED"}.get(
            a["status"], a["status"].upper())
        return Text(label + since, style="bold red")
    if a["licence_expired"]:
        return Text("aktif, izin kedaluwarsa / active, licence EXPIRED", style="bold red")
    return Text("aktif / active, in good standing", style="green")


@registry_app.command("show")
def registry_show(
    name_or_id: Annotated[str, typer.Argument(help="Agency id, name (or part of it), "
                                              "licence number or permit number.")],
    db: DbOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Tampilkan agensi dan SIP-nya / show an agency, its status, licence and permits."""
    from patroli.store.registry import find_agency, latest_snapshot, today_wib

    store = _open_store(db)
    try:
        if latest_snapshot(store) is None:
            _fail("belum ada registri / no registry imported yet "
                  "(patroli registry import AGENCIES PERMITS)", code=1)
        found = find_agency(store, name_or_id)
    finally:
        store.close()
    if json_out:
        console.print_json(json.dumps(found, default=_json_default, ensure_ascii=False))
        if not found:
            raise typer.Exit(1)
        return
    if not found:
        _fail(f"tidak ditemukan / not found: {name_or_id!r}", code=1)
    today = today_wib()
    for a in found:
        t = Table(title=Text(f"{a['agency_id']}  {a['name']}"), show_header=False,
                  title_justify="left")
        t.add_column(style="bold")
        t.add_column()
        match = a["match"] if a["match"] != "fuzzy" else f"fuzzy ({a['score']:.0f})"
        rows: list[tuple[str, Text]] = [
            ("Status", _status_text(a)),
            ("Izin / licence", _t(a["licence_number"])),
            ("Berlaku s.d. / valid until", _t(a["licence_valid_until"])),
            ("Nama lain / aliases", _t(a["aliases"])),
            ("Kota / city", _t(", ".join(x for x in (a["city"], a["province"]) if x))),
            ("Alamat / address", _t(a["address"])),
            ("Telepon / phone", _t(a["phones"])),
            ("Situs / website", _t(a["websites"])),
            ("E-mail", _t(a["emails"])),
            ("Cocok / match", _t(match)),
        ]
        for k, v in rows:
            t.add_row(k, v)
        console.print(t)
        if a["permits"]:
            pt = Table(title=Text(f"SIP / permits (per {today.isoformat()})"),
                       title_justify="left")
            for col in ("SIP", "Tujuan / destination", "Pemberi kerja / employer",
                        "Jabatan / position", "Kuota", "Berlaku s.d. / valid until",
                        "Status"):
                pt.add_column(col)
            for p in a["permits"]:
                state = (Text("berlaku / valid", style="green") if p["valid"] else
                         Text("kedaluwarsa / expired", style="red") if p["expired"] else
                         Text("belum berlaku / not yet valid", style="yellow"))
                pt.add_row(_t(p["permit_number"]),
                           _t(f"{p['destination_name'] or ''} ({p['destination']})"),
                           _t(p["employer"]), _t(p["position"]), _t(p["quota"]),
                           _t(p["valid_until"]), state)
            console.print(pt)
        else:
            console.print(Text("Tidak ada SIP / no permits", style="dim"))


@registry_app.command("stats")
def registry_stats_cmd(
    db: DbOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ringkasan registri terbaru / figures of the latest registry snapshot."""
    from patroli.store.registry import registry_stats

    store = _open_store(db)
    try:
        stats = registry_stats(store)
    finally:
        store.close()
    if json_out:
        console.print_json(json.dumps(stats, default=_json_default, ensure_ascii=False))
        return
    if stats["snapshot_id"] is None:
        _fail("belum ada registri / no registry imported yet "
              "(patroli registry import AGENCIES PERMITS)", code=1)
    t = Table(title=Text(f"Registri / registry {stats['version']} "
                         f"(per {stats['as_of'].isoformat()})"), show_header=False,
              title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    imported = stats["imported_at"].isoformat(timespec="seconds") if stats["imported_at"] else ""
    rows: list[tuple[str, Any]] = [
        ("Diimpor / imported at (UTC)", imported),
        ("Oleh / by", stats["imported_by"] or "–"),
        ("Berkas / sources", ", ".join(Path(s).name for s in stats["sources"])),
        ("Agensi / agencies", stats["agencies"]),
        *[(f"  {k}", v) for k, v in stats["agencies_by_status"].items()],
        ("  izin kedaluwarsa / licence expired", stats["licences_expired"]),
        ("  baik / in good standing", stats["in_good_standing"]),
        ("SIP / permits", stats["permits"]),
        ("  berlaku / valid", stats["permits_valid"]),
        ("  kedaluwarsa / expired", stats["permits_expired"]),
        ("  belum berlaku / not yet valid", stats["permits_not_yet_valid"]),
    ]
    for k, v in rows:
        t.add_row(k, _t(v))
    console.print(t)
    dest = Table(title=Text("SIP per negara tujuan / permits by destination"),
                 title_justify="left")
    dest.add_column("ISO")
    dest.add_column("n", justify="right")
    for code, n in stats["permits_by_destination"].items():
        dest.add_row(_t(code), _t(n))
    console.print(dest)


# -- watchlist -----------------------------------------------------------------------------


def _list_name(allow: bool) -> str:
    return "allow" if allow else "watch"


@watchlist_app.command("add")
def watchlist_add(
    kind: Annotated[str, typer.Argument(help="phone, telegram, domain, url, email, account "
                                        "(platform:handle) or bank_account.")],
    value: Annotated[str, typer.Argument(help="The value as written; it is normalised.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown as the indicator's "
                                        "reason).")] = "",
    source: Annotated[str, typer.Option("--source", help="Where it comes from (case, notice, "
                                        "report).")] = "",
    by: Annotated[str, typer.Option("--by", help="Who adds it (required for --allow).")] = "",
    allow: AllowOption = False,
    db: DbOption = None,
) -> None:
    """Tambah entri / add an entry (an active duplicate is updated). An allowlist entry
    (--allow) waits for a second person: ``patroli takedown second-approve ID --by OTHER``
    (insider safeguard: allow-listing shields a contact from every check)."""
    from patroli.store.registry import add_watch
    from patroli.verify.model import WatchEntry
    from patroli.verify.watchlist import WatchValueError

    if not reason.strip():
        _fail("--reason wajib diisi / --reason is required")
    if allow:
        _request_allow(kind, value, reason, source, by, db)
        return
    store = _open_store(db)
    try:
        e = add_watch(store, WatchEntry(kind=kind, value=value, list_name=_list_name(allow),
                                        reason=reason, source=source, added_by=by))
    except WatchValueError as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(Text(f"{e.list_name}: {e.kind} {e.value} (#{e.entry_id})"))


def _request_allow(kind: str, value: str, reason: str, source: str, by: str,
                   db: str | None) -> None:
    from patroli.cases.takedown import TakedownError, request_allowlist
    from patroli.verify.watchlist import WatchValueError

    if not by.strip():
        _fail("--by wajib untuk --allow / --by is required with --allow")
    store = _open_store(db)
    try:
        aid = request_allowlist(store, kind, value, reason=reason, requested_by=by,
                                source=source)
    except (WatchValueError, TakedownError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(Text(
        f"menunggu persetujuan orang kedua / waiting for a second person's approval "
        f"(#{aid}): patroli takedown second-approve {aid} --by <another user>"))


@watchlist_app.command("remove")
def watchlist_remove(
    kind: Annotated[str, typer.Argument(help="Kind of the entry.")],
    value: Annotated[str, typer.Argument(help="The value (normalised before lookup).")],
    by: Annotated[str, typer.Option("--by", help="Who removes it.")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    allow: AllowOption = False,
    db: DbOption = None,
) -> None:
    """Hapus entri (tetap tercatat) / remove an entry (soft delete, kept for the audit)."""
    from patroli.store.registry import remove_watch
    from patroli.verify.watchlist import WatchValueError

    store = _open_store(db)
    try:
        ok = remove_watch(store, kind, value, _list_name(allow), removed_by=by, reason=reason)
    except WatchValueError as exc:
        _fail(str(exc))
    finally:
        store.close()
    if not ok:
        _fail(f"tidak ada entri aktif / no active entry {kind} {value!r}", code=1)
    console.print(Text(f"dihapus / removed: {kind} {value}"))


@watchlist_app.command("import")
def watchlist_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with columns kind,value,reason,"
                                         "source,date.")],
    by: Annotated[str, typer.Option("--by", help="Who imports.")] = "",
    source: Annotated[str, typer.Option("--source", help="Source for rows without "
                                        "their own.")] = "",
    allow: AllowOption = False,
    db: DbOption = None,
) -> None:
    """Impor daftar / import a list; bad rows are listed with their row number. With
    --allow every row becomes an allow-listing request that waits for a second person
    (``patroli takedown second-approve ID --by OTHER``), as ``watchlist add --allow``."""
    from patroli.cases.takedown import TakedownError, request_allowlist_many
    from patroli.store.registry import import_watchlist
    from patroli.verify.registry import RegistryFormatError
    from patroli.verify.watchlist import WatchValueError, read_watchlist

    if not by.strip():
        _fail("--by wajib diisi / --by is required")
    store = _open_store(db)
    errors: list = []
    ids: list[int] = []
    try:
        if allow:
            entries = read_watchlist(file, "allow", added_by=by, source=source,
                                     on_error=errors.append)
            ids = request_allowlist_many(
                store, [(e.kind, e.value, e.reason, e.source) for e in entries],
                requested_by=by)
            n = len(ids)
        else:
            n, errors = import_watchlist(store, file, "watch", added_by=by, source=source)
    except (RegistryFormatError, WatchValueError, TakedownError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    for e in errors:
        err_console.print(Text(str(e), style="red"), soft_wrap=True)
    if allow:
        shown = ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")
        console.print(Text(
            f"{n} permintaan daftar izin menunggu persetujuan orang kedua / allowlist "
            f"requests await a second person (approval ids: {shown or '-'}); "
            f"{len(errors)} baris dilewati / bad rows skipped."))
    else:
        console.print(Text(f"{n} entri diimpor / entries imported into watch; "
                           f"{len(errors)} baris dilewati / bad rows skipped."))
    if n == 0 and errors:
        raise typer.Exit(1)


@watchlist_app.command("export")
def watchlist_export(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    allow: AllowOption = False,
    db: DbOption = None,
) -> None:
    """Ekspor daftar ke CSV / export the active entries to CSV."""
    from patroli.store.registry import export_watchlist

    store = _open_store(db)
    try:
        n = export_watchlist(store, file, _list_name(allow))
    except OSError as exc:
        _fail(f"{file}: {exc.strerror or exc}")
    finally:
        store.close()
    console.print(Text(f"{n} entri / entries -> {file}"))


@watchlist_app.command("list")
def watchlist_list(
    allow: AllowOption = False,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    include_removed: Annotated[bool, typer.Option("--all", help="Include removed "
                                                  "entries.")] = False,
    db: DbOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Daftar entri / list the entries."""
    from dataclasses import asdict

    from patroli.store.registry import watch_entries

    store = _open_store(db)
    try:
        entries = watch_entries(store, list_name=_list_name(allow), kind=kind,
                                active_only=not include_removed)
    finally:
        store.close()
    if json_out:
        console.print_json(json.dumps([asdict(e) for e in entries], default=_json_default,
                                      ensure_ascii=False))
        return
    t = Table(title=Text(f"{_list_name(allow)}list ({len(entries)})"), title_justify="left")
    for col in ("kind", "value", "reason", "source", "by", "added (UTC)", "removed"):
        t.add_column(col)
    for e in entries:
        removed = (Text(f"{e.removed_at.date().isoformat()} {e.removed_by}: "
                        f"{e.removed_reason}") if e.removed_at else _t(None))
        t.add_row(_t(e.kind), _t(e.value), _t(e.reason), _t(e.source), _t(e.added_by),
                  _t(e.added_at.isoformat(timespec="seconds") if e.added_at else None),
                  removed)
    console.print(t)

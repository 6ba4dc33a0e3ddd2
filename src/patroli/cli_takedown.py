"""``patroli takedown ...`` and ``patroli report ...``: takedown requests, outcome checks,
second-person approvals and the monthly SLA figures (issue 6, part B).

Each command calls one public function of ``patroli.cases.takedown``,
``patroli.store.takedown`` or ``patroli.cases.sla``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from patroli.cli_common import DbOption, console, fail, open_store

takedown_app = typer.Typer(
    help="Permintaan penurunan konten / takedown requests (four-eyes, outcome checks).",
    no_args_is_help=True)
report_app = typer.Typer(help="Laporan angka SLA / SLA figures.", no_args_is_help=True)

ByOption = Annotated[str, typer.Option("--by", help="Username of the person acting.")]


def _errors() -> tuple[type[BaseException], ...]:
    from patroli.store.registry import WatchValueError
    from patroli.store.takedown import FourEyesError, TakedownError

    return (TakedownError, FourEyesError, WatchValueError, ValueError)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _errors() as exc:
        fail(str(exc))


@takedown_app.command("draft")
def draft(
    post_ids: Annotated[list[int], typer.Argument(help="Stored post ids.")],
    by: ByOption,
    to: Annotated[str | None, typer.Option(
        "--to", help="One recipient for every item (e.g. komdigi); default: per platform."
    )] = None,
    category: Annotated[str | None, typer.Option(help="Category key (recipients.yaml).")] = None,
    priority: Annotated[str | None, typer.Option(help="4h or 24h.")] = None,
    lang: Annotated[str, typer.Option(help="id or en.")] = "id",
    case: Annotated[int | None, typer.Option(help="Case id the request serves.")] = None,
    title: Annotated[str, typer.Option(help="Subject line.")] = "",
    db: DbOption = None,
) -> None:
    """Draft batched requests (one per recipient) for stored posts."""
    from patroli.cases.takedown import draft_requests, items_from_posts

    store = open_store(db)
    items = _run(items_from_posts, store, post_ids, category=category, priority=priority)
    ids = _run(draft_requests, store, items, drafted_by=by, recipient=to, language=lang,
               case_id=case, title=title)
    for rid in ids:
        console.print(f"drafted request {rid}")
    store.close()


@takedown_app.command("list")
def list_cmd(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False
             ) -> None:
    """Requests, newest first, with item counts per status."""
    from patroli.store.takedown import list_requests

    store = open_store(db)
    rows = list_requests(store)
    store.close()
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    t = Table(title="Permintaan takedown / takedown requests")
    for col in ("id", "recipient", "drafted by", "approved by", "sent", "items", "statuses"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["recipient"], Text(r["drafted_by"]),
                  Text(r["approved_by"] or "-"), str(r["sent_at"] or "-"), str(r["n_items"]),
                  ", ".join(f"{k}={v}" for k, v in sorted(r["statuses"].items())))
    console.print(t)


@takedown_app.command("approve")
def approve_cmd(request_id: int, by: ByOption, db: DbOption = None) -> None:
    """Four-eyes approval by a supervisor who did not draft it."""
    from patroli.store.takedown import approve_request

    store = open_store(db)
    _run(approve_request, store, request_id, by)
    store.close()
    console.print(f"approved request {request_id}")


@takedown_app.command("send")
def send_cmd(request_id: int, by: ByOption, db: DbOption = None) -> None:
    """Record that an approved request was sent (the SLA clock starts)."""
    from patroli.store.takedown import mark_sent

    store = open_store(db)
    _run(mark_sent, store, request_id, actor=by)
    store.close()
    console.print(f"sent request {request_id}")


@takedown_app.command("mark")
def mark_cmd(item_id: int, status: str, by: ByOption, db: DbOption = None) -> None:
    """Set an item's status (acknowledged, removed, refused, reappeared, sent)."""
    from patroli.store.takedown import set_item_status

    store = open_store(db)
    _run(set_item_status, store, item_id, status, actor=by)
    store.close()
    console.print(f"item {item_id}: {status}")


@takedown_app.command("export")
def export_cmd(request_id: int, out: Annotated[Path, typer.Option(help="Output folder.")],
               fmt: Annotated[str | None, typer.Option("--format", help="csv, json, text.")
                              ] = None,
               lang: Annotated[str | None, typer.Option(help="id or en.")] = None,
               by: Annotated[str, typer.Option("--by")] = "cli", db: DbOption = None) -> None:
    """Write the file the recipient expects (approved requests only)."""
    from patroli.cases.takedown import export_request

    store = open_store(db)
    path = _run(export_request, store, request_id, out, fmt, actor=by, language=lang)
    store.close()
    console.print(Text(str(path)))


@takedown_app.command("verify")
def verify_cmd(request_id: Annotated[int | None, typer.Argument()] = None,
               by: Annotated[str, typer.Option("--by")] = "patroli-verify",
               db: DbOption = None) -> None:
    """Re-fetch the URLs (safe fetcher: public addresses only) and record the outcomes."""
    from patroli.cases.fetch import Fetcher
    from patroli.cases.takedown import verify_request

    store = open_store(db)
    rows = _run(verify_request, store, request_id, Fetcher(), actor=by)
    store.close()
    t = Table(title="Hasil pemeriksaan / outcome checks")
    for col in ("item", "url", "outcome", "status", "http"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["item_id"]), Text(r["url"]), r["outcome"], r["status"],
                  str(r["http_status"] or "-"))
    console.print(t)


@takedown_app.command("reappear")
def reappear_cmd(by: Annotated[str, typer.Option("--by")] = "patroli",
                 threshold: Annotated[float, typer.Option(help="rapidfuzz ratio 0-100.")] = 90,
                 db: DbOption = None) -> None:
    """Find removed content that came back (same phone or near-identical text)."""
    from patroli.cases.takedown import detect_reappearance

    store = open_store(db)
    rows = detect_reappearance(store, threshold=threshold, actor=by)
    store.close()
    for r in rows:
        console.print(f"item {r['item_id']} reappeared in post {r['post_id']} "
                      f"({r['reason']}, {r['score']})")
    if not rows:
        console.print("tidak ada / none")


@takedown_app.command("pending")
def pending_cmd(db: DbOption = None) -> None:
    """Changes waiting for a second person (HIGH-risk dismissals, allow-listing)."""
    from patroli.cases.takedown import pending_approvals

    store = open_store(db)
    rows = pending_approvals(store)
    store.close()
    t = Table(title="Menunggu persetujuan kedua / waiting for a second person")
    for col in ("id", "kind", "ref", "requested by", "at"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["kind"], Text(r["ref"]), Text(r["requested_by"]),
                  str(r["requested_at"]))
    console.print(t)


@takedown_app.command("second-approve")
def second_approve_cmd(approval_id: int, by: ByOption,
                       reject: Annotated[bool, typer.Option("--reject")] = False,
                       db: DbOption = None) -> None:
    """Approve (or --reject) a pending change as the second person."""
    from patroli.cases import takedown as td

    store = open_store(db)
    r = _run(td.reject if reject else td.approve, store, approval_id, by)
    store.close()
    console.print(f"approval {approval_id}: {r['status']}")


@takedown_app.command("flags")
def flags_cmd(window_days: int = 7, threshold: int = 10, db: DbOption = None) -> None:
    """Users with unusual HIGH-risk dismissals (for supervisors)."""
    from patroli.cases.takedown import unusual_dismissals

    store = open_store(db)
    rows = unusual_dismissals(store, window_days, threshold)
    store.close()
    for r in rows:
        console.print(Text(f"{r['user']}: {r['high_risk_dismissals']} high-risk dismissals "
                           f"(peer median {r['peer_median']}; {', '.join(r['rules'])})"))
    if not rows:
        console.print("tidak ada / none")


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v * 100:.1f}%" if pct else str(v)


@report_app.command("monthly")
def monthly(month: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")
                             ] = None,
            as_json: Annotated[bool, typer.Option("--json")] = False,
            tz: Annotated[str, typer.Option(help="Time zone of the months.")] = "Asia/Jakarta",
            db: DbOption = None) -> None:
    """The monthly takedown figures an agency publishes."""
    from patroli.cases.sla import monthly_report

    store = open_store(db)
    try:
        rep = monthly_report(store, month, now=datetime.now(UTC), tz=tz)
    except ValueError as exc:
        fail(f"bad --month {month!r} (use YYYY-MM): {exc}")
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(rep, ensure_ascii=False, indent=2))
        return
    t = Table(title=f"Laporan bulanan takedown / monthly takedown report {rep['month']}")
    t.add_column("ukuran / measure")
    t.add_column("nilai / value", justify="right")
    k = rep["by_kind"]
    rows = [
        ("Akun dilaporkan / accounts reported", k["accounts"]),
        ("Konten dilaporkan / posts reported", k["contents"]),
        ("Situs dilaporkan / sites reported", k["sites"]),
        ("Total dilaporkan / total reported", rep["reported"]),
        ("Diturunkan / removed", rep["removed"]),
        ("Menunggu / pending", rep["pending"]),
        ("Ditolak / refused", rep["refused"]),
        ("Muncul kembali / reappeared", rep["reappeared"]),
        ("Median jam sampai turun / median hours to removal", _fmt(rep["median_hours_to_removal"])),
        ("Turun dalam 24 jam / removed within 24h", _fmt(rep["share_removed_24h"], True)),
        ("Mendesak turun dalam 4 jam / urgent within 4h",
         _fmt(rep["share_removed_4h_urgent"], True)),
    ]
    for name, val in rows:
        t.add_row(name, str(val))
    console.print(t)
    if rep["by_platform"]:
        p = Table(title="Per platform")
        for col in ("platform", "reported", "removed", "pending", "refused", "median h", "<=24h"):
            p.add_column(col)
        for name, f in rep["by_platform"].items():
            p.add_row(name, str(f["reported"]), str(f["removed"]), str(f["pending"]),
                      str(f["refused"]), _fmt(f["median_hours_to_removal"]),
                      _fmt(f["share_removed_24h"], True))
        console.print(p)


@report_app.command("sla")
def sla_cmd(db: DbOption = None) -> None:
    """All SLA figures (overall, per platform, per month) as JSON."""
    from patroli.cases.sla import sla_figures

    store = open_store(db)
    figs = sla_figures(store)
    store.close()
    typer.echo(json.dumps(figs, ensure_ascii=False, indent=2))

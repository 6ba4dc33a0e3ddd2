"""``patroli case ...``: cases, evidence capture, evidence packages (issue 6, part A).

Each command calls one public function of ``patroli.store.cases`` or
``patroli.cases.evidence``. ``--by NAME`` names the acting user (default
``cli:<operating-system user>``); every change is in the case timeline and the audit log.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patroli.cli_common import DbOption, console, fail, open_store

case_app = typer.Typer(help="Kasus dan bukti / cases and evidence.", no_args_is_help=True)

ByOption = Annotated[str | None, typer.Option(
    "--by", help="Acting user (default: cli:<operating-system user>).")]


def _by(name: str | None) -> str:
    if name and name.strip():
        return name.strip()
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli:unknown"


def _errors() -> tuple[type[BaseException], ...]:
    from patroli.cases.fetch import FetchError
    from patroli.cases.model import CaseError

    return (CaseError, FetchError)


@case_app.command("create")
def create(
    title: Annotated[str | None, typer.Option("--title", help="Case title.")] = None,
    post: Annotated[list[int] | None, typer.Option("--post", help="Stored post id (repeat).")] = None,
    from_entity: Annotated[tuple[str, str] | None, typer.Option(
        "--from-entity", help="KIND VALUE: all posts sharing this phone/telegram/url/"
        "domain/email/account.")] = None,
    priority: Annotated[str, typer.Option(help="high / normal / low.")] = "normal",
    assignee: Annotated[str | None, typer.Option(help="Username to assign.")] = None,
    db: DbOption = None, by: ByOption = None,
) -> None:
    """Buat kasus / open a case from post ids or from a pivot on an entity value."""
    from patroli.store import cases as sc

    store = open_store(db)
    try:
        if from_entity and from_entity[0]:
            cid = sc.case_from_entity(store, from_entity[0], from_entity[1], actor=_by(by),
                                      title=title, priority=priority, assignee=assignee)
        elif post:
            if not title:
                fail("--title is needed with --post")
            cid = sc.create_case(store, title=title, actor=_by(by), post_ids=post,
                                 priority=priority, assignee=assignee)
        else:
            fail("give --post ID (repeatable) or --from-entity KIND VALUE")
    except _errors() as exc:
        fail(str(exc))
    n = len(sc.case_posts(store, cid))
    console.print(f"kasus / case {cid} dibuat / created with {n} posts")


@case_app.command("show")
def show(case_id: int, db: DbOption = None) -> None:
    """Tampilkan kasus / show a case: posts, entities, evidence, timeline."""
    from patroli.store import cases as sc

    store = open_store(db)
    try:
        d = sc.case_detail(store, case_id)
    except _errors() as exc:
        fail(str(exc))
    c = d["case"]
    console.print(f"[bold]#{c.id} {c.title}[/bold]", markup=True, highlight=False)
    console.print(f"status {c.status} · priority {c.priority} · assignee {c.assignee or '-'}"
                  + (f" · close pending (requested by {c.close_requested_by})"
                     if c.close_requested_by else ""), markup=False)
    t = Table("post", "platform", "risk", "url / text", title="Posts")
    for p in d["posts"]:
        t.add_row(str(p["post_id"]), p["platform"] or "",
                  f"{p['risk_score'] if p['risk_score'] is not None else '-'} {p['level'] or ''}",
                  p["url"] or (p["text"] or "")[:60])
    console.print(t)
    for i in d["items"]:
        if i.item_kind != "post":
            console.print(f"{i.item_kind} {i.ref_kind} {i.ref}".replace("  ", " "), markup=False)
    if d["evidence"]:
        t = Table("id", "kind", "url", "sha256", "captured (UTC)", "by", title="Evidence")
        for e in d["evidence"]:
            t.add_row(str(e.id), e.kind, e.url or "", e.sha256,
                      e.captured_at.strftime("%Y-%m-%d %H:%M:%S"), e.captured_by)
        console.print(t)
    t = Table("at (UTC)", "actor", "kind", "details", title="Timeline")
    for ev in d["events"]:
        t.add_row(ev.at.strftime("%Y-%m-%d %H:%M:%S"), ev.actor, ev.kind,
                  str(ev.details)[:80])
    console.print(t)


@case_app.command("list")
def list_(status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
          limit: int = 50, db: DbOption = None) -> None:
    """Daftar kasus / list cases, most recently updated first."""
    from patroli.store import cases as sc

    t = Table("id", "title", "status", "priority", "assignee", "posts", "evidence")
    for r in sc.list_cases(open_store(db), status=status, limit=limit):
        t.add_row(str(r["id"]), r["title"], r["status"], r["priority"], r["assignee"] or "-",
                  str(r["n_posts"]), str(r["n_evidence"]))
    console.print(t)


@case_app.command("comment")
def comment(case_id: int, text: str, db: DbOption = None, by: ByOption = None) -> None:
    """Tambah komentar / add a comment."""
    from patroli.store import cases as sc

    try:
        sc.add_comment(open_store(db), case_id, text, actor=_by(by))
    except _errors() as exc:
        fail(str(exc))
    console.print("ok")


@case_app.command("status")
def status(case_id: int, new_status: str, note: str = "", db: DbOption = None,
           by: ByOption = None) -> None:
    """Ubah status / change the status (allowed transitions only)."""
    from patroli.store import cases as sc

    try:
        old = sc.set_status(open_store(db), case_id, new_status, actor=_by(by), note=note)
    except _errors() as exc:
        fail(str(exc))
    console.print(f"{old} -> {new_status}", markup=False)


@case_app.command("capture")
def capture(case_id: int, db: DbOption = None, by: ByOption = None) -> None:
    """Rekam bukti / capture every URL of the case (public addresses only)."""
    from patroli.cases.evidence import capture_case

    try:
        rep = capture_case(open_store(db), case_id, actor=_by(by))
    except _errors() as exc:
        fail(str(exc))
    console.print(f"captured {len(rep.captured)} URLs, {len(rep.source_records)} source records,"
                  f" {len(rep.failed)} failed", markup=False)
    for url, reason in rep.failed:
        console.print(f"  failed: {url}: {reason}", markup=False)


@case_app.command("export")
def export(case_id: int, file: Path, db: DbOption = None, by: ByOption = None) -> None:
    """Ekspor paket bukti / export the evidence package (ZIP)."""
    from patroli.cases.evidence import export_package

    try:
        out = export_package(open_store(db), case_id, file, _by(by))
    except _errors() as exc:
        fail(str(exc))
    console.print(f"wrote {out}", markup=False)


@case_app.command("verify-package")
def verify_package_cmd(file: Path) -> None:
    """Periksa paket bukti / recompute every hash of a package (no database needed)."""
    from patroli.cases.evidence import verify_package

    problems = verify_package(file)
    if problems:
        for p in problems:
            console.print(f"PROBLEM: {p}", markup=False)
        fail(f"{len(problems)} problem(s) in {file}", code=1)
    console.print("OK: semua hash cocok / every hash matches", markup=False)


@case_app.command("close")
def close(case_id: int, reason: str = "", db: DbOption = None, by: ByOption = None) -> None:
    """Tutup kasus / close: at once after a takedown request, else ask a second person."""
    from patroli.store import cases as sc

    try:
        result = sc.request_close(open_store(db), case_id, actor=_by(by), reason=reason)
    except _errors() as exc:
        fail(str(exc))
    console.print("closed" if result == "closed" else
                  "menunggu persetujuan / waiting for approval by another user", markup=False)


@case_app.command("approve-close")
def approve_close(case_id: int, db: DbOption = None, by: ByOption = None) -> None:
    """Setujui penutupan / approve a pending close (not by its requester)."""
    from patroli.store import cases as sc

    try:
        sc.approve_close(open_store(db), case_id, actor=_by(by))
    except _errors() as exc:
        fail(str(exc))
    console.print("closed")

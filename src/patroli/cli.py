"""Command line: a thin layer over the library (``patroli --help``).

Every command prints a one-line cause and exits with code 2 on bad input (missing,
unreadable or binary files, unknown formats), 1 on other failures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from patroli import __version__
from patroli.cli_common import DbOption, console, err_console, fail, open_store

app = typer.Typer(
    name="patroli",
    help="patroli: patroli siber rekrutmen ilegal PMI / cyber patrol against illegal "
    "recruitment of Indonesian migrant workers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



RegistryOption = Annotated[
    Path | None,
    typer.Option("--registry", help="Agency registry export (CSV/XLSX, shape of the demo "
                 "registry) to verify against instead of the store's / bundled registry."),
]
PermitsOption = Annotated[
    Path | None,
    typer.Option("--permits", help="Permit (SIP / job order) export for --registry."),
]
NoRegistryOption = Annotated[
    bool, typer.Option("--no-registry", help="Skip the registry and watchlist check."),
]


def version_callback(value: bool) -> None:
    if value:
        console.print(f"patroli {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=version_callback,
                                          is_eager=True, help="Show the version.")] = False,
) -> None:
    """patroli: scan, explain and store suspected illegal recruitment posts."""


@app.command()
def scan(
    inputs: Annotated[list[Path], typer.Argument(help="Files or directories to scan "
                                                 "(JSONL, JSON, CSV, text, Telegram result.json, "
                                                 "WhatsApp .txt/.zip).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Force the input "
                   "format: jsonl, json, csv, text, telegram, whatsapp.")] = None,
    out: Annotated[list[Path] | None, typer.Option("--out", "-o", help="Write a report: "
                   "FILE.json, FILE.csv or FILE.html (repeatable).")] = None,
    db: DbOption = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Analyse only; store nothing.")] = False,
    text_column: Annotated[str | None, typer.Option(help="CSV/JSON field with the post text "
                           "(comma-separated to join several).")] = None,
    id_column: Annotated[str | None, typer.Option(help="Field with the record id.")] = None,
    url_column: Annotated[str | None, typer.Option(help="Field with the post URL.")] = None,
    time_column: Annotated[str | None, typer.Option(help="Field with the post time.")] = None,
    platform_column: Annotated[str | None, typer.Option(help="Field with the platform.")] = None,
    author_column: Annotated[str | None, typer.Option(help="Field with the author.")] = None,
    platform: Annotated[str | None, typer.Option(help="Platform of every post "
                        "(facebook, tiktok, ...), when the input does not say.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: sniffed).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Input encoding (default: detected).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of local times in WhatsApp "
                        "exports and naive times (IANA name or +07:00; default Asia/Jakarta).")] = None,
    top: Annotated[int, typer.Option(help="Rows in the triage table.")] = 15,
    batch_size: Annotated[int, typer.Option(help="Posts per database transaction.")] = 500,
    json_summary: Annotated[bool, typer.Option("--json-summary", help="Print the summary as "
                            "JSON instead of tables.")] = False,
    registry: RegistryOption = None,
    permits: PermitsOption = None,
    no_registry: NoRegistryOption = False,
    no_model: Annotated[bool, typer.Option(
        "--no-model", help="Rules (and registry) alone, without the trained model.")] = False,
) -> None:
    """Scan inputs: find illegal recruitment ads, explain them, store them, report.

    A rerun of the same command resumes a killed scan without duplicates.
    """
    from patroli.report import ReportFormatError, open_writer
    from patroli.report.console import render_summary
    from patroli.scan import scan as run_scan
    from patroli.sources import FORMATS, SourceError, SourceOptions

    if fmt is not None and fmt not in FORMATS:
        fail(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    options = SourceOptions(format=fmt, text_column=text_column, id_column=id_column,
                            url_column=url_column, time_column=time_column,
                            platform_column=platform_column, author_column=author_column,
                            platform=platform, delimiter=delimiter, encoding=encoding,
                            timezone=timezone)
    for path in inputs:
        if not path.exists():
            fail(f"{path}: no such file or directory")
    writers = []
    try:
        writers = [open_writer(p) for p in out or []]
    except (ReportFormatError, OSError) as exc:
        fail(str(exc))
    store = None
    if not no_store:
        store = _open_store(db)
    progress = Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                        BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=True,
                        disable=json_summary or not err_console.is_terminal)
    try:
        with progress:
            task = progress.add_task("Memindai / scanning", total=None)
            verifier = _verifier(db, registry, permits, no_registry, store=store) \
                if (registry is not None or no_registry or store is None) else "default"
            summary = run_scan(inputs, store=store, options=options, sinks=writers,
                               verifier=verifier, classifier=None if no_model else "default",
                               batch_size=batch_size, top_n=top,
                               on_progress=lambda n: progress.update(task, completed=n))
    except SourceError as exc:
        fail(str(exc))
    finally:
        if store is not None:
            store.close()
    for w in writers:
        w.close(summary)
    if json_summary:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        render_summary(console, summary)
        for w in writers:
            console.print(Text(f"Laporan / report: {w.path} ({w.count} posts)"))


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The text of one post, or - to read stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the assessment as JSON.")] = False,
    registry: RegistryOption = None,
    permits: PermitsOption = None,
    no_registry: NoRegistryOption = False,
    db: DbOption = None,
    no_model: Annotated[bool, typer.Option(
        "--no-model", help="Rules (and registry) alone, without the trained model.")] = False,
) -> None:
    """Explain one text: indicators with evidence and reasons, entities, registry
    verification (agency, licence, permits, watchlist), the model's view beside the
    rules' (and whether they disagree), score."""
    from patroli.analysis import analyze
    from patroli.report.console import render_check
    from patroli.types import Post, content_key

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        fail("empty text")
    post = Post(key=content_key(text), text=text, source="check")
    a = analyze(post, verifier=_verifier(db, registry, permits, no_registry),
                classifier=None if no_model else "default")
    if as_json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
    else:
        render_check(console, post, a)


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold JSONL in the corpus schema "
                                         "(label, flags, entities).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    errors: Annotated[int, typer.Option(help="Misclassified posts to list.")] = 10,
    registry: RegistryOption = None,
    permits: PermitsOption = None,
    no_registry: NoRegistryOption = False,
    db: DbOption = None,
    cv: Annotated[int | None, typer.Option(
        "--cv", help="Rules / model / combined side by side, the model trained by "
        "stratified K-fold on this file (never tested on its training posts).")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", help="Rules / model / combined side by side with this model file.")] = None,
    rules_only: Annotated[bool, typer.Option(
        "--rules-only", help="Evaluate the rules (and registry) without the model.")] = False,
    text_column: Annotated[str | None, typer.Option(
        help="CSV gold: text column(s), comma-separated and joined (EMSCAD: "
        "title,company_profile,description,requirements,benefits).")] = None,
    label_column: Annotated[str | None, typer.Option(
        help="CSV gold: label column (EMSCAD: fraudulent, 1 -> illegal, 0 -> legitimate).")] = None,
) -> None:
    """Compare the analysis with gold annotations: labels, flags, entities (with the
    registry check of ``check``). With --cv K or --model PATH: rules alone, model alone
    and combined, side by side."""
    from patroli.evaluate import GoldFormatError, gold_records
    from patroli.evaluate import evaluate as run_evaluate
    from patroli.sources import SourceError

    if not gold.is_file():
        fail(f"{gold}: no such file")
    records = gold_records(gold, text_column=text_column, label_column=label_column)
    if cv is not None or model is not None:
        from patroli.cli_model import render_comparison
        from patroli.evaluate import compare
        from patroli.model.classifier import ModelFileError
        from patroli.model.train import TrainingDataError

        try:
            cmp = compare(records, cv=cv, model_path=model, keep_errors=max(errors, 0),
                          verifier=_verifier(db, registry, permits, no_registry))
        except (GoldFormatError, SourceError, ModelFileError, TrainingDataError,
                ValueError) as exc:
            fail(str(exc))
        if as_json:
            print(json.dumps(cmp.to_dict(), ensure_ascii=False, indent=2))
        else:
            render_comparison(console, cmp)
        return
    try:
        ev = run_evaluate(records, keep_errors=max(errors, 0),
                          verifier=_verifier(db, registry, permits, no_registry),
                          classifier=None if rules_only else "default")
    except (GoldFormatError, SourceError) as exc:
        fail(str(exc))
    except UnicodeDecodeError:
        fail(f"{gold}: not UTF-8 text")
    if as_json:
        print(json.dumps(ev.to_dict(), ensure_ascii=False, indent=2))
        return
    from patroli.report.console import render_evaluation

    render_evaluation(console, ev, errors)


@app.command()
def runs(db: DbOption = None,
         limit: Annotated[int, typer.Option(help="How many runs.")] = 20) -> None:
    """List scan runs: source, status, counts, start and end."""
    store = _open_store(db)
    t = Table(title="Pemindaian / scan runs")
    for col in ("id", "status", "source", "started", "finished", "read", "new", "skipped", "errors"):
        t.add_column(col, no_wrap=col in ("id", "status"), overflow="fold")
    for r in store.runs(limit=limit):
        c = r.get("counts") or {}
        t.add_row(str(r["id"]), r["status"], Text(r["source"]), _ts(r.get("started_at")),
                  _ts(r.get("finished_at")), str(c.get("posts_read", "")),
                  str(c.get("posts_new", "")), str(c.get("posts_skipped", "")),
                  str(c.get("errors", "")))
    store.close()
    console.print(t)


@app.command()
def pivot(
    value: Annotated[str, typer.Argument(help="A phone number, @handle, URL, domain, email, "
                                         "agency name or permit number.")],
    kind: Annotated[str | None, typer.Option(help="Entity kind (default: guessed from "
                    "the value).")] = None,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="How many posts.")] = 50,
) -> None:
    """Every stored post that shares this contact (phone, handle, domain...)."""
    from patroli.analysis.entities import extract_entities

    kind_value = _guess_entity(value, kind, extract_entities)
    if kind_value is None:
        fail(f"cannot tell what {value!r} is; give --kind (phone, telegram, url, domain, email, ...)")
    k, v = kind_value
    store = _open_store(db)
    rows = store.posts_with_entity(k, v, limit=limit)
    store.close()
    t = Table(title=f"{k} {v}: {len(rows)} pos / posts")
    for col in ("level", "score", "label", "platform", "post", "text"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["level"], str(r["risk_score"]), r["label"], str(r.get("platform") or ""),
                  Text(str(r.get("record_id") or r["key"])), Text(r.get("excerpt") or ""))
    console.print(t)


@app.command()
def entities(
    kind: Annotated[str | None, typer.Option(help="Only this kind (phone, telegram, ...).")] = None,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="How many values.")] = 30,
) -> None:
    """The contacts shared by the most posts (the start of a network)."""
    store = _open_store(db)
    rows = store.entity_counts(kind, limit=limit)
    store.close()
    t = Table(title="Entitas bersama / shared entities")
    for col in ("kind", "value", "posts", "max score"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["kind"], Text(r["value"]), str(r["n_posts"]), str(r.get("max_risk", "")))
    console.print(t)


def _register_subcommands() -> None:
    from patroli.cli_verify import registry_app, watchlist_app

    app.add_typer(registry_app, name="registry",
                  help="Registri P3MI dan SIP / licensed-agency and permit registry.")
    app.add_typer(watchlist_app, name="watchlist",
                  help="Daftar pantau dan daftar izin / watchlists and allowlists.")
    from patroli.cli_model import train
    from patroli.cli_web import audit_app, serve, user_app

    app.command()(train)

    app.command()(serve)
    app.add_typer(user_app, name="user", help="Akun pengguna / user accounts.")
    app.add_typer(audit_app, name="audit", help="Log audit berantai hash / hash-chained audit log.")
    from patroli.cli_api import token_app

    app.add_typer(token_app, name="token", help="Token API / REST API tokens.")
    from patroli.cli_cases import case_app
    from patroli.cli_takedown import report_app, takedown_app

    app.add_typer(case_app, name="case", help="Kasus dan bukti / cases and evidence.")
    app.add_typer(takedown_app, name="takedown",
                  help="Permintaan takedown / takedown requests (four-eyes approval).")
    app.add_typer(report_app, name="report", help="Angka SLA dan laporan bulanan / SLA "
                  "figures and the monthly report.")


_register_subcommands()


def _guess_entity(value: str, kind: str | None, extract) -> tuple[str, str] | None:
    if kind:
        found = [e for e in extract(value) if e.kind == kind]
        return (kind, found[0].value if found else value.strip())
    order = ("phone", "telegram", "email", "url", "permit_number", "licence_number",
             "agency_name", "domain")
    found = extract(value)
    for k in order:
        for e in found:
            if e.kind == k:
                if k == "url" and "/" not in value.strip().rstrip("/").split("://")[-1]:
                    host = [d for d in found if d.kind == "domain"]
                    if host:
                        return ("domain", host[0].value)
                return (k, e.value)
    return None


def _ts(value) -> str:
    if not value:
        return ""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d %H:%M WIB")


def _verifier(db: str | None, registry: Path | None, permits: Path | None,
              no_registry: bool, store=None):
    """The verifier for a command: --registry/--permits files, else the store's latest
    snapshot and watch/allow entries (a store given, ``--db``, $PATROLI_DATABASE_URL or an
    existing ./patroli.db), else the bundled demo registry; None with --no-registry."""
    import os

    from patroli.verify.registry import RegistryFormatError
    from patroli.verify.verifier import build_verifier

    if no_registry:
        return None
    for path in (registry, permits):
        if path is not None and not path.is_file():
            fail(f"{path}: no such file")
    if permits is not None and registry is None:
        fail("--permits needs --registry")
    opened = None
    if store is None and (db or os.environ.get("PATROLI_DATABASE_URL")
                          or Path("patroli.db").is_file()):
        store = opened = _open_store(db)
    try:
        return build_verifier(store, agencies=registry, permits=permits)
    except (RegistryFormatError, OSError, ValueError) as exc:
        fail(f"registry: {str(exc).splitlines()[0]}")
    finally:
        if opened is not None:
            opened.close()


_open_store = open_store


def run() -> None:
    """Console entry point: ``app()`` with one-line errors for broken rule files."""
    from patroli.analysis.rules import RuleFormatError

    try:
        app()
    except RuleFormatError as exc:
        err_console.print(Text(f"patroli: error: {exc}", style="bold red"), soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    run()

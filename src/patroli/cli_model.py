"""``patroli train``: a Typer command function the main app registers (issue 4).

Thin layer over ``patroli.model.train`` (load_labeled -> train -> install).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from patroli.cli_common import fail

console = Console(stderr=False)


_fail = fail


def train(
    files: Annotated[list[Path] | None, typer.Argument(
        help="Labeled JSONL (corpus schema: text, label) or CSV files.")] = None,
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="Add the analyst labels stored in the database.")] = False,
    db: Annotated[str | None, typer.Option(
        help="Database URL or SQLite file (default $PATROLI_DATABASE_URL or ./patroli.db).")] = None,
    label_column: Annotated[str | None, typer.Option(
        help="Label column (default 'label'; EMSCAD: 'fraudulent', 1 -> illegal, "
             "0 -> legitimate).")] = None,
    text_column: Annotated[str | None, typer.Option(
        help="Text column(s), comma-separated and joined (EMSCAD: "
             "title,company_profile,description,requirements,benefits).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Model folder to write (default $PATROLI_MODEL_DIR/<version>, made active).")] = None,
    force: Annotated[bool, typer.Option(
        help="Replace the active model even when its CV macro-F1 is better.")] = False,
    cv: Annotated[int, typer.Option(help="Cross-validation folds (0 = none).")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (folds; recorded).")] = 20261129,
) -> None:
    """Latih model teks / train the text classifier from labeled files and analyst labels.

    Writes model.joblib, model.json and MODEL_CARD.md (data SHA-256, seed, CV figures);
    refuses to replace the active model when the new cross-validated macro-F1 is worse,
    unless --force.
    """
    from patroli.model.train import (
        ModelNotBetterError,
        TrainingDataError,
        install,
        load_labeled,
    )
    from patroli.model.train import train as run_train
    from patroli.sources import SourceError

    texts: list[str] = []
    labels: list[str] = []
    sources: list[str] = []
    for f in files or []:
        if not f.exists():
            _fail(f"{f}: no such file")
        try:
            t, lab, skipped = load_labeled([f], text_column=text_column, label_column=label_column)
        except SourceError as exc:
            _fail(str(exc))
        texts += t
        labels += lab
        sources.append(f"{f} ({len(t)} posts, {skipped} skipped)")
    if from_db:
        from patroli.store import Store
        from patroli.store.labels import labeled_posts

        try:
            with Store(db) as store:
                pairs = labeled_posts(store)
        except Exception as exc:  # unreachable database: one line
            _fail(f"cannot read analyst labels: {str(exc).splitlines()[0]}")
        texts += [t for t, _ in pairs]
        labels += [lab for _, lab in pairs]
        sources.append(f"analyst labels in the database ({len(pairs)} posts)")
    if not texts:
        _fail("no labeled posts: give labeled files and/or --from-db")
    try:
        with console.status("Melatih model / training..."):
            result = run_train(texts, labels, seed=seed, cv=cv, sources=sources)
        target = install(result, out, force=force)
    except TrainingDataError as exc:
        _fail(str(exc))
    except ModelNotBetterError as exc:
        _fail(str(exc), code=1)
    t = Table(title=f"Model {result.classifier.version}")
    for col in ("label", "precision", "recall", "F1", "support"):
        t.add_column(col)
    for lab, v in (result.cv.get("labels") or {}).items():
        t.add_row(lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}",
                  str(v["support"]))
    if result.cv:
        console.print(t)
        console.print(f"CV macro-F1: {result.cv['macro_f1']}")
    console.print(f"Model ditulis / written: {target}")


def render_comparison(out: Console, cmp: object) -> None:
    """Print an ``evaluate.Comparison``: per-label P/R/F1 of rules, model and combined side
    by side, then illegal-vs-rest, awareness labeled illegal, macro-F1, worst errors."""
    from patroli.evaluate import SYSTEMS
    from patroli.types import LABELS

    systems = cmp.systems  # type: ignore[attr-defined]
    t = Table(title=f"Aturan / model / gabungan — rules / model / combined "
                    f"(n={cmp.n}, {cmp.how})")  # type: ignore[attr-defined]
    t.add_column("label")
    for s in SYSTEMS:
        t.add_column(f"{s} P/R/F1", justify="right")
    t.add_column("support", justify="right")
    for lab in LABELS:
        row = [lab]
        for s in SYSTEMS:
            v = systems[s]["labels"][lab]
            row.append(f"{v['precision']:.3f} / {v['recall']:.3f} / {v['f1']:.3f}")
        row.append(str(systems[SYSTEMS[0]]["labels"][lab]["support"]))
        t.add_row(*row)
    ivr = [systems[s]["illegal_vs_rest"] for s in SYSTEMS]
    t.add_row("illegal vs rest", *[f"{v['precision']:.3f} / {v['recall']:.3f} / {v['f1']:.3f}"
                                   for v in ivr], "")
    t.add_row("awareness→illegal", *[f"{systems[s]['awareness_as_illegal']:.1%}" for s in SYSTEMS], "")
    t.add_row("macro-F1", *[f"{systems[s]['macro_f1']:.4f}" for s in SYSTEMS], "")
    out.print(t)
    for e in cmp.errors:  # type: ignore[attr-defined]
        out.print(f"- {e['id']}: gold {e['gold']}, combined {e['combined']} (rules {e['rules']}, "
                  f"model {e['model']}): {e['text'][:100]!r}", highlight=False)

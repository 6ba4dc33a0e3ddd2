"""Console rendering with Rich: triage table, scan summary, one-post explanation.

Everything taken from the input is passed to Rich as plain ``Text`` (never as markup),
so a post cannot inject console markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from patroli.report.files import CONTACT_KINDS
from patroli.types import Assessment, Post

if TYPE_CHECKING:
    from patroli.scan import ScanSummary

LEVEL_STYLE = {"high": "bold white on red", "medium": "bold black on yellow", "low": "dim"}


def _level(level: str) -> Text:
    return Text(f" {level} ", style=LEVEL_STYLE.get(level, ""))


def _contacts(assessment: Assessment, limit: int = 3) -> Text:
    values: list[str] = []
    for e in assessment.entities:
        if e.kind in CONTACT_KINDS and e.value not in values:
            values.append(e.value)
    more = f" +{len(values) - limit}" if len(values) > limit else ""
    return Text("\n".join(values[:limit]) + more)


def triage_table(top: list[tuple[Post, Assessment]], title: str | None = None) -> Table:
    """The riskiest posts: level, score, label, top indicators, contacts, link."""
    table = Table(title=title or "Pos paling berisiko / riskiest posts", show_lines=False,
                  expand=True)
    table.add_column("Tingkat\nlevel", no_wrap=True)
    table.add_column("Skor", justify="right", no_wrap=True)
    table.add_column("Label", no_wrap=True)
    table.add_column("Indikator / indicators", ratio=3)
    table.add_column("Kontak / contacts", ratio=2)
    table.add_column("Pos / link", ratio=2, overflow="fold")
    for post, a in top:
        ranked = sorted(a.findings, key=lambda f: -f.weight)
        link = post.url or post.location or post.source
        ident = post.record_id or post.key
        table.add_row(
            _level(a.level),
            str(a.risk_score),
            Text(a.label),
            Text(", ".join(f.indicator for f in ranked[:4])),
            _contacts(a),
            Text(f"{ident}\n{link}"),
        )
    return table


def render_summary(console: Console, summary: ScanSummary) -> None:
    """Counts by level, label, destination and platform; errors."""
    console.print(triage_table(summary.top))
    t = Table(title="Ringkasan / summary", show_header=True)
    t.add_column("Tingkat / level")
    t.add_column("Label")
    t.add_column("Tujuan / destination")
    t.add_column("Platform")
    cols = [
        [f"{k}: {summary.by_level.get(k, 0)}" for k in ("high", "medium", "low")],
        [f"{k}: {summary.by_label.get(k, 0)}" for k in ("illegal", "legitimate", "awareness", "other")],
        [f"{k}: {v}" for k, v in summary.by_destination.most_common(8)],
        [f"{k}: {v}" for k, v in summary.by_platform.most_common(8)],
    ]
    for i in range(max(len(c) for c in cols)):
        t.add_row(*[Text(c[i]) if i < len(c) else Text("") for c in cols])
    console.print(t)
    console.print(
        Text(f"Pos / posts: {summary.posts_read}  ·  baru disimpan / new: {summary.posts_new}"
             f"  ·  sudah tersimpan / already stored: {summary.posts_already_stored}"
             f"  ·  galat / errors: {summary.errors}")
    )
    for err in summary.error_samples[:10]:
        console.print(Text(f"  ! {err.location}: {err.message}", style="yellow"))
    if summary.errors > 10:
        console.print(Text(f"  ... {summary.errors - 10} more / lainnya", style="yellow"))


def render_check(console: Console, post: Post, a: Assessment) -> None:
    """Full explanation of one text: score, label, each indicator with evidence and reason."""
    head = Text()
    head.append_text(_level(a.level))
    head.append(f"  skor / score {a.risk_score}/100   label: {a.label}   ")
    head.append(" ".join(f"{k} {v:.2f}" for k, v in a.probabilities.items()), style="dim")
    console.print(head)
    if a.findings:
        t = Table(title="Indikator / indicators", show_lines=True, expand=True)
        t.add_column("Indikator", no_wrap=True)
        t.add_column("Bobot\nweight", justify="right")
        t.add_column("Bukti / evidence", ratio=2)
        t.add_column("Alasan / reason", ratio=4)
        for f in sorted(a.findings, key=lambda f: -f.weight):
            evidence = " … ".join(post.text[s:e] for s, e in f.spans[:3])
            reason = Text(f.explanation_id)
            if f.explanation_en:
                reason.append("\n" + f.explanation_en, style="italic dim")
            t.add_row(Text(f.indicator), f"{f.weight:g}", Text(evidence), reason)
        console.print(t)
    else:
        console.print("Tidak ada indikator / no indicators found.")
    if a.entities:
        t = Table(title="Entitas / entities")
        t.add_column("Jenis / kind")
        t.add_column("Nilai / value")
        t.add_column("Teks / as written")
        for e in a.entities:
            t.add_row(Text(e.kind), Text(e.value), Text(post.text[e.span[0]:e.span[1]]))
        console.print(t)
    if a.verification:
        render_verification(console, a.verification)
    render_model_view(console, a)
    console.print(Text(f"rule set: {a.rule_set_version}"
                       + (f"   model: {a.model_version}" if a.model_version else ""), style="dim"))


def render_model_view(console: Console, a: Assessment) -> None:
    """The rules' figures beside the model's, and whether they disagree (from the
    ``signals["rules"]`` / ``signals["model"]`` that ``patroli.model.combine`` records)."""
    model = a.signals.get("model")
    rules = a.signals.get("rules")
    if not model or not rules:
        return
    from patroli.model.combine import model_view

    view = model_view(rules["label"], model["probabilities"], model.get("version"))
    t = Table(title="Aturan vs model / rules vs model")
    t.add_column("")
    t.add_column("Label")
    t.add_column("Skor / score", justify="right")
    t.add_column("Probabilitas / probabilities")
    t.add_row("aturan / rules", rules["label"], str(rules["risk_score"]),
              " ".join(f"{k} {v:.2f}" for k, v in rules["probabilities"].items()))
    t.add_row("model", view.model_label, "",
              " ".join(f"{k} {v:.2f}" for k, v in model["probabilities"].items()))
    t.add_row("gabungan / combined", a.label, str(a.risk_score),
              " ".join(f"{k} {v:.2f}" for k, v in a.probabilities.items()))
    console.print(t)
    style = "green" if view.agree else "bold yellow"
    console.print(Text(view.message_id, style=style))
    console.print(Text(view.message_en, style="italic dim"))


#: Verification status -> (console style, short Indonesian / English label).
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "verified": ("bold green", "terverifikasi / verified"),
    "lookalike": ("bold red", "nama tiruan / lookalike"),
    "suspended": ("bold red", "izin dibekukan / suspended"),
    "revoked": ("bold red", "izin dicabut / revoked"),
    "licence_expired": ("bold red", "izin kedaluwarsa / licence expired"),
    "permit_invalid": ("bold red", "SIP bermasalah / permit invalid"),
    "not_found": ("yellow", "tidak ditemukan / not found"),
    "no_agency": ("dim", "tidak menyebut perusahaan / no agency named"),
}


def _yes_no(v: object) -> str:
    return "ya/yes" if v is True else ("tidak/no" if v is False else "-")


def render_verification(console: Console, v: dict) -> None:
    """The registry check of one post (``Assessment.verification``): status line,
    one-line summary (id / en), per-permit checks, watchlist hits and allowlisted values."""
    status = str(v.get("status", ""))
    style, label = STATUS_STYLE.get(status, ("", status))
    head = Text("Verifikasi / verification: ")
    head.append(label, style=style)
    console.print(head)
    if v.get("summary_id"):
        console.print(Text("  " + str(v["summary_id"])))
        console.print(Text("  " + str(v.get("summary_en", "")), style="italic dim"))
    if v.get("permits"):
        t = Table(title="SIP / permits")
        for col in ("SIP", "ada / exists", "milik agensi / agency's", "tujuan / destination",
                    "posisi / position", "berlaku / valid", "OK"):
            t.add_column(col)
        for p in v["permits"]:
            dest = p.get("destination_name") or p.get("destination") or "-"
            until = p.get("valid_until") or "-"
            t.add_row(Text(str(p.get("number"))), _yes_no(p.get("exists")),
                      _yes_no(p.get("belongs_to_agency")),
                      Text(f"{dest} ({_yes_no(p.get('destination_matches'))})"),
                      Text(f"{p.get('position') or '-'} "
                           f"({_yes_no(p.get('position_plausible'))})"),
                      Text(f"s.d. {until} ({_yes_no(p.get('valid_on_date'))})"),
                      _yes_no(p.get("ok")))
        console.print(t)
    for h in v.get("watchlist") or ():
        console.print(Text(f"  daftar pantau / watchlist: {h.get('kind')} {h.get('value')}: "
                           f"{h.get('reason')} ({h.get('source')})", style="bold red"))
    for al in v.get("allowlisted") or ():
        console.print(Text(f"  daftar aman / allowlisted: {al.get('kind')} {al.get('value')} "
                           f"({al.get('why')})", style="green"))
    if v.get("registry_version"):
        console.print(Text(f"registry: {v['registry_version']}", style="dim"))


def render_evaluation(console: Console, ev, errors: int = 10) -> None:
    """Tables of a ``patroli.evaluate.Evaluation``: labels, confusion, flags, entities."""
    from patroli.types import LABELS

    console.print(Text(f"Pos / posts: {ev.n}   accuracy {ev.accuracy:.3f}   macro-F1 {ev.macro_f1:.3f}"))
    t = Table(title="Label: precision / recall / F1")
    for col in ("label", "precision", "recall", "F1", "support"):
        t.add_column(col, justify="right" if col != "label" else "left")
    for lab, m in ev.labels.items():
        t.add_row(lab, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                  str(m["support"]))
    console.print(t)
    if ev.confusion:
        c = Table(title="Confusion matrix (rows: gold, columns: predicted)")
        c.add_column("gold \\ pred")
        for lab in LABELS:
            c.add_column(lab, justify="right")
        for lab, row in zip(LABELS, ev.confusion):
            c.add_row(lab, *[str(v) for v in row])
        console.print(c)
    ivr = ev.illegal_vs_rest
    console.print(Text(
        f"illegal vs rest: precision {ivr.precision:.3f}  recall {ivr.recall:.3f}  F1 {ivr.f1:.3f}"
        f"   ·   awareness labeled illegal: {ev.awareness_as_illegal:.1%}"
        f"   ·   awareness at level high: {ev.awareness_high}"))
    if ev.flags:
        f = Table(title="Indikator / flags")
        for col in ("flag", "precision", "recall", "F1", "tp", "fp", "fn"):
            f.add_column(col, justify="right" if col != "flag" else "left")
        for name, m in sorted(ev.flags.items()):
            f.add_row(name, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.tp),
                      str(m.fp), str(m.fn))
        console.print(f)
    if ev.extra_indicators:
        console.print(Text("Indikator di luar kosakata gold / indicators outside the gold "
                           "vocabulary (posts): " + ", ".join(
                               f"{k} {v}" for k, v in ev.extra_indicators.most_common())))
    if ev.entities:
        e = Table(title="Entitas / entities")
        for col in ("kind", "precision", "recall", "F1", "tp", "fp", "fn"):
            e.add_column(col, justify="right" if col != "kind" else "left")
        for name, m in ev.entities.items():
            e.add_row(name, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.tp),
                      str(m.fp), str(m.fn))
        console.print(e)
    if ev.errors and errors:
        x = Table(title="Salah label / misclassified (first)")
        for col in ("id", "gold", "predicted", "score", "indicators", "text"):
            x.add_column(col)
        for err in ev.errors[:errors]:
            x.add_row(str(err["id"]), err["gold"], err["predicted"], str(err["score"]),
                      Text(", ".join(err["indicators"])), Text(err["text"]))
        console.print(x)

"""Compare the analysis with gold annotations in the corpus schema.

Gold records (JSON Lines, ``shared/data/corpus/README.md``): ``text``, ``label``
(illegal/legitimate/awareness/other), ``flags`` (indicator ids), ``entities``
(``phones`` E.164, ``urls``, ``telegram`` "@handle", ``emails``, ``money``
``[{amount, currency, period}]``). Records missing a field are evaluated on the
fields they have.

``evaluate(records) -> Evaluation`` with per-label precision/recall/F1, the confusion
matrix, illegal-vs-rest figures, the share of awareness posts labeled illegal,
per-flag precision/recall over the flags the gold file uses (indicators outside that
vocabulary are counted apart), and per-entity-kind precision/recall (micro over posts,
sets per post).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from patroli.analysis import analyze
from patroli.analysis.rules import RuleSet, default_ruleset
from patroli.types import LABELS, Assessment, Post, content_key

#: gold entity field -> (assessment entity kind, how to compare)
ENTITY_FIELDS = {"phones": "phone", "urls": "url", "telegram": "telegram", "emails": "email",
                 "money": "money"}


class GoldFormatError(ValueError):
    """A gold file line is not a JSON object with a text (message names file:line)."""


@dataclass
class PRF:
    """Counts and figures of one class or kind: tp, fp, fn -> precision, recall, f1 (0..1)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add_sets(self, gold: Counter, pred: Counter) -> None:
        self.tp += sum((gold & pred).values())
        self.fp += sum((pred - gold).values())
        self.fn += sum((gold - pred).values())

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class Evaluation:
    """Figures of one evaluation run (see module docstring)."""

    n: int = 0
    labels: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    illegal_vs_rest: PRF = field(default_factory=PRF)
    awareness_as_illegal: float = 0.0
    awareness_high: int = 0
    flags: dict[str, PRF] = field(default_factory=dict)
    entities: dict[str, PRF] = field(default_factory=dict)
    extra_indicators: Counter = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    accuracy: float = 0.0
    macro_f1: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "labels": self.labels,
            "confusion": {"labels": list(LABELS), "matrix": self.confusion},
            "illegal_vs_rest": self.illegal_vs_rest.to_dict(),
            "awareness_as_illegal": round(self.awareness_as_illegal, 4),
            "awareness_high": self.awareness_high,
            "flags": {k: v.to_dict() for k, v in sorted(self.flags.items())},
            "entities": {k: v.to_dict() for k, v in self.entities.items()},
            "extra_indicators": dict(self.extra_indicators),
            "errors": self.errors,
        }


def read_gold(path: str | Path) -> Iterator[dict[str, Any]]:
    """Gold records of a JSONL file; raises GoldFormatError naming file:line."""
    with open(path, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldFormatError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                raise GoldFormatError(f"{path}:{n}: not an object with a 'text' string")
            yield rec


def gold_records(path: str | Path, *, text_column: str | None = None,
                 label_column: str | None = None) -> Iterator[dict[str, Any]]:
    """Gold records from a JSONL file in the corpus schema (``read_gold``), or from any
    other labeled input ``patroli.sources`` reads (CSV with column mapping, e.g. EMSCAD:
    ``text_column="title,company_profile,description,requirements,benefits"``,
    ``label_column="fraudulent"``, 1 -> illegal, 0 -> legitimate). Records of other
    inputs carry ``id``, ``text`` and ``label`` only (no flags or entities to compare);
    rows without a usable label are skipped. Raises ``GoldFormatError`` (JSONL) or
    ``patroli.sources.SourceError`` (unreadable input)."""
    if Path(path).suffix.lower() in (".jsonl", ".ndjson") and not (text_column or label_column):
        yield from read_gold(path)
        return
    from patroli.model.train import normalize_label
    from patroli.sources import SourceOptions, read_posts

    opts = SourceOptions(text_column=text_column, label_column=label_column)
    for post in read_posts(Path(path), opts):
        raw = post.raw if isinstance(post.raw, dict) else {}
        col = label_column or ("fraudulent" if "fraudulent" in raw and "label" not in raw
                               else "label")
        label = normalize_label(raw.get(col))
        if label is not None:
            yield {"id": post.record_id or post.key, "text": post.text, "label": label,
                   "platform": post.platform}


def _money_key(amount: Any, currency: Any, period: Any) -> str:
    return f"{float(amount):g} {str(currency).upper()}/{period or '-'}"


def gold_entities(rec: dict[str, Any], field_name: str) -> Counter:
    values = (rec.get("entities") or {}).get(field_name) or []
    if field_name == "money":
        return Counter(_money_key(m.get("amount"), m.get("currency"), m.get("period"))
                       for m in values if isinstance(m, dict))
    return Counter({_norm_value(field_name, str(v)) for v in values})


def predicted_entities(a: Assessment, field_name: str) -> Counter:
    kind = ENTITY_FIELDS[field_name]
    if kind == "money":
        return Counter(_money_key(e.data.get("amount"), e.data.get("currency"), e.data.get("period"))
                       for e in a.entities if e.kind == "money")
    return Counter({_norm_value(field_name, e.value) for e in a.entities if e.kind == kind})


def _norm_value(field_name: str, value: str) -> str:
    v = value.strip()
    if field_name in ("telegram", "emails"):
        return v.lower()
    if field_name == "urls":
        v = v.rstrip("/")
        scheme, sep, rest = v.partition("://")
        return (scheme.lower() + sep + rest) if sep else v
    return v


def evaluate(records: Iterable[dict[str, Any]], *, rules: RuleSet | None = None,
             keep_errors: int = 50, verifier: Any = None,
             classifier: Any = "default") -> Evaluation:
    """Analyse each gold record's text and compare (see module docstring).

    keep_errors: how many misclassified posts to keep for the report (id, gold, predicted,
    score, indicators, verification status).
    verifier: a ``patroli.verify.Verifier`` passed to ``analyze`` (None: no registry check).
    classifier: passed to ``analyze``: "default" (the active model, combined with the
    rules), a ``TextClassifier``, or None (rules alone). The bundled model was trained on
    the development corpus: figures of the combined system on that corpus are not held-out
    figures (use ``compare`` with ``cv``).
    """
    rules = rules or default_ruleset()
    ev = Evaluation()
    gold_labels: list[str] = []
    pred_labels: list[str] = []
    flag_pairs: list[tuple[set[str], set[str]]] = []
    for rec in records:
        text = rec["text"]
        post = Post(key=str(rec.get("id") or content_key(text)), text=text,
                    platform=rec.get("platform"), record_id=rec.get("id"))
        a = analyze(post, rules=rules, verifier=verifier, classifier=classifier)
        ev.n += 1
        gold = rec.get("label")
        if gold in LABELS:
            gold_labels.append(gold)
            pred_labels.append(a.label)
            if gold == "awareness":
                ev.awareness_high += a.level == "high"
            if gold != a.label and len(ev.errors) < keep_errors:
                ev.errors.append({"id": rec.get("id"), "gold": gold, "predicted": a.label,
                                  "score": a.risk_score, "indicators": a.indicators,
                                  "verification": a.verification.get("status"),
                                  "text": text[:160]})
        if "flags" in rec:
            flag_pairs.append((set(rec.get("flags") or []), set(a.indicators)))
        if "entities" in rec:
            for field_name in ENTITY_FIELDS:
                ev.entities.setdefault(field_name, PRF()).add_sets(
                    gold_entities(rec, field_name), predicted_entities(a, field_name))
    # Flags are measured over the gold file's vocabulary (every flag it uses); indicators
    # the gold annotations never use (extra rules) are counted in ``extra_indicators``.
    vocabulary = set().union(*(g for g, _ in flag_pairs)) if flag_pairs else set()
    for gold_flags, pred_flags in flag_pairs:
        for flag in vocabulary:
            ev.flags.setdefault(flag, PRF()).add_sets(
                Counter({flag} & gold_flags), Counter({flag} & pred_flags))
        for flag in pred_flags - vocabulary:
            ev.extra_indicators[flag] += 1
    if gold_labels:
        p, r, f, s = precision_recall_fscore_support(
            gold_labels, pred_labels, labels=list(LABELS), zero_division=0)
        ev.labels = {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                           "f1": round(float(f[i]), 4), "support": int(s[i])}
                     for i, lab in enumerate(LABELS)}
        ev.confusion = confusion_matrix(gold_labels, pred_labels, labels=list(LABELS)).tolist()
        ev.accuracy = sum(g == p for g, p in zip(gold_labels, pred_labels)) / len(gold_labels)
        present = [lab for lab in LABELS if ev.labels[lab]["support"]]
        ev.macro_f1 = sum(ev.labels[lab]["f1"] for lab in present) / len(present)
        for g, p in zip(gold_labels, pred_labels):
            ev.illegal_vs_rest.tp += g == "illegal" and p == "illegal"
            ev.illegal_vs_rest.fp += g != "illegal" and p == "illegal"
            ev.illegal_vs_rest.fn += g == "illegal" and p != "illegal"
        n_aw = gold_labels.count("awareness")
        ev.awareness_as_illegal = (sum(g == "awareness" and p == "illegal"
                                       for g, p in zip(gold_labels, pred_labels)) / n_aw
                                   if n_aw else 0.0)
    return ev


# -- rules / model / combined side by side (issue 4) -----------------------------------

#: The three systems compared by ``compare``.
SYSTEMS: tuple[str, ...] = ("rules", "model", "combined")


@dataclass
class Comparison:
    """Label figures of rules alone, model alone and combined on the same gold posts.

    systems: system -> figures (``labels`` per-label precision/recall/F1/support,
    ``macro_f1``, ``accuracy``, ``illegal_vs_rest`` tp/fp/fn/precision/recall/f1,
    ``awareness_as_illegal`` share 0..1); how: ``"cv K"`` (model trained on K-1 folds,
    tested on the held-out fold) or ``"model <version>"``; errors: worst combined errors
    (highest wrong-label probability first).
    """

    n: int = 0
    how: str = ""
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "how": self.how, "systems": self.systems, "errors": self.errors}


def _system_figures(gold: list[str], pred: list[str]) -> dict[str, Any]:
    from patroli.model.train import figures

    out = figures(gold, pred)
    ivr = PRF()
    for g, p in zip(gold, pred):
        ivr.tp += g == "illegal" and p == "illegal"
        ivr.fp += g != "illegal" and p == "illegal"
        ivr.fn += g == "illegal" and p != "illegal"
    n_aw = gold.count("awareness")
    out["illegal_vs_rest"] = ivr.to_dict()
    out["awareness_as_illegal"] = round(sum(g == "awareness" and p == "illegal"
                                            for g, p in zip(gold, pred)) / n_aw, 4) if n_aw else 0.0
    return out


def compare(records: Iterable[dict[str, Any]], *, cv: int | None = None,
            model_path: str | Path | None = None, rules: RuleSet | None = None,
            seed: int | None = None, keep_errors: int = 10, verifier: Any = None) -> Comparison:
    """Rules alone, model alone and combined (``patroli.model.combine``) on gold records.

    cv: K >= 2: stratified K-fold on these records; each fold's model is trained on the
        other K-1 folds only, so it never sees its test posts (rules need no training).
    model_path: a model file (``model.joblib``) to use as is; default the active model.
    The model's blend weight follows ``combine.model_weight_for`` (under CV the reference
    length is the 95th percentile of this file's text lengths: no labels involved).
    verifier: a ``patroli.verify.Verifier`` passed to ``analyze`` (None: no registry check).
    Records without a label in ``LABELS`` are skipped. Raises ``ValueError`` when there is
    no labeled record, ``TrainingDataError`` when a label has fewer than K posts,
    ``ModelFileError`` for an unreadable model file.
    """
    from patroli.analysis.score import ScoreResult
    from patroli.model.classifier import ModelFileError, TextClassifier
    from patroli.model.combine import combine, model_weight_for
    from patroli.model.registry import load_default_classifier
    from patroli.model.train import DEFAULT_SEED, cross_validate

    rules = rules or default_ruleset()
    rows = [r for r in records if r.get("label") in LABELS]
    if not rows:
        raise ValueError("no record has a label (illegal/legitimate/awareness/other)")
    texts = [r["text"] for r in rows]
    gold = [r["label"] for r in rows]
    if cv:
        probs = cross_validate(texts, gold, cv, DEFAULT_SEED if seed is None else seed)
        how = f"cv {cv}"
        reference = float(np.percentile([len(t) for t in texts], 95))
    else:
        clf = TextClassifier.load(model_path) if model_path else load_default_classifier()
        if clf is None:
            raise ModelFileError("no model: give --model PATH or --cv K")
        probs = clf.predict_proba(texts)
        how = f"model {clf.version}"
        reference = clf.reference_length
    preds: dict[str, list[str]] = {s: [] for s in SYSTEMS}
    cmp = Comparison(n=len(rows), how=how)
    wrong: list[tuple[float, dict[str, Any]]] = []
    for rec, text, g, pm in zip(rows, texts, gold, probs):
        a = analyze(Post(key=str(rec.get("id") or content_key(text)), text=text,
                         platform=rec.get("platform")), rules=rules, verifier=verifier,
                    classifier=None)
        res = combine(ScoreResult(a.risk_score, a.level, a.label, dict(a.probabilities)), pm,
                      model_weight=model_weight_for(len(text), reference),
                      registry_status=a.verification.get("status"))
        model_label = max(LABELS, key=lambda k: pm[k])
        preds["rules"].append(a.label)
        preds["model"].append(model_label)
        preds["combined"].append(res.label)
        if res.label != g:
            wrong.append((res.probabilities[res.label] - res.probabilities[g], {
                "id": rec.get("id"), "gold": g, "combined": res.label, "rules": a.label,
                "model": model_label, "score": res.risk_score,
                "p_model": {k: round(v, 3) for k, v in pm.items()},
                "indicators": a.indicators, "text": text[:160]}))
    for s in SYSTEMS:
        cmp.systems[s] = _system_figures(gold, preds[s])
    wrong.sort(key=lambda t: -t[0])
    cmp.errors = [e for _, e in wrong[:keep_errors]]
    return cmp

"""Training: labeled texts in, a model version with its card out.

``load_labeled(paths, options)`` reads JSONL in the corpus schema (``text``, ``label``)
and CSV through ``patroli.sources.read_posts`` with its column mapping; labels are
normalised by ``normalize_label`` (the four ``LABELS``; binary fraud labels such as
EMSCAD's ``fraudulent``: ``1``/``true`` -> ``illegal``, ``0``/``false`` -> ``legitimate``).

``cross_validate(texts, labels, k, seed)``: stratified K-fold; each fold's model is
trained on the other folds only, so every prediction is on an unseen post.

``train(texts, labels, seed, cv)`` fits the final model on all data and records the
SHA-256 of the training data, the seed, the date and the cross-validated figures.
``install(result, out_dir, force)`` writes ``model.joblib`` + ``model.json`` +
``MODEL_CARD.md``; it refuses (``ModelNotBetterError``) to replace the active model when
the new cross-validated macro-F1 is lower than the active model's, unless forced.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from patroli.model.classifier import (
    CHAR_NGRAMS,
    TextClassifier,
    build_pipeline,
    probabilities_array,
)
from patroli.model.registry import (
    CARD_FILE,
    META_FILE,
    MODEL_FILE,
    active_model_dir,
    read_model_meta,
    set_active,
    user_model_dir,
)
from patroli.types import LABELS

__all__ = [
    "ModelNotBetterError",
    "TrainResult",
    "TrainingDataError",
    "cross_validate",
    "cv_folds",
    "data_sha256",
    "install",
    "load_labeled",
    "normalize_label",
    "train",
]

DEFAULT_SEED = 20261129
BINARY_LABELS = {"1": "illegal", "true": "illegal", "yes": "illegal", "t": "illegal",
                 "fraudulent": "illegal", "fraud": "illegal",
                 "0": "legitimate", "false": "legitimate", "no": "legitimate", "f": "legitimate"}


class TrainingDataError(ValueError):
    """The training data cannot train a model (too few posts or labels; message says why)."""


class ModelNotBetterError(RuntimeError):
    """The new model's cross-validated macro-F1 is below the active model's (use force)."""


def normalize_label(value: Any) -> str | None:
    """One of ``LABELS`` for a label value, or None when it is not a known label.

    Accepts the four labels (any case) and binary fraud labels: ``1``/``true``/``yes`` ->
    ``illegal``, ``0``/``false``/``no`` -> ``legitimate`` (EMSCAD ``fraudulent`` column).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lower()
    if text in LABELS:
        return text
    return BINARY_LABELS.get(text)


def load_labeled(paths: Iterable[str | Path], *, text_column: str | None = None,
                 label_column: str | None = None) -> tuple[list[str], list[str], int]:
    """(texts, labels, skipped) from labeled files (JSONL, CSV, any ``read_posts`` format).

    text_column: column(s) joined into the text (comma-separated, see ``SourceOptions``).
    label_column: the label field (default ``label``; EMSCAD files: ``fraudulent``).
    skipped counts records without a usable label (and malformed records).
    Raises ``patroli.sources.SourceError`` for an unreadable file.
    """
    from patroli.sources import RecordError, SourceOptions, read_posts

    texts: list[str] = []
    labels: list[str] = []
    skipped = 0

    def on_error(_err: RecordError) -> None:
        nonlocal skipped
        skipped += 1

    for path in paths:
        opts = SourceOptions(text_column=text_column, label_column=label_column)
        for post in read_posts(Path(path), opts, on_error):
            raw = post.raw if isinstance(post.raw, dict) else {}
            col = label_column or ("fraudulent" if "fraudulent" in raw and "label" not in raw
                                   else "label")
            lab = normalize_label(raw.get(col))
            if lab is None:
                skipped += 1
                continue
            texts.append(post.text)
            labels.append(lab)
    return texts, labels, skipped


def data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 (hex) of the training data in order: each ``label \\t text`` line, NUL-separated."""
    h = hashlib.sha256()
    for t, lab in zip(texts, labels):
        h.update(lab.encode("utf-8") + b"\t" + t.encode("utf-8") + b"\x00")
    return h.hexdigest()


def cv_folds(labels: Sequence[str], k: int, seed: int = DEFAULT_SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold (shuffled with ``seed``) as (train indices, test indices) pairs.

    Raises ``TrainingDataError`` when k < 2 or a label has fewer than k posts.
    """
    if k < 2:
        raise TrainingDataError(f"--cv needs at least 2 folds, got {k}")
    counts = Counter(labels)
    if len(counts) < 2:
        raise TrainingDataError("training needs at least two different labels")
    small = {lab: n for lab, n in counts.items() if n < k}
    if small:
        raise TrainingDataError(f"{k}-fold CV needs at least {k} posts per label; have {small}")
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    y = np.array(labels)
    return list(skf.split(np.zeros(len(y)), y))


def cross_validate(texts: Sequence[str], labels: Sequence[str], k: int = 5,
                   seed: int = DEFAULT_SEED) -> list[dict[str, float]]:
    """Out-of-fold label probabilities: entry i comes from a model that never saw post i."""
    out: list[dict[str, float] | None] = [None] * len(texts)
    for train_idx, test_idx in cv_folds(labels, k, seed):
        pipe = build_pipeline(seed).fit([texts[i] for i in train_idx],
                                        [labels[i] for i in train_idx])
        clf = TextClassifier(pipe, "cv")
        for i, p in zip(test_idx, clf.predict_proba([texts[i] for i in test_idx])):
            out[i] = p
    return [p for p in out if p is not None]


def figures(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Per-label precision/recall/F1/support, macro-F1 over present labels, accuracy."""
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    present = [lab for lab in LABELS if lab in set(gold)]
    return {
        "labels": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                         "f1": round(float(f[i]), 4), "support": int(s[i])}
                   for i, lab in enumerate(LABELS)},
        "macro_f1": round(float(f1_score(gold, pred, labels=present, average="macro",
                                         zero_division=0)), 4),
        "accuracy": round(sum(g == q for g, q in zip(gold, pred)) / max(len(gold), 1), 4),
    }


@dataclass
class TrainResult:
    """A trained model and its record: ``classifier`` (version and meta set), ``cv`` figures."""

    classifier: TextClassifier
    cv: dict[str, Any] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float | None:
        v = self.cv.get("macro_f1")
        return float(v) if v is not None else None


def train(texts: Sequence[str], labels: Sequence[str], *, seed: int = DEFAULT_SEED, cv: int = 5,
          sources: Sequence[str] = (), now: datetime | None = None) -> TrainResult:
    """Cross-validate (``cv`` folds; 0 = skip) then fit the final model on all data.

    Returns a ``TrainResult``; the version is ``"tfidf-lr-c<n-gram sizes>-YYYYMMDD-<hash8>"`` (date of
    training, first 8 hex of the data hash). Same data + seed -> same predictions.
    Raises ``TrainingDataError`` for fewer than 10 posts or one label only.
    """
    if len(texts) != len(labels):
        raise TrainingDataError("texts and labels differ in length")
    if len(texts) < 10:
        raise TrainingDataError(f"training needs at least 10 labeled posts, got {len(texts)}")
    if len(set(labels)) < 2:
        raise TrainingDataError("training needs at least two different labels")
    texts, labels = list(texts), list(labels)
    sha = data_sha256(texts, labels)
    cv_fig: dict[str, Any] = {}
    if cv:
        oof = cross_validate(texts, labels, cv, seed)
        pred = [LABELS[int(i)] for i in probabilities_array(oof).argmax(1)]
        cv_fig = figures(labels, pred) | {"folds": cv}
    pipe = build_pipeline(seed).fit(texts, labels)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    version = f"tfidf-lr-c{CHAR_NGRAMS[0]}{CHAR_NGRAMS[1]}-{when:%Y%m%d}-{sha[:8]}"
    meta = {"version": version, "created_at": when.isoformat(timespec="seconds"),
            "data_sha256": sha, "n_posts": len(texts), "label_counts": dict(Counter(labels)),
            "text_length_p95": round(float(np.percentile([len(t) for t in texts], 95)), 1),
            "seed": seed, "sources": list(sources), "cv": cv_fig,
            "pipeline": (f"fold(normalize) + FeatureUnion(char_wb {CHAR_NGRAMS[0]}-"
                         f"{CHAR_NGRAMS[1]} TF-IDF, word 1-2 TF-IDF)"
                         " + LogisticRegression(balanced)")}
    return TrainResult(TextClassifier(pipe, version, meta), cv_fig)


def model_card(meta: dict[str, Any]) -> str:
    """The model card (Markdown) of a trained model's metadata."""
    cv = meta.get("cv") or {}
    rows = "\n".join(
        f"| {lab} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for lab, v in (cv.get("labels") or {}).items())
    figs = (f"{cv.get('folds')}-fold stratified cross-validation on the training data "
            f"(each post predicted by a model that never saw it): macro-F1 "
            f"**{cv.get('macro_f1')}**, accuracy {cv.get('accuracy')}.\n\n"
            "| label | precision | recall | F1 | support |\n|---|---|---|---|---|\n" + rows
            if cv else "No cross-validation was run (trained with --cv 0).")
    sources = "\n".join(f"- `{s}`" for s in meta.get("sources") or []) or "- (not recorded)"
    return f"""# Model card: {meta.get('version')}

Kartu model / model card of a patroli text classifier (issue 4).

## Apa ini / What it is
Pengklasifikasi teks (illegal / legitimate / awareness / other) yang bekerja di samping
aturan; skor akhir menggabungkan keduanya (`patroli.model.combine`).
A text classifier beside the indicator rules: {meta.get('pipeline')}.
Probabilities for the four labels; the final score blends them with the rules' (see
`patroli/model/combine.py`).

## Data
- posts: {meta.get('n_posts')}; labels: {json.dumps(meta.get('label_counts'), sort_keys=True)}
- SHA-256 of the training data (`label TAB text NUL` per post, in order):
  `{meta.get('data_sha256')}`
- seed: {meta.get('seed')}; trained: {meta.get('created_at')}
- sources:
{sources}

## Figures
{figs}

## Limits / batasan
- Trained on constructed posts (the shared development corpus): real posts are messier,
  longer and often not ads at all; figures on real pages are lower (see the evaluation
  notes). Use it as a second opinion beside the rules, never alone.
- Learns wording, not facts: it cannot tell a licensed agency from a lookalike, nor a
  valid permit from an expired one (the registry check does that).
- Short texts with few words carry little signal; probabilities near 0.25 each mean
  "no opinion".
- Outputs are leads, not proof: an analyst decides.

## Reproduce
`patroli train <the files above> --cv {cv.get('folds') or 5} --seed {meta.get('seed')}`
gives the same data hash and the same predictions.
"""


def install(result: TrainResult, out_dir: str | Path | None = None, *,
            force: bool = False, activate: bool = True) -> Path:
    """Write the model folder and (by default) make it active; returns the folder.

    out_dir: target folder (default ``user_model_dir() / version``). When it is inside
    the user models folder and ``activate`` is True it becomes the active model.
    Refuses with ``ModelNotBetterError`` when the active model (or the model already in
    ``out_dir``) records a higher cross-validated macro-F1 than ``result``, unless
    ``force``. A model trained without CV is only installed with ``force``.
    """
    target = Path(out_dir) if out_dir else user_model_dir() / result.classifier.version
    new_f1 = result.macro_f1
    if not force:
        for existing in {active_model_dir(), target}:
            meta = read_model_meta(existing)
            old = ((meta or {}).get("cv") or {}).get("macro_f1")
            if old is None:
                continue
            if new_f1 is None:
                raise ModelNotBetterError(
                    f"the model in {existing} has CV macro-F1 {old}; this one was trained "
                    "without CV: rerun with --cv K or --force")
            if new_f1 < float(old):
                raise ModelNotBetterError(
                    f"cross-validated macro-F1 {new_f1:.4f} is worse than {float(old):.4f} of "
                    f"the model in {existing}; not replaced (use --force to replace it)")
    target.mkdir(parents=True, exist_ok=True)
    result.classifier.save(target / MODEL_FILE)
    meta = dict(result.classifier.meta)
    (target / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    (target / CARD_FILE).write_text(model_card(meta), encoding="utf-8")
    if activate and target.resolve().parent == user_model_dir().resolve():
        set_active(target)
    from patroli.model.registry import load_default_classifier

    load_default_classifier.cache_clear()
    return target

"""The text classifier: a scikit-learn pipeline and a fast single-post scorer.

Pipeline (``build_pipeline``), for short, noisy, mixed-language posts:

1. ``fold``: ``patroli.analysis.normalize`` (lower-case, NFKC, emoji dropped, leetspeak
   ``g4ji`` -> ``gaji`` folded), so obfuscation does not split the vocabulary;
2. ``features``: a ``FeatureUnion`` of two TF-IDF vectorisers (sublinear tf, l2 norm each):
   character 3-grams inside word boundaries (``char_grams``: each word padded with
   one space, like scikit-learn's ``char_wb``; 3–4-grams scored the same in 5-fold CV on
   the corpus at twice the cost, see the model README) and word 1–2-grams (``word_grams``);
   vocabularies are capped (``max_features``, ``min_df``) to keep the model small;
3. ``clf``: multinomial ``LogisticRegression`` (class-balanced, L2, lbfgs: deterministic),
   whose softmax outputs are the label probabilities (a calibrated linear model).

``TextClassifier`` wraps a fitted pipeline with its ``version`` and metadata. Its
``predict_proba`` does not call scikit-learn per post (scikit-learn's per-call overhead is
milliseconds): it compiles the fitted vocabularies, idf weights and coefficients into
arrays once and scores a text with a few NumPy operations (character n-grams are hashed
with a 64-bit polynomial hash and looked up in the sorted hashes of the vocabulary). The
result equals ``pipeline.predict_proba`` to float precision; a test checks it.

Serialisation: ``TextClassifier.save`` / ``load`` use joblib (a pickle: load only model
files you trust, e.g. the bundled one or ones you trained).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from patroli.analysis.normalize import normalize
from patroli.types import LABELS

__all__ = [
    "CHAR_NGRAMS",
    "ModelFileError",
    "TextClassifier",
    "build_pipeline",
    "char_grams",
    "fold_texts",
    "word_grams",
]

#: Character n-gram lengths (inclusive) of the ``char`` vectoriser.
CHAR_NGRAMS: tuple[int, int] = (3, 3)
#: Vocabulary caps and minimal document frequencies (model size stays well under 5 MB).
MAX_CHAR_FEATURES: int = 30000
MAX_WORD_FEATURES: int = 10000
MIN_DF: int = 2
#: Inverse regularisation strength of the logistic regression.
C: float = 10.0
#: Format tag stored in every model file; ``load`` refuses other formats.
FILE_FORMAT: str = "patroli-text-classifier/1"

_WORD_RE = re.compile(r"\w\w+")
_MASK64 = (1 << 64) - 1
#: Polynomial hash of character n-grams (mod 2**64): h = SEED + c0, h = h * P + c_k.
_HASH_P = 0x100000001B3
_HASH_SEED = 0x9E3779B97F4A7C15


class ModelFileError(ValueError):
    """A model file is missing, unreadable or not a patroli text classifier (message says which)."""


def fold_texts(texts: Iterable[str]) -> list[str]:
    """Fold each text with ``patroli.analysis.normalize`` (the pipeline's first step)."""
    return [normalize(t).text for t in texts]


def _padded(text: str) -> str:
    return " " + " ".join(text.split()) + " "


def char_grams(text: str) -> list[str]:
    """Character n-grams (lengths ``CHAR_NGRAMS``) of each word padded with one space.

    text: a folded text. Returns the n-grams in text order; an n-gram never spans two
    words (a space occurs only as its first or last character), words shorter than n
    yield no n-gram of that length. Example with (3, 3): ``"ab cd"`` -> ``[" ab", "ab ",
    " cd", "cd "]``.
    """
    s = _padded(text)
    lo, hi = CHAR_NGRAMS
    out: list[str] = []
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            g = s[i:i + n]
            if " " not in g[1:-1]:
                out.append(g)
    return out


def word_grams(text: str) -> list[str]:
    """Word unigrams and bigrams (tokens: runs of 2+ word characters) of a folded text."""
    toks = _WORD_RE.findall(text)
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]


def build_pipeline(seed: int = 0, *, c: float = C, max_char_features: int = MAX_CHAR_FEATURES,
                   max_word_features: int = MAX_WORD_FEATURES, min_df: int = MIN_DF) -> Pipeline:
    """An unfitted pipeline (see module docstring); ``fit(texts, labels)`` trains it.

    seed: ``random_state`` of the classifier (lbfgs is deterministic; kept for the record).
    texts are raw post texts (the pipeline folds them); labels are ``types.LABELS`` strings.
    """
    def tfidf(analyzer: Any, max_features: int) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyzer, lowercase=False, min_df=min_df,
                               max_features=max_features, sublinear_tf=True, dtype=np.float64)

    return Pipeline([
        ("fold", FunctionTransformer(fold_texts)),
        ("features", FeatureUnion([("char", tfidf(char_grams, max_char_features)),
                                   ("word", tfidf(word_grams, max_word_features))])),
        ("clf", LogisticRegression(C=c, class_weight="balanced", max_iter=5000,
                                   random_state=seed)),
    ])


def gram_hash(gram: str) -> int:
    """The 64-bit polynomial hash of one character n-gram (same as the vectorised one)."""
    h = (_HASH_SEED + ord(gram[0])) & _MASK64
    for ch in gram[1:]:
        h = (h * _HASH_P + ord(ch)) & _MASK64
    return h


def _text_gram_hashes(folded: str, sizes: tuple[int, int] = CHAR_NGRAMS) -> np.ndarray:
    """Hashes of every n-gram (lengths ``sizes``, default ``CHAR_NGRAMS``) of the padded text.

    N-grams that span two words are hashed too: they are never in the vocabulary (see
    ``char_grams``), so they find no column (a false hit needs a 64-bit hash collision).
    """
    s = _padded(folded)
    c = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    length = len(c)
    lo, hi = sizes
    parts = []
    h = c + np.uint64(_HASH_SEED)
    p = np.uint64(_HASH_P)
    for n in range(2, hi + 1):
        if length < n:
            break
        h = h[: length - n + 1] * p + c[n - 1:]
        if n >= lo:
            parts.append(h)
    if not parts:
        return np.empty(0, dtype=np.uint64)
    return np.concatenate(parts)


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, their counts) of a sorted non-empty 1-D array."""
    first = np.empty(sorted_values.size, dtype=bool)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(starts.size, dtype=np.float64)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = sorted_values.size - starts[-1]
    return sorted_values[starts], counts


class _HashTable:
    """Exact lookup of 64-bit n-gram hashes -> column, vectorised.

    Level 1: a table of ``2**bits`` slots (8x the vocabulary), slot = the top bits of the
    mixed hash,
    holding one key and its column. Keys that collide there go to level 2, a small sorted
    array searched with ``searchsorted``; only hashes that miss level 1 in a slot marked
    ``overflow`` are searched there. A probe compares the stored key, so a text n-gram
    outside the vocabulary never finds a column.
    """

    def __init__(self, hashes: np.ndarray, cols: np.ndarray) -> None:
        n = max(int(hashes.size), 1)
        self.shift = np.uint64(64 - (int(np.ceil(np.log2(n))) + 3))
        size = 1 << (64 - int(self.shift))
        slots = self._slots(hashes)
        order = np.argsort(slots, kind="stable")
        s_sorted = slots[order]
        first = np.ones(s_sorted.size, dtype=bool)
        first[1:] = s_sorted[1:] != s_sorted[:-1]
        lvl1, rest = order[first], order[~first]
        self.keys = np.zeros(size, dtype=np.uint64)
        self.cols = np.full(size, -1, dtype=np.intp)
        self.keys[slots[lvl1]] = hashes[lvl1]
        self.cols[slots[lvl1]] = cols[lvl1]
        self.overflow = np.zeros(size, dtype=bool)
        self.overflow[slots[rest]] = True
        o = np.argsort(hashes[rest])
        self.rest_keys = hashes[rest][o]
        self.rest_cols = cols[rest][o]

    def _slots(self, h: np.ndarray) -> np.ndarray:
        # the polynomial hash's top bits are poorly spread for short n-grams: mix first
        return (((h ^ (h >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)) >> self.shift).astype(np.intp)

    def lookup_all(self, h: np.ndarray) -> np.ndarray:
        """Column of each hash, -1 where it is not in the vocabulary (same shape as ``h``)."""
        s1 = self._slots(h)
        out = np.where(self.keys[s1] == h, self.cols[s1], -1)
        second = (out < 0) & self.overflow[s1]
        if second.any() and self.rest_keys.size:
            hm = h[second]
            pos = np.minimum(np.searchsorted(self.rest_keys, hm), self.rest_keys.size - 1)
            out[second] = np.where(self.rest_keys[pos] == hm, self.rest_cols[pos], -1)
        return out

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """Columns of the hashes that are in the vocabulary (others dropped)."""
        out = self.lookup_all(h)
        return out[out >= 0]


class _WordTable:
    """The word vocabulary (unigrams and bigrams of ``word_grams``) as integer arrays, so
    that the word features of many texts are found with one dict lookup per token.

    Every token that occurs in a vocabulary entry gets a token id; ``uni[tid]`` is the
    column of the unigram (-1 when only bigrams hold the token); bigram ``a b`` is the
    key ``tid(a) * n_tokens + tid(b)`` in the sorted ``bi_keys`` (column ``bi_cols``).
    """

    def __init__(self, vocab: dict[str, int]) -> None:
        ids: dict[str, int] = {}
        for gram in vocab:
            for tok in gram.split(" "):
                ids.setdefault(tok, len(ids))
        self.ids = ids
        self.n_tokens = max(len(ids), 1)
        self.uni = np.full(len(ids) + 1, -1, dtype=np.int64)  # last slot: unknown token
        keys: list[int] = []
        cols: list[int] = []
        for gram, col in vocab.items():
            parts = gram.split(" ")
            if len(parts) == 1:
                self.uni[ids[gram]] = col
            elif len(parts) == 2:
                keys.append(ids[parts[0]] * self.n_tokens + ids[parts[1]])
                cols.append(col)
        order = np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")
        self.bi_keys = np.asarray(keys, dtype=np.int64)[order]
        self.bi_cols = np.asarray(cols, dtype=np.int64)[order]

    def occurrences(self, folded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(document index, column) of every vocabulary word n-gram occurrence in the
        folded texts (repeats included, any order): the same features as ``word_grams``."""
        tokens: list[str] = []
        lengths: list[int] = []
        findall = _WORD_RE.findall
        for f in folded:
            toks = findall(f)
            tokens += toks
            lengths.append(len(toks))
        unknown = len(self.ids)
        tids = np.fromiter(map(self.ids.get, tokens, repeat(unknown)), dtype=np.int64,
                           count=len(tokens))
        docs = np.repeat(np.arange(len(folded), dtype=np.int64), lengths)
        uni = self.uni[tids]
        keep = uni >= 0
        doc_parts, col_parts = [docs[keep]], [uni[keep]]
        if tids.size > 1 and self.bi_keys.size:
            a, b = tids[:-1], tids[1:]
            pair = (a != unknown) & (b != unknown) & (docs[:-1] == docs[1:])
            key = a[pair] * self.n_tokens + b[pair]
            pos = np.minimum(np.searchsorted(self.bi_keys, key), self.bi_keys.size - 1)
            hit = self.bi_keys[pos] == key
            doc_parts.append(docs[:-1][pair][hit])
            col_parts.append(self.bi_cols[pos[hit]])
        return np.concatenate(doc_parts), np.concatenate(col_parts)


class _Block:
    """One compiled TF-IDF block: feature ids -> idf and per-label coefficients."""

    __slots__ = ("coef", "idf")

    def __init__(self, idf: np.ndarray, coef: np.ndarray) -> None:
        self.idf = idf
        self.coef = coef

    def score(self, cols: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per-label decision contribution of distinct feature ids ``cols`` seen
        ``counts`` times each (sublinear tf, idf, l2 norm, then the coefficients)."""
        if cols.size == 0:
            return np.zeros(self.coef.shape[1])
        v = (np.log(counts) + 1.0) * self.idf[cols]
        norm = math.sqrt(float(v @ v))
        return (v @ self.coef[cols]) / norm

    def score_many(self, docs: np.ndarray, cols: np.ndarray, n_docs: int) -> np.ndarray:
        """``score`` for many documents at once: ``docs[i]`` is the document of feature
        occurrence ``cols[i]`` (repeats counted). Returns an (n_docs, labels) array.

        A sparse document x feature matrix sums the repeats (no global sort), then one
        sparse-dense product gives every document's contribution."""
        if cols.size == 0:
            return np.zeros((n_docs, self.coef.shape[1]))
        m = csr_matrix((np.ones(cols.size), (docs, cols)),
                       shape=(n_docs, self.coef.shape[0]))  # duplicates summed: counts
        m.data = (np.log(m.data) + 1.0) * self.idf[m.indices]
        norm = np.sqrt(np.add.reduceat(np.append(m.data * m.data, 0.0),
                                       np.minimum(m.indptr[:-1], m.data.size)))
        norm[np.diff(m.indptr) == 0] = 0.0
        out = np.asarray(m @ self.coef)
        nz = norm > 0
        out[nz] /= norm[nz, None]
        return out


class TextClassifier:
    """A fitted text classifier with its version and metadata.

    pipeline: a fitted ``build_pipeline()`` pipeline whose classes are ``types.LABELS``
        (a subset is allowed; missing labels get probability 0).
    version: the model version string recorded in assessments (e.g.
        ``"tfidf-lr-c33-20261130-0c94a7ae"``).
    meta: training metadata (data SHA-256, seed, CV figures, created_at...).
    Raises ``ModelFileError`` when the pipeline does not have the expected steps.
    """

    def __init__(self, pipeline: Pipeline, version: str, meta: dict[str, Any] | None = None) -> None:
        self.pipeline = pipeline
        self.version = version
        self.meta: dict[str, Any] = dict(meta or {})
        self._compile()

    # -- compilation --------------------------------------------------------------------

    def _compile(self) -> None:
        try:
            union: FeatureUnion = self.pipeline.named_steps["features"]
            clf: LogisticRegression = self.pipeline.named_steps["clf"]
            vecs = dict(union.transformer_list)
            char_vec: TfidfVectorizer = vecs["char"]
            word_vec: TfidfVectorizer = vecs["word"]
            classes = [str(c) for c in clf.classes_]
        except (KeyError, AttributeError, TypeError) as exc:
            raise ModelFileError(f"not a patroli text-classifier pipeline ({exc})") from None
        if not set(classes) <= set(LABELS):
            raise ModelFileError(f"unknown labels in model: {sorted(set(classes) - set(LABELS))}")
        coef = np.asarray(clf.coef_, dtype=np.float64)
        intercept = np.asarray(clf.intercept_, dtype=np.float64)
        if len(classes) == 2:  # binary LR keeps one row: decision for classes[1]
            coef = np.vstack([-coef[0] / 2.0, coef[0] / 2.0])
            intercept = np.array([-intercept[0] / 2.0, intercept[0] / 2.0])
        self._classes = classes
        n_char = len(char_vec.vocabulary_)
        char_coef = coef[:, :n_char].T.copy()
        word_coef = coef[:, n_char:].T.copy()
        grams = sorted(char_vec.vocabulary_, key=char_vec.vocabulary_.__getitem__)
        # the n-gram sizes this model was trained with (a model file outlives a change
        # of CHAR_NGRAMS): inference hashes exactly those sizes
        lengths = [len(g) for g in grams] or list(CHAR_NGRAMS)
        self._char_sizes = (min(lengths), max(lengths))
        hashes = np.array([gram_hash(g) for g in grams], dtype=np.uint64)
        order = np.argsort(hashes, kind="stable")
        self._char_hashes = hashes[order]
        if np.any(self._char_hashes[1:] == self._char_hashes[:-1]):
            raise ModelFileError("character n-gram hash collision in the vocabulary")
        self._char_cols = order.astype(np.intp)
        self._table = _HashTable(hashes, np.arange(hashes.size, dtype=np.intp))
        self._char = _Block(np.asarray(char_vec.idf_, dtype=np.float64), char_coef)
        self._word_vocab: dict[str, int] = {str(k): int(v) for k, v in word_vec.vocabulary_.items()}
        self._words = _WordTable(self._word_vocab)
        self._word = _Block(np.asarray(word_vec.idf_, dtype=np.float64), word_coef)
        self._intercept = intercept

    # -- prediction ---------------------------------------------------------------------

    @property
    def reference_length(self) -> float | None:
        """95th percentile of the training texts' lengths (characters), or None."""
        v = self.meta.get("text_length_p95")
        return float(v) if v else None

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels this model outputs (always ``types.LABELS``, in that order)."""
        return LABELS

    def decision_folded(self, folded: str) -> np.ndarray:
        """Per-class decision values (order of the fitted classes) for a folded text."""
        out = self._intercept.copy()
        cols = self._table.lookup(_text_gram_hashes(folded, self._char_sizes))
        if cols.size:
            cols.sort()
            uniq, counts = _runs(cols)
            out += self._char.score(uniq, counts)
        get = self._word_vocab.get
        word_ids = [j for j in map(get, word_grams(folded)) if j is not None]
        if word_ids:
            wc = Counter(word_ids)
            out += self._word.score(np.fromiter(wc.keys(), dtype=np.intp, count=len(wc)),
                                    np.fromiter(wc.values(), dtype=np.float64, count=len(wc)))
        return out

    def predict_proba_folded(self, folded: str) -> dict[str, float]:
        """Label -> probability (sum 1, all four ``LABELS``) for an already folded text
        (``normalize(text).text``, as ``analyze`` computes it)."""
        d = self.decision_folded(folded).tolist()
        top = max(d)
        e = [math.exp(x - top) for x in d]
        total = sum(e)
        out = dict.fromkeys(LABELS, 0.0)
        for cls, v in zip(self._classes, e):
            out[cls] = v / total
        return out

    def decision_folded_many(self, folded: Sequence[str]) -> np.ndarray:
        """``decision_folded`` for many folded texts in one vectorised pass.

        The texts' padded forms are joined with NUL (an n-gram across two texts contains
        it and so is in no vocabulary); each n-gram's text is the one its first character
        belongs to. Returns an (n_texts, classes) array equal to stacking
        ``decision_folded``.
        """
        n = len(folded)
        out = np.tile(self._intercept, (n, 1))
        if n == 0:
            return out
        padded = [_padded(f) for f in folded]
        joined = "\x00".join(padded)
        c = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        # text index of every character of ``joined`` (a separator goes with the text before)
        doc_of = np.repeat(np.arange(n, dtype=np.int64), [len(p) + 1 for p in padded])
        length = len(c)
        lo, hi = self._char_sizes
        h = c + np.uint64(_HASH_SEED)
        p = np.uint64(_HASH_P)
        parts, docs = [], []
        for size in range(2, hi + 1):
            if length < size:
                break
            h = h[: length - size + 1] * p + c[size - 1:]
            if size >= lo:
                parts.append(h)
                docs.append(doc_of[: length - size + 1])
        if parts:
            cols = self._table.lookup_all(np.concatenate(parts) if len(parts) > 1 else parts[0])
            found = cols >= 0
            doc = np.concatenate(docs) if len(docs) > 1 else docs[0]
            out += self._char.score_many(doc[found], cols[found], n)
        wdocs, wcols = self._words.occurrences(folded)
        if wcols.size:
            out += self._word.score_many(wdocs, wcols, n)
        return out

    def predict_proba_folded_many(self, folded: Sequence[str]) -> list[dict[str, float]]:
        """``predict_proba_folded`` for many folded texts (one vectorised pass; used by
        ``analysis.analyze_batch``, where the per-call overhead of numpy would dominate)."""
        d = self.decision_folded_many(folded)
        if not len(d):
            return []
        e = np.exp(d - d.max(axis=1, keepdims=True))
        e /= e.sum(axis=1, keepdims=True)
        if self._classes == list(LABELS):  # the usual model: rows already in LABELS order
            return [dict(zip(LABELS, row)) for row in e.tolist()]
        out: list[dict[str, float]] = []
        for row in e.tolist():
            probs = dict.fromkeys(LABELS, 0.0)
            for cls, v in zip(self._classes, row):
                probs[cls] = v
            out.append(probs)
        return out

    def predict_proba(self, texts: Iterable[str]) -> list[dict[str, float]]:
        """Label probabilities of raw texts: one dict per text, label -> 0..1, sum 1.

        Cost per short post (~270 characters) is well under 150 µs on one core (folding
        included); see ``bench/model_throughput.py``.
        """
        return [self.predict_proba_folded(normalize(t).text) for t in texts]

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The most probable label of each text."""
        return [max(p, key=lambda k: p[k]) for p in self.predict_proba(texts)]

    # -- files --------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model (joblib, compressed) to ``path``; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format": FILE_FORMAT, "version": self.version, "meta": self.meta,
                     "pipeline": self.pipeline}, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Read a model written by ``save``. Raises ``ModelFileError`` (one line) when the
        file is missing, unreadable or of another format. Only load files you trust."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        try:
            obj = joblib.load(path)
        except Exception as exc:  # any unpickling failure means a bad file
            raise ModelFileError(f"{path}: not a readable model file ({type(exc).__name__})") from None
        if not isinstance(obj, dict) or obj.get("format") != FILE_FORMAT:
            raise ModelFileError(f"{path}: not a patroli text classifier ({FILE_FORMAT})")
        return cls(obj["pipeline"], str(obj["version"]), obj.get("meta") or {})


def probabilities_array(probs: Sequence[dict[str, float]]) -> np.ndarray:
    """Stack probability dicts into an (n, 4) array in ``LABELS`` order."""
    return np.array([[p.get(lab, 0.0) for lab in LABELS] for p in probs], dtype=np.float64)

"""Quality targets of the rules + scoring over the shared corpus, real news and the held-out
fixture (constructed posts written before tuning). Skips without the shared data.

The rules are tested alone (``classifier=None``): the bundled model was trained on the
corpus, so combined figures on it would not be held out (see ``patroli evaluate --cv``
and tests/test_model.py for the combined system)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from patroli.analysis import analyze
from patroli.types import Post

from conftest import shared_path

HELDOUT = Path(__file__).parent / "fixtures" / "heldout_posts.jsonl"


def _predict(rows: list[dict]) -> list[tuple[dict, object]]:
    return [(r, analyze(Post(key=r["id"], text=r["text"]), classifier=None)) for r in rows]


def _pr(pairs: list) -> tuple[float, float]:
    tp = sum(1 for r, a in pairs if r["label"] == "illegal" and a.label == "illegal")
    fp = sum(1 for r, a in pairs if r["label"] != "illegal" and a.label == "illegal")
    fn = sum(1 for r, a in pairs if r["label"] == "illegal" and a.label != "illegal")
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_corpus_illegal_vs_rest(corpus_rows: list[dict]) -> None:
    pairs = _predict(corpus_rows)
    precision, recall = _pr(pairs)
    assert recall >= 0.90 and precision >= 0.85, (precision, recall)
    aware = [a for r, a in pairs if r["label"] == "awareness"]
    assert sum(a.label == "illegal" for a in aware) <= 0.05 * len(aware)


def test_corpus_per_flag_f1(corpus_rows: list[dict]) -> None:
    counts: dict[str, Counter] = {}
    for r, a in _predict(corpus_rows):
        gold, pred = set(r["flags"]), set(a.indicators)
        for f in gold | pred:
            c = counts.setdefault(f, Counter())
            c["tp" if f in gold and f in pred else "fp" if f in pred else "fn"] += 1
    gold_flags = {f for r in corpus_rows for f in r["flags"]}
    f1 = {f: 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"])
          for f, c in counts.items() if f in gold_flags}
    good = [f for f, v in f1.items() if v >= 0.7]
    assert len(good) >= 0.8 * len(gold_flags), f1


def test_real_news_is_not_illegal_nor_high() -> None:
    d = shared_path("data", "real", "news")
    files = sorted(d.glob("*.txt"))
    assert files
    for p in files:
        a = analyze(Post(key=p.name, text=p.read_text(encoding="utf-8")))  # full system
        assert a.label in ("awareness", "other"), (p.name, a.label, a.indicators)
        assert a.level != "high", (p.name, a.risk_score)


def test_heldout_constructed_posts() -> None:
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 30 and {r["label"] for r in rows} == {"illegal", "legitimate",
                                                               "awareness", "other"}
    pairs = _predict(rows)
    precision, recall = _pr(pairs)
    assert recall >= 0.8 and precision >= 0.8, (precision, recall)
    aware = [a for r, a in pairs if r["label"] == "awareness"]
    assert sum(a.label == "illegal" for a in aware) <= 1

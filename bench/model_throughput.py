"""Analysis throughput with the model (issue 4): analyze() + classifier + combine.

Prints, on one core, over the corpus repeated to N posts (default 20,000):
- posts/s of ``analyze()`` alone (rules), and of ``analyze()`` + the active model's
  ``predict_proba_folded`` (on the folded text analyze also computes) + ``combine``;
- the classifier's own cost per post in µs: on a folded text (the analysis path) and on
  a raw text (``predict_proba``, folding included).

Target: >= 2,000 posts/s with the model; classifier < 150 µs per post.
Posts come from ``$PATROLI_SHARED/data/corpus/posts.jsonl`` (default ../shared), else the
bundled demo posts. Usage: ``python bench/model_throughput.py [--posts N]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from patroli.analysis import analyze
from patroli.analysis.normalize import normalize
from patroli.analysis.score import ScoreResult
from patroli.model.combine import combine, model_weight_for
from patroli.model.registry import load_default_classifier
from patroli.types import Post

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PATROLI_SHARED", REPO.parent / "shared"))


def base_texts() -> tuple[list[str], str]:
    corpus = SHARED / "data" / "corpus" / "posts.jsonl"
    src = corpus if corpus.exists() else REPO / "src" / "patroli" / "data" / "demo" / "posts.jsonl"
    with src.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()], str(src)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    args = ap.parse_args()
    base, src = base_texts()
    texts = [base[i % len(base)] for i in range(args.posts)]
    posts = [Post(key=f"b{i}", text=t) for i, t in enumerate(texts)]
    clf = load_default_classifier()
    if clf is None:
        raise SystemExit("no model: run `patroli train` first")
    for p in posts[:200]:  # warm-up (rules loaded, caches filled)
        analyze(p)
    t0 = time.perf_counter()
    for p in posts:
        analyze(p)
    rules_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in posts:
        a = analyze(p)
        pm = clf.predict_proba_folded(normalize(p.text).text)
        combine(ScoreResult(a.risk_score, a.level, a.label, a.probabilities), pm,
                model_weight=model_weight_for(len(p.text), clf.reference_length))
    with_model_s = time.perf_counter() - t0
    folded = [normalize(t).text for t in base]
    t0 = time.perf_counter()
    for f in folded:
        clf.predict_proba_folded(f)
    per_folded = (time.perf_counter() - t0) / len(folded) * 1e6
    t0 = time.perf_counter()
    clf.predict_proba(base)
    per_raw = (time.perf_counter() - t0) / len(base) * 1e6
    n = len(posts)
    print(f"posts: {n} from {src}; model {clf.version}")
    print(f"analyze() alone:            {n / rules_s:8.0f} posts/s")
    print(f"analyze() + model + combine: {n / with_model_s:8.0f} posts/s "
          "(this path folds the text again; analyze() wiring can reuse its fold)")
    print(f"classifier per post: {per_folded:.0f} µs on folded text, {per_raw:.0f} µs on raw text")


if __name__ == "__main__":
    main()

"""Analysis throughput and scan memory (issue: patroli scan).

Prints:
- analysis throughput in posts/s on one core over the corpus repeated to N posts
  (default 100,000), one process, no store: the rules alone (``analyze``), and the full
  analysis as ``scan`` runs it (``analyze_batch``: rules, registry check, model); the
  posts run in R rounds (default 5), both ways alternating, and the median round counts
  (timings on a shared virtual machine swing by 20-30% from one minute to the next);
- peak RSS (MB) of a full ``patroli scan`` of a 10,000- and a 100,000-post JSONL file
  into a fresh SQLite database, each in its own process, and their ratio (flat = ~1.0).

Targets: >= 2,000 posts/s; peak RSS < 400 MB and flat in input size.
Posts come from ``$PATROLI_SHARED/data/corpus/posts.jsonl`` (default ../shared), else
the bundled demo posts; ``--unseen`` analyses N distinct texts recombined from them instead
(sentences of different posts, digits redrawn: no per-token cache stays warm). Usage:
``python bench/throughput.py [--posts N] [--rounds R] [--skip-memory] [--unseen]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PATROLI_SHARED", REPO.parent / "shared"))


def base_texts() -> tuple[list[dict], str]:
    corpus = SHARED / "data" / "corpus" / "posts.jsonl"
    src = corpus if corpus.exists() else REPO / "src" / "patroli" / "data" / "demo" / "posts.jsonl"
    with src.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [{"text": r["text"], "platform": r.get("platform")} for r in rows], str(src)


def unseen_texts(rows: list[dict], n: int, seed: int = 7) -> list[dict]:
    """``n`` distinct texts the process has never seen: 2-6 sentences of different posts
    recombined, every digit redrawn (new phones and amounts), a third of the sentences'
    words shuffled. Per-token caches then start cold and keep meeting new tokens."""
    import random
    import re

    rnd = random.Random(seed)
    sents = [s for r in rows for s in re.split(r"(?<=[.!?\n])\s+", r["text"]) if s.strip()]
    out = []
    for _ in range(n):
        parts = []
        for s in rnd.sample(sents, rnd.randint(2, 6)):
            s = re.sub(r"\d", lambda _m: str(rnd.randint(0, 9)), s)
            if rnd.random() < 0.3:
                words = s.split()
                rnd.shuffle(words)
                s = " ".join(words)
            parts.append(s)
        out.append({"text": " ".join(parts), "platform": None})
    return out


def write_jsonl(path: Path, rows: list[dict], n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            r = rows[i % len(rows)]
            fh.write(json.dumps({"id": f"B{i:07d}", "platform": r["platform"],
                                 "text": r["text"]}, ensure_ascii=False) + "\n")


def throughput(rows: list[dict], n: int, rounds: int = 5) -> dict[str, list[float]]:
    """Posts/s of the analysis on one core, two ways, over the same ``n`` posts.

    rules: ``analyze(post, classifier=None)``, rules and scoring alone, one post a call;
    full: ``analyze_batch`` in batches of 500 as ``scan`` runs it: rules, the registry
    check (bundled demo registry) and the model combined with them, after
    ``scan.prepare_analysis`` (which loads them and settles the heap, as ``scan`` does).
    The posts are split into ``rounds`` rounds; each round runs both ways, alternating,
    so that a slow spell of a shared machine hits both alike. Returns the per-round rates.
    """
    from patroli.analysis import analyze, analyze_batch
    from patroli.scan import prepare_analysis
    from patroli.types import Post

    # loaded as ``scan`` loads them (bundled rules, demo registry, active model), the
    # heap settled as ``scan`` settles it (``prepare_analysis``)
    rules, verifier, clf = prepare_analysis(None)
    posts = [Post(key=f"B{i}", text=rows[i % len(rows)]["text"]) for i in range(n)]
    analyze_batch(posts[:10], rules=rules, verifier=verifier, classifier=clf)  # warm caches
    out: dict[str, list[float]] = {"rules": [], "full": []}
    size = max(1, n // rounds)
    for r in range(rounds):
        part = posts[r * size:(r + 1) * size]
        t0 = time.perf_counter()
        for p in part:
            analyze(p, rules=rules, classifier=None)
        out["rules"].append(len(part) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for i in range(0, len(part), 500):
            analyze_batch(part[i:i + 500], rules=rules, verifier=verifier, classifier=clf)
        out["full"].append(len(part) / (time.perf_counter() - t0))
    return out


def _summary(rates: list[float]) -> str:
    return (f"median {statistics.median(rates):,.0f} posts/s (rounds: "
            + ", ".join(f"{r:,.0f}" for r in rates) + ")")


SCAN_ONCE = """
import resource, sys, time
from patroli.scan import scan
from patroli.store import Store
store = Store(sys.argv[2])
t0 = time.perf_counter()
s = scan([sys.argv[1]], store=store)
dt = time.perf_counter() - t0
store.close()
print(s.posts_read, s.posts_new, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def scan_memory(rows: list[dict], n: int, tmp: Path) -> tuple[int, float, float]:
    src = tmp / f"posts_{n}.jsonl"
    write_jsonl(src, rows, n)
    db = tmp / f"scan_{n}.db"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", SCAN_ONCE, str(src), f"sqlite:///{db}"],
                         capture_output=True, text=True, check=True, env=env).stdout.split()
    read, _new, secs, rss = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    return read, secs, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--unseen", action="store_true",
                    help="analyse N distinct texts recombined from the posts (never repeated)")
    args = ap.parse_args()
    rows, src = base_texts()
    if args.unseen:
        rows = unseen_texts(rows, args.posts)
        src += f", recombined into {len(rows):,} unseen texts"
    print(f"posts from {src} ({len(rows):,} distinct texts); {args.posts:,} posts in "
          f"{args.rounds} rounds, one core")
    rates = throughput(rows, args.posts, args.rounds)
    print(f"analysis throughput, rules alone:              {_summary(rates['rules'])} "
          "(target >= 2,000)")
    print(f"analysis throughput, rules + registry + model: {_summary(rates['full'])}, "
          "batches of 500 as in scan (target >= 2,000)")
    if args.skip_memory:
        return
    with tempfile.TemporaryDirectory() as d:
        figures = {}
        for n in (10_000, 100_000):
            read, secs, rss = scan_memory(rows, n, Path(d))
            figures[n] = rss
            print(f"scan {n:>7,} posts into SQLite: {read:,} read in {secs:.1f} s "
                  f"({read / secs:,.0f} posts/s), peak RSS {rss:.0f} MB (target < 400)")
        print(f"peak RSS ratio 100k/10k: {figures[100_000] / figures[10_000]:.2f} (flat = ~1.0)")


if __name__ == "__main__":
    main()

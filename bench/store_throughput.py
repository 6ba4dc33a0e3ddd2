"""Throughput benchmark of ``Store.save_batch`` (outside the test run).

    python bench/store_throughput.py --posts 100000 --batch 500 [--url sqlite:///bench.db]

Writes synthetic posts (about 300 characters of text, a raw record, 3 entities and 2
findings each) in batches, then reruns the first batches to time an idempotent rerun.
Prints posts/s and the process's peak resident memory growth. Default database: a
temporary SQLite file, deleted afterwards.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from patroli.store import Store
from patroli.types import Assessment, Entity, Finding, Post


def synthetic_item(i: int, source: str = "bench.jsonl") -> tuple[Post, Assessment]:
    """One synthetic (post, assessment) pair with 3 entities; deterministic in ``i``."""
    phone = f"+62812{i % 5000:08d}"
    text = (
        f"LOKER TAIWAN #{i} gaji 25jt/bulan, tanpa pengalaman, PP ditanggung. "
        f"Hubungi wa {phone} atau t.me/agen{i % 300} sekarang juga! "
        "Syarat mudah: KTP, KK, paspor menyusul. Berangkat cepat, potong gaji 6 bulan. "
        "Info lengkap di https://s.id/loker" + str(i % 1000)
    )
    post = Post(
        key=f"B{i:07d}",
        text=text,
        source=source,
        platform="facebook",
        url=f"https://facebook.com/groups/loker/posts/{i}",
        author=f"user{i % 2000}",
        posted_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        language="id",
        raw={"id": f"B{i:07d}", "text": text, "likes": i % 97},
        location=f"{source}:{i + 1}",
    )
    risk = (i * 37) % 101
    assessment = Assessment(
        post_key=post.key,
        risk_score=risk,
        level="high" if risk >= 70 else "medium" if risk >= 40 else "low",
        label="illegal" if risk >= 50 else "other",
        probabilities={"illegal": 0.7, "legitimate": 0.1, "awareness": 0.1, "other": 0.1},
        findings=[
            Finding("high_salary_claim", 10.0, [(14, 25)], "Gaji tidak wajar", "Unrealistic pay"),
            Finding("salary_deduction", 15.0, [(180, 200)], "Potong gaji", "Salary deduction"),
        ],
        entities=[
            Entity("phone", phone, (80, 95), {"region": "ID"}),
            Entity("telegram", f"@agen{i % 300}", (101, 110)),
            Entity("url", f"https://s.id/loker{i % 1000}", (250, 270)),
        ],
        rule_set_version="bench-1",
        analyzed_at=datetime.now(UTC),
    )
    return post, assessment


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process(os.getpid()).memory_info().rss / 1e6
    except ImportError:  # pragma: no cover
        return float("nan")


def run(url: str, n_posts: int, batch: int) -> dict[str, float]:
    """Write ``n_posts`` synthetic posts in batches; returns timing and memory figures."""
    store = Store(url)
    run_id = store.start_run("bench.jsonl", {"posts": n_posts, "batch": batch})
    rss0 = _rss_mb()
    t_build = 0.0
    t_save = 0.0
    rss_mid = rss0
    for start in range(0, n_posts, batch):
        t0 = time.perf_counter()
        items = [synthetic_item(i) for i in range(start, min(start + batch, n_posts))]
        t1 = time.perf_counter()
        store.save_batch(run_id, items)
        t2 = time.perf_counter()
        t_build += t1 - t0
        t_save += t2 - t1
        if start // batch == 10:
            gc.collect()
            rss_mid = _rss_mb()
    gc.collect()
    rss_end = _rss_mb()
    # idempotent rerun of the first 10 batches
    n_rerun = min(n_posts, 10 * batch)
    t0 = time.perf_counter()
    for start in range(0, n_rerun, batch):
        store.save_batch(run_id, [synthetic_item(i) for i in range(start, start + batch)])
    t_rerun = time.perf_counter() - t0
    store.finish_run(run_id, status="completed", counts={"posts_read": n_posts})
    counts = store.table_counts()
    store.close()
    return {
        "posts": float(counts["posts"]),
        "entities": float(counts["entities"]),
        "save_seconds": t_save,
        "posts_per_second": n_posts / t_save if t_save else float("inf"),
        "build_seconds": t_build,
        "rerun_posts_per_second": n_rerun / t_rerun if t_rerun else float("inf"),
        "rss_start_mb": rss0,
        "rss_after_10_batches_mb": rss_mid,
        "rss_end_mb": rss_end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()
    if args.url:
        figures = run(args.url, args.posts, args.batch)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(os.path.join(tmp, "bench.db"), args.posts, args.batch)
    for k, v in figures.items():
        print(f"{k:28s} {v:12.1f}")


if __name__ == "__main__":
    main()

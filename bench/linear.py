"""Linear time on long posts: analyse one post of ~100 KB, ~1 MB and ~2 MB.

Prints the seconds of each and the time per MB; linear = the per-MB figures stay close
(ratio 1 MB / 100 KB of about 10x in time). Usage: ``python bench/linear.py``.
The long posts mix ad wording, contacts, amounts and noise so every rule and extractor
has work to do.
"""

from __future__ import annotations

import time

from patroli.analysis import analyze, default_ruleset
from patroli.types import Post

CHUNK = ("Dibutuhkan admin online Kamboja gaji 15jt/bln tanpa pengalaman, tiket gratis. "
         "WA 0812 0000 3185 atau t.me/loker_kerja, DP Rp 2.500.000 ke rek 1234567890 a/n Budi. "
         "Polisi mengimbau waspada. https://bit.ly/abc123 PT Maju Jaya (KEP-260/P3MI/2024) "
         "SIP-2026/JP/0583 😀😀 ＡＢＣ l0ker g4ji 1.2.3.4.5.6.7.8.9 aaaaaaaaaaaaaaaaaaaa\n")


def timed(size: int) -> float:
    text = (CHUNK * (size // len(CHUNK) + 1))[:size]
    rules = default_ruleset()
    t0 = time.perf_counter()
    analyze(Post(key=f"long-{size}", text=text), rules=rules)
    return time.perf_counter() - t0


def main() -> None:
    timed(10_000)  # warm caches
    results = {}
    for size in (100_000, 1_000_000, 2_000_000):
        results[size] = timed(size)
        print(f"{size / 1e6:.1f} MB post: {results[size]:.2f} s "
              f"({results[size] / (size / 1e6):.2f} s per MB)")
    print(f"time ratio 1 MB / 100 KB: {results[1_000_000] / results[100_000]:.1f} (linear = ~10)")


if __name__ == "__main__":
    main()

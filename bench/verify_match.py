"""Benchmark: agency-name matching throughput (issue 3: >= 5,000 mentions/s).

Generates a synthetic registry of N agencies (three to five words from an Indonesian
company-name vocabulary, unique names) and M mentions: a third exact (with legal-form,
case and trailing-city variants), a third lookalikes (one word dropped or added, one
letter changed or two swapped) and a third unknown names; then times
``AgencyIndex.match_names`` (batched) over all mentions and ``match_name`` (one at a
time, as the Verifier calls it per post) over the first 2,000, and prints mentions/s and
the share of each outcome per kind. Seeded, so figures are reproducible.

    .venv/bin/python bench/verify_match.py [--agencies 5000] [--mentions 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from patroli.verify.matching import AgencyIndex, normalize_agency_name
from patroli.verify.model import Agency

_WORDS_TEXT = ("Abadi Adi Agung Alam Amanah Andalan Anugerah Arta Asia Bahari Bakti Bangun Bersama "
         "Bina Buana Bumi Cahaya Cemerlang Cipta Citra Dharma Duta Dwi Eka Fajar Gemilang "
         "Global Graha Harapan Indah Insan Intan Jasa Jaya Kahuripan Karya Kencana Kirana "
         "Lestari Lintas Mahkota Makmur Mandiri Mega Mitra Mulia Mutiara Nusa Nusantara "
         "Pelangi Perkasa Permata Persada Pertiwi Prima Putra Rahayu Raya Rezeki Samudra "
         "Sakti Sarana Sejahtera Sentosa Sinar Surya Talenta Tenaga Timur Tirta Tunas Utama "
         "Wahana Wira Yasa Bahtera Borneo Andalas Arunika Delta Harmoni Kartika Lentera "
         "Mentari Nirwana Pusaka Sahabat Satria Teknika Wijaya Zamrud")
WORDS = _WORDS_TEXT.split()
_FAKE_TEXT = ("Zebra Kobalt Quasar Vortex Orbit Neon Pixel Kinetik Sonar Titan Nebula Radian "
        "Falcon Garuda Rajawali Merpati Kenari Cendrawasih Elang Kutilang")
FAKE = _FAKE_TEXT.split()
CITIES = ["Jakarta Timur", "Surabaya", "Malang", "Semarang", "Bandung", "Medan", "Batam"]


def make_registry(n: int, rng: random.Random) -> list[Agency]:
    names: set[str] = set()
    out: list[Agency] = []
    while len(out) < n:
        words = rng.sample(WORDS, rng.randint(3, 5))
        key = " ".join(words)
        if key in names:
            continue
        names.add(key)
        out.append(Agency(f"A{len(out):05d}", "PT " + key, f"KEP-{len(out):03d}/P3MI/2024",
                          city=rng.choice(CITIES)))
    return out


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeiou") + word[i + 1:]


def make_mentions(agencies: list[Agency], m: int, rng: random.Random
                  ) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k in range(m):
        a = rng.choice(agencies)
        words = a.name.split()[1:]
        kind = ("exact", "lookalike", "unknown")[k % 3]
        if kind == "exact":
            form = rng.choice(["PT {}", "PT. {}", "P.T. {}", "{}"])
            name = form.format(" ".join(words))
            name = name.upper() if rng.random() < 0.2 else name
            if rng.random() < 0.3 and a.city:
                name += " " + a.city
        elif kind == "lookalike":
            w = list(words)
            r = rng.random()
            if r < 0.33 and len(w) >= 3:
                del w[rng.randrange(1, len(w))]
            elif r < 0.66:
                w.insert(rng.randrange(1, len(w) + 1), rng.choice(["Indonesia", "Group", "Jaya"]))
            else:
                j = rng.randrange(len(w))
                w[j] = _typo(w[j], rng)
            name = "PT " + " ".join(w)
        else:
            name = "PT " + " ".join(rng.sample(FAKE, rng.randint(2, 4)))
        out.append((kind, name))
    return out


def corpus_overhead(path: str, registry: str | None, permits: str | None, rounds: int) -> None:
    """Print analyze() posts/s without and with a Verifier, and the verifier's µs/post."""
    import json

    from patroli.analysis import analyze, default_ruleset
    from patroli.analysis.entities import extract_entities
    from patroli.analysis.normalize import normalize
    from patroli.types import Post
    from patroli.verify.verifier import build_verifier

    with open(path, encoding="utf-8") as fh:
        posts = [Post(key=str(r.get("id", i)), text=r["text"])
                 for i, r in enumerate(json.loads(line) for line in fh if line.strip())]
    rules = default_ruleset()
    verifier = build_verifier(agencies=registry, permits=permits)
    assert verifier is not None
    prepared = [(p, normalize(p.text)) for p in posts]
    prepared = [(p, n, extract_entities(p.text, n)) for p, n in prepared]
    for p in posts[:5]:
        analyze(p, rules=rules, verifier=verifier)
    timings = {}
    for name, ver in (("without verifier", None), ("with verifier", verifier)):
        t0 = time.perf_counter()
        for _ in range(rounds):
            for p in posts:
                analyze(p, rules=rules, verifier=ver)
        timings[name] = (time.perf_counter() - t0) / (rounds * len(posts))
        print(f"analyze() {name}: {1 / timings[name]:,.0f} posts/s")
    t0 = time.perf_counter()
    for _ in range(rounds):
        for p, n, ents in prepared:
            verifier.verify(p, n, ents)
    alone = (time.perf_counter() - t0) / (rounds * len(posts))
    print(f"Verifier.verify alone: {alone * 1e6:.1f} µs/post (budget ~50 µs); analyze() "
          f"difference {(timings['with verifier'] - timings['without verifier']) * 1e6:.1f} µs/post")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agencies", type=int, default=5000)
    ap.add_argument("--mentions", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--corpus", help="JSONL posts: also time analyze() with and without a "
                    "Verifier (bundled demo registry, or --registry/--permits) per post")
    ap.add_argument("--registry", help="agencies CSV/XLSX for --corpus")
    ap.add_argument("--permits", help="permits CSV/XLSX for --corpus")
    ap.add_argument("--rounds", type=int, default=20, help="passes over --corpus")
    args = ap.parse_args()
    if args.corpus:
        corpus_overhead(args.corpus, args.registry, args.permits, args.rounds)
    rng = random.Random(args.seed)
    agencies = make_registry(args.agencies, rng)
    mentions = make_mentions(agencies, args.mentions, rng)
    t0 = time.perf_counter()
    index = AgencyIndex(agencies)
    build = time.perf_counter() - t0
    normalize_agency_name.cache_clear()
    outcome: dict[str, Counter] = {"exact": Counter(), "lookalike": Counter(), "unknown": Counter()}
    t0 = time.perf_counter()
    results = index.match_names([name for _, name in mentions])
    elapsed = time.perf_counter() - t0
    for (kind, _), res in zip(mentions, results):
        outcome[kind][res.kind] += 1
    normalize_agency_name.cache_clear()
    t0 = time.perf_counter()
    singles = [index.match_name(name) for _, name in mentions[:2000]]
    single_rate = len(singles) / (time.perf_counter() - t0)
    assert [r.kind for r in singles] == [r.kind for r in results[:2000]]
    print(f"registry: {len(agencies):,} agencies (index built in {build * 1000:.0f} ms)")
    print(f"mentions: {len(mentions):,} matched in {elapsed:.2f} s = "
          f"{len(mentions) / elapsed:,.0f} mentions/s (target >= 5,000)")
    print(f"one at a time (match_name, first 2,000): {single_rate:,.0f} mentions/s")
    for kind, c in outcome.items():
        total = sum(c.values()) or 1
        print(f"  {kind:9s}: " + ", ".join(f"{k} {v / total:.1%}" for k, v in c.most_common()))


if __name__ == "__main__":
    main()

"""Match agency names, licence numbers and contacts found in posts against the registry.

Pure and in memory: ``AgencyIndex(agencies)`` builds the lookup tables once; ``match_name``
answers per mention.

Name normalisation (``normalize_agency_name``): Unicode NFKC, case folding, legal forms
folded away ("PT", "PT.", "P.T.", "P T", "Perseroan Terbatas", "CV", "C.V.", a trailing
"Tbk" / "(Persero)"), every non-alphanumeric character read as a space, whitespace
collapsed. So "PT. BUMI SERASI KARYA" and "PT Bumi Serasi Karya" are the same name.

Decision for one mention (``match_name``):

1. **exact**: the normalised name equals a registered name or alias; or it does after
   removing a trailing city (1–3 words) that is the agency's registered city or a known
   Indonesian city/regency (``data/lexicons/id_cities.txt``).
2. **lookalike** (close but not equal; a strong red flag):
   * one word missing or extra, the rest identical and in order, both names sharing
     their first word and at least two words (the distinctive brand word stays, a
     word is dropped or added: "Cahaya Mandiri Sejahtera" for "Cahaya Mandiri
     Sejahtera Abadi", "Wahana Karya Sakura Indonesia" for "Wahana Karya Sakura");
   * or a character-level similarity ``rapidfuzz.fuzz.ratio >= LOOKALIKE_MIN``
     (swapped/changed letters, "Samudera" for "Samudra", "Nusantara" for "Nusa",
     "Talents" for "Talent"), scored with ``rapidfuzz.process.extractOne`` (``cdist``
     in ``match_names``) against the registered names whose length can reach that
     score (names sorted by length).
3. **none**: nothing close.

Licence numbers (SIP3MI, "KEP-NNN/P3MI/YYYY") and permit numbers are compared exactly
after upper-casing and removing spaces (``normalize_number``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from patroli.verify.model import Agency

__all__ = [
    "LOOKALIKE_MIN",
    "AgencyIndex",
    "NameMatch",
    "host_of",
    "indonesian_cities",
    "normalize_agency_name",
    "normalize_number",
]

#: Minimal ``fuzz.ratio`` (0–100) for a character-level lookalike.
LOOKALIKE_MIN: float = 85.0

_LEXICON = Path(__file__).resolve().parent.parent / "data" / "lexicons" / "id_cities.txt"
_LEGAL_PREFIX = re.compile(
    r"^\s*(?:perseroan\s+terbatas|p\s*\.?\s*t\s*\.?(?=\s|$)|c\s*\.?\s*v\s*\.?(?=\s|$))\s*")
_LEGAL_SUFFIX = re.compile(r"[\s,]*(?:\(\s*persero\s*\)|persero|tbk\.?)\s*$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DASHES = re.compile(r"[\u2010-\u2015]")


@lru_cache(maxsize=1)
def indonesian_cities() -> frozenset[str]:
    """Normalised Indonesian city/regency names of the bundled lexicon (read once)."""
    out: set[str] = set()
    for line in _LEXICON.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.add(_fold(line))
    return frozenset(out)


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_ALNUM.split(t)).strip()


@lru_cache(maxsize=65536)
def normalize_agency_name(name: str) -> str:
    """Comparable form of a company name: legal form removed, lower-case, punctuation
    as spaces, whitespace collapsed. ``"P.T. Lintas-Samudra  Karya"`` ->
    ``"lintas samudra karya"``; accents folded (``"Karyé"`` -> ``"karye"``). Returns ""
    for a name with no letters or digits. The one comparison key of company names: the
    registry stores it (``registry_agencies.name_normalized``) and matching uses it."""
    t = unicodedata.normalize("NFKD", name)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = unicodedata.normalize("NFKC", t).casefold().strip()
    t = _LEGAL_PREFIX.sub("", t, count=1)
    t = _LEGAL_SUFFIX.sub("", t)
    return " ".join(_NON_ALNUM.split(t)).strip()


def normalize_number(number: str) -> str:
    """Licence/permit number for exact comparison: NFKC, upper-case, no whitespace, any
    dash variant as "-". ``"kep - 214 / p3mi / 2022"`` -> ``"KEP-214/P3MI/2022"``."""
    t = _DASHES.sub("-", unicodedata.normalize("NFKC", number).upper())
    return "".join(t.split())  # str.split() splits on exactly what \s matches


def host_of(url_or_host: str) -> str:
    """Lower-case host without "www." of a URL, bare host or e-mail address."""
    v = url_or_host.strip().lower()
    if "@" in v and "://" not in v:
        v = v.rsplit("@", 1)[1]
    v = v.split("://", 1)[-1]
    v = v.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].split(":", 1)[0]
    return v.removeprefix("www.").rstrip(".")


@dataclass(slots=True, frozen=True)
class NameMatch:
    """Result of matching one name.

    kind: "exact" | "lookalike" | "none". agency: the registered agency (exact) or the
    one imitated (lookalike); None for "none". normalized: the mention's normalised form.
    score: similarity 0–100 (100 for exact). city: the trailing city removed for an
    exact match ("" when none). how: "name", "alias", "city", "word_missing",
    "word_extra" or "similar".
    """

    kind: str
    agency: Agency | None
    normalized: str
    score: float = 0.0
    city: str = ""
    how: str = ""


class AgencyIndex:
    """Lookup tables over a list of agencies (built once, O(total name length)).

    Raises nothing for odd records: agencies with an empty normalised name are skipped.
    """

    def __init__(self, agencies: list[Agency]) -> None:
        self.agencies = list(agencies)
        self.by_id: dict[str, Agency] = {a.agency_id: a for a in self.agencies}
        self._exact: dict[str, tuple[Agency, str]] = {}
        self._drop1: dict[str, Agency] = {}
        choices: list[str] = []
        owners: list[Agency] = []
        self.by_licence: dict[str, Agency] = {}
        self.by_phone: dict[str, Agency] = {}
        self.by_host: dict[str, Agency] = {}
        self.by_email: dict[str, Agency] = {}
        for a in self.agencies:
            for i, raw in enumerate([a.name, *a.aliases]):
                n = normalize_agency_name(raw)
                if not n:
                    continue
                self._exact.setdefault(n, (a, "name" if i == 0 else "alias"))
                choices.append(n)
                owners.append(a)
                toks = n.split()
                if len(toks) >= 3:
                    for k in range(1, len(toks)):  # keep the first (brand) word
                        self._drop1.setdefault(" ".join(toks[:k] + toks[k + 1:]), a)
            if a.licence_number:
                self.by_licence.setdefault(normalize_number(a.licence_number), a)
            for p in a.phones:
                self.by_phone.setdefault(p.strip(), a)
            for w in a.websites:
                h = host_of(w)
                if h:
                    self.by_host.setdefault(h, a)
            for e in a.emails:
                self.by_email.setdefault(e.strip().lower(), a)
        # choices sorted by length: a query only needs the slice of lengths that can
        # reach LOOKALIKE_MIN (Indel distance >= length difference)
        order = sorted(range(len(choices)), key=lambda i: len(choices[i]))
        self._choices = [choices[i] for i in order]
        self._owners = [owners[i] for i in order]
        self._lens = [len(c) for c in self._choices]
        self._cities = indonesian_cities()
        self._agency_cities = {a.agency_id: _fold(a.city) for a in self.agencies if a.city}

    def __len__(self) -> int:
        return len(self.agencies)

    def licence_owner(self, number: str) -> Agency | None:
        """The agency holding licence ``number`` (exact, see ``normalize_number``)."""
        return self.by_licence.get(normalize_number(number))

    def host_owner(self, host: str) -> Agency | None:
        """The agency whose website or e-mail domain is ``host`` or a parent of it."""
        return self.owner_of_host(host_of(host))

    def owner_of_host(self, h: str) -> Agency | None:
        """``host_owner`` for a value already reduced by ``host_of``."""
        while h:
            a = self.by_host.get(h)
            if a is not None:
                return a
            if "." not in h:
                return None
            h = h.split(".", 1)[1]
            if "." not in h:  # do not climb to a bare TLD
                return None
        return None

    def _city_split(self, toks: list[str]) -> list[tuple[str, str]]:
        """(head, city) candidates: the name without 1–3 trailing words that name a city."""
        out: list[tuple[str, str]] = []
        for k in (1, 2, 3):
            if len(toks) <= k:
                break
            out.append((" ".join(toks[:-k]), " ".join(toks[-k:])))
        return out

    def match_names(self, names: Sequence[str], batch: int = 256) -> list[NameMatch]:
        """``match_name`` for many names at once (same results, in order): the fuzzy
        stage runs as one ``rapidfuzz.process.cdist`` per ``batch`` names (SIMD over
        several queries), which is several times faster than one query at a time."""
        out: list[NameMatch | None] = []
        pending: list[tuple[int, list[str], str]] = []  # (position, queries, normalized)
        for name in names:
            first = self._match_cheap(name)
            if isinstance(first, NameMatch):
                out.append(first)
            else:
                pending.append((len(out), first[0], first[1]))
                out.append(None)
        flat = [(pos, q, n) for pos, qs, n in pending for q in qs]
        for start in range(0, len(flat), batch):
            chunk = flat[start:start + batch]
            if not self._choices:
                break
            scores = process.cdist([q for _, q, _ in chunk], self._choices, scorer=fuzz.ratio,
                                   score_cutoff=LOOKALIKE_MIN, dtype=np.uint8)
            best = scores.argmax(axis=1)
            for row, (pos, _q, n) in enumerate(chunk):
                k = int(best[row])
                if out[pos] is None and scores[row, k] >= LOOKALIKE_MIN:
                    exact = fuzz.ratio(_q, self._choices[k])  # the uint8 score is rounded
                    if exact < LOOKALIKE_MIN:
                        continue
                    out[pos] = NameMatch("lookalike", self._owners[k], n, float(exact), "",
                                         "similar")
        return [m if m is not None else NameMatch("none", None, pending_n)
                for m, pending_n in zip(out, self._normalized(names))]

    def _normalized(self, names: Sequence[str]) -> list[str]:
        return [normalize_agency_name(n) for n in names]

    def _match_cheap(self, name: str) -> NameMatch | tuple[list[str], str]:
        """The dictionary stages of ``match_name``: a result, or (fuzzy queries, n)."""
        n = normalize_agency_name(name)
        if not n:
            return NameMatch("none", None, n)
        hit = self._exact.get(n)
        if hit is not None:
            return NameMatch("exact", hit[0], n, 100.0, "", hit[1])
        toks = n.split()
        heads: list[str] = []
        for head, city in self._city_split(toks):
            hit = self._exact.get(head)
            if hit is not None and (city in self._cities
                                    or self._agency_cities.get(hit[0].agency_id) == city):
                return NameMatch("exact", hit[0], n, 100.0, city, "city")
            if city in self._cities:
                heads.append(head)
        for q in [n, *heads]:
            found = self._word_lookalike(q)
            if found is not None:
                return NameMatch("lookalike", found[0], n, found[1], "", found[2])
        return [n, *heads], n

    def match_name(self, name: str) -> NameMatch:
        """Match one company name as written in a post (see the module docstring)."""
        first = self._match_cheap(name)
        if isinstance(first, NameMatch):
            return first
        queries, n = first
        for q in queries:
            found = self._similar(q)
            if found is not None:
                return NameMatch("lookalike", found[0], n, found[1], "", found[2])
        return NameMatch("none", None, n)

    def _word_lookalike(self, q: str) -> tuple[Agency, float, str] | None:
        toks = q.split()
        if len(toks) >= 2:
            a = self._drop1.get(q)
            if a is not None:
                return a, float(fuzz.ratio(q, normalize_agency_name(a.name))), "word_missing"
        if len(toks) >= 3:
            for k in range(1, len(toks)):
                hit = self._exact.get(" ".join(toks[:k] + toks[k + 1:]))
                if hit is not None:
                    return hit[0], float(fuzz.ratio(q, normalize_agency_name(hit[0].name))), \
                        "word_extra"
        return None

    def _similar(self, q: str) -> tuple[Agency, float, str] | None:
        if not self._choices:
            return None
        t = 1.0 - LOOKALIKE_MIN / 100.0
        lo = bisect_left(self._lens, math.floor(len(q) * (1 - t) / (1 + t)))
        hi = bisect_right(self._lens, math.ceil(len(q) * (1 + t) / (1 - t)))
        if lo >= hi:
            return None
        # the first of the best names in the slice; the score at float32 precision, as
        # ``match_name`` has always reported it
        best = process.extractOne(q, self._choices[lo:hi], scorer=fuzz.ratio,
                                  score_cutoff=LOOKALIKE_MIN)
        if best is None:
            return None
        return self._owners[lo + best[2]], float(np.float32(best[1])), "similar"

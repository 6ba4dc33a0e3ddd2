"""Countries and cities named in a text (pure; lexicon ``data/lexicons/places.yaml``).

One compiled alternation regex (longest names first, word boundaries) over the folded
text finds every name; regions ("Eropa", "Amerika Selatan") are matched so that their
words are not read as a country, but are not reported. Names listed under ``case`` are
abbreviations that are also ordinary words ("AS", "US", "UK") and count only when written
in capitals in the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from patroli.analysis.normalize import Normalized
from patroli.analysis.tries import trie_alternation

__all__ = ["LEXICONS", "PlaceMatch", "find_places"]

#: Bundled lexicon folder (read once, lazily).
LEXICONS = Path(__file__).resolve().parent.parent / "data" / "lexicons"


@dataclass(slots=True, frozen=True)
class PlaceMatch:
    """kind: "country" | "city"; value: ISO alpha-2 (country) or canonical city name;
    country: ISO alpha-2 of the country; span: original-text span."""

    kind: str
    value: str
    country: str
    span: tuple[int, int]


def _iso(code: object, where: str) -> str:
    """A validated ISO 3166-1 alpha-2 code from the lexicon.

    Raises ValueError naming the entry when YAML turned the code into something else
    (an unquoted ``NO`` for Norway loads as the boolean false).
    """
    if not (isinstance(code, str) and len(code) == 2 and code.isalpha() and code.isupper()):
        raise ValueError(f"places.yaml: {where}: {code!r} is not an ISO 3166-1 alpha-2 code "
                         "(quote codes such as \"NO\")")
    return code


def _iso_country_names() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country's names in English, Indonesian and Malay (pycountry).

    The curated lexicon comes first (its spellings, abbreviations and city names); this
    completes it so that any country a post names is found ("perairan Peru"). Names with
    a comma ("Korea, Republic of") are official forms nobody writes in a post; skipped.
    """
    import gettext

    import pycountry

    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang],
                                        fallback=True) for lang in ("id", "ms")]
    out: list[tuple[str, str]] = []
    for c in pycountry.countries:
        names = {c.name, getattr(c, "common_name", c.name)}
        names |= {t.gettext(c.name) for t in translations}
        out.extend((n, c.alpha_2) for n in names if "," not in n and "(" not in n)
    return out


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[re.Pattern[str], re.Pattern[str]], dict[str, tuple[str, str, str]],
                        re.Pattern[str] | None, dict[str, str]]:
    """((name-at-start regex, name-after-boundary regex), name table, capitals-only
    abbreviation regex, abbreviation -> ISO code); see ``find_places``."""
    data = yaml.safe_load((LEXICONS / "places.yaml").read_text(encoding="utf-8"))
    table: dict[str, tuple[str, str, str]] = {}
    for code, spec in (data.get("countries") or {}).items():
        code = _iso(code, "countries")
        for name in spec.get("names") or []:
            table.setdefault(_key(name), ("country", code, code))
    ambiguous = {_key(n) for n in data.get("ambiguous_names") or []}
    for name, code in _iso_country_names():
        key = _key(name)
        if key not in ambiguous:
            table.setdefault(key, ("country", code, code))
    cities: dict[str, tuple[str, str, str]] = {}
    for name, code in (data.get("cities") or {}).items():
        cities[_key(name)] = ("city", name, _iso(code, f"cities: {name}"))
    for region in data.get("regions") or []:
        table[_key(region)] = ("region", region, "")
    names = set(table) | set(cities)
    # a space inside a name matches a space, a dash or nothing
    names_trie = trie_alternation(sorted(names), space=r"[\s\-]?")
    name_re = rf"(?:{names_trie})(?![a-z0-9])"
    # Every name ends with a letter or digit (checked below), so a name never starts
    # right where the previous one ends: the character before a name can be consumed
    # with it instead of being tested by a look-behind. The pattern then starts with a
    # character class, which ``re`` skips ahead to (no attempt inside words).
    if not all(n[-1:].isascii() and n[-1:].isalnum() for n in names):
        raise ValueError("places.yaml: every name must end with a letter or digit")
    patterns = (re.compile(rf"(?P<name>{name_re})"), re.compile(rf"[^a-z0-9](?P<name>{name_re})"))
    merged = dict(table)
    for k, v in cities.items():
        merged["city:" + k] = v
    case_map: dict[str, str] = {}
    for code, spec in (data.get("countries") or {}).items():
        for abbr in spec.get("case") or []:
            case_map[abbr] = _iso(code, "countries")
    # The boundary look-behind sits after each abbreviation's first character (the same
    # test: no letter or digit before it), so every alternative starts with a literal and
    # ``re`` skips ahead to the (rare) capitals that can start one.
    case_re = (re.compile("(?:" + "|".join(
        re.escape(a[0]) + rf"(?<![A-Za-z0-9]{re.escape(a[0])})" + re.escape(a[1:])
        for a in case_map) + r")(?![A-Za-z0-9])") if case_map else None)
    return patterns, merged, case_re, case_map


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", " ", name.strip().lower())


#: bytes.translate table: ASCII letters a-z and digits kept, every other byte a space.
_WORD_BYTES = bytes(c if c in b"abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256))
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=1)
def _first_runs() -> frozenset[bytes]:
    """The [a-z0-9] runs that a name match can start with (see ``find_places``).

    A name matched at a position is followed by no letter or digit, so the maximal
    [a-z0-9] run there is the name's own leading run: with each space of the name
    matched as nothing, a space or a dash, that is the first k words of the name
    glued together (k = 1 .. all), cut at the first character other than a-z0-9.
    """
    _, table, _, _ = _lexicon()
    runs: set[str] = set()
    for key in table:
        words = (key[5:] if key.startswith("city:") else key).split(" ")
        for k in range(1, len(words) + 1):
            runs.add(re.match(r"[a-z0-9]*", "".join(words[:k])).group())  # type: ignore[union-attr]
    return frozenset(r.encode("ascii") for r in runs)


def _name_candidates(t: str) -> list[int]:
    """Ascending offsets in the folded text ``t`` where a name may start (a superset of
    the name starts of ``find_places``' scan): starts of [a-z0-9] runs (no a-z0-9 just
    before) that are in ``_first_runs``. The runs are found with C string methods
    (non-ASCII characters become "?", then every byte but a-z0-9 a space), which is much
    cheaper than trying the name regex after every non-alphanumeric character."""
    hits = _first_runs().intersection(t.encode("ascii", "replace").translate(_WORD_BYTES).split())
    if not hits:
        return []
    alnum = _ALNUM
    starts: list[int] = []
    for run in hits:
        w = run.decode("ascii")
        i = t.find(w)
        while i >= 0:
            if not i or t[i - 1] not in alnum:
                starts.append(i)
            i = t.find(w, i + 1)
    starts.sort()
    return starts


@lru_cache(maxsize=4096)
def _entries(matched: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, value, country) for a name as matched in the folded text: its country
    entry, then its city entry (a region yields none)."""
    _, table, _, _ = _lexicon()
    k = _key(matched)
    out = []
    c = table.get(k)
    if c is not None and c[0] == "country":
        out.append(("country", c[1], c[2]))
    city = table.get("city:" + k)
    if city is not None:
        out.append(("city", city[1], city[2]))
    return tuple(out)


def find_places(norm: Normalized) -> list[PlaceMatch]:
    """Countries (ISO alpha-2) and cities named in the text, in text order.

    A city that is also a country name ("Singapore") yields both a city and a country.
    """
    (at_start, after_boundary), _, case_re, case_map = _lexicon()
    t = norm.text
    out: list[PlaceMatch] = []
    # The names with "no letter or digit before": the pattern is tried only at
    # ``_name_candidates``, leftmost first, skipping those inside a previous match (the
    # same matches as its ``finditer`` scan, at a fraction of the cost).
    end = 0
    for i in _name_candidates(t):
        if i < end:
            continue
        m = after_boundary.match(t, i - 1) if i else at_start.match(t)
        if m is None:
            continue
        end = m.end()
        entries = _entries(m.group("name"))
        if entries:
            span = norm.span(*m.span("name"))
            for kind, value, country in entries:
                out.append(PlaceMatch(kind, value, country, span))
    if case_re is None:
        return out
    # ``case_re`` matches only where one of its abbreviations occurs; ``in`` is cheaper.
    o = norm.original
    for abbr in case_map:
        if abbr in o:
            break
    else:
        return out
    n = len(out)
    for m in case_re.finditer(o):
        code = case_map[m.group()]
        out.append(PlaceMatch("country", code, code, m.span()))
    if len(out) > n:
        out.sort(key=lambda p: p.span)
    return out

"""Money amounts (wages, fees, prices) with currency and period (pure; no I/O at call time).

Reads the folded text (``Normalized.text``). Handles Indonesian number formats ("." for
thousands, "," for decimals: "Rp15.000.000,-", "1,5jt") and English ones ("USD 1,000"),
multipliers (rb/ribu/k, jt/juta, miliar, million), currency symbols, codes and names
(bundled table ``data/lexicons/currencies.yaml``), ranges ("8-10jt" -> two amounts) and
periods ("/bln", "per bulan", "sebulan", "/jam", "monthly"). A wage with no written period
is monthly ("gaji 7jt"); a fee, deposit or price has no period. Exchange rates
("RM1 = Rp 3.640") are not money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from patroli.analysis.normalize import Normalized
from patroli.analysis.tries import trie_alternation

#: Bundled lexicon folder (read once, lazily).
LEXICONS = Path(__file__).resolve().parent.parent / "data" / "lexicons"

__all__ = ["MoneyMatch", "currency_table", "find_money", "parse_number"]


@dataclass(slots=True, frozen=True)
class MoneyMatch:
    """One amount. amount: float in the currency's unit; currency: ISO 4217 code;
    period: "hour" | "day" | "week" | "month" | "year" | None; span: original-text span."""

    amount: float
    currency: str
    period: str | None
    span: tuple[int, int]


@lru_cache(maxsize=1)
def currency_table() -> tuple[dict[str, str], dict[str, str]]:
    """(prefix alias -> ISO code, suffix alias -> ISO code), loaded once from the lexicon."""
    ref = LEXICONS / "currencies.yaml"
    data = yaml.safe_load(ref.read_text(encoding="utf-8"))
    pre: dict[str, str] = {}
    suf: dict[str, str] = {}
    for code, spec in data.items():
        for a in spec.get("prefix") or []:
            pre.setdefault(str(a).lower(), code)
        for a in spec.get("suffix") or []:
            suf.setdefault(str(a).lower(), code)
    return pre, suf


def _alias_re(aliases: list[str]) -> str:
    """Alternation of currency aliases, longest first; a letter at either end of an alias
    may not touch another letter.

    The look-behind of the letter-led aliases is written once before their group (not
    once per alias): every alternative then starts with a literal, which ``re`` rejects
    with a one-character test. Same matches: an alias led by a letter and one led by a
    symbol never start at the same character, and each group keeps longest-first order.
    """
    lettered: list[str] = []
    other: list[str] = []
    for a in sorted(aliases, key=len, reverse=True):
        esc = re.escape(a).replace(r"\ ", r"\s")
        if a[-1].isalpha():
            esc += r"(?![a-z])"
        (lettered if a[0].isalpha() else other).append(esc)
    parts = []
    if lettered:
        parts.append(r"(?<![a-z])(?:" + "|".join(lettered) + ")")
    parts.extend(other)
    return "|".join(parts)


def _alias_trie_re(aliases: list[str]) -> str:
    """The alternation of ``_alias_re`` shaped as a prefix trie (fast: no per-alias retry).

    Only for a pattern's last element: there the longest alias that matches wins in both
    forms (each trie node tries its longer continuations before ending), and nothing
    after it can backtrack into a shorter one.
    """
    lettered = [a for a in aliases if a[0].isalpha()]
    other = [a for a in aliases if not a[0].isalpha()]
    parts = []
    if lettered:
        parts.append(r"(?<![a-z])" + _trie(lettered))
    if other:
        parts.append(_trie(other))
    return "|".join(parts)


def _trie(words: list[str]) -> str:
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = w

    def build(node: dict) -> str:
        branches = [(r"\s" if ch == " " else re.escape(ch)) + build(child)
                    for ch, child in sorted(node.items()) if ch]
        if "" in node:  # an alias ends here: after every longer one
            branches.append(r"(?![a-z])" if node[""][-1].isalpha() else "")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(root)


_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2}(?!\d))?|\d+(?:[.,]\d+)?"
_MULT = r"(?:juta|jt|jtan|ribu|rb|k|miliar|milyar|million|mio|thousand|billion|m)(?![a-z])"
_RANGE = r"\s?(?:-|s/d|s\.d\.?|sd|sampai|hingga|to|~)\s?"
_PERIOD_AFTER = (
    r"\s?(?:/|per|se|tiap|each|a|an|every)\s?"
    r"(?P<per>bulan|bln|bl|month|mo|mth|hari|day|jam|hour|hr|minggu|week|pekan|mgg|tahun|thn"
    r"|th|year|yr|annum)(?![a-z])"
    r"|\s?(?P<per2>monthly|perbulan|sebulan|bulanan|daily|harian|sehari|perhari|hourly|perjam"
    r"|weekly|seminggu|mingguan|yearly|annually|setahun|pertahun|tahunan)(?![a-z])"
)
_PERIODS = {
    "bulan": "month", "bln": "month", "bl": "month", "month": "month", "mo": "month",
    "mth": "month", "monthly": "month", "perbulan": "month", "sebulan": "month",
    "bulanan": "month", "hari": "day", "day": "day", "daily": "day", "harian": "day",
    "sehari": "day", "perhari": "day", "jam": "hour", "hour": "hour", "hr": "hour",
    "hourly": "hour", "perjam": "hour", "minggu": "week", "week": "week", "pekan": "week",
    "mgg": "week", "weekly": "week", "seminggu": "week", "mingguan": "week",
    "tahun": "year", "thn": "year", "th": "year", "year": "year", "yr": "year",
    "annum": "year", "yearly": "year", "annually": "year", "setahun": "year",
    "pertahun": "year", "tahunan": "year",
}
_PERIOD_AFTER_RE = re.compile(_PERIOD_AFTER)
_MULTS = {"juta": 1e6, "jt": 1e6, "jtan": 1e6, "million": 1e6, "mio": 1e6, "m": 1e6,
          "ribu": 1e3, "rb": 1e3, "k": 1e3, "thousand": 1e3,
          "miliar": 1e9, "milyar": 1e9, "billion": 1e9}
_WAGE_WORDS = (r"gaji|bergaji|salary|salaries|upah|wage|wages|penghasilan|pendapatan|income"
               r"|earn|earning|earnings|paying|pays|dibayar|gapok|dipotong|potong|potongan"
               r"|iuran|allowance|bonus|komisi")
_FEE_WORDS = (r"biaya|fee|fees|dp|bayar|membayar|transfer|harga|ongkos|deposit|tiket|saku|fit"
              r"|modal|setor|registrasi|pendaftaran|booking|cash|tunai|jual|dijual|price|cost"
              r"|costs|paket|package|rugi|kerugian|tebusan|denda|caj|charge|nego|pelunasan"
              r"|sisanya|promo|runding|debt|debts|hutang|utang|diskon|loss|lost|membayar|sewa|tarif|pay|paid")
_CONTEXT_RE = re.compile(
    rf"(?<![a-z])(?:(?P<wage>{_WAGE_WORDS})|(?P<fee>{_FEE_WORDS}))(?:nya)?(?![a-z])")
_WAGE_SET = frozenset(_WAGE_WORDS.split("|"))
_FEE_SET = frozenset(_FEE_WORDS.split("|"))


# The words of ``_CONTEXT_RE`` for a scan of a whole window: a non-letter, then the word
# (as a trie, ``trie_alternation``; ``_context_kind`` tells wage from fee). The pattern
# starts with a character class instead of a look-behind, so ``re`` tries it only after
# non-letters (not at every character); the window gets a space in front for a word at
# its start. Matches never share that character (each ends before a non-letter), so the
# words found are those of ``_CONTEXT_RE``, with the same ends.
_CONTEXT_AFTER_RE = re.compile(rf"[^a-z](?:{trie_alternation(_WAGE_SET | _FEE_SET)})(?:nya)?(?![a-z])")


def _context_kind(word: str) -> str:
    """"wage" or "fee" for a context word as matched (with "-nya", if any): the group of
    ``_CONTEXT_RE`` that holds it (wage words are tried first: a wage word matches when
    it is the word, or the word without "-nya")."""
    if word in _WAGE_SET or (word.endswith("nya") and word[:-3] in _WAGE_SET):
        return "wage"
    return "fee"
_PER_UNIT_RE = re.compile(r"\s?/\s?[a-z]+|\s?per\s(?:orang|pax|kepala|org|person|kg|pcs|unit)")
_RATE_RE = re.compile(r"\s?(?:=|->|→)")
_NEGOTIABLE_AFTER_RE = re.compile(r"[\s,]{0,2}(?:boleh |bisa )?(?:nego|runding|negotiable|ono)")
_BELOW_RE = re.compile(r"(?:di\s?bawah|under|below|kurang dari|less than|max\.?|maks\.?)\s?$")
_BARE_IDR_RE = re.compile(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d{1,2})?")
# (led by the non-letter before the word, like ``_CONTEXT_AFTER_RE``: searched from one
# character before where the word may start)
_PERIOD_BEFORE_RE = re.compile(
    r"[^a-z](?:per\s?(?P<a>bulan|hari|jam|minggu|tahun)|(?P<b>harian|sehari|sebulan|bulanan"
    r"|mingguan|seminggu|setahun|tahunan|monthly|daily|hourly|weekly|yearly))(?![a-z])")
_RATE_BEFORE_RE = re.compile(r"(?:=|->|→|kurs|rate|kadar)\s?:?\s?$")


@lru_cache(maxsize=1)
def _money_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the money pattern for ASCII texts, the same for any text).

    The ASCII one starts with ``[0-9]`` instead of ``\\d`` (the same characters in an
    ASCII text): ``re`` tests a character class faster than the Unicode digit category
    while it skips ahead to digits.
    """
    pre, suf = currency_table()
    p = _alias_re(list(pre))
    s = _alias_trie_re(list(suf))
    # n1 is _NUM with its first digit taken out of both alternatives (it leads the
    # pattern, below), and the "no digit, "." or "," before" look-behind placed after that
    # digit: the pattern then starts with a digit, and ``re`` skips ahead to digits.
    n1 = (r"(?<![\d.,]\d)(?:\d{0,2}(?:[.,]\d{3})+(?:[.,]\d{1,2}(?!\d))?"
          r"|\d*(?:[.,]\d+)?)")
    second = rf"(?:{_RANGE}(?:(?P<p2>{p})\s?\.?\s?)?(?P<n2>{_NUM})(?:\s?(?P<m2>{_MULT}))?)?"
    rest = rf"{n1})(?:\s?(?P<m1>{_MULT}))?{second}(?![\d])(?:,-)?(?:\s?(?P<suf>{s}))?"
    return re.compile(r"(?P<n1>[0-9]" + rest), re.compile(r"(?P<n1>\d" + rest)


_SPACES_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _prefix_re() -> re.Pattern[str]:
    pre, _ = currency_table()
    return re.compile(rf"(?:{_alias_re(list(pre))})\s?\.?\s?$")


@lru_cache(maxsize=1)
def _prefix_ends() -> tuple[frozenset[str], frozenset[str]]:
    """(one-character prefix aliases, last two characters of the longer ones), each alias
    stripped of trailing dots and whitespace: what a text must end with, once stripped
    the same way, for ``_prefix_re`` to match at its end."""
    pre, _ = currency_table()
    cores = []
    for a in pre:
        while a[-1] == "." or a[-1].isspace():
            a = a[:-1]
        cores.append(a)
    return (frozenset(c for c in cores if len(c) == 1),
            frozenset(c[-2:] for c in cores if len(c) >= 2))


def _currency_prefix(t: str, start: int) -> re.Match[str] | None:
    """The currency written before an amount at ``start`` ("Rp.", "RM ", "US$"), if any:
    ``_prefix_re`` searched in the 8 characters before ``start``.

    Between the alias and the amount there are only whitespace and dots, so the search is
    skipped when the text before them cannot end an alias.
    """
    lo = max(0, start - 8)
    j = start
    while j > lo and (t[j - 1] == "." or t[j - 1].isspace()):
        j -= 1
    singles, pairs = _prefix_ends()
    if t[j - 1:j] not in singles and (j - 2 < lo or t[j - 2:j] not in pairs):
        return None
    return _prefix_re().search(t, lo, start)


def parse_number(s: str) -> float:
    """Parse "15.000.000", "1,5", "1,000.50", "3.640" -> float (ID and EN conventions).

    A single separator followed by exactly three digits is a thousands separator;
    otherwise it is a decimal separator. Raises ValueError on an empty string.
    """
    if not s:
        raise ValueError("empty number")
    seps = [c for c in s if c in ".,"]
    if not seps:
        return float(s)
    last = max(s.rfind("."), s.rfind(","))
    tail = s[last + 1:]
    if len(seps) == 1:
        if len(tail) == 3:
            return float(s.replace(".", "").replace(",", ""))
        return float(s.replace(",", ".").replace(" ", ""))
    if len(set(seps)) == 1:
        return float(s.replace(".", "").replace(",", ""))
    # both kinds: the last one is the decimal separator when it has 1-2 digits after it
    if len(tail) in (1, 2):
        head = s[:last].replace(".", "").replace(",", "")
        return float(f"{head}.{tail}")
    return float(s.replace(".", "").replace(",", ""))


def _period_from_context(t: str, start: int, end: int, foreign: bool) -> str | None:
    """Period implied by the words before an amount with no written period.

    The nearest wage / fee word before the amount (same sentence) decides: a wage is
    monthly unless a period word follows the wage word ("gaji harian RM 120" -> "day"); a
    fee, price or deposit has no period. With neither, a foreign-currency amount is taken
    as a monthly wage (job ads quote wages abroad in the local currency) and a rupiah
    amount as a one-off.
    """
    lo = max(0, start - 70)
    window = t[lo:start]
    cut = max(window.rfind("\n"), window.rfind(". "), window.rfind("|"))
    if cut >= 0:
        window = window[cut + 1:]
    last = None
    window = " " + window  # (see ``_CONTEXT_AFTER_RE``; no letter before, like the start)
    for m in _CONTEXT_AFTER_RE.finditer(window):
        last = m
    if last is None:
        return "month" if foreign else None
    if _context_kind(last.group()[1:]) != "wage":
        return None
    pb = _PERIOD_BEFORE_RE.search(window, last.end() - 1)
    if pb:
        return _PERIODS[pb.group("a") or pb.group("b")]
    return "month"


def find_money(norm: Normalized) -> list[MoneyMatch]:
    """All money amounts in the folded text, in text order; ranges give min then max."""
    t = norm.text
    out: list[MoneyMatch] = []
    pre_t, suf_t = currency_table()
    for m in _money_res()[0 if t.isascii() else 1].finditer(t):
        n1, m1, p2, n2, m2, suf = m.group("n1", "m1", "p2", "n2", "m2", "suf")
        if n2 is None and p2:
            continue
        pm0 = _currency_prefix(t, m.start())
        if pm0 is None and m1 is None and m2 is None and suf is None and "." not in n1:
            continue  # no currency, no multiplier, not a grouped rupiah figure (below)
        pre = pm0.group() if pm0 else None
        m_start = pm0.start() if pm0 else m.start()
        cur = None
        if pre:
            key = _SPACES_RE.sub(" ", pre.strip()).rstrip(". ")
            cur = pre_t.get(key) or pre_t.get(key + ".")
        if cur is None and suf:
            cur = suf_t.get(_SPACES_RE.sub(" ", suf.strip()))
        mult_word = m1 or m2
        if cur is None:
            if mult_word is None:
                # "Gaji: 15.000.000": a grouped rupiah figure right after a wage/fee word
                if not (_BARE_IDR_RE.fullmatch(n1) and _CONTEXT_RE.search(
                        t, max(0, m.start() - 12), m.start())):
                    continue
            elif mult_word == "m":
                continue
            cur = "IDR"
        if mult_word == "m" and not (pre or suf):
            continue
        # exchange rates
        if _RATE_RE.match(t, m.end()) or _RATE_BEFORE_RE.search(t, max(0, m_start - 12),
                                                                m_start):
            continue
        if _BELOW_RE.search(t, max(0, m_start - 14), m_start):
            continue
        try:
            v1 = parse_number(n1)
            v2 = parse_number(n2) if n2 else None
        except ValueError:
            continue
        f1 = _MULTS[m1] if m1 else (_MULTS[m2] if m2 and v2 is not None else 1.0)
        f2 = _MULTS[m2] if m2 else (_MULTS[m1] if m1 else 1.0)
        a1 = v1 * f1
        a2 = v2 * f2 if v2 is not None else None
        if a2 is not None and a2 < a1:
            # "5-6" without a shared multiplier ambiguity, or a date-like range: skip 2nd
            a2 = None
        if a1 <= 0:
            continue
        if cur == "IDR" and not (pre or suf) and a1 < 1000:
            continue
        end = m.end()
        pm = _PERIOD_AFTER_RE.match(t, end)
        period: str | None
        if pm:
            period = _PERIODS[pm.group("per") or pm.group("per2")]
            span_end = pm.end()
        elif _PER_UNIT_RE.match(t, end) or _NEGOTIABLE_AFTER_RE.match(t, end):
            period = None
            span_end = end
        else:
            period = _period_from_context(t, m_start, end, cur != "IDR")
            span_end = end
        if a2 is None:
            out.append(MoneyMatch(a1, cur, period, norm.span(m_start, span_end)))
        else:
            # a range: the minimum spans up to its number, the maximum the rest
            first_end = m.end("m1") if m.group("m1") else m.end("n1")
            second_start = m.start("p2") if m.group("p2") else m.start("n2")
            out.append(MoneyMatch(a1, cur, period, norm.span(m_start, first_end)))
            out.append(MoneyMatch(a2, cur, period, norm.span(second_start, span_end)))
    return out

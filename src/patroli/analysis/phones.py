"""Phone-number extraction with obfuscation recovery (pure; no I/O).

Candidates are found with our own regex over the folded text (``Normalized.text``):
digit runs with separators (spaces, dots, dashes, brackets), letter ``o`` for zero and
``l``/``i`` for one inside digit runs, Indonesian/English digit words ("nol delapan satu
dua ..."), and only candidates are handed to ``phonenumbers``. Numbers inside longer digit
strings (bank accounts, NIK, invoice codes, amounts, dates) and numbers preceded by an
account / ID / currency context are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from patroli.analysis.normalize import Normalized
from patroli.analysis.spans import SpanIndex
from patroli.analysis.tries import trie_alternation

__all__ = ["PhoneMatch", "find_phones", "phone_from_digits"]


@dataclass(slots=True, frozen=True)
class PhoneMatch:
    """A phone number found in a text.

    e164: "+6281200003185". span: (start, end) in the original text.
    region: ISO 3166-1 alpha-2 of the number's country ("ID", "MY", ...).
    obfuscated: True when letters, digit words or unusual separators had to be folded.
    """

    e164: str
    span: tuple[int, int]
    region: str
    obfuscated: bool


# One digit-ish group: digits, with o (zero) and l / i (one) allowed when the group has
# at least one real digit; or a run of >= 2 letter o ("OOOO"); or one spaced letter o
# before another digit-ish group ("O 8 5 2 - O O O O - 7 7 1 3"). Groups may not touch
# letters or digits outside them.
_GROUP = r"(?:[0-9oil]*[0-9][0-9oil]*|o{2,}|o(?=[ .\-\u00a0]{1,3}[0-9o]))"
_SEP = r"(?:[ .\-\u00a0]{1,3}|\)\s?|\s?\(|\s?\)\s?)"
# A candidate: (?<![a-z0-9+])(?:\+\s?|\(\s?(?=[0-9+]))?{_GROUP}(?:{_SEP}{_GROUP})*(?![a-z0-9])
# It is written with its first character taken out in front, the look-behind after it,
# and then one branch per kind of first character (the branches exclude each other; each
# keeps the order in which the plain form tries its alternatives and lengths): the
# pattern then starts with a character class, and ``re`` skips ahead to the characters
# that can start a candidate instead of trying the look-behind at every character.
_CANDIDATE_RE = re.compile(
    r"[+(0-9oil](?<![a-z0-9+].)"
    rf"(?:(?<=\+)\s?{_GROUP}|(?<=\()\s?(?=[0-9+]){_GROUP}"
    r"|(?<=[0-9])[0-9oil]*"  # a digit: the first group alternative, the rest of it
    r"|(?<=o)(?:[0-9oil]*[0-9][0-9oil]*|o+|(?=[ .\-\u00a0]{1,3}[0-9o]))"  # "o": all three
    r"|(?<=[il])[0-9oil]*[0-9][0-9oil]*)"  # "i", "l": the first alternative
    rf"(?:{_SEP}{_GROUP})*(?![a-z0-9])"
)
_DIGIT_WORDS = {
    "nol": "0", "kosong": "0", "zero": "0", "satu": "1", "one": "1", "dua": "2",
    "two": "2", "tiga": "3", "three": "3", "empat": "4", "four": "4", "lima": "5",
    "five": "5", "enam": "6", "six": "6", "tujuh": "7", "seven": "7", "delapan": "8",
    "eight": "8", "sembilan": "9", "nine": "9",
}
_WORD_ALT = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
_WORD_RUN_RE = re.compile(
    rf"(?<![a-z])(?:\+\s?)?(?:(?:{_WORD_ALT}|[0-9])[\s.,\-/]*){{9,}}(?![a-z])"
)


# The digit-word gate of ``find_phones`` counts the matches of
# ``{trie_alternation(_DIGIT_WORDS)}(?![a-z])``: the runs of letters a-z that end with a digit word
# (one match per such run: no digit word is a suffix of another). Tried forwards, that
# pattern starts at most letters; it is counted instead in a bytes copy with every byte
# but a-z turned into a space (the same runs: non-ASCII characters become spaces),
# a space added at the end, reversed: there each such run is a space followed by a
# reversed digit word, and ``re`` skips ahead to the spaces.
_NON_LETTER_TO_SPACE = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
_WORD_END_RE = re.compile(b" " + trie_alternation([w[::-1] for w in _DIGIT_WORDS]).encode())


def _digit_word_count(t: str) -> int:
    """Number of runs of letters a-z in ``t`` that end with a digit word (see above)."""
    return len(_WORD_END_RE.findall(
        (t.encode("utf-8", "surrogatepass") + b" ").translate(_NON_LETTER_TO_SPACE)[::-1]))


_WORD_TOKEN_RE = re.compile(rf"{_WORD_ALT}|[0-9]")
# Context just before a digit run that makes it something other than a phone number.
_BAD_CONTEXT_RE = re.compile(
    r"(?:\brek(?:ening)?\b|\bnorek\b|\bno\.?\s?rek\b|\bnik\b|\bnpwp\b|\bnip\b|\bkk\b"
    r"|\brp\.?|\bidr\b|\busd\b|\bsgd\b|\brm\b|\bacc(?:ount)?\b|\ba/n\b|\ba\.n\.?"
    r"|\bva\b|\bvirtual account\b|\binvoice\b|\binv\b|\bresi\b|\bkode\b|\bno\.? ?ktp\b"
    r"|\bktp\b|\bpaspor\b|\bpassport\b|\bbri\b|\bbca\b|\bbni\b|\bmandiri\b|\bbsi\b)"
    r"[\s:.#=\-]{0,3}(?:no\.?|nomor|number)?[\s:.#=\-]{0,3}$"
)
_SEPS_RE = re.compile(r"[^0-9+]")
_GROUP_RE = re.compile(_GROUP)
_DIGIT_RE = re.compile(r"[0-9]")
# Every character that a ``_CANDIDATE_RE`` match can hold (its groups, separators and
# openers; ``\s`` is tested with ``str.isspace``, which is what ``re`` uses for it).
_CANDIDATE_CHARS = frozenset("0123456789oil .-\u00a0()+")
_DOTTED_RE = re.compile(r"\d\.\d\.\d")


def _fold_digits(s: str) -> tuple[str, bool]:
    """Fold o->0, l/i->1 and drop separators; returns (digits with optional '+', folded?)."""
    folded = s.replace("o", "0").replace("l", "1").replace("i", "1")
    return _SEPS_RE.sub("", folded), folded != s


@lru_cache(maxsize=4096)
def phone_from_digits(digits: str, *, plus: bool = False) -> tuple[str, str] | None:
    """Interpret a digit string as a phone number.

    digits: ASCII digits only (no "+"). plus: the text wrote a "+" (or "00") before it.
    Returns ``(e164, region)`` or None when the digits are not a plausible phone number.
    Rules: "+CC..." international (possible and, for short foreign numbers, valid);
    "00CC..." international; "62..." without "+" is Indonesia's country code
    (PITFALLS.md); "08..." Indonesian mobile, "0[2-9]..." Indonesian landline;
    "01..." Malaysian mobile (Indonesian numbers never start with 01).
    Pure; results are cached (``phonenumbers`` parsing costs ~25 µs; the same contact
    numbers recur across the posts of one recruiter).
    """
    if not digits.isdigit():
        return None
    if not plus and digits.startswith("00") and len(digits) > 9:
        digits, plus = digits[2:], True
    if plus:
        if digits.startswith("620"):
            digits = "62" + digits[3:]
        return _parse("+" + digits, None, foreign_strict=True)
    if digits.startswith("62") and 10 <= len(digits) <= 14:
        rest = digits[2:]
        rest = rest.removeprefix("0")
        return _parse("+62" + rest, None, foreign_strict=True)
    if digits.startswith("0"):
        if digits.startswith("01"):
            if 10 <= len(digits) <= 11:
                return _parse(digits, "MY", foreign_strict=False)
            return None
        if digits.startswith("08"):
            if not 10 <= len(digits) <= 13:
                return None
        elif not 9 <= len(digits) <= 12:
            return None
        return _parse(digits, "ID", foreign_strict=False)
    return None


def _parse(s: str, region: str | None, *, foreign_strict: bool) -> tuple[str, str] | None:
    try:
        n = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(n):
        return None
    cc = n.country_code
    nat = str(n.national_number)
    if cc == 62:
        # Indonesian mobiles 8xx (9-12 national digits) and landlines [2-7,9]x.
        if nat.startswith("8"):
            if not 9 <= len(nat) <= 12:
                return None
        elif not 8 <= len(nat) <= 11:
            return None
    elif foreign_strict and not phonenumbers.is_valid_number(n) and len(nat) < 8:
        # Possible-but-invalid foreign numbers: accept mobile-looking lengths only.
        return None
    reg = phonenumbers.region_code_for_country_code(cc) or "ZZ"
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164), reg


def _bad_context(text: str, start: int) -> bool:
    return _BAD_CONTEXT_RE.search(text, max(0, start - 28), start) is not None


def _split_groups(raw: str) -> list[tuple[int, int]]:
    """Spans of the digit-ish groups inside a candidate match (relative offsets)."""
    return [m.span() for m in _GROUP_RE.finditer(raw)]


def _digit_candidates(t: str) -> Iterator[re.Match[str]]:
    """The matches of ``_CANDIDATE_RE.finditer(t)`` that hold an ASCII digit, in the same
    order (a few without one may come too; the others are left out).

    Only candidates with digits are used, and ``_CANDIDATE_RE`` is led by a character
    class with the common letters o, i and l, so the scan would try it at many
    characters. Instead the scan jumps to the next digit and starts back from it at the
    first character of the run of characters that a candidate can hold: a candidate
    holding that digit starts in that run, and one starting before the run cannot reach
    past the character before it. The candidates skipped that way hold no digit and end
    before the run, so every later candidate is the one the full scan finds.
    """
    pos = 0
    n = len(t)
    chars = _CANDIDATE_CHARS
    digit = _DIGIT_RE.search
    candidate = _CANDIDATE_RE.search
    while pos < n:
        d = digit(t, pos)
        if d is None:
            return
        q = d.start()
        while q > pos and (t[q - 1] in chars or t[q - 1].isspace()):
            q -= 1
        m = candidate(t, q)
        if m is None:
            return
        yield m
        pos = m.end()


def find_phones(norm: Normalized) -> list[PhoneMatch]:
    """All phone numbers in a normalised text, spans mapped to the original text.

    norm: ``normalize(text)``. Returns matches in text order (duplicates of the same
    number at different places are all returned).
    """
    t = norm.text
    out: list[PhoneMatch] = []
    taken: list[tuple[int, int]] = []
    for m in _digit_candidates(t):
        raw = m.group()
        if sum(map(str.isdigit, raw)) < 4:
            continue
        s0 = m.start()
        plus = raw.lstrip("(").lstrip().startswith("+")
        groups = _split_groups(raw)
        # Try the whole candidate first, then split greedily into several numbers.
        i = 0
        while i < len(groups):
            best: tuple[int, tuple[str, str], bool] | None = None
            for j in range(len(groups), i, -1):
                a, b = groups[i][0], groups[j - 1][1]
                digits, folded = _fold_digits(raw[a:b])
                if len(digits) < 7 or len(digits) > 16:
                    continue
                is_plus = plus and i == 0
                res = phone_from_digits(digits, plus=is_plus)
                if res is not None:
                    best = (j, res, folded)
                    break
            if best is None:
                i += 1
                continue
            j, (e164, region), folded = best
            a, b = groups[i][0], groups[j - 1][1]
            if i == 0 and plus:
                a = raw.index("+")
            start, end = s0 + a, s0 + b
            if _bad_context(t, s0 + groups[i][0]):
                i = j
                continue
            seps = raw[groups[i][0]:b]
            obf = folded or bool(_DOTTED_RE.search(seps))
            out.append(PhoneMatch(e164, norm.span(start, end), region, obf))
            taken.append((start, end))
            i = j
    word_runs = _WORD_RUN_RE.finditer(t) if _digit_word_count(t) >= 5 else ()
    taken_index: SpanIndex | None = None
    for m in word_runs:
        toks = _WORD_TOKEN_RE.findall(m.group())
        if sum(1 for x in toks if not x.isdigit()) < 5:
            continue
        digits = "".join(_DIGIT_WORDS.get(x, x) for x in toks)
        if taken_index is None:
            taken_index = SpanIndex(taken)
        if taken_index.overlaps(m.start(), m.end()):
            continue
        res = phone_from_digits(digits, plus=m.group().startswith("+"))
        if res is not None and not _bad_context(t, m.start()):
            end = m.end()
            while end > m.start() and not t[end - 1].isalnum():
                end -= 1
            out.append(PhoneMatch(res[0], norm.span(m.start(), end), res[1], True))
    out.sort(key=lambda p: p.span)
    return out

"""Normalisation that folds obfuscation while keeping offsets into the original text.

``normalize(text) -> Normalized``: the folded text is what indicator rules match against:

* lower-case, NFKC (full-width forms folded), accents stripped, Unicode digits (e.g.
  Arabic-Indic) folded to ASCII digits, Unicode dashes folded to ``-`` and curly quotes to
  ASCII quotes;
* emoji, pictographs, flags, variation selectors, zero-width and other decorative symbols
  replaced by a space;
* leetspeak folded inside words (``g4ji`` -> ``gaji``, ``l0ker`` -> ``loker``,
  ``k4mboj4`` -> ``kamboja``, ``g@ji`` -> ``gaji``) but never inside numbers (``15jt``,
  ``0812``, ``rp 8.500.000`` keep their digits) nor inside e-mail addresses;
* whitespace runs collapsed to one space.

Speed: pure-ASCII stretches are handled by ``str.lower`` and a few regex passes; only
non-ASCII characters go through a (cached) per-character fold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalized", "fold_char", "normalize"]


@dataclass(slots=True)
class Normalized:
    """A folded copy of a text with a map back to the original.

    text: the folded text (lower-case, NFKC, obfuscation folded).
    offsets: ``offsets[i]`` is the index in the original text of folded character ``i``;
        ``len(offsets) == len(text) + 1`` (the last entry is ``len(original)``).
        Offsets are non-decreasing.
    """

    original: str
    text: str
    offsets: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded-text span [start, end) to the original text span.

        start, end: indices into ``self.text`` (0 <= start <= end <= len(text)).
        Returns ``(ostart, oend)`` with ``0 <= ostart <= oend <= len(original)``.
        """
        if end <= start:
            o = self.offsets[start]
            return (o, o)
        return (self.offsets[start], self.offsets[end - 1] + 1)


# Unicode categories replaced by a space: symbols (emoji, dingbats, arrows), format
# characters (ZWJ, LRM), marks left alone (variation selectors, keycap), private use,
# surrogates, controls.
_SPACE_CATEGORIES = frozenset({"So", "Sk", "Cf", "Co", "Cs", "Cc", "Mn", "Me", "Cn", "Zl", "Zp"})
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
           "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'}


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """Fold one non-ASCII character: returns its folded form (0, 1 or more chars).

    Lower-cased NFKC with accents stripped; Unicode decimal digits become ASCII digits;
    dashes become ``-``; emoji and decorative symbols become a single space.
    """
    if ch in _DASHES:
        return "-"
    q = _QUOTES.get(ch)
    if q is not None:
        return q
    cat = unicodedata.category(ch)
    if cat == "Nd":
        return str(unicodedata.digit(ch, 0))
    if cat in _SPACE_CATEGORIES:
        return " "
    if cat.startswith("Z"):
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKC", stripped).lower()
    if not folded:
        return " "
    out = []
    for c in folded:
        if c.isascii():
            out.append(c)
        elif c in _DASHES:
            out.append("-")
        else:
            ccat = unicodedata.category(c)
            if ccat == "Nd":
                out.append(str(unicodedata.digit(c, 0)))
            elif ccat in _SPACE_CATEGORIES or ccat.startswith("Z"):
                out.append(" ")
            else:
                out.append(c)
    return "".join(out)


# Whitespace runs that collapsing changes: every maximal run except a lone " " (it
# starts with a character other than " ", or with " " followed by more whitespace).
_WS_RE = re.compile(r"\s(?:(?<! )|(?=\s))\s*")
_RUN_RE = re.compile(r"[a-z0-9@]*")
_RUN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@")
_LEET_MAP = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"}
_LEET_CHARS = frozenset("0134578@") - {"8"}
_VOWELS = frozenset("aeiou")
# The tokens ``_fold_leet`` can change: whole runs of [a-z0-9@] with a run of one or two
# leet characters strictly between letters (``_fold_leet_token`` changes nothing else).
# The search stops only at such leet characters; the [a-z0-9@] run around them is then
# taken whole.
_LEET_CLASS = "[" + "".join(sorted(_LEET_CHARS)) + "]"
_LEET_INSIDE_RE = re.compile(f"{_LEET_CLASS}(?<=[a-z].){_LEET_CLASS}?(?=[a-z])")
# A number written with letter o for zero ("1o jt", "2oo rb"); starts with a real digit.
# (the look-behind follows the first digit, so ``re`` skips ahead to digits)
_O_IN_NUMBER_RE = re.compile(r"[1-9](?<![a-z0-9.,][1-9])[0-9o]*o[0-9o]*(?![a-z0-9])")
_EMAIL_RE = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
# Letters that count as "real" letters for deciding that a token is a word: o, i and l
# are excluded because they stand for digits in obfuscated phone numbers (O8l2).
_WORD_LETTERS_RE = re.compile(r"[a-hjkmnp-z]")


def _fold_leet_token(tok: str) -> str:
    """Fold leetspeak inside one lower-case token; returns a string of the same length."""
    if len(_WORD_LETTERS_RE.findall(tok)) < 2:
        return tok
    n = len(tok)
    chars = list(tok)
    internal = False
    # First pass: single leet chars (or short runs) strictly between letters.
    i = 0
    while i < n:
        c = tok[i]
        if c in _LEET_CHARS:
            j = i
            while j < n and tok[j] in _LEET_CHARS:
                j += 1
            if j - i <= 2 and i > 0 and j < n and tok[i - 1].isalpha() and tok[j].isalpha():
                for k in range(i, j):
                    chars[k] = _leet_letter(tok, k)
                internal = True
            i = j
        else:
            i += 1
    if internal:
        # Second pass: a trailing or leading leet char next to a letter ("k4mboj4").
        if n >= 2 and tok[-1] in _LEET_CHARS and tok[-2].isalpha():
            chars[-1] = _leet_letter(tok, n - 1)
        if n >= 2 and tok[0] in _LEET_CHARS and tok[1].isalpha():
            chars[0] = _leet_letter(tok, 0)
    return "".join(chars)


def _leet_letter(tok: str, k: int) -> str:
    c = tok[k]
    if c == "1":
        prev = tok[k - 1] if k > 0 else ""
        nxt = tok[k + 1] if k + 1 < len(tok) else ""
        if nxt in _VOWELS and (prev in _VOWELS or nxt in "ie"):
            return "l"
        return "i"
    return _LEET_MAP[c]


def _fold_leet(text: str) -> str:
    """Same-length leetspeak fold over a lower-case text (e-mail addresses untouched)."""
    found = _LEET_INSIDE_RE.search(text)
    if found is None:
        return text
    protected: list[tuple[int, int]] = []
    if "@" in text:
        protected = [m.span() for m in _EMAIL_RE.finditer(text)]
    parts: list[str] = []
    done = 0  # text[:done] is in parts
    while found is not None:
        # the whole [a-z0-9@] run around it (runs are disjoint and visited in order)
        start = found.start()
        while start > 0 and text[start - 1] in _RUN_CHARS:
            start -= 1
        end = _RUN_RE.match(text, found.start()).end()  # type: ignore[union-attr]
        if not any(a <= start < b for a, b in protected):
            tok = text[start:end]
            folded = _fold_leet_token(tok)
            if folded != tok:
                parts.append(text[done:start])
                parts.append(folded)
                done = end
        found = _LEET_INSIDE_RE.search(text, end)
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _fold_non_ascii(text: str) -> tuple[str, list[int] | None]:
    """Step 1 of ``normalize`` for a text with non-ASCII characters.

    Returns ``(folded, offsets)``: ASCII lower-cased, every other character replaced by
    ``fold_char``; offsets as in ``Normalized`` (without the final entry), or None when
    every character folded to exactly one (the identity).
    """
    # One byte per character, "?" for each non-ASCII one: str.find then skips to them.
    marked = text.encode("ascii", "replace")
    lowered = marked.decode("ascii").lower()
    folds: list[tuple[int, str]] = []  # (index, fold_char) of the non-ASCII characters
    i = marked.find(b"?")
    while i >= 0:
        ch = text[i]
        if ch != "?":
            folds.append((i, fold_char(ch)))
        i = marked.find(b"?", i + 1)
    parts: list[str] = []
    pos = 0
    for i, f in folds:
        parts.append(lowered[pos:i])
        parts.append(f)
        pos = i + 1
    parts.append(lowered[pos:])
    folded = "".join(parts)
    if len(folded) == len(text):
        return folded, None
    offsets: list[int] = []
    pos = 0
    for i, f in folds:
        offsets.extend(range(pos, i + 1))
        if len(f) > 1:
            offsets.extend([i] * (len(f) - 1))
        pos = i + 1
    offsets.extend(range(pos, len(text)))
    return folded, offsets


def _collapse_whitespace(folded: str, offsets: list[int] | None
                         ) -> tuple[str, list[int] | None]:
    """Step 3 of ``normalize``: ``_WS_RE`` matches replaced by " ", offsets kept in step
    (``offsets`` None stands for the identity and is returned as is when nothing
    changes)."""
    out_parts: list[str] = []
    out_offs: list[int] = []
    pos = 0
    for m in _WS_RE.finditer(folded):
        s, e = m.span()
        out_parts.append(folded[pos:s])
        out_parts.append(" ")
        if offsets is None:
            out_offs.extend(range(pos, s + 1))
        else:
            out_offs.extend(offsets[pos:s + 1])
        pos = e
    if not out_parts:
        return folded, offsets
    out_parts.append(folded[pos:])
    if offsets is None:
        out_offs.extend(range(pos, len(folded)))
    else:
        out_offs.extend(offsets[pos:])
    return "".join(out_parts), out_offs


def normalize(text: str) -> Normalized:
    """Fold ``text`` for rule matching, keeping a map back to the original offsets.

    text: any string (may be empty, may be megabytes long; runs in linear time).
    Returns ``Normalized(original=text, text=folded, offsets=...)`` where
    ``len(offsets) == len(folded) + 1``, offsets are non-decreasing and
    ``offsets[-1] == len(text)``.
    """
    # 1. Per-character fold (ASCII: lower(); non-ASCII: cached fold_char).
    if text.isascii():
        folded = text.lower()
        offsets: list[int] | None = None  # identity
    else:
        folded, offsets = _fold_non_ascii(text)
    # 2. Leetspeak (same length: offsets unchanged); letter o inside a number ("1o jt").
    folded = _fold_leet(folded)
    if "o" in folded:
        folded = _O_IN_NUMBER_RE.sub(lambda m: m.group().replace("o", "0"), folded)
    # 3. Collapse whitespace runs to one space (and any single non-space whitespace).
    # Nothing to do without "  " nor a whitespace character other than " " (those are
    # all non-printable), which is cheaper to test than to search with _WS_RE.
    if "  " in folded or not folded.isprintable():
        folded, offsets = _collapse_whitespace(folded, offsets)
    if offsets is None:
        offsets = list(range(len(folded)))
    offsets.append(len(text))
    return Normalized(text, folded, offsets)

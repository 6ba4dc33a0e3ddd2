"""Indicator rule engine: YAML rules (one indicator per file) evaluated on a normalised post.

Rules are data (``src/patroli/data/rules/*.yaml``; cue sets under ``_signals/``), in the
spirit of Sigma rules. See ``data/rules/README.md`` for the file format. In short, a rule
has an ``id``, ``kind`` (``indicator`` or ``signal``), titles and explanations (Bahasa
Indonesia first), ``weight``, ``patterns`` (regexes over ``Normalized.text``, the folded
lower-case text), optional ``masks`` (regexes whose matches cancel overlapping pattern
matches, e.g. "tanpa biaya pendaftaran" against "biaya pendaftaran"), optional
``entity`` conditions, optional ``requires`` / ``requires_any`` / ``unless`` (other rule
or signal ids, or cue groups written ``group:<name>``) and a ``scope`` (``offer``: the
flag is only raised for the poster's own offer, so it is suppressed when awareness cues
dominate; ``any``: mechanical, always raised).

Evaluation (``RuleSet.evaluate``):

1. every rule's patterns run as ONE compiled alternation (``re.finditer``, linear in the
   text for the bounded patterns the loader accepts); masks drop overlapping matches;
2. signals are evaluated first; group strengths (``awareness``, ``offer``, ``legit`` ...)
   are the sums of ``weight * min(distinct hits, max_hits)`` of their signals;
3. indicators are evaluated in dependency order; a rule fires when its evidence
   (patterns and/or entity condition, ``match: any|all``) is present and its
   ``requires`` / ``requires_any`` / ``unless`` conditions hold; rules without patterns
   or entity conditions fire on their conditions alone (derived indicators);
4. if awareness dominates (``patroli.analysis.awareness.awareness_dominates``), findings
   of ``scope: offer`` rules are dropped and listed in ``signals["suppressed"]``.

Returns ``(findings, signals)``: findings with evidence spans mapped to the ORIGINAL
text through ``Normalized.offsets`` (as ``Normalized.span`` does); signals a plain dict
(see ``RuleSet.evaluate``).

Errors: ``RuleFormatError`` (a ``ValueError``) names the file and the problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from patroli.analysis.awareness import awareness_dominates
from patroli.analysis.normalize import Normalized
from patroli.types import ENTITY_KINDS, Entity, Finding

__all__ = [
    "Rule",
    "RuleFormatError",
    "RuleSet",
    "default_policy_path",
    "default_rules_dir",
    "default_ruleset",
]

_KINDS = ("indicator", "signal")
_SCOPES = ("offer", "any")
_STATUSES = ("stable", "test", "experimental", "deprecated")
_WHERE_KEYS = {
    "country_code",
    "not_country_code",
    "value_regex",
    "value_not_regex",
    "shortener",
    "policy",
    "data",
    "min_idr_month",
}
# Unbounded quantifier applied to a group that itself contains an unbounded quantifier:
# the classic catastrophic-backtracking shape, rejected at load time.
_NESTED_QUANT = re.compile(r"\((?:[^()\\]|\\.)*[*+](?:[^()\\]|\\.)*\)(?:[*+]|\{\d*,\})")


_LEAD_MAX = 12
# A token's key: the ``\w+`` token and the non-word characters after it, so that the
# cached per-key checks also see how the token ends (``_token_checks``). The keys of a
# text, after its leading non-word characters (``_NON_WORD``), tile it: each key starts
# where the previous one ends.
_KEY = re.compile(r"\w+\W*")
_ASCII_KEY = re.compile(r"\w+\W*", re.ASCII)  # the same keys in an ASCII text, faster
_NON_WORD = re.compile(r"\W*")


def _lead_words(pattern: str) -> frozenset[str] | None:
    """Words one of which must start a token wherever ``pattern`` matches, or None.

    Derived from the parsed regex: the leading literal run of every top-level alternative
    after a word boundary ``\\b``, cut to its first ``\\w`` run and ``_LEAD_MAX``
    characters (an optional leading item, e.g. ``\\b(?:100% )?aman``, adds the words
    of both ways). Every match of such a pattern starts at the start of a ``\\w+`` token
    that begins with one of the words, so the engine tries the regex only there (such
    matches are never empty). None when some alternative starts with a class, a repeat
    that may be taken, a non-word literal or a literal without ``\\b``, or when the
    pattern has capturing groups: the rule then runs over the whole text.
    """
    try:
        import re._parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    c = sre_parse  # local alias
    consts = c._constants if hasattr(c, "_constants") else c  # type: ignore[attr-defined]

    def lead(seq: Any, bounded: bool = False) -> set[str] | None:
        items = list(seq)
        i = 0
        while i < len(items) and items[i][0] is consts.AT:
            bounded = bounded or items[i][1] is consts.AT_BOUNDARY
            i += 1
        if i < len(items) and items[i][0] is consts.LITERAL and not bounded:
            return None  # a literal without a word boundary may start inside a token
        if i >= len(items):
            return None
        op, av = items[i]
        if op is consts.LITERAL:
            chars = []
            for op2, av2 in items[i:]:
                if op2 is not consts.LITERAL:
                    break
                ch = chr(av2)
                if not (ch.isalnum() or ch == "_"):
                    break
                chars.append(ch)
            word = "".join(chars)[:_LEAD_MAX]
            return {word} if word else None
        if op is consts.IN and bounded:  # a class of word characters: each is a lead
            chars = _class_chars(av, consts, max_range=40)
            if chars is None or not all(ch.isalnum() or ch == "_" for ch in chars):
                return None
            return chars
        if op is consts.SUBPATTERN and not av[1] and not av[2]:  # a group without flags
            return lead(list(av[-1]) + items[i + 1:], bounded)
        if op in (consts.MAX_REPEAT, consts.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
            taken = lead(list(av[2]) + items[i + 1:], bounded)
            skipped = lead(items[i + 1:], bounded)
            return None if taken is None or skipped is None else taken | skipped
        if op is consts.BRANCH:
            out: set[str] = set()
            for alt in av[1]:
                got = lead(list(alt) + items[i + 1:], bounded)
                if got is None:
                    return None
                out |= got
            return out
        return None

    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.groups > 1:
            return None  # the engine wraps led patterns in groups of its own
        got = lead(list(parsed))
    except (re.error, ValueError, TypeError, IndexError, AttributeError):  # run the rule always
        return None
    return frozenset(got) if got else None


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # as ``\w`` in a str pattern


# The ASCII characters of ``\d`` and ``\s`` (str patterns). The character sets of
# ``_token_checks`` are only asked about ASCII characters (see ``_check_key``), so these
# stand for the whole classes there.
_ASCII_DIGITS = frozenset("0123456789")
_ASCII_SPACES = frozenset(ch for ch in map(chr, range(128)) if ch.isspace())


def _class_chars(av: Any, consts: Any, max_range: int = 256) -> set[str] | None:
    """The characters of a parsed character class (``re._parser`` ``IN`` items) made of
    literals, ranges of at most ``max_range`` code points, ``\\d`` and ``\\s`` (their
    ASCII ones), else None."""
    out: set[str] = set()
    for op, arg in av:
        if op is consts.LITERAL:
            out.add(chr(arg))
        elif op is consts.RANGE and arg[1] - arg[0] <= max_range:
            out.update(chr(x) for x in range(arg[0], arg[1] + 1))
        elif op is consts.CATEGORY and arg is consts.CATEGORY_DIGIT:
            out |= _ASCII_DIGITS
        elif op is consts.CATEGORY and arg is consts.CATEGORY_SPACE:
            out |= _ASCII_SPACES
        else:
            return None
    return out

# ``(prefix, wholes)``, see ``_token_checks``
_Checks = tuple[re.Pattern[str] | None,
                tuple[tuple[re.Pattern[str], bool, frozenset[str] | None], ...]]


def _token_checks(pattern: str) -> _Checks | None:
    """Cheap conditions on the token key (``_KEY``) where a match of ``pattern`` would start.

    Every alternative of the parsed regex (optional items taken and skipped) is followed
    through its leading items that consume only word characters (literals, word classes,
    and repeats, groups and alternations of those): they match a prefix of the token,
    and the whole token when the next item needs a non-word character (or ``\\b``).
    That item then decides the character after the token, and the first character that
    the items after it may consume (``first``) decides the one after that: in the key
    when its non-word run goes on, else the first character of the next token, known
    only in the text. E.g. ``\\b(?:gaji|salary)\\s`` gives ``(?:gaji|salary)[\\s]``,
    ``\\b\\d\\d?\\s(?:tanda|ciri)`` gives ``[\\d](?:[\\d]){0,1}[\\s]`` then one of ``tc``,
    ``\\bvisa\\b`` gives ``visa(?!\\w)``.

    Returns ``(prefix, wholes)``: ``prefix`` a regex (or None) that matches the key when
    an alternative may go on inside the token; ``wholes`` a tuple of
    ``(regex, consumes, first)`` for the others: ``regex`` matches the token and the
    item after it, which ``consumes`` one character (else it is ``\\b``); ``first`` is
    a frozenset of the characters that may come next (None: any, or none; of ``\\d``
    and ``\\s`` it holds the ASCII ones, so it only decides ASCII characters). Wherever
    ``pattern`` matches at the start of a token, ``_check_key`` holds for its key. None
    when nothing can be ruled out (some alternative may start without a word character,
    flags change matching, or the alternatives are too many).
    """
    try:
        import re._parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    c = sre_parse._constants if hasattr(sre_parse, "_constants") else sre_parse  # type: ignore[attr-defined]
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)

    def word_class(av: Any, word: bool) -> str | None:
        """``[...]`` for a class all of whose characters are (word=True) or are not word
        characters; None otherwise."""
        parts = []
        for op, arg in av:
            if op is c.LITERAL and _is_word(chr(arg)) == word:
                parts.append(re.escape(chr(arg)))
            elif (op is c.RANGE and arg[1] - arg[0] <= 2000
                  and all(_is_word(chr(x)) == word for x in range(arg[0], arg[1] + 1))):
                parts.append(f"{re.escape(chr(arg[0]))}-{re.escape(chr(arg[1]))}")
            elif op is c.CATEGORY and arg is (c.CATEGORY_DIGIT if word else c.CATEGORY_SPACE):
                parts.append(r"\d" if word else r"\s")
            elif op is c.CATEGORY and word and arg is c.CATEGORY_WORD:
                parts.append(r"\w")
            else:
                return None
        return "[" + "".join(parts) + "]"

    def word_only(items: Any) -> str | None:
        """A regex for ``items`` when they can only consume word characters, else None."""
        out = []
        for op, av in items:
            if op is c.LITERAL and _is_word(chr(av)):
                out.append(re.escape(chr(av)))
                continue
            if op is c.IN:
                got = word_class(av, True)
            elif op in repeats:
                body = word_only(av[2])
                hi = "" if av[1] is c.MAXREPEAT else str(av[1])
                got = None if body is None else f"(?:{body}){{{av[0]},{hi}}}"
            elif op is c.SUBPATTERN and not av[1] and not av[2]:
                body = word_only(av[3])
                got = None if body is None else f"(?:{body})"
            elif op is c.BRANCH:
                alts = [word_only(alt) for alt in av[1]]
                got = None if None in alts else "(?:" + "|".join(alts) + ")"  # type: ignore[arg-type]
            else:
                got = None
            if got is None:
                return None
            out.append(got)
        return "".join(out)

    def ends_token(op: Any, av: Any) -> tuple[str, bool] | None:
        """When the item needs a non-word character or ``\\b`` right here:
        ``(regex, consumes)`` for the item at the token's end, which consumes that one
        character (else it is ``\\b``: anything, even the end of the text, may follow).
        None otherwise."""
        if op is c.LITERAL:
            return None if _is_word(chr(av)) else (re.escape(chr(av)), True)
        if op is c.AT:
            return (r"(?!\w)", False) if av is c.AT_BOUNDARY else None
        if op is c.IN:
            got = word_class(av, False)
            return None if got is None else (got, True)
        return None  # (repeats are followed by ``walk``)

    def first(items: list[Any]) -> set[str] | None:
        """The characters one of which ``items`` consume first; None when unknown or when
        they may consume nothing."""
        for i, (op, av) in enumerate(items):
            if op is c.AT:
                continue  # zero-width: skipping it only widens the set
            rest = items[i + 1:]
            if op is c.LITERAL:
                return {chr(av)}
            if op is c.IN:
                return _class_chars(av, c)
            if op is c.SUBPATTERN and not av[1] and not av[2]:
                return first(list(av[3]) + rest)
            if op is c.BRANCH:
                out: set[str] = set()
                for alt in av[1]:
                    got = first(list(alt) + rest)
                    if got is None:
                        return None
                    out |= got
                return out
            if op in repeats:
                got = first(list(av[2]) + rest)
                if got is None or av[0] >= 1:
                    return got
                skipped = first(rest)
                return None if skipped is None else got | skipped
            return None
        return None

    found: list[tuple[str, tuple[str, bool] | None, frozenset[str] | None]] = []

    def walk(items: list[Any], prefix: str) -> None:
        if len(found) > 2000:
            raise ValueError("too many alternatives")
        for i, (op, av) in enumerate(items):
            if op is c.AT and not prefix:
                continue  # zero-width anchors before the token's first character
            got = word_only([(op, av)])
            if got is not None:
                prefix += got
                continue
            rest = items[i + 1:]
            if op is c.SUBPATTERN and not av[1] and not av[2]:
                walk(list(av[3]) + rest, prefix)
            elif op is c.BRANCH:
                for alt in av[1]:
                    walk(list(alt) + rest, prefix)
            elif op in repeats:  # a repeat that may consume non-word characters
                lo, hi, body = av
                if lo == 0:
                    walk(rest, prefix)  # absent
                if hi == 1:
                    walk(list(body) + rest, prefix)  # present once
                elif hi != 0:
                    walk(list(body), prefix)  # its first time; what follows is not followed
            else:
                end = ends_token(op, av)
                if end is not None and op is c.AT and re.fullmatch(prefix, ""):
                    end = None  # ``\b`` right at the token start: no end implied
                after = None
                if end is not None:
                    got = first(rest)  # what may follow the item
                    after = None if got is None else frozenset(got)
                found.append((prefix, end, after))
            return
        found.append((prefix, None, None))

    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & (re.IGNORECASE | re.LOCALE | re.ASCII):
            return None
        walk(list(parsed), "")
        prefix = [p for p, end, _ in dict.fromkeys(found) if end is None]
        if any(re.match(p, "") for p in prefix):
            return None  # some alternative allows any token
        groups: dict[tuple[tuple[str, bool], frozenset[str] | None], list[str]] = {}
        for p, end, after in dict.fromkeys(found):
            if end is not None:
                groups.setdefault((end, after), []).append(p)
        wholes = tuple(
            (re.compile("(?:" + "|".join(f"(?:{p})" for p in ps) + ")" + end[0]), end[1], after)
            for (end, after), ps in groups.items())
        return (re.compile("|".join(f"(?:{p})" for p in prefix)) if prefix else None, wholes)
    except (re.error, ValueError, TypeError, IndexError, AttributeError, RecursionError):
        return None



def _check_key(checks: _Checks, key: str) -> tuple[bool, frozenset[str] | None]:
    """Whether a pattern with ``checks`` (``_token_checks``) may match where the token of
    ``key`` starts, and if so the characters one of which must come right after the key
    in the text (None: no condition).

    The condition is on the text only when the pattern needs a next character that the
    key does not hold: a non-word one was taken right after the token and the key ends
    there (the next token starts, or the text ends). It only decides ASCII characters
    (the sets of ``_token_checks``): a non-ASCII one in the key passes, and the caller
    ignores the condition in a text that is not ASCII.
    """
    prefix, wholes = checks
    if prefix is not None and prefix.match(key):
        return True, None
    ok = False
    need: set[str] = set()
    for regex, consumes, after in wholes:
        m = regex.match(key)
        if m is None:
            continue
        if after is None:
            return True, None
        nxt = key[m.end():m.end() + 1]
        if nxt:
            if nxt in after or not nxt.isascii():
                return True, None
        elif consumes:  # the key ends here: the text decides
            ok = True
            need |= after
        # else ``\b`` at the end of the text, where a next character is needed
    return ok, frozenset(need) if ok else None


def _literal_starts(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which starts every match of ``pattern``, or None.

    Known when every top-level alternative (of the parsed regex) starts, after
    zero-width anchors, with a literal run (its whole run) or a set of literals (one
    string per character); matching is case-sensitive. None otherwise (an empty match,
    a class, a lookaround ...).
    """
    try:
        import re._parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    c = sre_parse._constants if hasattr(sre_parse, "_constants") else sre_parse  # type: ignore[attr-defined]

    def starts(items: list[Any]) -> set[str] | None:
        for i, (op, av) in enumerate(items):
            if op is c.AT:
                continue
            if op is c.LITERAL:
                run = []
                for op2, av2 in items[i:]:
                    if op2 is not c.LITERAL:
                        break
                    run.append(chr(av2))
                return {"".join(run)}
            if op is c.IN and all(op2 is c.LITERAL for op2, _ in av):
                return {chr(av2) for _, av2 in av}
            if op is c.SUBPATTERN and not av[1] and not av[2]:
                return starts(list(av[3]) + items[i + 1:])
            if op is c.BRANCH:
                out: set[str] = set()
                for alt in av[1]:
                    got = starts(list(alt) + items[i + 1:])
                    if got is None:
                        return None
                    out |= got
                return out
            return None
        return None

    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
            return None
        got = starts(list(parsed))
    except (re.error, ValueError, TypeError, IndexError, AttributeError, RecursionError):
        return None
    return tuple(sorted(got)) if got else None


class RuleFormatError(ValueError):
    """A rule file is malformed; the message names the file and the problem."""


@dataclass(slots=True)
class EntityCondition:
    """Entity condition of a rule: an entity of ``kind`` whose value/data satisfy ``where``."""

    kind: str
    where: dict[str, Any] = field(default_factory=dict)
    value_re: re.Pattern[str] | None = None
    value_not_re: re.Pattern[str] | None = None


@dataclass(slots=True)
class Rule:
    """One compiled rule (indicator or signal); see the module docstring for semantics."""

    id: str
    kind: str
    status: str
    title_id: str
    title_en: str
    explanation_id: str
    explanation_en: str
    description: str
    category: str | None
    weight: float
    scope: str
    group: str | None
    max_hits: int
    match_mode: str
    regex: re.Pattern[str] | None
    mask: re.Pattern[str] | None
    leads: frozenset[str] | None
    lead_regex: re.Pattern[str] | None
    lead_patterns: list[tuple[str, frozenset[str]]]
    free_regex: re.Pattern[str] | None
    entity: EntityCondition | None
    places: str | None
    requires: list[str]
    requires_any: list[str]
    unless: list[str]
    examples_match: list[str]
    examples_no_match: list[str]
    sources: list[Any]
    path: str
    raw: dict[str, Any]


def default_rules_dir() -> Path:
    """Directory of the bundled rules (``patroli/data/rules``)."""
    return Path(str(resources.files("patroli") / "data" / "rules"))


def default_policy_path() -> Path:
    """Path of the bundled destination policy (``patroli/data/policy/destinations.yaml``)."""
    return Path(str(resources.files("patroli") / "data" / "policy" / "destinations.yaml"))


def _text(d: Any, key: str, path: str, *, required: bool = True) -> str:
    v = d.get(key) if isinstance(d, dict) else None
    if v is None:
        if required:
            raise RuleFormatError(f"{path}: missing field {key!r}")
        return ""
    if not isinstance(v, str):
        raise RuleFormatError(f"{path}: field {key!r} must be a string")
    return v


def _bilingual(d: dict[str, Any], key: str, path: str, required: bool) -> tuple[str, str]:
    v = d.get(key)
    if v is None:
        if required:
            raise RuleFormatError(f"{path}: missing field {key!r} (mapping with 'id' and 'en')")
        return "", ""
    if not isinstance(v, dict) or not isinstance(v.get("id"), str) or not isinstance(
        v.get("en"), str
    ):
        raise RuleFormatError(f"{path}: field {key!r} must be a mapping with 'id' and 'en' texts")
    return v["id"].strip(), v["en"].strip()


def _str_list(d: dict[str, Any], key: str, path: str) -> list[str]:
    v = d.get(key, [])
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise RuleFormatError(f"{path}: field {key!r} must be a list of strings")
    return list(v)


def _compile(patterns: list[str], path: str, what: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    for p in patterns:
        if _NESTED_QUANT.search(p):
            raise RuleFormatError(
                f"{path}: {what} {p!r} nests unbounded quantifiers (catastrophic backtracking)"
            )
        try:
            re.compile(p)
        except re.error as exc:
            raise RuleFormatError(f"{path}: {what} {p!r} is not a valid regex: {exc}") from None
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _load_policy(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFormatError(f"{path}: cannot read destination policy: {exc}") from None
    if not isinstance(data, dict):
        raise RuleFormatError(f"{path}: destination policy must be a mapping")
    return data


def _policy_places(policy: dict[str, Any]) -> dict[str, tuple[set[str], list[str]]]:
    """policy list name -> (ISO codes, place-name aliases) for ``places:`` signals."""
    out: dict[str, tuple[set[str], list[str]]] = {}
    for list_name in ("moratorium", "scam_hubs"):
        entries = policy.get(list_name) or []
        codes: set[str] = set()
        names: list[str] = []
        for e in entries:
            if not isinstance(e, dict):
                continue
            if e.get("iso"):
                codes.add(str(e["iso"]).upper())
            for n in e.get("names", []) or []:
                names.append(str(n).lower())
            for n in e.get("places", []) or []:
                names.append(str(n).lower())
        out[list_name] = (codes, names)
    return out


def _parse_rule(data: Any, path: str, places: dict[str, tuple[set[str], list[str]]]) -> Rule:
    if not isinstance(data, dict):
        raise RuleFormatError(f"{path}: a rule file must hold one YAML mapping")
    rid = _text(data, "id", path)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", rid):
        raise RuleFormatError(f"{path}: id {rid!r} must be snake_case")
    kind = data.get("kind", "indicator")
    if kind not in _KINDS:
        raise RuleFormatError(f"{path}: kind {kind!r} must be one of {_KINDS}")
    status = data.get("status", "stable")
    if status not in _STATUSES:
        raise RuleFormatError(f"{path}: status {status!r} must be one of {_STATUSES}")
    is_ind = kind == "indicator"
    title_id, title_en = _bilingual(data, "title", path, True)
    expl_id, expl_en = _bilingual(data, "explanation", path, is_ind)
    weight = data.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
        raise RuleFormatError(f"{path}: weight must be a non-negative number")
    scope = data.get("scope", "offer")
    if scope not in _SCOPES:
        raise RuleFormatError(f"{path}: scope {scope!r} must be one of {_SCOPES}")
    match_mode = data.get("match", "any")
    if match_mode not in ("any", "all"):
        raise RuleFormatError(f"{path}: match {match_mode!r} must be 'any' or 'all'")
    patterns = _str_list(data, "patterns", path)
    masks = _str_list(data, "masks", path)
    place_list = data.get("places")
    if place_list is not None:
        if place_list not in places:
            raise RuleFormatError(f"{path}: places {place_list!r} must be one of {sorted(places)}")
        patterns = patterns + [
            r"\b" + re.escape(n) + r"\b" for n in sorted(set(places[place_list][1]))
        ]
    regex = _compile(patterns, path, "pattern")
    mask = _compile(masks, path, "mask")
    # Patterns whose matches start at known words run only where those words start a
    # token (fast); the others scan the whole text.
    lead_parts = [(p, _lead_words(p)) for p in patterns]
    led = [(p, w) for p, w in lead_parts if w is not None]
    leads = frozenset().union(*(w for _, w in led)) if led else None
    lead_regex = _compile([p for p, _ in led], path, "pattern")
    free_regex = _compile([p for p, w in lead_parts if w is None], path, "pattern")
    ent: EntityCondition | None = None
    if data.get("entity") is not None:
        e = data["entity"]
        if not isinstance(e, dict) or e.get("kind") not in ENTITY_KINDS:
            raise RuleFormatError(f"{path}: entity.kind must be one of {ENTITY_KINDS}")
        where = e.get("where") or {}
        if not isinstance(where, dict) or not set(where) <= _WHERE_KEYS:
            raise RuleFormatError(
                f"{path}: entity.where keys must be among {sorted(_WHERE_KEYS)}"
            )
        if "policy" in where and where["policy"] not in places:
            raise RuleFormatError(f"{path}: entity.where.policy must be one of {sorted(places)}")
        try:
            vre = re.compile(where["value_regex"]) if "value_regex" in where else None
            vnre = re.compile(where["value_not_regex"]) if "value_not_regex" in where else None
        except re.error as exc:
            raise RuleFormatError(f"{path}: entity value regex invalid: {exc}") from None
        ent = EntityCondition(kind=e["kind"], where=where, value_re=vre, value_not_re=vnre)
    requires = _str_list(data, "requires", path)
    requires_any = _str_list(data, "requires_any", path)
    unless = _str_list(data, "unless", path)
    needs = data.get("needs")
    if needs not in (None, "verifier"):
        raise RuleFormatError(f"{path}: needs {needs!r} must be 'verifier' when given")
    if is_ind and regex is None and ent is None and not (requires or requires_any) and not needs:
        raise RuleFormatError(f"{path}: an indicator needs patterns, an entity or requires")
    if not is_ind and regex is None and ent is None:
        raise RuleFormatError(f"{path}: a signal needs patterns, places or an entity")
    examples = data.get("examples") or {}
    if not isinstance(examples, dict):
        raise RuleFormatError(f"{path}: examples must be a mapping with match / no_match lists")
    ex_m = _str_list(examples, "match", path)
    ex_n = _str_list(examples, "no_match", path)
    if is_ind and status != "deprecated" and (not ex_m or not ex_n):
        raise RuleFormatError(f"{path}: an indicator needs examples.match and examples.no_match")
    sources = data.get("sources") or []
    if is_ind and not sources:
        raise RuleFormatError(f"{path}: an indicator needs at least one entry in sources")
    max_hits = data.get("max_hits", 3)
    if not isinstance(max_hits, int) or max_hits < 1:
        raise RuleFormatError(f"{path}: max_hits must be a positive integer")
    return Rule(
        id=rid,
        kind=kind,
        status=status,
        title_id=title_id,
        title_en=title_en,
        explanation_id=expl_id,
        explanation_en=expl_en,
        description=str(data.get("description", "")).strip(),
        category=data.get("category"),
        weight=float(weight),
        scope=scope,
        group=data.get("group"),
        max_hits=max_hits,
        match_mode=match_mode,
        regex=regex,
        mask=mask,
        leads=leads,
        lead_regex=lead_regex,
        lead_patterns=led,  # type: ignore[arg-type]
        free_regex=free_regex,
        entity=ent,
        places=place_list,
        requires=requires,
        requires_any=requires_any,
        unless=unless,
        examples_match=ex_m,
        examples_no_match=ex_n,
        sources=list(sources),
        path=path,
        raw=data,
    )


def _host(url: str) -> str:
    u = url.split("://", 1)[-1]
    return u.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].lower().removeprefix("www.")


class _Step(NamedTuple):
    """How ``RuleSet.evaluate`` evaluates one rule (``RuleSet._plan``)."""

    rule: Rule
    conds: _Conditions | None  # ``_conditions``
    free_regex: re.Pattern[str] | None  # its patterns without lead words
    free_starts: tuple[str, ...] | None  # their ``_literal_starts``
    mask: re.Pattern[str] | None
    mask_index: int | None  # index of the mask's lead-word matches; None: run the mask
    entity: EntityCondition | None
    needs_evidence: bool  # it has patterns or an entity condition
    match_all: bool  # ``match: all``
    has_patterns: bool  # ``rule.regex is not None``
    rule_id: str
    signal: bool  # ``rule.kind == "signal"``
    group: str | None  # ``rule.group``
    weight: float  # ``rule.weight``
    max_hits: int  # ``rule.max_hits``
    offer: bool  # ``rule.scope == "offer"``
    # the ``Finding`` fields after ``spans``: explanation_id, explanation_en, category,
    # title_id, title_en
    texts: tuple[str, str, str | None, str, str]


# A token's probe (``RuleSet._probe_for_token``): (bound ``Pattern.match``, indices, the
# characters one of which must follow the key or None) or ().
_Probe = tuple[Any, ...]


class RuleSet:
    """A loaded, compiled set of rules.

    Attributes: ``rules`` (all rules, signals first then indicators in dependency order),
    ``version`` ("rules-" + 12 hex of SHA-256 over the sorted rule files and the policy),
    ``policy`` (the destination policy mapping), ``shorteners`` (set of shortener hosts).
    """

    def __init__(self, rules: list[Rule], version: str, policy: dict[str, Any],
                 shorteners: set[str], money_conf: dict[str, float] | None = None) -> None:
        self.rules = rules
        self.money_conf = money_conf or {}
        self.version = version
        self.policy = policy
        self.shorteners = shorteners
        self._places = _policy_places(policy)
        self.indicators = [r for r in rules if r.kind == "indicator"]
        self.signals = [r for r in rules if r.kind == "signal"]
        self.by_id = {r.id: r for r in rules}
        # Lead words (see ``_lead_words``): a pattern with lead words is tried only where
        # a token begins with one of them and passes the pattern's token checks
        # (``_token_checks``). Such patterns are grouped by index: ``i`` for the led
        # patterns of ``rules[i]``, ``len(rules) + i`` for its masks when every mask
        # pattern has lead words. ``_led`` holds each index's ``(pattern, token checks)``
        # in rule-file order; ``_lead_index`` maps each lead word to the
        # ``(index, pattern number)`` pairs with it.
        n = len(rules)
        self._led: dict[int, list[tuple[str, _Checks | None]]] = {}
        self._lead_index: dict[str, list[tuple[int, int]]] = {}
        mask_led: set[int] = set()
        for i, r in enumerate(rules):
            if r.lead_patterns:
                self._index_leads(i, r.lead_patterns)
            masks = r.raw.get("masks") if r.mask is not None else None
            if isinstance(masks, str):
                masks = [masks]
            mask_parts = [(p, _lead_words(p)) for p in masks or ()]
            if mask_parts and all(w is not None for _, w in mask_parts):
                mask_led.add(i)
                self._index_leads(n + i, mask_parts)  # type: ignore[arg-type]
        self._lead_lengths = sorted({len(w) for w in self._lead_index})
        # token -> its probe (``_probe_for_token``); compiled probes by their patterns
        # (finitely many: sets of led patterns that a token's prefixes select)
        self._token_probes: dict[str, _Probe] = {}
        self._probes: dict[tuple[tuple[int, tuple[int, ...]], ...], Any] = {}
        # Evaluation plan, by rule index (None for the rules raised by the verifier,
        # ``needs: verifier``, and for the mask indices): see ``_Step``.
        self._plan: list[_Step | None] = [None] * (2 * n)
        for i, r in enumerate(rules):
            if r.raw.get("needs") != "verifier":
                self._plan[i] = _Step(
                    r, _conditions(r), r.free_regex,
                    _literal_starts(r.free_regex.pattern) if r.free_regex else None,
                    r.mask, n + i if i in mask_led else None, r.entity,
                    r.regex is not None or r.entity is not None, r.match_mode == "all",
                    r.regex is not None, r.id, r.kind == "signal", r.group, r.weight,
                    r.max_hits, r.scope == "offer",
                    (r.explanation_id, r.explanation_en, r.category, r.title_id, r.title_en))
        # The strings one of which starts every match of every free regex (None: unknown).
        starts = [step.free_starts for step in self._plan
                  if step is not None and step.free_regex is not None]
        self._free_starts: tuple[str, ...] | None = (
            None if None in starts else tuple(sorted(set().union(*starts))))
        # Rules evaluated on every post (patterns without lead words, or no evidence
        # needed), and the rules by the entity kind of their entity condition; other
        # rules need a lead-word match to fire.
        self._always = frozenset(i for i, step in enumerate(self._plan) if step is not None
                                 and (step.free_regex is not None or not step.needs_evidence))
        self._by_entity_kind: dict[str, frozenset[int]] = {}
        for i, step in enumerate(self._plan):
            if step is not None and step.entity is not None:
                kind = step.entity.kind
                self._by_entity_kind[kind] = self._by_entity_kind.get(kind, frozenset()) | {i}

    def _index_leads(self, index: int, parts: list[tuple[str, frozenset[str]]]) -> None:
        """Index the led patterns ``parts`` (``(pattern, its lead words)``) under ``index``."""
        led = self._led.setdefault(index, [])
        for pattern, leads in parts:
            for w in leads:
                self._lead_index.setdefault(w, []).append((index, len(led)))
            led.append((pattern, _token_checks(pattern)))

    def indicator_ids(self) -> list[str]:
        """Ids of the indicator rules (red flags), in evaluation order."""
        return [r.id for r in self.indicators]

    def _probe_for_token(self, key: str) -> _Probe:
        """The probe of a token's ``key`` (the token and the non-word characters after
        it, see ``_KEY``): ``(match, indices, need)``, or ``()`` when no led pattern (see
        ``_led``) may match where that token starts.

        ``indices`` are the indices with such patterns, ascending; ``match`` is the bound
        ``Pattern.match`` of one regex whose group ``k`` (from 1) captures the match of
        ``indices[k-1]``'s patterns there: the alternation of those that may match at this
        token, in their original order, which matches as the index's full alternation
        would (the others cannot match there). With one index that is the regex; with
        more, each index has an optional lookahead, and a final condition fails the regex
        when none of them matched, so ``match`` gives None when no index matches.
        ``need``: None, or the characters one of which must follow the key in an
        ASCII text for any of those patterns to match (``_check_key``). Cached per key; the
        cache is cleared when it outgrows 200,000 keys.
        """
        parts: set[tuple[int, int]] = set()
        head = key[:_LEAD_MAX]  # lead words are word characters: none goes past the token
        for n in self._lead_lengths:
            if n > len(head):
                break
            parts.update(self._lead_index.get(head[:n], ()))
        chosen: dict[int, list[int]] = {}
        need: set[str] | None = set()  # the characters one of which must follow the key
        for index, k in sorted(parts):
            checks = self._led[index][k][1]
            after = None
            if checks is not None:
                ok, after = _check_key(checks, key)
                if not ok:
                    continue  # the pattern cannot match where this token starts
            chosen.setdefault(index, []).append(k)
            need = None if need is None or after is None else need | after
        probe: _Probe = ()
        if chosen:
            which = tuple((index, tuple(ks)) for index, ks in chosen.items())
            match = self._probes.get(which)
            if match is None:
                alts = ["|".join(f"(?:{self._led[index][k][0]})" for k in ks) for index, ks in which]
                if len(alts) == 1:
                    regex = f"({alts[0]})"
                else:  # (?(1)|(?(2)|...(?!))): fail unless some group matched
                    regex = ("".join(f"(?:(?=({alt}))|)" for alt in alts)
                             + "".join(f"(?({g})|" for g in range(1, len(alts) + 1))
                             + "(?!)" + ")" * len(alts))
                match = self._probes[which] = re.compile(regex).match
            probe = (match, tuple(chosen), None if need is None else frozenset(need))
        if len(self._token_probes) > 200_000:  # bound the cache on endless vocabularies
            self._token_probes.clear()
        self._token_probes[key] = probe
        return probe

    def _lead_matches(self, text: str) -> dict[int, list[tuple[int, int, str]]]:
        """Matches of the led patterns (see ``_led``) in ``text``.

        Returns index -> ``[(start, end, matched text), ...]``, for the indices with a
        match: the matches ``re.finditer`` would give for the alternation of the index's
        led patterns. They are tried at the starts of the ``\\w+`` tokens where they
        may match, with one ``Pattern.match`` per token (``_probe_for_token``), leftmost
        first; a match starting inside the index's last match is dropped. The probe sees
        the text before the token, so ``\\b`` holds. Such matches are never empty (they
        begin with a lead word). Probes are cached by the token's key (``_KEY``), whose
        characters after the token rule out the patterns that need others there. The keys
        tile the text, so each token's start is the sum of the lengths before it.
        """
        found: dict[int, list[tuple[int, int, str]]] = {}
        cache = self._token_probes
        get = cache.get
        ascii_text = text.isascii()  # the probes' ``need`` only decides ASCII characters
        after = _NON_WORD.match(text).end()  # type: ignore[union-attr]
        for key in (_ASCII_KEY if ascii_text else _KEY).findall(text):
            start = after
            after += len(key)
            probe = get(key)
            if probe is None:
                probe = self._probe_for_token(key)
            if not probe:
                continue
            match, indices, need = probe
            if need is not None and ascii_text and text[after:after + 1] not in need:
                continue  # the character after the key rules out every pattern
            m = match(text, start)
            if m is None:
                continue  # no index matches here
            for index, got in zip(indices, m.groups()):
                if got is not None:
                    hits = found.get(index)
                    if hits is None:
                        found[index] = [(start, start + len(got), got)]
                    elif start >= hits[-1][1]:
                        hits.append((start, start + len(got), got))
        return found

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, directory: str | Path, policy_path: str | Path | None = None) -> RuleSet:
        """Load every ``*.yaml`` under ``directory`` (recursively; ``_lists/`` holds lists).

        policy_path: destination policy YAML (default: the bundled one).
        Raises ``RuleFormatError`` naming the file and the problem (bad YAML, missing
        field, invalid regex, duplicate id, unknown or cyclic reference).
        """
        root = Path(directory)
        if not root.is_dir():
            raise RuleFormatError(f"{root}: not a directory of rule files")
        ppath = Path(policy_path) if policy_path else default_policy_path()
        policy = _load_policy(ppath)
        places = _policy_places(policy)
        h = hashlib.sha256()
        files = sorted(p for p in root.rglob("*.yaml") if p.is_file())
        rules: list[Rule] = []
        shorteners: set[str] = set()
        money_conf: dict[str, float] = {}
        for p in files:
            rel = p.relative_to(root).as_posix()
            raw = p.read_bytes()
            h.update(rel.encode() + b"\x00" + raw + b"\x00")
            try:
                data = yaml.safe_load(raw.decode("utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise RuleFormatError(f"{p}: invalid YAML: {exc}") from None
            if rel.startswith("_lists/"):
                if not isinstance(data, dict) or not isinstance(data.get("shorteners", []), list):
                    raise RuleFormatError(f"{p}: a list file must be a mapping of lists")
                shorteners |= {str(s).lower() for s in data.get("shorteners", [])}
                rates = data.get("idr_per_unit") or {}
                if not isinstance(rates, dict):
                    raise RuleFormatError(f"{p}: idr_per_unit must map currency codes to numbers")
                money_conf.update({str(k).upper(): float(v) for k, v in rates.items()})
                for key in ("hours_per_month", "days_per_month", "weeks_per_month"):
                    if key in data:
                        money_conf["_" + key] = float(data[key])
                continue
            rules.append(_parse_rule(data, str(p), places))
        h.update(b"policy\x00" + ppath.read_bytes())
        if not rules:
            raise RuleFormatError(f"{root}: no rule files (*.yaml) found")
        ids: dict[str, str] = {}
        for r in rules:
            if r.id in ids:
                raise RuleFormatError(f"{r.path}: duplicate id {r.id!r} (also in {ids[r.id]})")
            ids[r.id] = r.path
        groups = {r.group for r in rules if r.group}
        for r in rules:
            for ref in r.requires + r.requires_any + r.unless:
                if ref.startswith("group:"):
                    if ref[6:] not in groups:
                        raise RuleFormatError(f"{r.path}: unknown cue group {ref!r}")
                elif ref not in ids:
                    raise RuleFormatError(f"{r.path}: unknown rule or signal id {ref!r}")
        ordered = cls._order(rules)
        return cls(ordered, "rules-" + h.hexdigest()[:12], policy, shorteners, money_conf)

    @staticmethod
    def _order(rules: list[Rule]) -> list[Rule]:
        by_id = {r.id: r for r in rules}
        done: dict[str, int] = {}
        out: list[Rule] = []

        def visit(r: Rule, stack: tuple[str, ...]) -> None:
            if done.get(r.id) == 2:
                return
            if done.get(r.id) == 1:
                raise RuleFormatError(f"{r.path}: cyclic reference {' -> '.join(stack + (r.id,))}")
            done[r.id] = 1
            for ref in r.requires + r.requires_any + r.unless:
                if ref.startswith("group:"):
                    for g in rules:
                        if g.group == ref[6:] and g.id != r.id:
                            visit(g, stack + (r.id,))
                else:
                    visit(by_id[ref], stack + (r.id,))
            done[r.id] = 2
            out.append(r)

        for r in sorted(rules, key=lambda r: (r.kind != "signal", r.id)):
            visit(r, ())
        return out

    # --------------------------------------------------------------- evaluation
    def _entity_ok(self, cond: EntityCondition, e: Entity) -> bool:
        if e.kind != cond.kind:
            return False
        w = cond.where
        v = e.value or ""
        if "country_code" in w and not v.startswith("+" + str(w["country_code"])):
            return False
        if "not_country_code" in w and (not v.startswith("+") or v.startswith(
                "+" + str(w["not_country_code"]))):
            return False
        if cond.value_re is not None and not cond.value_re.search(v):
            return False
        if cond.value_not_re is not None and cond.value_not_re.search(v):
            return False
        if "shortener" in w:
            is_short = bool(e.data.get("shortener")) or _host(v) in self.shorteners
            if is_short != bool(w["shortener"]):
                return False
        if "policy" in w:
            codes = self._places[w["policy"]][0]
            code = (e.data.get("country") if e.kind == "city" else v) or ""
            if str(code).upper() not in codes:
                return False
        if "min_idr_month" in w:
            monthly = self.idr_per_month(e)
            if monthly is None or monthly < float(w["min_idr_month"]):
                return False
        if "data" in w:
            for k, want in (w["data"] or {}).items():
                if e.data.get(k) != want:
                    return False
        return True

    def idr_per_month(self, e: Entity) -> float | None:
        """Monthly rupiah equivalent of a money entity (None when unknown or one-off).

        Uses ``data["amount"]``, ``data["currency"]`` (ISO 4217) and ``data["period"]``
        (hour/day/week/month/year) with the rates in ``_lists/*.yaml`` (approximate, dated).
        """
        d = e.data or {}
        try:
            amount = float(d.get("amount"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        rate = self.money_conf.get(str(d.get("currency", "")).upper())
        period = d.get("period")
        if rate is None or period is None:
            return None
        factor = {
            "hour": self.money_conf.get("_hours_per_month", 173.0),
            "day": self.money_conf.get("_days_per_month", 26.0),
            "week": self.money_conf.get("_weeks_per_month", 4.33),
            "month": 1.0,
            "year": 1.0 / 12.0,
        }.get(str(period))
        if factor is None:
            return None
        return amount * rate * factor

    def evaluate(self, norm: Normalized, entities: Iterable[Entity]
                 ) -> tuple[list[Finding], dict[str, Any]]:
        """Evaluate all rules on one normalised post.

        norm: ``normalize(post.text)``; entities: ``extract_entities(post.text, norm)``.
        Returns ``(findings, signals)``:
        findings: one ``Finding`` per fired indicator (rule order), spans in the original
        text; signals: ``{"cues": {signal_id: distinct hits}, "groups": {group: strength},
        "awareness": float, "offer": float, "legit": float, "awareness_dominates": bool,
        "suppressed": [indicator ids dropped as described-not-offered],
        "fired": [all fired rule ids before suppression]}``.
        """
        text = norm.text
        offsets = norm.offsets
        found = self._lead_matches(text)
        by_kind: dict[str, list[Entity]] = {}
        for e in entities:
            if e.kind in by_kind:
                by_kind[e.kind].append(e)
            else:
                by_kind[e.kind] = [e]
        # The rules with some evidence (a lead-word match, a free pattern, an entity of
        # their kind) or needing none, in rule order; the others cannot fire.
        candidates = set(found)
        candidates |= self._always
        for kind in by_kind:
            if kind in self._by_entity_kind:
                candidates |= self._by_entity_kind[kind]

        # False when no free regex can match (none of their first strings occurs)
        free_possible = self._free_starts is None or any(s in text for s in self._free_starts)
        fired: dict[str, None] = {}  # ordered set of fired rule ids
        cues: dict[str, int] = {}
        groups: dict[str, float] = {}
        findings: list[Finding] = []
        suppressible: list[str] = []
        plan = self._plan
        for index in sorted(candidates):
            step = plan[index]
            if step is None:
                continue  # a mask's matches, or a rule raised by the verifier
            (_, conds, free_regex, free_starts, mask, mask_index, cond, needs_evidence,
             match_all, has_patterns, rule_id, signal, group, weight, max_hits, offer,
             texts) = step
            if conds is not None and not _conditions_hold(conds, fired, groups):
                continue
            hits = found.get(index)  # None when there are none
            if free_regex is not None and free_possible:
                hits = _with_free_matches(hits or [], free_regex, free_starts, text)
            kind_ents = by_kind.get(cond.kind) if cond is not None else None
            if needs_evidence and not hits and not kind_ents:
                continue
            if hits and mask is not None:
                if mask_index is None:
                    masks = [m.span() for m in mask.finditer(text)]
                else:
                    masks = found.get(mask_index)
                if masks:
                    hits = _unmasked(hits, masks)
            ent_spans = ([e.span for e in kind_ents if self._entity_ok(cond, e)]  # type: ignore[arg-type]
                         if kind_ents else ())
            if needs_evidence:
                if match_all:
                    ok = (not has_patterns or bool(hits)) and (cond is None or bool(ent_spans))
                else:
                    ok = bool(hits) or bool(ent_spans)
                if not ok:
                    continue
            fired[rule_id] = None
            if signal:
                n = len(ent_spans)  # distinct hits: matched texts and entities
                if hits:
                    n += 1 if len(hits) == 1 else len({h[2].strip() for h in hits})
                n = n or 1
                cues[rule_id] = n
                if group:
                    groups[group] = groups.get(group, 0.0) + weight * min(n, max_hits)
                continue
            if offer:
                suppressible.append(rule_id)
            # hits are never empty, so Normalized.span(s, e) is (offsets[s], offsets[e-1]+1)
            spans = [(offsets[s], offsets[e - 1] + 1) for s, e, _ in hits] if hits else []
            if ent_spans:
                spans += [tuple(s) for s in ent_spans]
            if len(spans) > 1:
                spans = sorted(set(spans))[:20]
            # positional (indicator, weight, spans, *texts): faster than keywords
            findings.append(Finding(rule_id, weight, spans, *texts))
        a = groups.get("awareness", 0.0)
        o = groups.get("offer", 0.0)
        dominated = awareness_dominates(a, o, groups.get("legit", 0.0))
        suppressed: list[str] = []
        if dominated:
            suppressed = [f.indicator for f in findings if f.indicator in suppressible]
            findings = [f for f in findings if f.indicator not in suppressible]
        signals: dict[str, Any] = {
            "cues": cues,
            "groups": groups,
            "awareness": a,
            "offer": o,
            "legit": groups.get("legit", 0.0),
            "awareness_dominates": dominated,
            "suppressed": suppressed,
            "fired": list(fired),
        }
        return findings, signals




_Conditions = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...],
                    tuple[str, ...], tuple[str, ...]]


def _conditions(rule: Rule) -> _Conditions | None:
    """A rule's ``requires`` / ``requires_any`` / ``unless``, each split into rule ids and
    cue groups (``group:<name>`` without the prefix); None when it has none."""
    if not (rule.requires or rule.requires_any or rule.unless):
        return None
    out: list[tuple[str, ...]] = []
    for refs in (rule.requires, rule.requires_any, rule.unless):
        out.append(tuple(r for r in refs if not r.startswith("group:")))
        out.append(tuple(r[6:] for r in refs if r.startswith("group:")))
    return tuple(out)  # type: ignore[return-value]


def _conditions_hold(conds: _Conditions, fired: dict[str, None],
                     groups: dict[str, float]) -> bool:
    """True when every ``requires``, one ``requires_any`` (if any) and no ``unless``
    reference holds: a rule id holds when it fired, a group when its strength is > 0."""
    req, req_groups, any_, any_groups, unless, unless_groups = conds
    for r in req:
        if r not in fired:
            return False
    for g in req_groups:
        if not groups.get(g, 0.0) > 0.0:
            return False
    for r in unless:
        if r in fired:
            return False
    for g in unless_groups:
        if groups.get(g, 0.0) > 0.0:
            return False
    if not (any_ or any_groups):
        return True
    for r in any_:
        if r in fired:
            return True
    return any(groups.get(g, 0.0) > 0.0 for g in any_groups)


def _with_free_matches(hits: list[tuple[int, int, str]], free_regex: re.Pattern[str],
                       starts: tuple[str, ...] | None, text: str
                       ) -> list[tuple[int, int, str]]:
    """Lead-word matches merged with the (non-empty) matches of the rule's other
    patterns, leftmost-longest first, dropping overlaps (as one finditer).

    starts: strings one of which starts every match of ``free_regex``
    (``_literal_starts``), or None when unknown.
    """
    if starts is not None:
        for start in starts:
            if start in text:
                break
        else:
            return hits  # the common case: no match can start anywhere
    if free_regex.search(text) is None:
        return hits
    free = [(m.start(), m.end(), m[0]) for m in free_regex.finditer(text)
            if m.end() > m.start()]
    if not hits:
        return free
    merged: list[tuple[int, int, str]] = []
    for h in sorted(hits + free, key=lambda h: (h[0], -h[1])):
        if not merged or h[0] >= merged[-1][1]:
            merged.append(h)
    return merged


def _unmasked(hits: list[tuple[int, int, str]], masks: list[tuple[int, int]] | list[
        tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The hits that share no character with a mask match.

    Both lists are ascending and non-overlapping (as from ``re.finditer``), so one merge
    pass decides each hit against the first mask that ends after its start (linear).
    """
    out: list[tuple[int, int, str]] = []
    j = 0
    n = len(masks)
    for h in hits:
        start = h[0]
        while j < n and masks[j][1] <= start:
            j += 1
        if j == n or masks[j][0] >= h[1]:
            out.append(h)
    return out


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The bundled rule set, loaded and compiled once per process."""
    return RuleSet.load(default_rules_dir())

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
text through ``Normalized.span``; signals a plain dict (see ``RuleSet.evaluate``).

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
from typing import Any

import yaml

from patroli.analysis.awareness import awareness_dominates
from patroli.analysis.normalize import Normalized
from patroli.analysis.spans import SpanIndex
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
_TOKEN = re.compile(r"\w+")


def _lead_words(pattern: str) -> frozenset[str] | None:
    """Words one of which must start a token wherever ``pattern`` matches, or None.

    Derived from the parsed regex: the leading literal run of every top-level alternative
    after a word boundary ``\\b``, cut to its first ``\\w`` run and ``_LEAD_MAX``
    characters. Every match of such a pattern starts at the start of a ``\\w+`` token
    that begins with one of the words, so the engine tries the regex only there. None
    when some alternative starts with a class, a repeat, a non-word literal or a literal
    without ``\\b``: the rule then runs over the whole text.
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
            chars: set[str] = set()
            for op2, av2 in av:
                if op2 is consts.LITERAL:
                    chars.add(chr(av2))
                elif op2 is consts.RANGE and av2[1] - av2[0] <= 40:
                    chars.update(chr(c) for c in range(av2[0], av2[1] + 1))
                elif op2 is consts.CATEGORY and av2 is consts.CATEGORY_DIGIT:
                    chars.update("0123456789")
                else:
                    return None
            return chars if all(ch.isalnum() or ch == "_" for ch in chars) else None
        if op is consts.SUBPATTERN:
            return lead(av[-1], bounded)
        if op is consts.BRANCH:
            out: set[str] = set()
            for alt in av[1]:
                got = lead(alt, bounded)
                if got is None:
                    return None
                out |= got
            return out
        return None

    try:
        got = lead(sre_parse.parse(pattern))
    except (re.error, ValueError, TypeError, IndexError, AttributeError):  # run the rule always
        return None
    return frozenset(got) if got else None


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
        # lead word -> indices of the rules whose matches start with it (see _lead_words)
        self._lead_index: dict[str, list[int]] = {}
        for i, r in enumerate(rules):
            for w in r.leads or ():
                self._lead_index.setdefault(w, []).append(i)
        # masks whose every pattern starts at lead words: their starts are indexed under
        # ``len(rules) + i`` and the mask is tried only there (see ``_mask_spans``)
        self._mask_led = [False] * len(rules)
        for i, r in enumerate(rules):
            masks = r.raw.get("masks") if r.mask is not None else None
            if isinstance(masks, str):
                masks = [masks]
            if not masks:
                continue
            mask_leads = [_lead_words(p) for p in masks]
            if any(w is None for w in mask_leads):
                continue
            self._mask_led[i] = True
            for w in frozenset().union(*mask_leads):
                self._lead_index.setdefault(w, []).append(len(rules) + i)
        self._lead_lengths = sorted({len(w) for w in self._lead_index})
        self._token_rules: dict[str, tuple[int, ...]] = {}
        # per rule: raised by the verifier only; has evidence (patterns or an entity)
        self._by_verifier = [r.raw.get("needs") == "verifier" for r in rules]
        self._has_evidence = [r.regex is not None or r.entity is not None for r in rules]

    def indicator_ids(self) -> list[str]:
        """Ids of the indicator rules (red flags), in evaluation order."""
        return [r.id for r in self.indicators]

    def _rules_for_token(self, token: str) -> tuple[int, ...]:
        """Indices of the rules one of whose lead words is a prefix of ``token`` (cached)."""
        got = self._token_rules.get(token)
        if got is None:
            found: set[int] = set()
            for n in self._lead_lengths:
                if n > len(token):
                    break
                found.update(self._lead_index.get(token[:n], ()))
            got = tuple(sorted(found))
            if len(self._token_rules) > 200_000:  # bound the cache on endless vocabularies
                self._token_rules.clear()
            self._token_rules[token] = got
        return got

    def _start_positions(self, text: str) -> dict[int, list[int]]:
        """Rule index -> ascending token-start offsets where that rule may match."""
        positions: dict[int, list[int]] = {}
        cache = self._token_rules
        for m in _TOKEN.finditer(text):
            token = m.group()[:_LEAD_MAX]
            ids = cache.get(token)
            if ids is None:
                ids = self._rules_for_token(token)
            if ids:
                start = m.start()
                for i in ids:
                    if i in positions:
                        positions[i].append(start)
                    else:
                        positions[i] = [start]
        return positions

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

    @staticmethod
    def _mask_spans(mask: re.Pattern[str], text: str, starts: list[int] | None
                    ) -> list[tuple[int, int]]:
        """Spans of ``mask.finditer(text)`` (same list).

        starts: None (scan the whole text) or ascending offsets that include every
        offset where the mask can match (all its patterns start at lead words); the mask
        is then tried only there, leftmost first, skipping offsets inside the last match.
        """
        if starts is None:
            return [m.span() for m in mask.finditer(text)]
        out: list[tuple[int, int]] = []
        end = 0
        match = mask.match
        for pos in starts:
            if pos < end:
                continue
            m = match(text, pos)
            if m is not None:
                if m.end() == pos:  # an empty match: finditer's own stepping rules apply
                    return [m.span() for m in mask.finditer(text)]
                out.append((pos, m.end()))
                end = m.end()
        return out

    def _matches(self, rule: Rule, text: str, starts: list[int] | None,
                 mask_starts: list[int] | None = None) -> list[tuple[int, int, str]]:
        """Non-overlapping matches of the rule, leftmost first (as ``re.finditer``).

        starts: offsets where the rule's lead-word patterns can match (tried there with
        ``Pattern.match``, which sees the text before the offset, so ``\\b`` holds); its
        other patterns scan the whole text. mask_starts: None (the mask scans the whole
        text) or the offsets where the mask can match (see ``_mask_spans``).
        """
        if rule.regex is None:
            return []
        hits: list[tuple[int, int, str]] = []
        if rule.lead_regex is not None:
            end = -1
            match = rule.lead_regex.match
            for pos in starts or ():
                if pos < end:
                    continue
                m = match(text, pos)
                if m is not None and m.end() > pos:
                    hits.append((pos, m.end(), m.group(0)))
                    end = m.end()
        if rule.free_regex is not None:
            free = [(m.start(), m.end(), m.group(0)) for m in rule.free_regex.finditer(text)
                    if m.end() > m.start()]
            if hits:  # merge, leftmost-longest first, dropping overlaps (as one finditer)
                merged: list[tuple[int, int, str]] = []
                for h in sorted(hits + free, key=lambda h: (h[0], -h[1])):
                    if not merged or h[0] >= merged[-1][1]:
                        merged.append(h)
                hits = merged
            else:
                hits = free
        if hits and rule.mask is not None:
            masked = SpanIndex(self._mask_spans(rule.mask, text, mask_starts))
            if masked:
                hits = [h for h in hits if not masked.overlaps(h[0], h[1])]
        return hits

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
        positions = self._start_positions(text)
        ents = list(entities)
        fired: dict[str, list[tuple[int, int]]] = {}
        cues: dict[str, int] = {}
        groups: dict[str, float] = {}
        findings: list[Finding] = []
        suppressible: list[str] = []

        def cond_ok(ref: str) -> bool:
            if ref.startswith("group:"):
                return groups.get(ref[6:], 0.0) > 0.0
            return ref in fired

        by_kind: dict[str, list[Entity]] = {}
        for e in ents:
            if e.kind in by_kind:
                by_kind[e.kind].append(e)
            else:
                by_kind[e.kind] = [e]
        by_verifier = self._by_verifier
        mask_led = self._mask_led
        n_rules = len(self.rules)
        has_evidence = self._has_evidence

        for index, rule in enumerate(self.rules):
            if by_verifier[index]:
                continue  # raised by patroli.verify.Verifier (analyze(..., verifier=...))
            starts = positions.get(index)
            cond = rule.entity
            kind_ents = by_kind.get(cond.kind) if cond is not None else None
            if has_evidence[index] and starts is None and rule.free_regex is None \
                    and not kind_ents:
                continue  # no lead word, no free pattern, no entity of its kind: no evidence
            if rule.requires and not all(cond_ok(r) for r in rule.requires):
                continue
            if rule.requires_any and not any(cond_ok(r) for r in rule.requires_any):
                continue
            if rule.unless and any(cond_ok(r) for r in rule.unless):
                continue
            hits = self._matches(rule, text, starts, positions.get(n_rules + index, [])
                                 if mask_led[index] else None)
            ent_spans: list[tuple[int, int]] = []
            if cond is not None and kind_ents:
                ent_spans = [e.span for e in kind_ents if self._entity_ok(cond, e)]
            if has_evidence[index]:
                has_pat = rule.regex is not None
                if rule.match_mode == "all":
                    ok = (not has_pat or bool(hits)) and (cond is None or bool(ent_spans))
                else:
                    ok = (has_pat and bool(hits)) or (cond is not None and bool(ent_spans))
                if not ok:
                    continue
            spans = [norm.span(s, e) for s, e, _ in hits] + [tuple(s) for s in ent_spans]
            fired[rule.id] = spans  # type: ignore[assignment]
            if rule.kind == "signal":
                distinct = len({h[2].strip() for h in hits}) + len(ent_spans)
                n = max(1, distinct)
                cues[rule.id] = n
                if rule.group:
                    groups[rule.group] = groups.get(rule.group, 0.0) + rule.weight * min(
                        n, rule.max_hits)
                continue
            if rule.scope == "offer":
                suppressible.append(rule.id)
            findings.append(Finding(
                indicator=rule.id,
                weight=rule.weight,
                spans=sorted(set(spans))[:20],
                explanation_id=rule.explanation_id,
                explanation_en=rule.explanation_en,
                category=rule.category,
                title_id=rule.title_id,
                title_en=rule.title_en,
            ))
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


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The bundled rule set, loaded and compiled once per process."""
    return RuleSet.load(default_rules_dir())

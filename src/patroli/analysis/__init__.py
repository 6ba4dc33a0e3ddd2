"""Analysis: pure functions, no I/O, no database (DESIGN.md).

``analyze(post) -> Assessment``: normalize -> entities -> indicator rules ->
awareness signals -> score. Deterministic for a given rule set version.
"""

from __future__ import annotations

from datetime import UTC, datetime

from patroli.analysis.entities import extract_entities
from patroli.analysis.normalize import Normalized, normalize
from patroli.analysis.rules import RuleSet, default_ruleset
from patroli.analysis.score import score_assessment
from patroli.types import Assessment, Post

__all__ = ["Normalized", "RuleSet", "analyze", "analyze_text", "default_ruleset", "normalize"]


def analyze(post: Post, *, rules: RuleSet | None = None,
            now: datetime | None = None) -> Assessment:
    """Analyse one post.

    rules: the indicator rule set (default: the bundled rules, loaded once).
    now: the ``analyzed_at`` time (timezone-aware UTC; default: the current time).
    Returns an ``Assessment`` whose spans are offsets into ``post.text``.
    """
    rules = rules or default_ruleset()
    norm = normalize(post.text)
    entities = extract_entities(post.text, norm)
    findings, signals = rules.evaluate(norm, entities)
    result = score_assessment(findings, entities, signals)
    return Assessment(
        post_key=post.key,
        risk_score=result.risk_score,
        level=result.level,
        label=result.label,
        probabilities=result.probabilities,
        findings=findings,
        entities=entities,
        rule_set_version=rules.version,
        analyzed_at=now or datetime.now(UTC),
        signals=signals,
    )


def analyze_text(text: str, **kwargs) -> Assessment:
    """``analyze`` for a bare text (post key = content hash)."""
    from patroli.types import content_key

    return analyze(Post(key=content_key(text), text=text), **kwargs)

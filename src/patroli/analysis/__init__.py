"""Analysis: pure functions, no I/O, no database (DESIGN.md).

``analyze(post) -> Assessment``: normalize -> entities -> indicator rules ->
awareness signals -> verification (a ``patroli.verify.Verifier`` passed in, optional)
-> score -> the classifier's probabilities combined with it (``patroli.model.combine``).
Deterministic for a given rule set, registry and model version. ``analyze_batch`` does
the same for many posts with one vectorised model pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from patroli.analysis.entities import extract_entities
from patroli.analysis.normalize import Normalized, normalize
from patroli.analysis.rules import RuleSet, default_ruleset
from patroli.analysis.score import ScoreResult, score_assessment
from patroli.types import Assessment, Finding, Post

if TYPE_CHECKING:
    from patroli.model.classifier import TextClassifier
    from patroli.verify.verifier import Verifier

__all__ = ["DEFAULT_CLASSIFIER", "Normalized", "RuleSet", "analyze", "analyze_batch",
           "analyze_text", "default_ruleset", "merge_verification", "normalize"]


#: Findings whose evidence on an allowlisted value (official domain or hotline, a
#: registered agency's contact) is dropped; without other evidence the finding goes.
ALLOWLIST_DROPS = frozenset({"contact_only_chat", "suspicious_shortlink", "foreign_phone"})


def merge_verification(findings: list[Finding], extra: list[Finding],
                       verification: dict[str, Any], signals: dict[str, Any],
                       rules: RuleSet) -> list[Finding]:
    """Join a verifier's findings to the rule findings (pure).

    * rule findings listed in ``verification["clears"]`` are dropped (the registry
      disproves them: a usable permit for formal-sector work in a moratorium country);
    * ``ALLOWLIST_DROPS`` findings lose evidence spans on allowlisted values and are
      dropped when no span is left;
    * verifier findings of ``scope: offer`` rules are suppressed (listed in
      ``signals["suppressed"]``) when awareness cues dominate, like rule findings;
    * one finding per indicator id: spans merged, the larger weight, the verifier's
      (specific) explanation.
    Returns the new finding list (rule order, new indicators appended).
    """
    clears = verification.get("clears")
    allowlisted = verification.get("allowlisted")
    if not extra and not clears and not allowlisted:
        return list(findings)  # nothing to clear, trim or add (most posts)
    cleared = set(clears or ())
    allowed = [tuple(a["span"]) for a in allowlisted or () if a.get("span")]
    out: list[Finding] = []
    for f in findings:
        if f.indicator in cleared:
            signals.setdefault("cleared", []).append(f.indicator)
            continue
        if allowed and f.indicator in ALLOWLIST_DROPS and f.spans:
            kept = [sp for sp in f.spans
                    if not any(sp[0] < e and s < sp[1] for s, e in allowed)]
            if not kept:
                signals.setdefault("cleared", []).append(f.indicator)
                continue
            f.spans = kept
        out.append(f)
    by_id = {f.indicator: f for f in out}
    dominated = bool(signals.get("awareness_dominates"))
    for v in extra:
        rule = rules.by_id.get(v.indicator)
        if dominated and (rule is None or rule.scope == "offer"):
            signals.setdefault("suppressed", []).append(v.indicator)
            continue
        have = by_id.get(v.indicator)
        if have is None:
            out.append(v)
            by_id[v.indicator] = v
            continue
        have.spans = sorted(set(have.spans) | set(v.spans))[:20]
        have.weight = max(have.weight, v.weight)
        have.explanation_id = v.explanation_id
        have.explanation_en = v.explanation_en
    return out


#: ``classifier`` argument meaning "the active model" (``patroli.model.registry``).
DEFAULT_CLASSIFIER = "default"


def _classifier(classifier: Any) -> TextClassifier | None:
    if classifier == DEFAULT_CLASSIFIER:
        from patroli.model.registry import load_default_classifier

        return load_default_classifier()
    return classifier


def _rule_parts(post: Post, rules: RuleSet, verifier: Verifier | None
                ) -> tuple[Normalized, list[Any], list[Finding], dict[str, Any],
                           dict[str, Any], ScoreResult]:
    """(norm, entities, findings, signals, verification, score result) of one post: the
    rule-only analysis, before an ``Assessment`` is built from it."""
    norm = normalize(post.text)
    entities = extract_entities(post.text, norm)
    findings, signals = rules.evaluate(norm, entities)
    verification: dict[str, Any] = {}
    if verifier is not None:
        extra, verification = verifier.verify(post, norm, entities)
        findings = merge_verification(findings, extra, verification, signals, rules)
    result = score_assessment(findings, entities, signals, verification=verification)
    return norm, entities, findings, signals, verification, result


def _rule_assessment(post: Post, rules: RuleSet, verifier: Verifier | None,
                     now: datetime | None) -> tuple[Assessment, Normalized]:
    norm, entities, findings, signals, verification, result = _rule_parts(post, rules,
                                                                          verifier)
    # positional, in field order (post_key ... analyzed_at, model_version, verification,
    # signals)
    return Assessment(post.key, result.risk_score, result.level, result.label,
                      result.probabilities, findings, entities, rules.version,
                      now or datetime.now(UTC), None, verification, signals), norm


def _with_model(assessment: Assessment, probs: dict[str, float], text_length: int,
                clf: TextClassifier) -> Assessment:
    from patroli.model.combine import combine_assessment, model_weight_for

    return combine_assessment(assessment, probs, clf.version,
                              model_weight=model_weight_for(text_length, clf.reference_length))


def analyze(post: Post, *, rules: RuleSet | None = None, verifier: Verifier | None = None,
            classifier: Any = DEFAULT_CLASSIFIER, now: datetime | None = None) -> Assessment:
    """Analyse one post.

    rules: the indicator rule set (default: the bundled rules, loaded once).
    verifier: a ``patroli.verify.Verifier`` (registry, permits, watch/allow lists);
        when given, its findings join the rule findings (``merge_verification``) and
        ``Assessment.verification`` is its result dict; default: no registry check.
    classifier: a ``patroli.model.TextClassifier``; ``"default"`` (the default) uses the
        active model (``patroli.model.registry.load_default_classifier``, loaded once);
        None analyses with the rules alone. With a model, the final score, label and
        probabilities come from ``patroli.model.combine`` (the rules' own figures stay in
        ``signals["rules"]``, the model's in ``signals["model"]``) and ``model_version``
        is set.
    now: the ``analyzed_at`` time (timezone-aware UTC; default: the current time).
    Returns an ``Assessment`` whose spans are offsets into ``post.text``.
    """
    rules = rules or default_ruleset()
    assessment, norm = _rule_assessment(post, rules, verifier, now)
    clf = _classifier(classifier)
    if clf is None:
        return assessment
    return _with_model(assessment, clf.predict_proba_folded(norm.text), len(post.text), clf)


def analyze_batch(posts: Sequence[Post], *, rules: RuleSet | None = None,
                  verifier: Verifier | None = None, classifier: Any = DEFAULT_CLASSIFIER,
                  now: datetime | None = None) -> list[Assessment]:
    """``analyze`` for many posts: the same assessments, with the model run once over the
    whole batch (vectorised; much cheaper per post than one call per post).
    Returns one ``Assessment`` per post, in order."""
    rules = rules or default_ruleset()
    clf = _classifier(classifier)
    if clf is None:
        return [_rule_assessment(p, rules, verifier, now)[0] for p in posts]
    from patroli.model.combine import assessment_from_parts, model_weight_for

    # the rule-only parts of each post (not yet an Assessment: the combined one is built
    # once the model has run) and its folded text (the offset maps go at once)
    parts = []
    folded: list[str] = []
    for p in posts:
        norm, entities, findings, signals, verification, result = _rule_parts(p, rules,
                                                                              verifier)
        parts.append((entities, findings, signals, verification, result,
                      now or datetime.now(UTC)))
        folded.append(norm.text)
    probs = clf.predict_proba_folded_many(folded)
    version, reference, rule_set_version = clf.version, clf.reference_length, rules.version
    # as ``combine_assessment`` of the rule-only assessment: the rules' probabilities and
    # signals are fresh objects of this post, so they are used without copies
    return [assessment_from_parts(result, pr, version,
                                  model_weight_for(len(p.text), reference), p.key,
                                  findings, entities, rule_set_version, at, verification,
                                  signals)
            for p, (entities, findings, signals, verification, result, at), pr
            in zip(posts, parts, probs, strict=True)]


def analyze_text(text: str, **kwargs) -> Assessment:
    """``analyze`` for a bare text (post key = content hash)."""
    from patroli.types import content_key

    return analyze(Post(key=content_key(text), text=text), **kwargs)

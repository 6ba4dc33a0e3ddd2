"""The one way rule findings (with verification) and the model's probabilities combine.

``combine(rule_result, model_probs) -> ScoreResult``:

1. **Blend.** ``p = (1 - MODEL_WEIGHT) * p_rules + MODEL_WEIGHT * p_model`` for each of
   the four labels (``p_rules`` is ``rule_result.probabilities``: rule findings,
   verification and cue signals as scored by ``analysis.score``).
2. **Priority of the rules where they are sure** (the model never overrides them):
   * the awareness gate: when the rules label a post ``awareness`` (awareness cues
     dominate offer cues) the final label stays ``awareness``;
   * strong evidence: when the rules label a post ``illegal`` with
     ``risk_score >= STRONG_RULE_SCORE`` the final label stays ``illegal``;
   * the registry: when the rules label a post ``illegal`` and the registry check
     disproves its claims (``analysis.score.BAD_STATUSES``: a lookalike of a registered
     name, a suspended, revoked or expired licence, an invalid permit) the final label
     stays ``illegal``: the model reads the wording, which is that of a lawful ad; only
     the registry knows the permit expired.
   In both cases the kept label is given at least ``max(p) + 0.01`` probability mass
   (then renormalised), so the label is still the most probable one.
3. **Label** = the argmax of the blended distribution (ties: ``types.LABELS`` order).
4. **Risk score** moves with the blended illegal probability, within bounds:
   ``score = rule_score + SCORE_SHIFT * (p_blend[illegal] - p_rules[illegal])``, clamped
   to ``0..100``; an ``illegal`` final label has at least ``ILLEGAL_MIN`` points, an
   ``awareness`` final label at most ``MEDIUM_MIN - 1``, any other label at most
   ``ILLEGAL_MIN - 1`` unless the rules alone scored higher. ``level`` follows the score.

**Applicability domain.** The model learnt from short posts; on a text much longer than
its training texts (web pages, articles) its wording statistics no longer hold, so its
weight shrinks: ``model_weight_for(len(text), reference_length)`` = ``MODEL_WEIGHT`` up
to the 95th percentile of the training texts' lengths (``TextClassifier.reference_length``),
then ``MODEL_WEIGHT * reference_length / len(text)``.

``model_probs is None`` (no model) returns the rule result unchanged. ``model_view``
describes the model's opinion beside the rules' for ``patroli check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import truediv
from typing import Any

from patroli.analysis.score import (
    BAD_STATUSES,
    ILLEGAL_MIN,
    MEDIUM_MIN,
    ScoreResult,
    level_for,
)
from patroli.types import LABELS, Assessment, Entity, Finding

__all__ = ["MODEL_WEIGHT", "ModelView", "assessment_from_parts", "combine", "combine_assessment",
           "model_view", "model_weight_for"]

#: Weight of the model's probabilities in the blend (0 = rules only, 1 = model only).
#: 0.6: on posts neither was developed on the model generalises better than the rules
#: (``src/patroli/data/model/README.md``, "Blend weight"), while the rules keep their
#: vetoes (awareness gate, strong evidence, the registry).
MODEL_WEIGHT: float = 0.6
#: Rule risk score from which an ``illegal`` rule label is kept whatever the model says.
STRONG_RULE_SCORE: int = 70
#: Points the risk score moves per unit change of the illegal probability.
SCORE_SHIFT: float = 40.0


def model_weight_for(text_length: int, reference_length: float | None,
                     base: float = MODEL_WEIGHT) -> float:
    """The model's blend weight for a text of ``text_length`` characters: ``base`` up to
    ``reference_length`` (the model's training-text length, 95th percentile; None = no
    limit), then shrinking as ``base * reference_length / text_length``."""
    if not reference_length or text_length <= reference_length:
        return base
    return base * float(reference_length) / float(text_length)


_ZEROS = (0.0,) * len(LABELS)


def _normalized(probs: dict[str, float]) -> list[float]:
    """``probs`` in ``LABELS`` order (a missing label is 0), divided by their sum.
    Raises ``ValueError`` for a negative or NaN value or a zero sum."""
    vals = list(map(float, map(probs.get, LABELS, _ZEROS)))
    total = sum(vals)
    # a positive sum rules out NaN; only then are the values checked one by one (so a
    # negative or NaN value still raises the first error, a zero sum the second)
    if not (total > 0 and min(vals) >= 0):
        for v in vals:
            if v < 0 or v != v:
                raise ValueError(f"probabilities must be non-negative numbers: {probs!r}")
        if total <= 0:
            raise ValueError(f"probabilities sum to zero: {probs!r}")
    return list(map(truediv, vals, repeat(total)))  # v / total for each value


def _floats(probs: dict[str, float]) -> list[float]:
    """``probs`` as floats in ``LABELS`` order (a missing label is 0)."""
    return list(map(float, map(probs.get, LABELS, _ZEROS)))


def _validated(probs: dict[str, float]) -> dict[str, float]:
    return dict(zip(LABELS, _normalized(probs), strict=True))


def _argmax(values: list[float]) -> str:
    """The label of the largest value (the first in ``LABELS`` order on ties)."""
    # ``max`` keeps the first of equal values, and ``index`` finds that first one
    return LABELS[values.index(max(values))]


_ILLEGAL = LABELS.index("illegal")


def combine(rule_result: ScoreResult, model_probs: dict[str, float] | None,
            *, model_weight: float = MODEL_WEIGHT,
            registry_status: str | None = None) -> ScoreResult:
    """Final score/level/label/probabilities from the rules' result and the model's.

    rule_result: ``analysis.score.score_assessment`` output (after verification).
    model_probs: label -> probability from ``TextClassifier.predict_proba`` (any subset of
        ``LABELS``; renormalised), or None when no model is used.
    model_weight: 0..1, default ``MODEL_WEIGHT``.
    registry_status: ``Assessment.verification["status"]`` (None: no registry check).
    Returns a new ``ScoreResult`` whose ``parts`` add ``rule_label``, ``rule_score``,
    ``model_label`` and ``model_weight``. Raises ``ValueError`` for a weight outside 0..1
    or probabilities that are negative or sum to zero.
    """
    if model_probs is None:
        return rule_result
    if not 0.0 <= model_weight <= 1.0:
        raise ValueError(f"model_weight must be within 0..1, got {model_weight}")
    pr = _normalized(rule_result.probabilities)
    pm = _normalized(model_probs)
    rule_weight = 1.0 - model_weight
    blend = [rule_weight * r + model_weight * m for r, m in zip(pr, pm)]  # both LABELS long
    kept = None
    if rule_result.label == "awareness":
        kept = "awareness"
    elif rule_result.label == "illegal" and (rule_result.risk_score >= STRONG_RULE_SCORE
                                             or registry_status in BAD_STATUSES):
        kept = "illegal"
    if kept is not None:
        ki = LABELS.index(kept)
        top = max(v for i, v in enumerate(blend) if i != ki)
        blend[ki] = max(blend[ki], top + 0.01)
        total = sum(blend)
        blend = [v / total for v in blend]
    label = LABELS[blend.index(max(blend))]  # _argmax(blend), inline
    score = rule_result.risk_score + SCORE_SHIFT * (blend[_ILLEGAL] - pr[_ILLEGAL])
    if label == "illegal":
        score = max(score, ILLEGAL_MIN)
    elif label == "awareness":
        score = min(score, MEDIUM_MIN - 1)
    else:
        score = min(score, max(ILLEGAL_MIN - 1, rule_result.risk_score))
    risk = int(round(max(0.0, min(100.0, score))))
    probs = {k: round(v, 4) for k, v in zip(LABELS, blend, strict=True)}
    probs[label] = round(probs[label] + 1.0 - sum(probs.values()), 4)
    parts: dict[str, Any] = {**rule_result.parts, "rule_label": rule_result.label,
                             "rule_score": rule_result.risk_score,
                             "model_label": LABELS[pm.index(max(pm))],  # _argmax(pm)
                             "model_weight": model_weight}
    return ScoreResult(risk, level_for(risk), label, probs, parts)


def combine_assessment(assessment: Assessment, model_probs: dict[str, float] | None,
                       model_version: str | None, *,
                       model_weight: float = MODEL_WEIGHT) -> Assessment:
    """The assessment with score, level, label and probabilities replaced by ``combine``'s
    and ``model_version`` set (``analyze()`` output in, a new ``Assessment`` out).

    Findings, entities, verification and signals are kept; the rules' own figures are
    recorded in ``signals["rules"]`` (label, score, probabilities) and the model's in
    ``signals["model"]``. model_weight: see ``model_weight_for``.
    """
    rule = ScoreResult(assessment.risk_score, assessment.level, assessment.label,
                       dict(assessment.probabilities))
    return assessment_from_parts(
        rule, model_probs, model_version, model_weight, assessment.post_key,
        assessment.findings, assessment.entities, assessment.rule_set_version,
        assessment.analyzed_at, assessment.verification, dict(assessment.signals),
        assessment.model_version)


def assessment_from_parts(rule: ScoreResult, model_probs: dict[str, float] | None,
                          model_version: str | None, model_weight: float, post_key: str,
                          findings: list[Finding], entities: list[Entity],
                          rule_set_version: str, analyzed_at: datetime,
                          verification: dict[str, Any], signals: dict[str, Any],
                          previous_model_version: str | None = None) -> Assessment:
    """``combine_assessment`` from the parts of the rule-only assessment, without building
    it (``analysis.analyze_batch``): ``rule`` is the rules' result (its ``probabilities``
    go to ``signals["rules"]`` as they are), ``signals`` is updated in place and becomes
    the new assessment's; ``previous_model_version`` is kept when ``model_probs`` is None.
    """
    res = combine(rule, model_probs, model_weight=model_weight,
                  registry_status=(verification or {}).get("status"))
    signals["rules"] = {"label": rule.label, "risk_score": rule.risk_score,
                        "probabilities": rule.probabilities}
    if model_probs is not None:
        model = zip(LABELS, _floats(model_probs), strict=True)
        signals["model"] = {"version": model_version,
                            "probabilities": {k: round(v, 4) for k, v in model}}
    # positional, in field order: post_key, risk_score, level, label, probabilities,
    # findings, entities, rule_set_version, analyzed_at, model_version, verification, signals
    return Assessment(
        post_key, res.risk_score, res.level, res.label, res.probabilities, findings, entities,
        rule_set_version, analyzed_at,
        model_version if model_probs is not None else previous_model_version,
        verification, signals)


@dataclass(frozen=True, slots=True)
class ModelView:
    """The model's opinion beside the rules' (for ``patroli check``).

    rule_label / model_label: each side's most probable label; model_confidence: the
    model's probability of its label (0..1); agree: same label; message_id / message_en:
    one sentence in Bahasa Indonesia / English, saying when they disagree.
    """

    rule_label: str
    model_label: str
    model_confidence: float
    model_version: str | None
    agree: bool
    message_id: str
    message_en: str


_LABEL_ID = {"illegal": "ilegal", "legitimate": "resmi", "awareness": "edukasi/peringatan",
             "other": "lainnya"}


def model_view(rule_label: str, model_probs: dict[str, float],
               model_version: str | None = None) -> ModelView:
    """Compare the rules' label with the model's probabilities (see ``ModelView``).

    Raises ``ValueError`` for probabilities that are negative or sum to zero.
    """
    pm = _validated(model_probs)
    m = max(LABELS, key=lambda k: pm[k])
    conf = round(pm[m], 4)
    agree = m == rule_label
    if agree:
        mid = f"Model setuju dengan aturan: {_LABEL_ID.get(m, m)} ({conf:.0%})."
        men = f"The model agrees with the rules: {m} ({conf:.0%})."
    else:
        mid = (f"Model TIDAK setuju: aturan menilai {_LABEL_ID.get(rule_label, rule_label)}, "
               f"model menilai {_LABEL_ID.get(m, m)} ({conf:.0%}). Periksa secara manual.")
        men = (f"The model DISAGREES: rules say {rule_label}, the model says {m} "
               f"({conf:.0%}). Check by hand.")
    return ModelView(rule_label, m, conf, model_version, agree, mid, men)

"""Fast paths of the analysis glue: each must give exactly what the plain code gives."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from patroli.analysis import analyze_batch, merge_verification
from patroli.analysis.rules import default_ruleset
from patroli.analysis.score import ScoreResult
from patroli.model.combine import assessment_from_parts, combine_assessment
from patroli.types import Assessment, Finding, Post


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_assessment_from_parts_equals_combine_assessment() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rule = ScoreResult(52, "medium", "illegal",
                       {"illegal": 0.6, "legitimate": 0.2, "awareness": 0.05, "other": 0.15})
    f = Finding(indicator="upfront_fee", weight=30.0, spans=[(1, 4)])
    signals = {"groups": {"job": 1.0}, "fired": ["upfront_fee"]}
    verification = {"status": "lookalike"}
    model = {"illegal": 0.2, "legitimate": 0.5, "awareness": 0.1, "other": 0.2}
    a = Assessment("k", rule.risk_score, rule.level, rule.label, dict(rule.probabilities), [f],
                   [], "v1", now, None, verification, dict(signals))
    want = combine_assessment(a, model, "m1", model_weight=0.6)
    got = assessment_from_parts(rule, model, "m1", 0.6, "k", [f], [], "v1", now, verification,
                                dict(signals))
    assert got == want
    assert repr(got.probabilities) == repr(want.probabilities)
    assert a.signals == signals  # combine_assessment leaves the rule-only assessment alone


def test_merge_without_verifier_findings_keeps_the_list() -> None:
    rules = default_ruleset()
    fs = [Finding(indicator="upfront_fee", weight=30.0, spans=[(1, 4)])]
    signals: dict = {}
    out = merge_verification(fs, [], {"status": "no_agency", "clears": [], "allowlisted": []},
                             signals, rules)
    assert out == fs and out is not fs and signals == {}


def test_batch_equals_single_analysis() -> None:
    from patroli.analysis import analyze

    now = datetime(2026, 1, 1, tzinfo=UTC)
    posts = [Post(key=f"p{i}", text=t) for i, t in enumerate([
        "Dicari TKW ke Malaysia, tanpa biaya, hubungi WA 0812-0000-3185",
        "Waspada penipuan lowongan kerja luar negeri! Cek izin P3MI di KP2MI.",
        "Jual kos dekat pabrik, hubungi 0812 3333 4444",
        "PT Lintas Samudra Karya membuka lowongan caregiver Taiwan, SIP-2026/TW/0001",
    ])]
    batch = analyze_batch(posts, now=now, classifier="default")
    single = [analyze(p, now=now, classifier="default") for p in posts]
    assert batch == single

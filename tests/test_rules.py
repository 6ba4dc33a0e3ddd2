"""Indicator rule engine: loading, validation, embedded examples, spans, speed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from patroli.analysis import analyze_text
from patroli.analysis.normalize import normalize
from patroli.analysis.rules import RuleFormatError, RuleSet, default_rules_dir, default_ruleset
from patroli.types import Entity

RED_FLAGS = [
    "high_salary_claim",
    "no_experience_needed",
    "free_costs_claim",
    "upfront_fee",
    "personal_account_payment",
    "urgency",
    "contact_only_chat",
    "no_company_identity",
    "unlicensed_agency_claim",
    "non_work_visa",
    "moratorium_destination",
    "scam_hub_destination",
    "informal_route",
    "document_bypass",
    "underage_ok",
    "salary_deduction",
    "identity_document_request",
    "suspicious_shortlink",
    "foreign_phone",
    "job_title_vague",
]

RS = default_ruleset()
EXAMPLES = [(r.id, t, True) for r in RS.indicators for t in r.examples_match] + [
    (r.id, t, False) for r in RS.indicators for t in r.examples_no_match
]


def test_all_red_flags_present_with_required_fields() -> None:
    ids = {r.id for r in RS.indicators}
    assert set(RED_FLAGS) <= ids
    for r in RS.indicators:
        assert r.title_id and r.title_en and r.explanation_id and r.explanation_en
        assert r.sources and r.category and r.weight > 0
        assert len(r.examples_match) >= 3 and len(r.examples_no_match) >= 3


def test_version_is_stable_and_content_addressed(tmp_path: Path) -> None:
    assert RS.version.startswith("rules-") and len(RS.version) == 18
    copy = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), copy)
    assert RuleSet.load(copy).version == RS.version
    f = copy / "urgency.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("weight: 8", "weight: 9"), encoding="utf-8")
    assert RuleSet.load(copy).version != RS.version


@pytest.mark.parametrize(("rule_id", "text", "should_match"), EXAMPLES,
                         ids=[f"{i}-{'m' if m else 'n'}{n}" for n, (i, _, m) in enumerate(EXAMPLES)])
def test_embedded_examples_through_analyze(rule_id: str, text: str, should_match: bool) -> None:
    rule = RS.by_id[rule_id]
    if rule.raw.get("needs") == "verifier":
        # Rules raised by the Verifier: their examples carry the watch entries they need.
        from patroli.verify.model import RegistrySnapshot, WatchEntry
        from patroli.verify.verifier import Verifier

        watch = [WatchEntry(**w) for w in rule.raw["examples"].get("watchlist") or []]
        verifier = Verifier(RegistrySnapshot([], []), watch)
        a = analyze_text(text, verifier=verifier)
        assert (rule_id in a.indicators) is should_match, a.verification
        return
    a = analyze_text(text)
    assert (rule_id in a.indicators) is should_match, (a.indicators, a.signals.get("suppressed"))


SIGNAL_EXAMPLES = [
    (r.id, t, True) for r in RS.signals for t in r.examples_match
] + [
    (r.id, t, False) for r in RS.signals for t in r.examples_no_match
]


@pytest.mark.parametrize(("rule_id", "text", "should_match"), SIGNAL_EXAMPLES,
                         ids=[f"{i}-{'m' if m else 'n'}{n}"
                              for n, (i, _, m) in enumerate(SIGNAL_EXAMPLES)])
def test_signal_examples_through_analyze(rule_id: str, text: str, should_match: bool) -> None:
    a = analyze_text(text)
    assert (rule_id in a.signals["fired"]) is should_match, a.signals["fired"]


def _write(d: Path, name: str, body: str) -> None:
    (d / name).write_text(body, encoding="utf-8")


GOOD = """id: demo_rule
title: {id: Demo, en: Demo}
explanation: {id: Alasan, en: Reason}
category: deception
weight: 10
patterns: ['\\bgratis\\b']
sources: [test]
examples: {match: [gratis], no_match: [bayar]}
"""


@pytest.mark.parametrize(("body", "message"), [
    ("id: [unclosed", "invalid YAML"),
    (GOOD.replace("weight: 10\n", ""), "weight"),
    (GOOD.replace("'\\bgratis\\b'", "'(unclosed'"), "not a valid regex"),
    (GOOD.replace("'\\bgratis\\b'", "'(a+)+b'"), "catastrophic"),
    (GOOD + "requires: [nope]\n", "unknown rule or signal id"),
    (GOOD.replace("explanation: {id: Alasan, en: Reason}\n", ""), "explanation"),
    (GOOD.replace("examples: {match: [gratis], no_match: [bayar]}\n", ""), "examples"),
])
def test_format_errors_name_file_and_problem(tmp_path: Path, body: str, message: str) -> None:
    _write(tmp_path, "demo_rule.yaml", body)
    with pytest.raises(RuleFormatError) as exc:
        RuleSet.load(tmp_path)
    assert "demo_rule.yaml" in str(exc.value) and message in str(exc.value)


def test_duplicate_ids_and_cycles_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    _write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(RuleFormatError, match="duplicate id"):
        RuleSet.load(tmp_path)
    (tmp_path / "b.yaml").unlink()
    _write(tmp_path, "a.yaml", GOOD + "requires: [other_rule]\n")
    _write(tmp_path, "b.yaml", GOOD.replace("demo_rule", "other_rule") + "requires: [demo_rule]\n")
    with pytest.raises(RuleFormatError, match="cyclic"):
        RuleSet.load(tmp_path)


def test_custom_rule_set_evaluates(tmp_path: Path) -> None:
    _write(tmp_path, "demo_rule.yaml", GOOD)
    rs = RuleSet.load(tmp_path)
    findings, signals = rs.evaluate(normalize("Tiket GRATIS!"), [])
    assert [f.indicator for f in findings] == ["demo_rule"]
    assert findings[0].spans == [(6, 12)]
    assert signals["awareness"] == 0.0


def test_spans_point_into_original_text() -> None:
    text = "🔥🔥 LOKER!! Kerja Malaysia TANPA PASPOR, gaji RM 2.500. WA 0821 0000 5590"
    a = analyze_text(text)
    f = next(f for f in a.findings if f.indicator == "document_bypass")
    assert any("PASPOR" in text[s:e] for s, e in f.spans)


def test_entity_conditions_with_hand_built_entities() -> None:
    norm = normalize("Kerja ladang, hubungi bos")
    ents = [Entity("phone", "+60130000729", (22, 25)), Entity("url", "https://bit.ly/x", (0, 1))]
    findings, _ = RS.evaluate(norm, ents)
    ids = {f.indicator for f in findings}
    assert {"foreign_phone", "suspicious_shortlink"} <= ids
    findings, _ = RS.evaluate(norm, [Entity("phone", "+6281200001111", (22, 25))])
    assert "foreign_phone" not in {f.indicator for f in findings}


def test_money_entity_threshold() -> None:
    norm = normalize("Lowongan kerja pabrik, gaji besar")
    big = Entity("money", "1500 USD/month", (0, 1), {"amount": 1500, "currency": "USD",
                                                       "period": "month"})
    small = Entity("money", "300 USD/month", (0, 1), {"amount": 300, "currency": "USD",
                                                       "period": "month"})
    assert RS.idr_per_month(big) and RS.idr_per_month(big) > 12_000_000
    ids_small = {f.indicator for f in RS.evaluate(normalize("Lowongan kerja pabrik"), [small])[0]}
    assert "high_salary_claim" not in ids_small
    assert "high_salary_claim" in {f.indicator for f in RS.evaluate(norm, [big])[0]}


def test_awareness_suppresses_offer_flags_but_keeps_mechanical() -> None:
    text = ("WASPADA! Polisi menangkap tersangka perekrut yang menjanjikan kerja admin online di "
            "Kamboja dengan tiket gratis dan visa turis. Korban dipulangkan KBRI. Laporkan lowongan "
            "mencurigakan ke BP3MI, hotline KBRI +855 23 000 0111.")
    a = analyze_text(text)
    assert a.label == "awareness"
    assert "scam_hub_destination" not in a.indicators
    assert "scam_hub_destination" in a.signals["suppressed"]


def test_large_post_runs_in_linear_time() -> None:
    chunk = "gaji gaji tanpa tanpa biaya biaya wa wa 0812 kerja " * 20
    small, big = chunk * 50, chunk * 1000  # ~50 KB and ~1 MB
    t0 = time.perf_counter()
    RS.evaluate(normalize(small), [])
    t_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    RS.evaluate(normalize(big), [])
    t_big = time.perf_counter() - t0
    assert t_big < 10.0
    assert t_big < 60 * max(t_small, 1e-3)


def test_evaluate_and_score_are_fast() -> None:
    from patroli.analysis.score import score_assessment

    texts = [ex for _, ex, _ in EXAMPLES]
    prepared = [(normalize(t), []) for t in texts]
    t0 = time.perf_counter()
    for _ in range(3):
        for norm, ents in prepared:
            f, s = RS.evaluate(norm, ents)
            score_assessment(f, ents, s)
    per_post = (time.perf_counter() - t0) / (3 * len(prepared))
    assert per_post < 0.001, f"{per_post * 1e6:.0f} µs per post"


def _variants(text: str) -> list[str]:
    """A normalised text and variants that stress the token keys and their checks:
    other separators (non-ASCII spaces, runs, punctuation), non-ASCII digits, no spaces."""
    norm = normalize(text).text
    return [
        norm,
        norm.replace(" ", "\u00a0"),
        norm.replace(" ", "  "),
        norm.replace(" ", ", "),
        norm.replace(" ", "\n"),
        norm.replace(" ", ""),
        norm.replace("1", "\u0661").replace("5", "\uff15") + " \u00e9",
        norm + " " + norm[: len(norm) // 2],
    ]


def test_lead_matches_equal_a_full_text_scan() -> None:
    """The token-keyed probes find exactly what ``finditer`` of each index's alternation
    of led patterns finds (see ``RuleSet._lead_matches``)."""
    import re

    scans = {i: re.compile("|".join(f"(?:{p})" for p, _ in led)) for i, led in RS._led.items()}
    texts = [v for _, ex, _ in EXAMPLES for v in _variants(ex)]
    texts += ["ke ln", "ke", "ke ", "tidak perlu", "1 bulan", "2 hari dijamin", "kep-067/p3mi"]
    for text in texts:
        want = {}
        for i, rx in scans.items():
            hits = [(m.start(), m.end(), m[0]) for m in rx.finditer(text)]
            if hits:
                want[i] = hits
        assert RS._lead_matches(text) == want, text


def test_token_checks_see_the_characters_after_the_token() -> None:
    from patroli.analysis.rules import _check_key, _token_checks

    checks = _token_checks(r"\b(?:ke (?:ln|petugas)|kerja)\b")
    assert checks is not None
    assert _check_key(checks, "ke ") == (True, frozenset("lp"))  # the next token decides
    assert _check_key(checks, "ke  ") == (False, None)  # a second space: no match possible
    assert _check_key(checks, "ke, ") == (False, None)
    assert _check_key(checks, "kerja") == (True, None)  # ``\b`` at the end of the text
    assert _check_key(checks, "kerjanya ") == (False, None)
    digits = _token_checks(r"\b\d\d?\s(?:tanda|ciri)\b")
    assert digits is not None
    assert _check_key(digits, "12 ") == (True, frozenset("tc"))
    assert _check_key(digits, "12. ") == (False, None)
    assert _check_key(digits, "123 ") == (False, None)
    assert _check_key(digits, "1\u00a0\u00a0") == (True, None)  # non-ASCII: not decided
    spaced = _token_checks(r"\bmasih\s\d+\s?orang\b")
    assert spaced is not None
    assert _check_key(spaced, "masih ")[1] == frozenset("0123456789")  # ASCII digits only


def test_findings_carry_their_rule_fields() -> None:
    for _, text, should_match in EXAMPLES:
        if not should_match:
            continue
        findings, _ = RS.evaluate(normalize(text), [])
        for f in findings:
            r = RS.by_id[f.indicator]
            assert (f.weight, f.explanation_id, f.explanation_en, f.category, f.title_id,
                    f.title_en) == (r.weight, r.explanation_id, r.explanation_en, r.category,
                                    r.title_id, r.title_en)

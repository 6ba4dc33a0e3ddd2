"""Risk score, level, label and label probabilities from findings and cue signals.

One explainable path (every number comes from the rule weights and cue strengths that
``RuleSet.evaluate`` returns):

1. **Noisy-OR of the findings.** Each finding's ``weight`` (0..100) is read as the chance
   that this flag alone shows an illegal offer: ``base = 100 * (1 - prod(1 - w/100))``.
   A single flag proves little (lawful ads say "gaji tinggi" too), so weak flags stay
   low alone and add up when combined.
2. **Interaction bonuses** (``COMBO_BONUS``): a risky destination/route (moratorium
   country, scam hub, informal route, non-work visa) together with a money lure or
   shortcut (fee, personal account, deduction, document bypass, free costs, high pay)
   adds ``COMBO_BONUS``; an anonymous recruiter (``no_company_identity`` with
   ``contact_only_chat`` or ``suspicious_shortlink``) with any strong flag adds ``ANON_BONUS``.
3. **Lawful-channel discount**: a cited licence/permit and official channels (LTSA,
   Disnaker, office address, landline; cue group ``legit``) divide the score by
   ``1 + LEGIT_DISCOUNT * legit`` (half the effect when an upfront fee is asked), unless
   a finding in ``VOIDS_LEGIT`` exists (a licensed company would not take payment to a
   personal account, skip documents, use visit visas, take minors ...).
   The registry check (verify/) decides whether the licence is real.
4. **Registry verification** (``verification``: the dict of ``patroli.verify.Verifier``,
   empty when no verifier was given). Risk *up* comes as findings: a lookalike name,
   a suspended or revoked agency, an expired licence, a permit of another agency, for
   another country, expired or unknown, a licence number of another agency
   (``unlicensed_agency_claim`` with weight 40–65 and the specific reason) and a
   watchlisted contact (``watchlist_hit``) join the noisy-OR like any finding; with
   work context or an offer cue such a post counts as recruitment (so it is labelled
   ``illegal`` when the score reaches ``ILLEGAL_MIN``). Risk *down*: status
   ``verified`` (a registered agency in good standing) with ``permits_ok`` (at least one
   cited permit, every one of that agency, for the post's destination and valid on the
   post's date) and no finding in ``VOIDS_VERIFIED`` multiplies the score by
   ``VERIFIED_FACTOR``; such a post is recruitment, and labelled ``legitimate`` unless
   the remaining score still reaches ``ILLEGAL_MIN``.
5. **Awareness discount**: the score is multiplied by
   ``1 - AWARENESS_DISCOUNT * awareness_share`` (see ``patroli.analysis.awareness``);
   for awareness posts the engine has already dropped the ad-only flags.

``level``: ``"high"`` when ``risk_score >= HIGH_MIN`` (70), ``"medium"`` when
``>= MEDIUM_MIN`` (40), else ``"low"``.

``label`` (in this order):
* ``awareness`` when awareness cues dominate offer cues (``awareness_dominates``);
* ``illegal`` when the post is recruitment (work-context cues plus an offer cue, an
  offer-type finding or a lawful-channel cue; a company citing a licence; or two strong
  findings one of which only makes sense for work) and ``risk_score >= ILLEGAL_MIN``,
  or when it is an anonymous offer of work abroad (see ``ANON_ABROAD_MIN``: overseas by
  a country or foreign city entity or the ``overseas`` cue, ``no_company_identity`` and
  ``contact_only_chat``, no lawful-channel cue); its score is then at least
  ``ANON_ABROAD_MIN``;
* ``legitimate`` when it is recruitment (work context and offer cues) with a lower score;
* ``other`` otherwise (neither recruitment nor awareness).

A post of trade, rentals, services or events (the ``commerce`` cue group: "jual", "kos",
"jasa visa", "turnamen" ...) without any hiring word (the ``hiring`` group: "lowongan",
"gaji", "kerja di", "visa kerja" ...) is not recruitment through work-context and offer
cues: a boarding house near factories or a migrant workers' futsal tournament with an
entry fee talks about work and money without offering any. Two strong findings (one of
them work-only), a licence claim or the registry still make it recruitment.

``probabilities``: label -> float summing to 1, from the same quantities: awareness share,
recruitment confidence and a logistic on ``risk_score - ILLEGAL_MIN``; the chosen label is
always the most probable one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from patroli.analysis.awareness import awareness_dominates, awareness_share
from patroli.types import Entity, Finding

#: Level thresholds on the 0–100 risk score.
HIGH_MIN: int = 70
MEDIUM_MIN: int = 40
#: Minimal risk score for a recruitment post to be labelled ``illegal``.
ILLEGAL_MIN: int = 36
#: Bonus points for a risky destination/route combined with a money lure or shortcut.
COMBO_BONUS: float = 12.0
#: Bonus points for an anonymous chat-only recruiter combined with a strong flag.
ANON_BONUS: float = 8.0
#: Score divisor per unit of lawful-channel strength: ``score / (1 + 0.12 * legit)``.
LEGIT_DISCOUNT: float = 0.12
#: Fraction of the score removed at full awareness share.
AWARENESS_DISCOUNT: float = 0.85
#: Risk floor (medium) of an anonymous offer of work abroad: recruitment for a job
#: outside Indonesia with no company named and no licence or official channel. Lawful
#: placement abroad goes only through a licensed P3MI (UU 18/2017), and "posted by a
#: personal account, not a company" (contact only by chat, no company named) is the first
#: of Kemnaker's eight red flags (2022), so such an offer is labelled ``illegal`` whatever its other flags.
ANON_ABROAD_MIN: int = 45
#: Logistic scale (points) of the illegal probability around ``ILLEGAL_MIN``.
PROB_SCALE: float = 8.0
#: Score factor for a verified agency with valid, matching permits (registry check).
VERIFIED_FACTOR: float = 0.5
#: Verification statuses that show a registry problem (risk comes as findings).
BAD_STATUSES = frozenset({"lookalike", "suspended", "revoked", "licence_expired",
                          "permit_invalid"})

RISKY_PLACE = frozenset(
    {"moratorium_destination", "scam_hub_destination", "informal_route", "non_work_visa"}
)
LURES = frozenset(
    {
        "upfront_fee",
        "personal_account_payment",
        "salary_deduction",
        "document_bypass",
        "free_costs_claim",
        "high_salary_claim",
        "guaranteed_visa",
    }
)
STRONG = frozenset(
    {
        "moratorium_destination",
        "scam_hub_destination",
        "informal_route",
        "non_work_visa",
        "document_bypass",
        "underage_ok",
        "unlicensed_agency_claim",
        "passport_retention",
        "salary_deduction",
        "personal_account_payment",
        "upfront_fee",
        "identity_document_request",
        "guaranteed_visa",
        "credential_request",
    }
)
#: Findings that void the lawful-channel discount (a licensed company would not do this).
VOIDS_LEGIT = frozenset(
    {
        "unlicensed_agency_claim",
        "personal_account_payment",
        "document_bypass",
        "non_work_visa",
        "underage_ok",
        "moratorium_destination",
        "scam_hub_destination",
        "informal_route",
        "credential_request",
    }
)
#: Findings a licensed agency with a valid permit could not lawfully show: they keep a
#: verified post from the ``VERIFIED_FACTOR`` discount.
VOIDS_VERIFIED = frozenset(
    {
        "unlicensed_agency_claim",
        "watchlist_hit",
        "personal_account_payment",
        "non_work_visa",
        "underage_ok",
        "moratorium_destination",
        "scam_hub_destination",
        "informal_route",
        "credential_request",
        "passport_retention",
    }
)
#: Strong findings that only make sense for work (not for selling goods): two strong
#: findings, one of them from this set, make a post recruitment even without work words.
WORK_FINDINGS = STRONG - {"upfront_fee", "personal_account_payment",
                          "identity_document_request", "credential_request"}
#: Findings that by themselves show the post is recruiting (an offer), given work context.
OFFER_FINDINGS = STRONG | {"contact_only_chat", "no_company_identity", "job_title_vague"}


@dataclass(slots=True)
class ScoreResult:
    """Result of ``score_assessment``.

    risk_score: int 0–100; level: "high"/"medium"/"low"; label: one of ``types.LABELS``;
    probabilities: label -> float (sum 1); parts: the intermediate numbers (explanation).
    """

    risk_score: int
    level: str
    label: str
    probabilities: dict[str, float]
    parts: dict[str, Any] = field(default_factory=dict)


def level_for(score: float) -> str:
    """Level for a 0–100 score: "high" (>= HIGH_MIN), "medium" (>= MEDIUM_MIN), else "low"."""
    if score >= HIGH_MIN:
        return "high"
    if score >= MEDIUM_MIN:
        return "medium"
    return "low"


def score_assessment(findings: Iterable[Finding], entities: Iterable[Entity] | None = None,
                     signals: dict[str, Any] | None = None, *,
                     verification: dict[str, Any] | None = None) -> ScoreResult:
    """Score one post from its findings and the engine's cue signals.

    findings: ``Finding`` list from ``RuleSet.evaluate`` (weights are points 0..100),
        with the verifier's findings merged in when there is a verifier.
    entities: the post's entities (countries and cities tell whether the work is abroad).
    signals: the dict from ``RuleSet.evaluate`` (``groups``, ``awareness``, ``offer``,
        ``legit``); missing keys count as 0.
    verification: ``Assessment.verification`` (``status``, ``permits_ok``; step 4 of
        the module docstring); None or empty: no registry check.
    Returns a ``ScoreResult``. Pure function; never raises for well-typed input.
    """
    fs = list(findings)
    sig = signals or {}
    groups: dict[str, float] = sig.get("groups") or {}  # read only
    ids = {f.indicator for f in fs}
    keep = 1.0
    for f in fs:
        w = f.weight  # clamped to 0..99 as min(max(w, 0.0), 99.0) does (same objects)
        if w < 0.0:
            w = 0.0
        elif w > 99.0:
            w = 99.0
        keep *= 1.0 - w / 100.0
    base = 100.0 * (1.0 - keep)
    bonus = 0.0
    if not ids.isdisjoint(RISKY_PLACE) and not ids.isdisjoint(LURES):
        bonus += COMBO_BONUS
    anonymous = "no_company_identity" in ids and (
        "contact_only_chat" in ids or "suspicious_shortlink" in ids)
    if anonymous and not ids.isdisjoint(STRONG):
        bonus += ANON_BONUS
    raw = min(100.0, base + bonus)
    legit = float(sig.get("legit", groups.get("legit", 0.0)))
    if legit > 0 and ids.isdisjoint(VOIDS_LEGIT):
        raw /= 1.0 + LEGIT_DISCOUNT * legit * (0.5 if "upfront_fee" in ids else 1.0)
    ver = verification or {}
    status = ver.get("status")
    verified_ok = (status == "verified" and bool(ver.get("permits_ok"))
                   and ids.isdisjoint(VOIDS_VERIFIED))
    if verified_ok:
        raw *= VERIFIED_FACTOR
    a = float(sig.get("awareness", groups.get("awareness", 0.0)))
    o = float(sig.get("offer", groups.get("offer", 0.0)))
    share = awareness_share(a, o, legit)
    dominated = awareness_dominates(a, o, legit)
    risk = raw * (1.0 - AWARENESS_DISCOUNT * share)
    if dominated:
        risk = min(risk, MEDIUM_MIN - 1.0)
    risk_score = round(max(0.0, min(100.0, risk)))
    job = groups.get("job", 0.0) > 0.0
    cues: dict[str, Any] = sig.get("cues") or {}
    licensed_claim = bool(cues.get("legit_licence")) and groups.get("company", 0.0) > 0.0
    trade_only = groups.get("commerce", 0.0) > 0.0 and groups.get("hiring", 0.0) == 0.0
    recruitment = (
        (job and not trade_only and (o > 0.0 or not ids.isdisjoint(OFFER_FINDINGS)))
        or licensed_claim
        or (not ids.isdisjoint(WORK_FINDINGS) and len(ids & STRONG) >= 2)
        or verified_ok
        or (status in BAD_STATUSES and (job or o > 0.0))
    )
    overseas = groups.get("overseas", 0.0) > 0.0 or any(
        (e.kind == "country" and e.value != "ID")
        or (e.kind == "city" and e.data.get("country") not in (None, "ID"))
        for e in entities or ())
    anonymous_abroad = (recruitment and overseas and not dominated and legit == 0.0
                        and "no_company_identity" in ids and "contact_only_chat" in ids)
    if anonymous_abroad and risk_score < ANON_ABROAD_MIN:
        risk_score = ANON_ABROAD_MIN
    if dominated:
        label = "awareness"
    elif recruitment and (risk_score >= ILLEGAL_MIN or anonymous_abroad):
        label = "illegal"
    elif recruitment:
        label = "legitimate"
    else:
        label = "other"
    rec_conf = 0.9 if recruitment else (0.35 if job else 0.1)
    p_ill = 1.0 / (1.0 + math.exp(-((risk_score - ILLEGAL_MIN) / PROB_SCALE)))  # logistic
    # label probabilities (illegal, legitimate, awareness, other)
    p_illegal = (1 - share) * rec_conf * p_ill
    p_legit = (1 - share) * rec_conf * (1 - p_ill)
    p_aware = share
    p_other = (1 - share) * (1 - rec_conf)
    # ``label`` must be the most probable one (the first of equals, in that order);
    # else half of the mass goes to it
    top = max(p_illegal, p_legit, p_aware, p_other)
    first = ("illegal" if p_illegal == top else "legitimate" if p_legit == top
             else "awareness" if p_aware == top else "other")
    if first != label:
        p_illegal, p_legit, p_aware, p_other = (
            0.5 * v + (0.5 if k == label else 0.0)
            for k, v in zip(("illegal", "legitimate", "awareness", "other"),
                            (p_illegal, p_legit, p_aware, p_other), strict=True))
    total = p_illegal + p_legit + p_aware + p_other or 1.0
    probs = {"illegal": round(p_illegal / total, 4), "legitimate": round(p_legit / total, 4),
             "awareness": round(p_aware / total, 4), "other": round(p_other / total, 4)}
    drift = round(1.0 - sum(probs.values()), 4)
    probs[label] = round(probs[label] + drift, 4)
    return ScoreResult(  # positional: risk_score, level, label, probabilities, parts
        risk_score, level_for(risk_score), label, probs,
        {"base": base, "bonus": bonus, "legit": legit, "awareness_share": share,
         "recruitment": recruitment, "verified": verified_ok},
    )

"""Risk score, level, label and probabilities."""

from __future__ import annotations

import pytest

from patroli.analysis import analyze_text
from patroli.analysis.score import HIGH_MIN, MEDIUM_MIN, level_for, score_assessment
from patroli.types import LABELS, Finding


def _f(ind: str, w: float) -> Finding:
    return Finding(indicator=ind, weight=w)


def _sig(awareness: float = 0.0, offer: float = 2.0, legit: float = 0.0, job: float = 1.0) -> dict:
    return {"awareness": awareness, "offer": offer, "legit": legit,
            "groups": {"job": job, "offer": offer, "awareness": awareness, "legit": legit}}


@pytest.mark.parametrize(("score", "level"), [(0, "low"), (MEDIUM_MIN - 1, "low"),
                                              (MEDIUM_MIN, "medium"), (HIGH_MIN - 1, "medium"),
                                              (HIGH_MIN, "high"), (100, "high")])
def test_levels(score: int, level: str) -> None:
    assert level_for(score) == level


def test_single_weak_flag_stays_low_and_combinations_rise() -> None:
    one = score_assessment([_f("high_salary_claim", 10)], [], _sig())
    assert one.level == "low" and one.label == "legitimate"
    combo = score_assessment([_f("scam_hub_destination", 40), _f("free_costs_claim", 6),
                              _f("contact_only_chat", 10), _f("no_company_identity", 12)], [], _sig())
    assert combo.risk_score > one.risk_score + 30
    assert combo.label == "illegal"


def test_licence_discounts_but_not_for_personal_account() -> None:
    fs = [_f("upfront_fee", 18), _f("urgency", 8), _f("contact_only_chat", 10)]
    plain = score_assessment(fs, [], _sig())
    licensed = score_assessment(fs, [], _sig(legit=4.0))
    assert licensed.risk_score < plain.risk_score
    fs2 = fs + [_f("personal_account_payment", 22)]
    assert score_assessment(fs2, [], _sig(legit=4.0)).risk_score == \
        score_assessment(fs2, [], _sig()).risk_score


def test_awareness_dominance_labels_awareness_and_caps_level() -> None:
    fs = [_f("foreign_phone", 6), _f("scam_hub_destination", 40), _f("upfront_fee", 18)]
    r = score_assessment(fs, [], _sig(awareness=6.0, offer=1.0))
    assert r.label == "awareness" and r.level != "high"


def test_other_without_work_context() -> None:
    r = score_assessment([_f("personal_account_payment", 22)], [], _sig(offer=0.0, job=0.0))
    assert r.label == "other"


@pytest.mark.parametrize("awareness,offer,legit,job", [(0, 0, 0, 0), (0, 2, 0, 1), (5, 1, 0, 1),
                                                       (2, 2, 4, 1), (1, 0, 0, 1)])
def test_probabilities_sum_to_one_and_favour_label(awareness: float, offer: float, legit: float,
                                                    job: float) -> None:
    for fs in ([], [_f("upfront_fee", 18), _f("non_work_visa", 30)]):
        r = score_assessment(fs, [], _sig(awareness, offer, legit, job))
        assert set(r.probabilities) == set(LABELS)
        assert abs(sum(r.probabilities.values()) - 1.0) < 1e-6
        assert all(0.0 <= p <= 1.0 for p in r.probabilities.values())
        assert max(r.probabilities, key=r.probabilities.get) == r.label
        assert 0 <= r.risk_score <= 100


def test_end_to_end_labels() -> None:
    ill = analyze_text("Dibutuhkan segera ART untuk majikan di Riyadh, berangkat pakai visa "
                       "ziarah. Gaji 7jt. WA 0813 0000 2259")
    assert ill.label == "illegal" and ill.level == "high"
    legit = analyze_text("PT Kencana Jaya Penempatan (KEP-067/P3MI/2023) membuka lowongan operator "
                         "pabrik Taiwan, SIP-2026/TW/0352. Daftar di LTSA Cirebon, kantor Jl. "
                         "Tuparev No. 202, (0231) 0000-574. Tanpa biaya penempatan.")
    assert legit.label == "legitimate" and legit.level == "low"
    other = analyze_text("Jual durian montong 65rb/kg, gratis ongkir. WA 0812 0000 3640")
    assert other.label == "other"


@pytest.mark.parametrize("text", [
    "Disewakan kamar kos dekat kawasan pabrik Cikarang, 750rb/bulan, banyak karyawan "
    "pabrik tinggal di sini. WA 0812 0000 4455",
    "Jual rendang kemasan buat teman-teman BMI di Taiwan, kirim tiap bulan, harga 120rb. "
    "WA 0813 0000 7788",
    "Turnamen bulu tangkis pekerja migran di Taipei, pendaftaran per tim NT$ 500, hadiah "
    "NT$ 5.000. Hubungi 0900 0000 123 (WhatsApp)",
])
def test_trade_and_events_without_hiring_words_are_not_recruitment(text: str) -> None:
    a = analyze_text(text, classifier=None)
    assert a.label == "other", (a.label, a.indicators, a.signals.get("groups"))


def test_hiring_words_keep_a_trade_post_recruitment() -> None:
    a = analyze_text("Dicari penjaga kos di Kuala Lumpur, gaji RM 1.500, tanpa pengalaman. "
                     "WA 0812 0000 9911", classifier=None)
    assert a.label in ("illegal", "legitimate")


@pytest.mark.parametrize("text", [
    "Ada yg nawarin kerja ketik2 di Myanmar gaji 25jt? Itu jebakan guys. Jangan ya!",
    "Link daftar kerja Kamboja gratis beredar di grup, jangan diklik! Udah kami laporin "
    "ke admin. #waspadaTPPO",
])
def test_casual_warnings_are_awareness(text: str) -> None:
    a = analyze_text(text, classifier=None)
    assert a.label == "awareness", (a.label, a.indicators, a.signals.get("groups"))

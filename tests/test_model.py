"""Issue 4: the text classifier, its training, combination, evaluation and analyst labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from patroli.analysis.score import ScoreResult
from patroli.model.classifier import TextClassifier, probabilities_array
from patroli.model.combine import combine, model_view, model_weight_for
from patroli.model.registry import BUNDLED_DIR, MODEL_FILE
from patroli.model.train import (
    ModelNotBetterError,
    cv_folds,
    install,
    normalize_label,
    train,
)
from patroli.types import LABELS

TEXTS = {
    "illegal": ["Loker Kamboja admin online gaji 20jt tanpa pengalaman, PP ditanggung, chat WA",
                "Dicari ART ke Arab Saudi visa umroh, berangkat cepat, potong gaji 3 bulan",
                "Kerja Malaysia lewat jalur Nunukan tanpa paspor, bayar DP 5jt ke rekening pribadi",
                "Lowongan operator Myanmar gaji USD 1500 tiket gratis hubungi telegram"],
    "legitimate": ["PT Resmi Jaya P3MI berizin SIP3MI membuka lowongan perawat Jepang, daftar di LTSA",
                   "Program G to G Korea EPS-TOPIK, pendaftaran resmi melalui Disnaker setempat",
                   "Lowongan kasir toko di Bandung, kirim lamaran ke kantor kami",
                   "P3MI terdaftar, SIP nomor tercantum, proses di BP3MI, tanpa biaya penempatan"],
    "awareness": ["Waspada penipuan lowongan kerja ke Kamboja, BP2MI mengimbau masyarakat",
                  "Hati-hati modus visa umroh untuk kerja, itu non-prosedural dan berbahaya",
                  "Berita: korban TPPO dipulangkan dari Myanmar setelah dijanjikan gaji tinggi",
                  "Tips cek lowongan resmi: pastikan perusahaan punya izin dan SIP"],
    "other": ["Jual koper 28 inch murah, kondisi baru, COD Jakarta",
              "Paket umroh keluarga Desember, hotel bintang lima dekat masjid",
              "Selamat ulang tahun ibu, semoga sehat selalu",
              "Kursus bahasa Inggris untuk anak SD, kelas sore"],
}


def _data(copies: int = 3) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for k in range(copies):
        for lab, ts in TEXTS.items():
            for t in ts:
                texts.append(f"{t} {'!' * k}")
                labels.append(lab)
    return texts, labels


@pytest.fixture(scope="module")
def small_model() -> TextClassifier:
    texts, labels = _data()
    return train(texts, labels, cv=0).classifier


def test_fast_path_equals_pipeline(small_model: TextClassifier) -> None:
    texts = [t for ts in TEXTS.values() for t in ts] + ["", "zzz qqq", "G4JI 15jt ke T41wan 🇹🇼"]
    fast = probabilities_array(small_model.predict_proba(texts))
    pipe = small_model.pipeline
    ref = pipe.predict_proba(texts)[:, [list(pipe.classes_).index(lab) for lab in LABELS]]
    assert np.allclose(fast, ref, atol=1e-9)
    assert np.allclose(fast.sum(1), 1.0)


def test_training_is_reproducible() -> None:
    texts, labels = _data()
    a = train(texts, labels, cv=0, seed=7)
    b = train(texts, labels, cv=0, seed=7)
    assert a.classifier.meta["data_sha256"] == b.classifier.meta["data_sha256"]
    assert a.classifier.version == b.classifier.version
    probe = ["kerja ke luar negeri gaji besar", "jual motor bekas"]
    assert a.classifier.predict_proba(probe) == b.classifier.predict_proba(probe)
    c = train(texts[:-1], labels[:-1], cv=0, seed=7)
    assert c.classifier.meta["data_sha256"] != a.classifier.meta["data_sha256"]


def test_cv_never_tests_on_training_posts() -> None:
    _, labels = _data()
    folds = cv_folds(labels, 3, seed=1)
    seen_test: set[int] = set()
    for tr, te in folds:
        assert not set(tr) & set(te)
        seen_test |= set(te)
    assert seen_test == set(range(len(labels)))


def test_worse_model_is_refused_without_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATROLI_MODEL_DIR", str(tmp_path / "models"))
    texts, labels = _data()
    good = train(texts, labels, cv=3)
    target = install(good)
    assert (target / MODEL_FILE).is_file() and (target / "MODEL_CARD.md").is_file()
    noisy = labels[:]
    per_copy = len(noisy) // 3
    for i in range(per_copy, 3 * per_copy):  # two copies of each post relabelled apart:
        shift = 1 + i // per_copy  # the copies contradict each other, so CV must be worse
        noisy[i] = LABELS[(LABELS.index(noisy[i]) + shift) % 4]
    worse = train(texts, noisy, cv=3)
    assert worse.macro_f1 is not None and good.macro_f1 is not None
    assert worse.macro_f1 < good.macro_f1
    with pytest.raises(ModelNotBetterError):
        install(worse)
    assert install(worse, force=True).is_dir()


def test_bundled_model_loads_and_predicts_four_labels() -> None:
    clf = TextClassifier.load(BUNDLED_DIR / MODEL_FILE)
    assert clf.version.startswith("tfidf-lr-")
    assert (BUNDLED_DIR / "MODEL_CARD.md").is_file()
    assert (BUNDLED_DIR / MODEL_FILE).stat().st_size < 5_000_000
    (p,) = clf.predict_proba(["Lowongan kerja Kamboja admin online gaji 25jt, chat WA saja"])
    assert set(p) == set(LABELS)
    assert abs(sum(p.values()) - 1.0) < 1e-9
    assert max(p, key=lambda k: p[k]) == "illegal"


def test_combine_blends_and_keeps_rule_priorities() -> None:
    rule = ScoreResult(30, "low", "legitimate",
                       {"illegal": 0.3, "legitimate": 0.5, "awareness": 0.1, "other": 0.1})
    res = combine(rule, {"illegal": 0.9, "legitimate": 0.05, "awareness": 0.03, "other": 0.02})
    assert res.label == "illegal" and res.risk_score >= 36
    assert abs(sum(res.probabilities.values()) - 1.0) < 1e-6
    aware = ScoreResult(20, "low", "awareness",
                        {"illegal": 0.1, "legitimate": 0.1, "awareness": 0.6, "other": 0.2})
    res = combine(aware, {"illegal": 0.97, "legitimate": 0.01, "awareness": 0.01, "other": 0.01})
    assert res.label == "awareness" and res.risk_score < 40
    assert combine(rule, None) is rule
    # the registry disproves a lawful-looking ad: the model's "legitimate" cannot win
    expired = ScoreResult(47, "medium", "illegal",
                          {"illegal": 0.55, "legitimate": 0.35, "awareness": 0.05, "other": 0.05})
    lawful = {"illegal": 0.04, "legitimate": 0.9, "awareness": 0.02, "other": 0.04}
    assert combine(expired, lawful).label == "legitimate"
    res = combine(expired, lawful, registry_status="permit_invalid")
    assert res.label == "illegal" and res.risk_score >= 40
    assert combine(expired, lawful, registry_status="verified").label == "legitimate"
    assert model_weight_for(100, 500) == model_weight_for(500, 500) > model_weight_for(1000, 500)
    view = model_view("legitimate", {"illegal": 0.8, "legitimate": 0.2})
    assert not view.agree and "TIDAK" in view.message_id and "DISAGREES" in view.message_en


def test_normalize_label_maps_binary_fraud_labels() -> None:
    assert normalize_label("Illegal") == "illegal"
    assert normalize_label("1") == "illegal" and normalize_label(0) == "legitimate"
    assert normalize_label("spam") is None


def test_training_from_analyst_labels_changes_prediction(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from patroli.analysis import analyze
    from patroli.store import Store
    from patroli.store.labels import add_label, labeled_posts
    from patroli.types import Post

    monkeypatch.setenv("PATROLI_MODEL_DIR", str(tmp_path / "models"))
    texts, labels = _data()
    probe = "Jual koper 28 inch murah kondisi baru COD Jakarta"
    posts = [Post(key=f"p{i}", text=t, source="s") for i, t in enumerate(texts)]
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.start_run("s", {})
        store.save_batch(run, [(p, analyze(p, now=now)) for p in posts])
        for p, lab in zip(posts, labels):
            add_label(store, "s", p.key, lab, "analyst1")
        before = train(*zip(*labeled_posts(store)), cv=0).classifier.predict([probe])[0]
        assert before == "other"
        # analysts relabel every "goods for sale" post as illegal (a later decision wins)
        for p, lab in zip(posts, labels):
            if lab == "other":
                add_label(store, "s", p.key, "illegal", "analyst2", note="penjualan kedok")
        pairs = labeled_posts(store)
    assert len(pairs) == len(posts)
    after = train([t for t, _ in pairs], [lab for _, lab in pairs], cv=0).classifier
    assert after.predict([probe])[0] == "illegal"


def test_evaluate_cv_output_structure(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from patroli.cli import app

    texts, labels = _data()
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": f"G{i}", "text": t, "label": lab}) + "\n"
                            for i, (t, lab) in enumerate(zip(texts, labels))), encoding="utf-8")
    res = CliRunner().invoke(app, ["evaluate", str(gold), "--cv", "3", "--json", "--no-registry"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["n"] == len(texts) and d["how"] == "cv 3"
    for s in ("rules", "model", "combined"):
        fig = d["systems"][s]
        assert set(fig["labels"]) == set(LABELS)
        assert {"precision", "recall", "f1"} <= set(fig["illegal_vs_rest"])
        assert 0.0 <= fig["awareness_as_illegal"] <= 1.0 and 0.0 <= fig["macro_f1"] <= 1.0


def test_evaluate_reads_emscad_csv_through_column_mapping(tmp_path) -> None:
    """An EMSCAD-shaped CSV (fraudulent 1/0) evaluates through the CSV column mapping."""
    import csv
    import json

    from typer.testing import CliRunner

    from patroli.cli import app

    path = tmp_path / "emscad.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["job_id", "title", "company_profile", "description", "fraudulent"])
        w.writerow(["1", "Data entry clerk", "", "Work from home, pay the registration fee "
                    "of $99 to our agent by wire, no experience, earn $5000 a week", "1"])
        w.writerow(["2", "Accountant", "Acme Corp, est. 1990", "Prepare monthly reports "
                    "for our Chicago office. Apply through our careers page.", "0"])
    res = CliRunner().invoke(app, [
        "evaluate", str(path), "--json", "--no-registry",
        "--text-column", "title,company_profile,description", "--label-column", "fraudulent"])
    assert res.exit_code == 0, res.output
    ev = json.loads(res.output)
    assert ev["n"] == 2
    assert ev["labels"]["illegal"]["support"] == 1 and ev["labels"]["legitimate"]["support"] == 1

"""Tests for patroli.analysis.normalize (folding with offsets back to the original)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from patroli.analysis.normalize import normalize


def _check_offsets(text: str) -> None:
    n = normalize(text)
    assert len(n.offsets) == len(n.text) + 1
    assert n.offsets[-1] == len(text)
    assert all(a <= b for a, b in zip(n.offsets, n.offsets[1:]))
    assert all(0 <= o <= len(text) for o in n.offsets)


def test_lowercase_nfkc_accents_and_whitespace() -> None:
    n = normalize("ＧＡＪＩ  Café\n\n\tTinggi")
    assert n.text == "gaji cafe tinggi"


def test_emoji_become_single_space_between_words() -> None:
    assert normalize("kerja🇰🇭kamboja  🔥🔥 gaji").text == "kerja kamboja gaji"
    assert normalize("admin\u200donline").text == "admin online"


def test_leetspeak_folded_inside_words() -> None:
    t = normalize("G4JI besar, L0KER k3rja di K4mboj4, 0n1ine, g@ji, b1sa").text
    assert t == "gaji besar, loker kerja di kamboja, online, gaji, bisa"


def test_numbers_keep_their_digits() -> None:
    t = normalize("gaji 15jt, Rp 8.500.000, WA 0812-0000-3185, umur 17-40, JLPT N4, 5x").text
    assert "15jt" in t and "8.500.000" in t and "0812-0000-3185" in t
    assert "17-40" in t and "n4" in t and "5x" in t


def test_letter_o_inside_a_number_is_zero() -> None:
    assert "10 jt" in normalize("G4ji 1O jt").text


def test_email_addresses_are_not_leet_folded() -> None:
    assert "hr2@mail5.example" in normalize("HR2@mail5.example").text


def test_unicode_digits_and_dashes() -> None:
    t = normalize("٠٨١٢ – 5–6jt").text
    assert t == "0812 - 5-6jt"


def test_span_maps_back_to_original() -> None:
    text = "🔥 LOWONGAN  G4JI 15jt"
    n = normalize(text)
    i = n.text.index("gaji")
    s, e = n.span(i, i + 4)
    assert text[s:e] == "G4JI"


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_offsets_property(text: str) -> None:
    _check_offsets(text)
    n = normalize(text)
    for i in range(0, len(n.text), max(1, len(n.text) // 7 or 1)):
        s, e = n.span(i, min(len(n.text), i + 3))
        assert 0 <= s <= e <= len(text)


def test_large_input_linear_time() -> None:
    base = "LOKER K4MBOJ4 🇰🇭 g4ji 15jt/bln WA 0812-0000-3185 Rp 8.500.000  \n" * 1600
    t0 = time.perf_counter()
    normalize(base)
    small = time.perf_counter() - t0
    big = base * 10  # ~1 MB
    t0 = time.perf_counter()
    n = normalize(big)
    large = time.perf_counter() - t0
    assert len(n.offsets) == len(n.text) + 1
    assert large < max(1.0, small * 40)  # generous: linear, not quadratic

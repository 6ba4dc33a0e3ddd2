"""User-facing strings of the web application: Bahasa Indonesia first, English second.

``LANGS`` are the languages offered ("id" is the default); ``translator(lang)`` returns
``t(key, **fields)`` for templates. A key missing from the catalogue raises KeyError
(caught by the tests, which render every page in both languages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_LANG", "LANGS", "MESSAGES", "translator"]

LANGS: tuple[str, ...] = ("id", "en")
DEFAULT_LANG = "id"

MESSAGES: dict[str, dict[str, str]] = {
    "app.name": {"id": "Patroli", "en": "Patroli"},
    "app.tagline": {"id": "Patroli siber rekrutmen ilegal PMI",
                    "en": "Cyber patrol against illegal recruitment of migrant workers"},
    "lang.switch": {"id": "English", "en": "Bahasa Indonesia"},
    "login.title": {"id": "Masuk", "en": "Sign in"},
    "login.username": {"id": "Nama pengguna", "en": "Username"},
    "login.password": {"id": "Kata sandi", "en": "Password"},
    "login.submit": {"id": "Masuk", "en": "Sign in"},
    "login.failed": {"id": "Nama pengguna atau kata sandi salah.",
                     "en": "Wrong username or password."},
    "login.rate_limited": {"id": "Terlalu banyak percobaan. Coba lagi dalam {seconds} detik.",
                           "en": "Too many attempts. Try again in {seconds} seconds."},
    "logout.submit": {"id": "Keluar", "en": "Sign out"},
    "nav.signed_in_as": {"id": "Masuk sebagai", "en": "Signed in as"},
    "role.admin": {"id": "admin", "en": "admin"},
    "role.supervisor": {"id": "supervisor", "en": "supervisor"},
    "role.analyst": {"id": "analis", "en": "analyst"},
    "role.viewer": {"id": "pengamat", "en": "viewer"},
    "home.title": {"id": "Penilaian terbaru", "en": "Latest assessments"},
    "home.empty": {"id": "Belum ada penilaian. Jalankan `patroli scan` lebih dulu.",
                   "en": "No assessments yet. Run `patroli scan` first."},
    "col.risk": {"id": "Risiko", "en": "Risk"},
    "col.level": {"id": "Tingkat", "en": "Level"},
    "col.label": {"id": "Label", "en": "Label"},
    "col.platform": {"id": "Platform", "en": "Platform"},
    "col.text": {"id": "Teks", "en": "Text"},
    "col.analyzed": {"id": "Dianalisis", "en": "Analyzed"},
    "level.high": {"id": "tinggi", "en": "high"},
    "level.medium": {"id": "sedang", "en": "medium"},
    "level.low": {"id": "rendah", "en": "low"},
    "error.title": {"id": "Terjadi kesalahan", "en": "Something went wrong"},
    "error.403": {"id": "Anda tidak berhak membuka halaman ini.",
                  "en": "You are not allowed to open this page."},
    "error.404": {"id": "Halaman tidak ditemukan.", "en": "Page not found."},
    "error.back": {"id": "Kembali ke beranda", "en": "Back to the home page"},
}


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **fields)``: the message in ``lang`` (fallback: Bahasa Indonesia), with
    ``{field}`` placeholders filled. KeyError for an unknown key."""
    code = lang if lang in LANGS else DEFAULT_LANG

    def t(key: str, **fields: Any) -> str:
        entry = MESSAGES[key]
        text = entry.get(code) or entry[DEFAULT_LANG]
        return text.format(**fields) if fields else text

    return t

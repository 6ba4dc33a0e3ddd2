"""Entity extraction: phones, URLs/domains, Telegram handles, e-mails, money, agency names,
licence and permit numbers, countries and cities (pure; no I/O at call time).

``extract_entities(text, norm=None) -> list[Entity]``; spans are offsets into ``text``.
Value conventions per kind are in ``patroli.types`` (``ENTITY_KINDS`` comment).
"""

from __future__ import annotations

import re

from patroli.analysis.money import find_money
from patroli.analysis.normalize import Normalized, normalize
from patroli.analysis.phones import find_phones, phone_from_digits
from patroli.analysis.places import find_places
from patroli.analysis.spans import SpanIndex
from patroli.analysis.urls import find_emails, find_telegram_handles, find_urls
from patroli.types import Entity

__all__ = ["extract_entities", "find_agency_names", "find_licence_numbers",
           "find_permit_numbers"]

# Case-insensitive; the first letter is spelled out as the set that it matches under
# IGNORECASE ("k" also matches U+212A KELVIN SIGN, "s" U+017F LONG S) and the look-behind
# follows it, so that ``re`` skips ahead to that letter.
_LICENCE_RE = re.compile(r"[Kk\u212a](?i:(?<![A-Za-z0-9].)EP\s?[-\u2010-\u2015]?\s?(\d{1,4})\s?/"
                         r"\s?P3MI\s?/\s?(\d{4})(?!\d))")
_PERMIT_RE = re.compile(r"[Ss\u017f](?i:(?<![A-Za-z0-9].)IP\s?[-\u2010-\u2015:]?\s?(\d{4})\s?/\s?"
                        r"([A-Za-z]{2})\s?/\s?(\d{3,5})(?!\d))")
_NAME_WORD = r"[A-Z][A-Za-z0-9&'\-]*\.?"
# The "no letter or digit before" look-behind follows each prefix's first letter (same
# test), so the pattern starts with a literal and ``re`` skips ahead to P, C, L, Y or U.
_AGENCY_RE = re.compile(
    r"(?P<prefix>P(?<![A-Za-z0-9]P)\.?\s?T\.?|C(?<![A-Za-z0-9]C)V\.?|L(?<![A-Za-z0-9]L)PK"
    r"|P(?<![A-Za-z0-9]P)erseroan\sTerbatas|Y(?<![A-Za-z0-9]Y)ayasan|U(?<![A-Za-z0-9]U)D\.?)"
    rf"[ \t]+(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,7}})"
)
# (the same look-behind follows the name's first capital, so ``re`` skips ahead to capitals)
_SDN_RE = re.compile(
    rf"(?P<name>[A-Z](?<![A-Za-z0-9][A-Z])[A-Za-z0-9&'\-]*\.?(?:[ \t]+{_NAME_WORD}){{0,6}})"
    r"[ \t]+(?P<suffix>Sdn\.?\s?Bhd\.?|Co\.,?\s?Ltd\.?|Pte\.?\s?Ltd\.?|Ltd\.?|LLC|GmbH|Inc\.?)"
)
# Whether ``Sdn|Ltd|LLC|GmbH|Inc\b`` occurs (needed before ``_SDN_RE`` is tried): ``in``
# tests and a literal-led pattern, which are much faster than a scan of that alternation.
_INC_RE = re.compile(r"Inc\b")


def _has_sdn_hint(text: str) -> bool:
    return ("Sdn" in text or "Ltd" in text or "LLC" in text or "GmbH" in text
            or ("Inc" in text and _INC_RE.search(text) is not None))


# Words that end a company name although capitalised (they start the next phrase).
_NAME_STOP = frozenset({
    "Membuka", "Buka", "Merekrut", "Rekrut", "Menerima", "Dibutuhkan", "Kantor", "Izin",
    "Resmi", "Untuk", "Dan", "Atau", "Di", "Ke", "Dari", "Via", "Telp", "Info", "SIP",
    "KEP", "P3MI", "No", "No.", "Nomor", "Lowongan", "LOWONGAN", "Alamat", "Jl", "Jl.",
    "Cabang", "The", "For", "Is", "Are", "Hiring", "Open", "Job", "Kami", "Yang",
})
_NAME_TRAIL_RE = re.compile(r"[\s.,;:\-]+$")
_SPACES_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\S+")


def find_licence_numbers(text: str, lowered: str | None = None
                         ) -> list[tuple[str, tuple[int, int]]]:
    """P3MI licence numbers "KEP-NNN/P3MI/YYYY" (upper-cased, spacing normalised).

    lowered: ``text.lower()`` when the caller has it.
    """
    if "p3mi" not in (text.lower() if lowered is None else lowered):
        return []
    return [(f"KEP-{m.group(1)}/P3MI/{m.group(2)}", m.span()) for m in _LICENCE_RE.finditer(text)]


def find_permit_numbers(text: str, lowered: str | None = None
                        ) -> list[tuple[str, tuple[int, int]]]:
    """Recruitment permits "SIP-YYYY/CC/NNNN" (upper-cased, spacing normalised).

    lowered: ``text.lower()`` when the caller has it.
    """
    if "sip" not in (text.lower() if lowered is None else lowered):
        return []
    return [(f"SIP-{m.group(1)}/{m.group(2).upper()}/{m.group(3)}", m.span())
            for m in _PERMIT_RE.finditer(text)]


def _trim_name(words: list[str]) -> list[str]:
    kept: list[str] = []
    for w in words:
        if w.rstrip(".") in _NAME_STOP or w in _NAME_STOP:
            break
        kept.append(w)
        if w.endswith(".") and len(w) > 4:
            break  # sentence end ("... Karya.") unless an abbreviation ("Sdn.")
    return kept


def find_agency_names(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Company / training-centre names: "PT ...", "CV ...", "LPK ...", "... Sdn. Bhd.".

    The value keeps the prefix ("PT Lintas Samudra Karya"), whitespace collapsed; the
    name is the run of capitalised words after the prefix (stops at a lower-case word,
    punctuation, "(", a digit-only word or a verb-like capitalised word).
    """
    out: list[tuple[str, tuple[int, int]]] = []
    for m in _AGENCY_RE.finditer(text):
        prefix = _SPACES_RE.sub("", m.group("prefix"))
        if prefix.upper().replace(".", "") == "PT":
            prefix = "PT"
        elif prefix.lower().startswith("perseroan"):
            prefix = "Perseroan Terbatas"
        words = _trim_name(m.group("name").split())
        if not words:
            continue
        name = " ".join(words)
        name = _NAME_TRAIL_RE.sub("", name)
        if not name or not any(c.isalpha() for c in name):
            continue
        start = m.start()
        end = m.start("name") + _name_len(text, m.start("name"), name)
        out.append((f"{prefix} {name}", (start, end)))
    for m in (_SDN_RE.finditer(text) if _has_sdn_hint(text) else ()):
        name_str = m.group("name")
        positions = [w.start() for w in _WORD_RE.finditer(name_str)]
        words = name_str.split()
        k = 0
        # drop leading stop words ("Untuk Perkasa Glove ..." -> "Perkasa Glove ...")
        while k < len(words) and words[k].rstrip(".") in _NAME_STOP:
            k += 1
        if k == len(words):
            continue
        suffix = _SPACES_RE.sub(" ", m.group("suffix"))
        value = " ".join(words[k:]) + " " + suffix
        out.append((value, (m.start("name") + positions[k], m.end())))
    return out


def _name_len(text: str, start: int, name: str) -> int:
    """Length in ``text`` from ``start`` covering the whitespace-collapsed ``name``."""
    n = len(text)
    i = start
    words = name.split(" ")
    for w in words[:-1]:
        i = min(i + len(w), n)
        while i < n and text[i].isspace():
            i += 1
    return min(i + len(words[-1]), n) - start


def _fmt_amount(a: float) -> str:
    return str(int(a)) if a == int(a) else f"{a:g}"


def extract_entities(text: str, norm: Normalized | None = None) -> list[Entity]:
    """Extract every entity from ``text``.

    text: the original post text. norm: ``normalize(text)`` when the caller has it.
    Returns entities sorted by span (then kind, value), without duplicate
    (kind, value, span); spans are offsets into ``text``.
    """
    if norm is None:
        norm = normalize(text)
    low = text.lower()
    ents: list[Entity] = []
    emails = find_emails(text, low)
    email_spans = [e.span for e in emails]
    for em in emails:
        data = {"obfuscated": True} if em.obfuscated else {}
        ents.append(Entity("email", em.email, em.span, data))
    urls = find_urls(text, skip=email_spans, lowered=low)
    url_spans: list[tuple[int, int]] = []
    for u in urls:
        url_spans.append(u.span)
        ents.append(Entity("url", u.url, u.span, dict(u.data)))
        ents.append(Entity("domain", u.host, u.span))
        if u.telegram:
            ents.append(Entity("telegram", u.telegram, u.span, {"source": "link"}))
        if u.whatsapp:
            res = phone_from_digits(u.whatsapp, plus=not u.whatsapp.startswith("0"))
            if res is not None:
                ents.append(Entity("phone", res[0], u.span,
                                   {"region": res[1], "channel": "whatsapp"}))
    blocked = SpanIndex(email_spans + url_spans) if email_spans or url_spans else None
    for p in find_phones(norm):
        if blocked is not None and blocked.overlaps(*p.span):
            continue
        data: dict = {"region": p.region}
        if p.obfuscated:
            data["obfuscated"] = True
        ents.append(Entity("phone", p.e164, p.span, data))
    for h in find_telegram_handles(text, low):
        if blocked is not None and blocked.contains(h.span[0]):
            continue
        ents.append(Entity("telegram", h.handle, h.span))
    for mo in find_money(norm):
        value = f"{_fmt_amount(mo.amount)} {mo.currency}" + (f"/{mo.period}" if mo.period else "")
        ents.append(Entity("money", value, mo.span,
                           {"amount": mo.amount, "currency": mo.currency, "period": mo.period}))
    for pl in find_places(norm):
        if pl.kind == "city":
            ents.append(Entity("city", pl.value, pl.span, {"country": pl.country}))
        else:
            ents.append(Entity("country", pl.value, pl.span))
    for value, span in find_agency_names(text):
        ents.append(Entity("agency_name", value, span))
    for value, span in find_licence_numbers(text, low):
        ents.append(Entity("licence_number", value, span))
    for value, span in find_permit_numbers(text, low):
        ents.append(Entity("permit_number", value, span))
    # the first entity of each (span, kind, value), in that order
    unique: dict[tuple[tuple[int, int], str, str], Entity] = {}
    for e in ents:
        unique.setdefault((e.span, e.kind, e.value), e)
    return [unique[k] for k in sorted(unique)]

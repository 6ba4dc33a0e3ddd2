"""Entity values as the store keeps and looks them up.

``stored_value``: the indexed form of a value (PostgreSQL's b-tree index holds at most
about 2,700 bytes per row, so very long values, e.g. tracking URLs, are cut at
``MAX_VALUE_BYTES`` UTF-8 bytes; the full value stays in the entity's ``data``).

``query_values``: the values to look for when an analyst pivots on a value typed by hand
("0812-0000-3185", "t.me/Loker_Taiwan", "WWW.Example.COM"): the value as given plus its
normalised form (the ``ENTITY_KINDS`` conventions of ``patroli.types``: E.164 phones,
"@handle" lower-cased, lower-cased hosts and e-mail addresses, upper-cased permit
numbers and country codes).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from patroli.store.models import clean_text

#: Longest stored (indexed) entity value, in UTF-8 bytes.
MAX_VALUE_BYTES = 1500

_WS = re.compile(r"\s+")
_WA_LINK = re.compile(r"(?:wa\.me/|phone=)\+?(\d{6,16})", re.IGNORECASE)
_TG_LINK = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:s/)?@?([\w]+)", re.IGNORECASE
)


def stored_value(value: str) -> str:
    """The value as stored and indexed: cleaned (see ``models.clean_text``) and cut at
    ``MAX_VALUE_BYTES`` UTF-8 bytes on a character boundary."""
    value = clean_text(value)
    raw = value.encode("utf-8")
    if len(raw) <= MAX_VALUE_BYTES:
        return value
    return raw[:MAX_VALUE_BYTES].decode("utf-8", errors="ignore")


def _phone(value: str, region: str = "ID") -> str | None:
    m = _WA_LINK.search(value)
    text = m.group(1) if m else value
    digits = re.sub(r"[^\d+]", "", text)
    if not digits:
        return None
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif m or (digits.startswith("62") and not digits.startswith("+")):
        # a leading country code without "+" (wa.me links, "62 812...")
        digits = "+" + digits.lstrip("+")
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def _host(value: str) -> str:
    v = value.strip()
    if "://" not in v:
        v = "//" + v
    host = (urlsplit(v).hostname or "").rstrip(".")
    return host.removeprefix("www.")


def _url(value: str) -> str:
    v = value.strip()
    if "://" not in v:
        v = "https://" + v
    parts = urlsplit(v)
    netloc = parts.netloc.lower()
    netloc = netloc.removeprefix("www.")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def normalize_value(kind: str, value: str) -> str:
    """The normalised form of a hand-typed ``value`` of entity ``kind``.

    Unknown kinds and values that do not parse (e.g. a phone number too short to be
    one) come back whitespace-stripped, unchanged otherwise. Never raises.
    """
    v = value.strip()
    if kind == "phone":
        return _phone(v) or v
    if kind == "telegram":
        m = _TG_LINK.match(v)
        handle = m.group(1) if m else v.lstrip("@")
        return "@" + handle.lower()
    if kind == "domain":
        return _host(v) or v.lower()
    if kind == "url":
        return _url(v)
    if kind == "email":
        return v.lower()
    if kind in ("permit_number", "licence_number"):
        return _WS.sub(" ", v).upper()
    if kind == "country":
        return v.upper()
    if kind in ("agency_name", "city"):
        return _WS.sub(" ", v)
    if kind in ("bank_account", "ewallet"):
        return re.sub(r"[\s.\-]", "", v)
    return v


def query_values(kind: str, value: str) -> list[str]:
    """Stored values to match for a pivot on ``value``: as given, stripped, normalised."""
    out: list[str] = []
    for v in (value, value.strip(), normalize_value(kind, value)):
        sv = stored_value(v)
        if sv and sv not in out:
            out.append(sv)
    return out

"""Entity values as the store keeps and looks them up.

``stored_value``: the indexed form of a value (PostgreSQL's b-tree index holds at most
about 2,700 bytes per row, so very long values, e.g. tracking URLs, are cut at
``MAX_VALUE_BYTES`` UTF-8 bytes; the full value stays in the entity's ``data``).

``query_values``: the values to look for when an analyst pivots on a value typed by hand
("0812-0000-3185", "t.me/Loker_Taiwan", "WWW.Example.COM"): the value as given plus its
normalised form (the ``ENTITY_KINDS`` conventions of ``patroli.types``: E.164 phones,
"@handle" lower-cased, lower-cased hosts and e-mail addresses, upper-cased permit
numbers and country codes), the same normalisation the watchlists use.
"""

from __future__ import annotations

import re

from patroli.store.models import clean_text

#: Longest stored (indexed) entity value, in UTF-8 bytes.
MAX_VALUE_BYTES = 1500

_WS = re.compile(r"\s+")


def stored_value(value: str) -> str:
    """The value as stored and indexed: cleaned (see ``models.clean_text``) and cut at
    ``MAX_VALUE_BYTES`` UTF-8 bytes on a character boundary."""
    value = clean_text(value)
    raw = value.encode("utf-8")
    if len(raw) <= MAX_VALUE_BYTES:
        return value
    return raw[:MAX_VALUE_BYTES].decode("utf-8", errors="ignore")


def normalize_value(kind: str, value: str) -> str:
    """The normalised form of a hand-typed ``value`` of entity ``kind``.

    Phones, Telegram handles, domains, URLs, e-mail addresses and bank accounts go
    through ``patroli.verify.watchlist.normalize_watch_value`` (the analysis' own
    extraction, so a pivot finds what a scan stored); permit and licence numbers and
    country codes are upper-cased, names whitespace-collapsed. Unknown kinds and values
    that do not parse (e.g. a phone number too short to be one) come back
    whitespace-stripped, unchanged otherwise. Never raises.
    """
    from patroli.verify.model import WATCH_KINDS
    from patroli.verify.watchlist import WatchValueError, normalize_watch_value

    v = value.strip()
    if kind in WATCH_KINDS:
        try:
            return normalize_watch_value(kind, v)
        except WatchValueError:
            return v
    if kind in ("permit_number", "licence_number"):
        return _WS.sub(" ", v).upper()
    if kind == "country":
        return v.upper()
    if kind in ("agency_name", "city"):
        return _WS.sub(" ", v)
    if kind == "ewallet":
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

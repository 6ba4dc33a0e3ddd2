"""Field mapping for structured records (JSONL, JSON, CSV) and timestamp parsing.

The mapping is data: ``ALIASES`` lists, per ``Post`` field, the record keys that commonly
hold it (compared case- and punctuation-insensitively, so ``"Post Created"`` matches
``post_created``), and ``PROFILES`` lists known export layouts recognised by their columns
(EMSCAD, CrowdTangle). ``SourceOptions`` columns override both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

from patroli.sources._base import KeyRegistry, SourceOptions
from patroli.types import Post

#: record keys per Post field, in order of preference (normalised by ``norm_name``)
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "message", "content", "body", "caption", "description", "full_text",
             "post_text", "message_text", "ad_text",
             # Indonesian column names (Excel sheets kept by analysts)
             "teks", "pesan", "isi", "isi_iklan", "isi_pesan", "isi_postingan", "konten",
             "iklan", "deskripsi", "keterangan", "postingan", "unggahan"),
    "id": ("id", "post_id", "message_id", "uuid", "platform_id", "tweet_id", "status_id",
           "id_post", "id_postingan", "id_pesan"),
    "url": ("permalink_url", "post_url", "url", "permalink", "link", "postUrl", "tautan",
            "tautan_postingan", "alamat"),
    "time": ("posted_at", "created_time", "created_at", "creation_time", "post_created",
             "published_at", "published", "date_unixtime", "timestamp", "datetime", "date",
             "time", "tanggal", "waktu", "tanggal_posting", "tanggal_unggah", "diposting"),
    "platform": ("platform", "platforma", "sumber_platform"),
    "author": ("author", "from", "user_name", "username", "screen_name", "user", "page_name",
               "account", "post_owner", "sender", "handle", "account_name", "penulis",
               "akun", "nama_akun", "pengirim", "pengunggah"),
    "language": ("lang", "language", "bahasa"),
    "label": ("label",),
}


@dataclass(frozen=True)
class Profile:
    """A known export layout: recognised when every column of ``signature`` is present.

    text: columns joined (blank line between non-empty values) into the post text.
    id / label: the id and label columns; platform: platform when the record names none.
    """

    name: str
    signature: frozenset[str]
    text: tuple[str, ...] = ()
    id: str | None = None
    label: str | None = None
    platform: str | None = None


def norm_name(name: str) -> str:
    """Key comparison form: lower-case letters and digits only (``"Post Created"`` ->
    ``"postcreated"``)."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


PROFILES: tuple[Profile, ...] = (
    Profile(
        "emscad",
        frozenset({"jobid", "title", "companyprofile", "description", "requirements",
                   "benefits", "fraudulent"}),
        text=("title", "company_profile", "description", "requirements", "benefits"),
        id="job_id",
        label="fraudulent",
    ),
    # CrowdTangle Facebook dashboard export ("Page Name" / "Facebook Id" = a Facebook Page)
    Profile(
        "crowdtangle_facebook",
        frozenset({"pagename", "postcreated"}),
        text=("Message", "Description", "Image Text", "Link Text"),
        platform="facebook",
    ),
)

_ALIAS_NORM: dict[str, tuple[str, ...]] = {
    k: tuple(norm_name(a) for a in v) for k, v in ALIASES.items()
}


@dataclass
class FieldMap:
    """Which record keys feed which ``Post`` field (actual key names of the record).

    text: candidate keys; ``join_text`` True joins all non-empty ones, else the first
    non-empty wins. Other fields: candidate keys, first non-empty wins.
    """

    text: list[str] = field(default_factory=list)
    join_text: bool = False
    id: list[str] = field(default_factory=list)
    url: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    platform: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    default_platform: str | None = None
    profile: str | None = None


def _split_columns(spec: str) -> list[str]:
    return [c.strip() for c in spec.split(",") if c.strip()]


def resolve_map(keys: Iterable[str], options: SourceOptions) -> FieldMap:
    """Build the ``FieldMap`` for records with these keys (a CSV header or a JSON object's
    keys). Option columns are used as given (dotted names reach nested objects); the rest
    comes from ``PROFILES`` and ``ALIASES``."""
    keys = list(keys)
    by_norm: dict[str, str] = {}
    for k in keys:
        by_norm.setdefault(norm_name(k), k)
    present = set(by_norm)
    profile = next((p for p in PROFILES if p.signature <= present), None)

    def lookup(names: Iterable[str]) -> list[str]:
        out = []
        for n in names:
            real = by_norm.get(norm_name(n))
            if real is not None and real not in out:
                out.append(real)
        return out

    fm = FieldMap(profile=profile.name if profile else None)
    if options.text_column:
        cols = _split_columns(options.text_column)
        fm.text = [by_norm.get(norm_name(c), c) for c in cols]
        fm.join_text = len(cols) > 1
    elif profile and profile.text:
        fm.text = lookup(profile.text)
        fm.join_text = profile.name == "emscad"
    else:
        fm.text = lookup(ALIASES["text"])

    def pick(option: str | None, alias: str, profile_col: str | None = None) -> list[str]:
        if option:
            return [by_norm.get(norm_name(option), option)]
        first = lookup([profile_col]) if profile_col else []
        return first + [k for k in lookup(ALIASES[alias]) if k not in first]

    fm.id = pick(options.id_column, "id", profile.id if profile else None)
    fm.url = pick(options.url_column, "url")
    fm.time = pick(options.time_column, "time")
    fm.platform = pick(options.platform_column, "platform")
    fm.author = pick(options.author_column, "author")
    fm.language = lookup(ALIASES["language"])
    fm.default_platform = profile.platform if profile else None
    return fm


def get_path(record: Mapping[str, Any], key: str) -> Any:
    """``record[key]``, or for a dotted key not present as such, the nested value."""
    if key in record:
        return record[key]
    if "." in key:
        cur: Any = record
        for part in key.split("."):
            if not isinstance(cur, Mapping) or part not in cur:
                return None
            cur = cur[part]
        return cur
    return None


def as_text(value: Any) -> str | None:
    """A text value: strings as they are, lists of strings joined by newlines, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return None


def as_scalar(value: Any) -> str | None:
    """A short identifying string: str/int as text; for an object its ``name`` /
    ``username`` / ``handle`` / ``id``; empty and ``"-"`` become None."""
    if isinstance(value, Mapping):
        for k in ("name", "username", "handle", "screen_name", "id"):
            if value.get(k) not in (None, ""):
                return as_scalar(value[k])
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text if text and text != "-" else None


def first_value(record: Mapping[str, Any], keys: list[str]) -> Any:
    for k in keys:
        v = get_path(record, k)
        if v not in (None, "", [], {}):
            if isinstance(v, str) and (not v.strip() or v.strip() == "-"):
                continue
            return v
    return None


def no_text_message(fm: FieldMap) -> str:
    """The ``RecordError`` message for a record whose text fields are all empty."""
    tried = ", ".join(fm.text) if fm.text else "/".join(ALIASES["text"][:7])
    return f"no text (empty or missing: {tried})"


def record_text(record: Mapping[str, Any], fm: FieldMap) -> str | None:
    """The post text of ``record`` per ``fm``; None when every text field is empty."""
    if fm.join_text:
        parts = [t for t in (as_text(get_path(record, k)) for k in fm.text) if t and t.strip()]
        return "\n\n".join(parts) if parts else None
    for k in fm.text:
        t = as_text(get_path(record, k))
        if t and t.strip():
            return t
    return None


# ---------------------------------------------------------------- timestamps

#: time-zone abbreviations seen in exports (CrowdTangle writes the dashboard user's zone)
TZ_ABBREVIATIONS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WIB": 7, "WITA": 8, "WIT": 9,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "BST": 1, "IST": 5.5, "CET": 1,
    "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "SGT": 8, "MYT": 8, "HKT": 8, "PHT": 8,
    "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "ICT": 7, "AST": 3,
}
_ABBREV_RE = re.compile(r"^(?P<rest>.+?)\s+(?P<tz>[A-Za-z]{1,5})$")
_STRPTIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y/%m/%d", "%a %b %d %H:%M:%S %z %Y",
)


def _epoch(value: float) -> datetime | None:
    if value > 1e11:  # milliseconds
        value /= 1000.0
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_datetime(value: Any, naive_tz: tzinfo = UTC) -> datetime | None:
    """A timezone-aware UTC datetime from a record value, or None when not a time.

    Accepts epoch seconds or milliseconds (number or digit string), ISO-8601 with or without
    an offset (``+0000`` and ``Z`` included), a trailing zone abbreviation from
    ``TZ_ABBREVIATIONS`` (``"2023-11-05 22:56:36 EST"``), RFC 2822 and Twitter's
    ``"Wed Oct 10 20:19:24 +0000 2018"``. Naive times are taken in ``naive_tz``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _epoch(float(text))
    dt = _parse_string(text)
    if dt is None:
        m = _ABBREV_RE.match(text)
        if m and m.group("tz").upper() in TZ_ABBREVIATIONS:
            base = _parse_string(m.group("rest"))
            if base is not None and base.tzinfo is None:
                hours = TZ_ABBREVIATIONS[m.group("tz").upper()]
                dt = base.replace(tzinfo=timezone(timedelta(hours=hours)))
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=naive_tz)
    return dt.astimezone(UTC)


def _parse_string(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _STRPTIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if re.search(r"[A-Za-z]{3},? ", text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return None


# ---------------------------------------------------------------- building posts


def build_post(
    record: Mapping[str, Any],
    fm: FieldMap,
    *,
    source: str,
    location: str,
    options: SourceOptions,
    keys: KeyRegistry,
) -> Post | None:
    """A ``Post`` from one structured record, or None when the record has no text.

    key: the record's id (made unique), else ``content_key(text, source)`` (made unique).
    """
    text = record_text(record, fm)
    if text is None:
        return None
    record_id = as_scalar(first_value(record, fm.id))
    key = keys.unique(record_id) if record_id else keys.content(text, source)
    platform = as_scalar(first_value(record, fm.platform))
    platform = platform.lower() if platform else (options.platform or fm.default_platform)
    return Post(
        key=key,
        text=text,
        source=source,
        platform=platform,
        url=as_scalar(first_value(record, fm.url)),
        author=as_scalar(first_value(record, fm.author)),
        posted_at=_record_time(record, fm),
        language=as_scalar(first_value(record, fm.language)),
        raw=dict(record),
        location=location,
        record_id=record_id,
    )


def _record_time(record: Mapping[str, Any], fm: FieldMap) -> datetime | None:
    for k in fm.time:
        dt = parse_datetime(get_path(record, k))
        if dt is not None:
            return dt
    return None


class MapCache:
    """``resolve_map`` memoised on a record's key set (JSON records mostly share keys)."""

    def __init__(self, options: SourceOptions, limit: int = 256) -> None:
        self.options = options
        self.limit = limit
        self._cache: dict[tuple[str, ...], FieldMap] = {}

    def get(self, record: Mapping[str, Any]) -> FieldMap:
        sig = tuple(record.keys())
        fm = self._cache.get(sig)
        if fm is None:
            fm = resolve_map(sig, self.options)
            if len(self._cache) >= self.limit:
                self._cache.clear()
            self._cache[sig] = fm
        return fm

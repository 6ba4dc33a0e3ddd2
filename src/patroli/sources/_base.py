"""Shared types of ``patroli.sources``: errors, options, the reader signature, key registry.

Kept apart from ``__init__`` so that every format module can import them without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path

from patroli.types import Post, content_key

#: Default local time zone of exports that carry none (WhatsApp): Western Indonesia Time.
DEFAULT_TIMEZONE = "Asia/Jakarta"


class SourceError(Exception):
    """The whole input is unusable (missing, unreadable, binary, undecodable, empty directory).

    ``str(e)`` is one line naming the path and the cause, e.g.
    ``"data/x.bin: binary file (NUL bytes), not a text export"``.
    """

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = " ".join(str(cause).split())
        super().__init__(f"{self.path}: {self.cause}")


@dataclass
class RecordError:
    """One malformed record that was reported, counted and skipped; reading went on.

    location: ``"path:line"`` (JSONL, WhatsApp), ``"path:row N"`` (CSV, N the spreadsheet
        row, header = row 1), ``"path:item N"`` (JSON array), ``"path:message ID"``
        (Telegram), or just ``"path"`` (a file skipped inside a directory).
    message: the cause in one line.
    """

    location: str
    message: str


@dataclass
class SourceOptions:
    """How to read an input. Every field is optional; ``None`` means auto-detect.

    format: one of ``FORMATS`` (else detected per file).
    text_column: field holding the post text; a comma-separated list joins the non-empty
        columns with a blank line (e.g. ``"title,description"``). Dotted names
        (``"post_owner.name"``) reach into nested JSON objects.
    id_column / url_column / time_column / platform_column / author_column: overrides of
        the automatic field mapping (CSV columns or JSON keys).
    label_column: a label field; it stays in ``Post.raw`` (evaluation and training read it).
    platform: platform for posts whose record names none.
    delimiter: CSV delimiter (``None`` = taken from the header line).
    encoding: text encoding (``None`` = BOM, else UTF-8, else a charset-normalizer guess,
        preferring windows-1252 among Western single-byte code pages).
    timezone: IANA name (``"Asia/Makassar"``) or offset (``"+08:00"``) of exports whose
        times carry no zone (WhatsApp, old Telegram ``date``); default Asia/Jakarta (WIB).
    """

    format: str | None = None
    text_column: str | None = None
    id_column: str | None = None
    url_column: str | None = None
    time_column: str | None = None
    platform_column: str | None = None
    author_column: str | None = None
    label_column: str | None = None
    platform: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    timezone: str | None = None


ErrorHandler = Callable[[RecordError], None]
#: A format reader: (file path, options, error callback) -> posts, streamed.
Reader = Callable[[Path, SourceOptions, ErrorHandler], Iterator[Post]]


def local_timezone(options: SourceOptions) -> tzinfo:
    """The zone for naive local times: ``options.timezone`` or Asia/Jakarta.

    Accepts an IANA name or a ``+HH:MM`` / ``-HHMM`` / ``UTC`` offset. Raises
    ``ValueError`` for an unknown name.
    """
    name = options.timezone or DEFAULT_TIMEZONE
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if text[:1] in "+-" and text[1:].replace(":", "").isdigit():
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    except ImportError:  # pragma: no cover - zoneinfo is stdlib on 3.9+
        pass
    if text == DEFAULT_TIMEZONE:  # no tz database installed: WIB has no DST since 1964
        return timezone(timedelta(hours=7), "WIB")
    raise ValueError(f"unknown time zone {name!r}")


class KeyRegistry:
    """Makes post keys unique within one source, deterministically.

    The first use of a key returns it unchanged; later uses of the same key return
    ``key + "#2"``, ``"#3"``... in reading order, so reading a file twice yields the same
    keys. Holds one string per post (the only per-post state a reader keeps).
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._counts: dict[str, int] = {}

    def unique(self, key: str) -> str:
        if key not in self._seen:
            self._seen.add(key)
            return key
        n = self._counts.get(key, 1)
        while True:
            n += 1
            candidate = f"{key}#{n}"
            if candidate not in self._seen:
                self._counts[key] = n
                self._seen.add(candidate)
                return candidate

    def content(self, text: str, source: str) -> str:
        """``content_key(text, source)`` made unique."""
        return self.unique(content_key(text, source))

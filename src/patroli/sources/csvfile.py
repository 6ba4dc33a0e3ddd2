"""CSV / TSV files with a header row, streamed with the csv module.

Handles a UTF-8 BOM, quoted fields with newlines, ``;``-separated windows-1252 Excel
exports (delimiter taken from the header line, encoding detected), fields longer than
csv's default 131,072-character limit, and known export layouts (``_fields.PROFILES``:
EMSCAD joins title/company profile/description/requirements/benefits; CrowdTangle).
A row without text or with the wrong number of fields is a ``RecordError`` at
``"path:row N"`` (N is the spreadsheet row: the header is row 1).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from patroli.sources._base import (
    ErrorHandler,
    KeyRegistry,
    RecordError,
    SourceError,
    SourceOptions,
)
from patroli.sources._fields import build_post, no_text_message, resolve_map
from patroli.sources._textio import open_text, read_head, sniff_text
from patroli.types import Post

#: delimiters tried on the header line, in order of preference on a tie
DELIMITERS = (",", ";", "\t", "|")
#: csv's per-field limit is raised to this (posts can exceed the default 131,072 chars)
FIELD_SIZE_LIMIT = 2**31 - 1
#: rows looked at to guess the text column of an unknown header
GUESS_ROWS = 50
#: a guessed text column must hold at least this many characters on average
MIN_GUESS_CHARS = 15
_NUMBER_RE = re.compile(r"[-+]?[\d.,\s]+%?")


def sniff_delimiter(header_line: str, suffix: str = "") -> str:
    """The delimiter that splits the header line into the most fields (``,`` by default;
    tab for ``.tsv``)."""
    if suffix.lower() == ".tsv":
        return "\t"
    best, best_n = ",", 1
    for d in DELIMITERS:
        try:
            n = len(next(csv.reader([header_line], delimiter=d)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = d, n
    return best


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """Posts of a CSV file, one per data row. Raises ``SourceError`` when unreadable, when
    it has no header, or when an option names a column the header lacks."""
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    encoding, head = sniff_text(path, read_head(path), options.encoding)
    first_line = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    delimiter = options.delimiter or sniff_delimiter(first_line, path.suffix)
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    source = str(path)
    keys = KeyRegistry()
    with open_text(path, encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = _next_row(reader, path)
        while header is not None and not any(c.strip() for c in header):
            header = _next_row(reader, path)
        if header is None:
            return  # empty file: no posts, no error
        header = [h.lstrip("\ufeff").strip() for h in header]
        fm = resolve_map(header, options)
        _check_columns(path, header, options)
        buffered: list[list[str]] = []
        if not fm.text:
            buffered = _take_rows(reader, GUESS_ROWS)
            guess = guess_text_column(header, buffered)
            if guess is None:
                raise SourceError(path, "no text column found in the header "
                                        f"({', '.join(header[:12])}); use --text-column")
            fm.text = [guess]
        pending = iter(buffered)
        row_no = 1
        while True:
            try:
                row = next(pending, None) or next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row_no += 1
                on_error(RecordError(f"{source}:row {row_no}", f"malformed CSV: {exc}"))
                continue
            row_no += 1
            location = f"{source}:row {row_no}"
            if not row or not any(c.strip() for c in row):
                continue  # blank line
            if len(row) != len(header):
                on_error(RecordError(location, f"{len(row)} fields, header has "
                                               f"{len(header)}"))
                continue
            record = dict(zip(header, row, strict=True))
            post = build_post(record, fm, source=source, location=location,
                              options=options, keys=keys)
            if post is None:
                on_error(RecordError(location, no_text_message(fm)))
                continue
            yield post


def _take_rows(reader: csv._reader, n: int) -> list[list[str]]:
    rows: list[list[str]] = []
    while len(rows) < n:
        try:
            rows.append(next(reader))
        except StopIteration:
            break
        except csv.Error:
            break
    return rows


def guess_text_column(header: list[str], rows: list[list[str]]) -> str | None:
    """For a header no alias matches: the column with the longest mean value over ``rows``
    (numbers and empty values ignored), if that mean is at least ``MIN_GUESS_CHARS``."""
    best, best_mean = None, float(MIN_GUESS_CHARS)
    for i, name in enumerate(header):
        values = [r[i] for r in rows if i < len(r) and r[i].strip()
                  and not _NUMBER_RE.fullmatch(r[i].strip())]
        if not values:
            continue
        mean = sum(len(v) for v in values) / len(values)
        if mean >= best_mean:
            best, best_mean = name, mean
    return best


def _next_row(reader: csv._reader, path: Path) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise SourceError(path, f"malformed CSV header: {exc}") from None


def _check_columns(path: Path, header: list[str], options: SourceOptions) -> None:
    from patroli.sources._fields import norm_name

    present = {norm_name(h) for h in header}
    wanted = {
        "--text-column": options.text_column, "--id-column": options.id_column,
        "--url-column": options.url_column, "--time-column": options.time_column,
        "--platform-column": options.platform_column,
        "--author-column": options.author_column, "--label-column": options.label_column,
    }
    for flag, spec in wanted.items():
        if not spec:
            continue
        for col in (c.strip() for c in spec.split(",") if c.strip()):
            if norm_name(col) not in present:
                raise SourceError(path, f"{flag} {col!r} is not a column "
                                        f"(columns: {', '.join(header[:12])})")

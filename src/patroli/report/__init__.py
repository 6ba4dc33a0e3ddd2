"""Reports of a scan: streaming file writers (JSON, CSV, HTML) and console rendering.

Writers receive every analysed post in input order (``write(post, assessment)``) and
finish with ``close(summary)``; they never hold the whole scan in memory.
``open_writer(path)`` picks the writer from the file extension (.json, .csv, .html)
and raises ``ReportFormatError`` for any other.
"""

from __future__ import annotations

from pathlib import Path

from patroli.report.files import CsvWriter, HtmlWriter, JsonWriter, ReportWriter, post_record

__all__ = [
    "CsvWriter",
    "HtmlWriter",
    "JsonWriter",
    "ReportFormatError",
    "ReportWriter",
    "open_writer",
    "post_record",
]

WRITERS = {".json": JsonWriter, ".csv": CsvWriter, ".html": HtmlWriter, ".htm": HtmlWriter}


class ReportFormatError(ValueError):
    """The output file's extension names no known report format."""


def open_writer(path: str | Path) -> ReportWriter:
    """A writer for ``path`` chosen by its extension (.json, .csv, .html)."""
    path = Path(path)
    cls = WRITERS.get(path.suffix.lower())
    if cls is None:
        raise ReportFormatError(
            f"{path}: unknown report format {path.suffix!r} (use .json, .csv or .html)")
    return cls(path)

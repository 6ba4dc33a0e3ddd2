"""JSON Lines: one JSON object per line, read line by line.

Blank lines are skipped. A line that is not valid JSON, not an object, or has no text is
reported as a ``RecordError`` at ``"path:line"`` and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from patroli.sources._base import ErrorHandler, KeyRegistry, RecordError, SourceOptions
from patroli.sources._fields import MapCache, build_post, no_text_message
from patroli.sources._textio import open_text, read_head, sniff_text
from patroli.types import Post


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """Posts of a JSONL file, one per object line. Raises ``SourceError`` when unreadable."""
    encoding, _ = sniff_text(path, read_head(path), options.encoding)
    source = str(path)
    keys = KeyRegistry()
    maps = MapCache(options)
    with open_text(path, encoding) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            location = f"{source}:{lineno}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                on_error(RecordError(location, f"invalid JSON: {msg}"))
                continue
            if not isinstance(record, dict):
                on_error(RecordError(location, f"not a JSON object but {type(record).__name__}"))
                continue
            fm = maps.get(record)
            post = build_post(record, fm, source=source, location=location,
                              options=options, keys=keys)
            if post is None:
                on_error(RecordError(location, no_text_message(fm)))
                continue
            yield post

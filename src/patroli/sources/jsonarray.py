"""JSON documents of many posts, streamed with ijson.

Shapes read: a top-level array of objects; an object holding the posts in a list under
one of ``CONTAINERS`` (a Facebook Graph API page ``{"data": [...], "paging": ...}``, a
CrowdTangle API response ``{"result": {"posts": [...]}}``...); a single post object
(Graph ``GET /{post-id}``). In an API page, posts without any text field are media-only
or shared posts (the API omits ``message`` for them) and are skipped silently; elsewhere a
record without text is a ``RecordError`` at ``"path:item N"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from patroli.sources._base import (
    ErrorHandler,
    KeyRegistry,
    RecordError,
    SourceError,
    SourceOptions,
)
from patroli.sources._fields import MapCache, build_post, no_text_message
from patroli.sources._jsonstream import EscapeRepairingReader, Event, build, events
from patroli.types import Post

#: dotted paths of post lists inside a top-level object
CONTAINERS: tuple[str, ...] = ("data", "posts", "items", "results", "statuses",
                               "result.posts", "data.posts", "response.docs")


def iter_records(path: Path) -> Iterator[tuple[str, Any, bool]]:
    """(location suffix, record, from_api_page) for each record of the JSON file.

    Raises ``SourceError`` for invalid JSON, a scalar top level, or an unreadable file.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    with raw:
        fh = EscapeRepairingReader(raw)
        stream = events(fh, path)
        first = next(stream, None)
        if first is None:
            return
        if first[1] == "start_array":
            for n, ev in enumerate(stream, start=1):
                if ev[0] == "" and ev[1] == "end_array":
                    break
                yield f"item {n}", build(ev, stream), False
            return
        if first[1] != "start_map":
            raise SourceError(path, "JSON top level is neither an array nor an object")
        top: dict[str, Any] = {}
        found = [False]
        yield from _walk_map("", stream, top, found)
        if not found[0] and top:
            yield "item 1", top, False


def _walk_map(prefix: str, stream: Iterator[Event], into: dict[str, Any],
              found: list[bool]) -> Iterator[tuple[str, Any, bool]]:
    for ev in stream:
        if ev[1] == "end_map":
            return
        key = ev[2]
        full = f"{prefix}.{key}" if prefix else key
        start = next(stream)
        if start[1] == "start_array" and full in CONTAINERS:
            found[0] = True
            for n, item in enumerate(stream, start=1):
                if item[1] == "end_array" and item[0] == full:
                    break
                yield f"item {n}", build(item, stream), True
        elif start[1] == "start_map" and any(c.startswith(full + ".") for c in CONTAINERS):
            nested: dict[str, Any] = {}
            yield from _walk_map(full, stream, nested, found)
            into[key] = nested
        else:
            into[key] = build(start, stream)


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """Posts of a JSON array / API page / single post object. Raises ``SourceError`` for
    an unreadable or syntactically broken file (posts before the break are yielded)."""
    source = str(path)
    keys = KeyRegistry()
    maps = MapCache(options)
    for where, record, from_page in iter_records(path):
        location = f"{source}:{where}"
        if not isinstance(record, dict):
            on_error(RecordError(location, f"not a JSON object but {type(record).__name__}"))
            continue
        fm = maps.get(record)
        post = build_post(record, fm, source=source, location=location, options=options,
                          keys=keys)
        if post is None:
            if from_page and not options.text_column:
                continue  # media-only / shared post of an API page
            on_error(RecordError(location, no_text_message(fm)))
            continue
        yield post

"""Plain text files (``.txt``, ``.md``...): the whole file is one post.

key ``content_key(text, path)``; ``location`` ``"path:1"``; platform ``options.platform``.
A whitespace-only file yields no post. Binary or undecodable → ``SourceError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from patroli.sources._base import ErrorHandler, KeyRegistry, SourceOptions
from patroli.sources._textio import open_text, read_head, sniff_text
from patroli.types import Post


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """One post holding the file's text. Raises ``SourceError`` when unreadable/binary."""
    encoding, _ = sniff_text(path, read_head(path), options.encoding)
    with open_text(path, encoding) as fh:
        text = fh.read()
    if encoding == "utf-8-sig" or text.startswith("\ufeff"):
        text = text.lstrip("\ufeff")
    if not text.strip():
        return
    source = str(path)
    yield Post(
        key=KeyRegistry().content(text, source),
        text=text,
        source=source,
        platform=options.platform,
        raw={"path": source, "encoding": encoding, "chars": len(text)},
        location=f"{source}:1",
    )

"""Input connectors: files in, a stream of ``patroli.types.Post`` out (DESIGN.md, sources/).

``read_posts(path, options, on_error)`` reads a file or a directory (recursively, sorted,
hidden files skipped), each file in its detected format. Formats are registered by name
in ``READERS`` (a third party may add one with ``register_format``). Readers stream: the
memory they hold does not grow with the input (besides one key per post for uniqueness).

Errors: ``SourceError`` when a whole input is unusable (the CLI prints it and exits 2);
``RecordError`` for one malformed record, passed to ``on_error`` while reading goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from patroli.sources import csvfile, jsonarray, jsonl, telegram, text, whatsapp
from patroli.sources._base import (
    ErrorHandler,
    Reader,
    RecordError,
    SourceError,
    SourceOptions,
)
from patroli.sources._textio import SNIFF_BYTES, bom_encoding, looks_binary, read_head
from patroli.types import Post

__all__ = [
    "FORMATS",
    "READERS",
    "RecordError",
    "SourceError",
    "SourceOptions",
    "detect_format",
    "read_posts",
    "register_format",
]

FORMATS = ("jsonl", "json", "csv", "text", "telegram", "whatsapp")

#: format name -> reader(path, options, on_error) -> Iterator[Post]
READERS: dict[str, Reader] = {
    "jsonl": jsonl.read,
    "json": jsonarray.read,
    "csv": csvfile.read,
    "text": text.read,
    "telegram": telegram.read,
    "whatsapp": whatsapp.read,
}

#: file name suffix -> format, for suffixes that settle it without sniffing
SUFFIX_FORMATS: dict[str, str] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl", ".jl": "jsonl",
    ".csv": "csv", ".tsv": "csv",
}
#: suffixes of plain text (WhatsApp export or one text post, decided by sniffing)
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".log", ""})

_TELEGRAM_RE = re.compile(r'"messages"\s*:\s*\[|"chats"\s*:\s*\{\s*"about"|"chats"\s*:\s*\{\s*'
                          r'"list"\s*:')


def register_format(name: str, reader: Reader) -> None:
    """Add (or replace) a format reader under ``name``; ``options.format`` may then name
    it. Auto-detection still only yields the built-in ``FORMATS``."""
    READERS[name] = reader


def detect_format(path: Path) -> str:
    """The format of one file, from its suffix and a sniff of its first bytes.

    ``.jsonl``/``.ndjson`` → jsonl; ``.csv``/``.tsv`` → csv; ``.zip`` → whatsapp (an export
    zip); ``.json`` or JSON-looking content → telegram (a ``messages`` list or an account
    export), jsonl (an object on each of the first lines), else json; text → whatsapp when
    the first non-empty line is a WhatsApp header, else text.
    Raises ``SourceError`` for a missing, unreadable, binary or undecodable file.
    """
    path = Path(path)
    if path.is_dir():
        raise SourceError(path, "is a directory, not a file")
    suffix = path.suffix.lower()
    head = read_head(path)
    if suffix == ".zip":
        return "whatsapp"
    if suffix in SUFFIX_FORMATS:
        if looks_binary(head):
            raise SourceError(path, "binary file (NUL bytes), not a text export")
        return SUFFIX_FORMATS[suffix]
    from patroli.sources._textio import sniff_text

    _, head_text = sniff_text(path, head)
    stripped = head_text.lstrip("\ufeff \t\r\n")
    if suffix != ".json" and whatsapp.sniff(head_text.lstrip("\ufeff")):
        return "whatsapp"
    if suffix == ".json" or _looks_json(stripped):
        return _sniff_json(stripped)
    if suffix in TEXT_SUFFIXES or head_text.strip() == "" or _is_texty(head_text):
        return "text"
    raise SourceError(path, f"unknown file type {suffix!r}")


def _looks_json(head: str) -> bool:
    """An object, or an array whose first element starts like a JSON value."""
    if head.startswith("{"):
        return bool(re.match(r'\{\s*("|\})', head))
    return bool(re.match(r'\[\s*([{\["\]]|-?\d|true|false|null)', head))


def _sniff_json(head: str) -> str:
    """json / jsonl / telegram for JSON-looking content."""
    if not head.startswith("{"):
        return "json"
    lines = [ln for ln in head.splitlines() if ln.strip()]
    if len(lines) >= 2 and lines[0].strip().endswith("}") and lines[1].lstrip().startswith("{"):
        try:
            if isinstance(json.loads(lines[0]), dict):
                return "jsonl"
        except ValueError:
            pass
    if _TELEGRAM_RE.search(head[:SNIFF_BYTES]):
        return "telegram"
    return "json"


def _is_texty(head_text: str) -> bool:
    """Decoded text with few control characters (a text file with an unusual suffix)."""
    sample = head_text[:4096]
    if not sample:
        return True
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
    return bad / len(sample) < 0.01 and "\ufffd" not in sample


def _is_hidden(path: Path, root: Path) -> bool:
    rel = path.relative_to(root)
    return any(part.startswith(".") for part in rel.parts)


def read_posts(
    path: str | Path,
    options: SourceOptions | None = None,
    on_error: Callable[[RecordError], None] | None = None,
) -> Iterator[Post]:
    """Stream the posts of a file or directory.

    path: a file (format from ``options.format`` or ``detect_format``) or a directory (every
        non-hidden file inside, recursively, in sorted order, each with its own format).
    on_error: called with each ``RecordError`` (a malformed record, or inside a directory a
        file that cannot be read); the record is skipped and reading goes on. Default:
        errors are dropped silently.
    Raises ``SourceError`` at call time when ``path`` is missing, a directory with nothing
    readable, or a file that is binary/undecodable/unreadable (or ``options.format`` is
    unknown); a broken structure found mid-stream (truncated JSON) raises it while iterating.
    """
    options = options or SourceOptions()
    handler: ErrorHandler = on_error or (lambda err: None)
    p = Path(path)
    if options.format is not None and options.format not in READERS:
        raise SourceError(p, f"unknown format {options.format!r} "
                             f"(known: {', '.join(READERS)})")
    if not p.exists():
        raise SourceError(p, "file or directory not found")
    if p.is_dir():
        files = _directory_files(p)
        if not files:
            raise SourceError(p, "directory holds no readable files")
        return _read_directory(p, files, options, handler)
    fmt = options.format or detect_format(p)
    if fmt in ("text", "whatsapp", "csv", "jsonl") and p.suffix.lower() != ".zip":
        _check_text_file(p, options)
    return READERS[fmt](p, options, handler)


def _check_text_file(path: Path, options: SourceOptions) -> None:
    """Raise ``SourceError`` now (not mid-iteration) for binary/undecodable text inputs."""
    from patroli.sources._textio import detect_encoding

    head = read_head(path)
    if options.encoding is None and looks_binary(head) and not bom_encoding(head):
        raise SourceError(path, "binary file (NUL bytes), not a text export")
    detect_encoding(path, head, options.encoding)


def _directory_files(root: Path) -> list[Path]:
    try:
        return sorted(
            f for f in root.rglob("*")
            if f.is_file() and not _is_hidden(f, root)
        )
    except OSError as exc:
        raise SourceError(root, f"cannot list directory: {exc.strerror or exc}") from None


def _read_directory(root: Path, files: list[Path], options: SourceOptions,
                    on_error: ErrorHandler) -> Iterator[Post]:
    readable = 0
    for f in files:
        try:
            fmt = options.format or detect_format(f)
            if fmt in ("text", "whatsapp", "csv", "jsonl") and f.suffix.lower() != ".zip":
                _check_text_file(f, options)
            # a SourceError raised while streaming this file also lands below
            yield from READERS[fmt](f, options, on_error)
            readable += 1
        except SourceError as exc:
            on_error(RecordError(str(f), f"skipped: {exc.cause}"))
    if not readable:
        raise SourceError(root, f"directory holds no readable files ({len(files)} skipped)")


"""Opening input files as text: binary detection and encoding detection on a head sample.

Only the first ``SNIFF_BYTES`` are looked at; the rest of the file is streamed.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import TextIO

from patroli.sources._base import SourceError

#: bytes read from the start of a file to sniff its format and encoding
SNIFF_BYTES = 256 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: charset-normalizer guesses that are, for our inputs, really windows-1252 (Excel, Western)
_WESTERN_SINGLE_BYTE = {
    "latin_1", "iso8859_1", "iso8859_15", "cp1252", "cp1250", "iso8859_2", "cp850",
    "cp437", "mac_roman", "cp1257", "iso8859_9", "cp1254", "iso8859_13",
}


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of ``path``. Raises ``SourceError`` when unreadable."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except IsADirectoryError:
        raise SourceError(path, "is a directory") from None
    except PermissionError:
        raise SourceError(path, "permission denied") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def bom_encoding(head: bytes) -> str | None:
    """The encoding named by a byte-order mark at the start of ``head``, else None."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def looks_binary(head: bytes) -> bool:
    """True when ``head`` has NUL bytes and no UTF-16/32 byte-order mark."""
    return b"\x00" in head and bom_encoding(head) in (None, "utf-8-sig")


def _decodes(head: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def detect_encoding(path: Path, head: bytes, forced: str | None = None) -> str:
    """Choose the encoding of a text file from its head.

    Order: ``forced`` (validated), a BOM, UTF-8, then charset-normalizer's guess (a Western
    single-byte guess becomes windows-1252 when that decodes). Raises ``SourceError`` for an
    unknown forced encoding, a binary file, or bytes no encoding explains.
    """
    if forced:
        try:
            return codecs.lookup(forced).name
        except LookupError:
            raise SourceError(path, f"unknown encoding {forced!r}") from None
    bom = bom_encoding(head)
    if bom:
        return bom
    if looks_binary(head):
        raise SourceError(path, "binary file (NUL bytes), not a text export")
    if _decodes(head, "utf-8"):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise SourceError(path, "undecodable bytes: not text in any known encoding")
    guess = codecs.lookup(best.encoding).name.replace("-", "_")
    western = guess in _WESTERN_SINGLE_BYTE or guess.startswith("iso8859")
    if western and _decodes(head, "cp1252"):
        return "cp1252"
    return best.encoding


def open_text(path: Path, encoding: str, *, newline: str | None = None) -> TextIO:
    """Open ``path`` for streaming text reading; undecodable bytes beyond the sniffed head
    become U+FFFD instead of stopping the read. Raises ``SourceError`` when unreadable."""
    try:
        return open(path, encoding=encoding, errors="replace", newline=newline)
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def sniff_text(path: Path, head: bytes, forced: str | None = None) -> tuple[str, str]:
    """(encoding, decoded head) for a text file; raises ``SourceError`` like
    ``detect_encoding``. The decoded head may end in the middle of a line."""
    encoding = detect_encoding(path, head, forced)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return encoding, decoder.decode(head, final=False)


def text_stream(raw: io.BufferedIOBase, encoding: str, newline: str | None = None) -> TextIO:
    """Wrap a binary stream (e.g. a zip member) as text, like ``open_text``."""
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)

"""Streaming JSON helpers on top of ijson: a byte stream that repairs Telegram's invalid
``\\xHH`` escapes, and building one value at a time from the event stream."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from patroli.sources._base import SourceError

Event = tuple[str, str, Any]

# an escaped backslash (kept), or \xHH (rewritten to \u00HH)
_ESCAPE_RE = re.compile(rb"\\\\|\\x([0-9A-Fa-f]{2})")


def _fix(m: re.Match[bytes]) -> bytes:
    return b"\\u00" + m.group(1) if m.group(1) else m.group(0)


class EscapeRepairingReader:
    """A binary file wrapper whose ``read`` rewrites ``\\xHH`` escapes (invalid JSON, written
    by Telegram Desktop for control characters) to ``\\u00HH``; ``\\\\x41`` (an escaped
    backslash followed by ``x41``) is left alone. Tracks ``consumed`` bytes for messages."""

    def __init__(self, raw: BinaryIO, chunk_size: int = 64 * 1024) -> None:
        self._raw = raw
        self._chunk = chunk_size
        self._carry = b""
        self._out = b""
        self._eof = False
        self.consumed = 0
        self.repaired = 0

    def _fill(self, want: int) -> None:
        while len(self._out) < want and not self._eof:
            data = self._raw.read(self._chunk)
            if self.consumed == 0 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]  # UTF-8 BOM
                self.consumed = 3
            self.consumed += len(data)
            if not data:
                self._eof = True
                buf, self._carry = self._carry, b""
            else:
                buf = self._carry + data
                cut = len(buf)
                tail = buf.rfind(b"\\", max(0, len(buf) - 4))
                if tail != -1:  # keep a possibly incomplete escape for the next chunk
                    cut = tail
                    while cut > 0 and buf[cut - 1] == 0x5C:
                        cut -= 1
                buf, self._carry = buf[:cut], buf[cut:]
            fixed, n = _ESCAPE_RE.subn(_fix, buf)
            self.repaired += n
            self._out += fixed

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if size is None or size < 0:
            self._fill(1 << 62)
            out, self._out = self._out, b""
            return out
        self._fill(size)
        out, self._out = self._out[:size], self._out[size:]
        return out


SNIFF_WHITESPACE = 4096


class _Prepend:
    """A reader that returns ``head`` before the rest of ``fh``."""

    def __init__(self, head: bytes, fh: EscapeRepairingReader) -> None:
        self._head = head
        self._fh = fh

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self._head:
            if size is None or size < 0:
                out, self._head = self._head + self._fh.read(), b""
                return out
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._fh.read(size)


def events(fh: EscapeRepairingReader, path: Path) -> Iterator[Event]:
    """ijson parse events of ``fh``; a syntax error becomes a one-line ``SourceError``
    naming the byte offset reached."""
    head = fh.read(SNIFF_WHITESPACE)
    if not head.strip() and len(head) < SNIFF_WHITESPACE:
        return  # empty or whitespace-only file: nothing to read
    it = ijson.parse(_Prepend(head, fh), use_float=True)
    while True:
        try:
            ev = next(it)
        except StopIteration:
            return
        except ijson.JSONError as exc:
            raise SourceError(path, f"invalid JSON near byte {fh.consumed}: "
                                    f"{str(exc).splitlines()[0][:200]}") from None
        yield ev


def build(first: Event, stream: Iterator[Event]) -> Any:
    """The complete value that starts with event ``first`` (consumes its events)."""
    _, event, value = first
    if event not in ("start_map", "start_array"):
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _, ev, val in stream:
        builder.event(ev, val)
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def skip(first: Event, stream: Iterator[Event]) -> None:
    """Consume the value that starts with ``first`` without building it."""
    if first[1] not in ("start_map", "start_array"):
        return
    depth = 1
    for _, ev, _ in stream:
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return

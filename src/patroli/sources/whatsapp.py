"""WhatsApp "Export chat" ``.txt`` files (and ``.zip`` exports holding one), line by line.

A message starts on a *header* line (``LINE_FORMATS`` × ``DATE_FORMATS``: Android
``dd/mm/yy, HH:MM - Sender: text``, iOS ``[dd/mm/yy, HH:MM:SS] Sender: text``, the
``date time: Sender: text`` variant; 12- or 24-hour clocks with ``AM``/``a. m.``/Arabic
``ص``/``م``, ``:`` or Indonesian ``.`` in times, ``/ . -`` in dates, 2/4-digit years,
``yyyy-mm-dd``); following lines that are not headers continue it. Before matching, a line
is folded: direction marks (U+200E/U+200F...) dropped, U+202F/U+00A0 read as spaces, any
Unicode decimal digit (Arabic-Indic...) read as ASCII, the Arabic comma as ``,``.
Post text is always taken from the line as written.

Two passes per file: the first picks the file's header format and whether dates are
day-first (a first field > 12 → day-first; else a second field > 12 → month-first; else
day-first, the Indonesian order); the second parses. Times are local to the exporting
phone: ``options.timezone`` (default Asia/Jakarta, WIB), converted to UTC.

Skipped silently: system lines (no sender, or ``SYSTEM_PATTERNS``), media and deletion
placeholders (``PLACEHOLDER_PATTERNS``, line by line: an attachment line is dropped and its
caption kept). Reported: text before the first header, impossible dates.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO

from patroli.sources._base import (
    ErrorHandler,
    KeyRegistry,
    RecordError,
    SourceError,
    SourceOptions,
    local_timezone,
)
from patroli.sources._textio import (
    SNIFF_BYTES,
    open_text,
    read_head,
    sniff_text,
    text_stream,
)
from patroli.types import Post

# ---------------------------------------------------------------- line formats (data)

#: date shapes: (name, regex); groups a/b are the first/second small field, y the year
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("ymd", r"(?P<y>\d{4})(?P<s>[/.\-])\s?(?P<a>\d{1,2})(?P=s)\s?(?P<b>\d{1,2})\.?"),
    ("dmy", r"(?P<a>\d{1,2})(?P<s>[/.\-])\s?(?P<b>\d{1,2})(?P=s)\s?(?P<y>\d{4}|\d{2})\.?"),
)
_TIME = (r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?"
         r"(?:\s?(?P<ampm>[AaPp]\.?\s?[Mm]\.?|ص|م))?")
#: words some locales put between date and time (Finnish "klo", German "um")
_DATE_TIME_SEP = r"(?:,\s?|\s)(?:(?:klo|um|at|à|kl\.)\s)?"
#: header layouts: (name, template); {date} and {time} are filled from the tables above
LINE_FORMATS: tuple[tuple[str, str], ...] = (
    ("android", r"{date}{sep}{time}\s?[-–]\s"),
    ("ios", r"\[{date}{sep}{time}\]\s?"),
    ("colon", r"{date}{sep}{time}:\s"),
)


@dataclass(frozen=True)
class HeaderFormat:
    """One compiled header regex: ``line`` layout name × ``date`` shape name."""

    line: str
    date: str
    regex: re.Pattern[str]


HEADER_FORMATS: tuple[HeaderFormat, ...] = tuple(
    HeaderFormat(line, date, re.compile(
        "^" + tmpl.format(date=dpat, sep=_DATE_TIME_SEP, time=_TIME)))
    for line, tmpl in LINE_FORMATS
    for date, dpat in DATE_FORMATS
)

#: system messages (English / Indonesian UI strings), also when credited to the group name
SYSTEM_PATTERNS: tuple[str, ...] = (
    r"^(?:Messages|Calls|Messages and calls)\b[^.]{0,60}\bend-to-end encrypted",
    r"^Pesan(?: dan panggilan)?\b[^.]{0,60}\bterenkripsi",
    r"^.{0,80}? (?:created (?:group|this group)|membuat grup)\b",
    (r"^.{0,80}? (?:changed (?:the subject|the group (?:description|name)|this group's "
    r"(?:icon|description|settings))|deleted this group's icon)"),
    (r"^.{0,80}? (?:mengubah (?:subjek|nama grup|deskripsi grup|ikon grup|setelan grup)|"
    r"menghapus ikon grup)"),
    r"^.{0,80}? joined using this group's invite link$",
    r"^.{0,80}? bergabung (?:menggunakan|dengan) tautan undangan",
    r"(?:security code (?:with .{0,80} )?changed|kode keamanan .{0,80}berubah)",
    (r"^.{0,80}? changed (?:their|to) phone number|^.{0,80}? (?:mengganti|telah mengganti) "
    r"nomor"),
    r"^You(?:'re| are) now an admin$|^Anda sekarang admin$",
    r"^(?:You were added|Anda ditambahkan)\b",
    (r"turned (?:on|off) disappearing messages|mengaktifkan pesan sementara|"
    r"menonaktifkan pesan sementara"),
    r"^Messages (?:to this group )?(?:and calls )?are now secured",
)
#: system lines with these verbs are recognised when iOS marks them (U+200E at text start)
MARKED_SYSTEM_PATTERNS: tuple[str, ...] = (
    r"^.{0,80}? (?:added|removed|left|joined|menambahkan|mengeluarkan|keluar|bergabung)\b",
)
#: a whole line that is a media / deletion placeholder or call record, not ad text
PLACEHOLDER_PATTERNS: tuple[str, ...] = (
    r"<media omitted>", r"<media tidak disertakan>", r"<media dihilangkan>",
    r"(?:image|video|audio|sticker|gif|document|contact card|photo) omitted",
    (r"(?:gambar|foto|video|audio|stiker|gif|dokumen|kartu kontak) (?:tidak disertakan|"
    r"dihilangkan)"),
    r"<attached: [^>]*>", r"<terlampir: [^>]*>", (r".{1,255} \((?:file attached|file "
    r"terlampir)\)"),
    r"this message was deleted", r"you deleted this message", r"pesan ini telah dihapus",
    r"anda menghapus pesan ini", r"pesan ini dihapus", r"null",
    r"waiting for this message\..*", r"menunggu pesan ini\..*",
    r"missed (?:voice|video) call", r"panggilan (?:suara|video) tak terjawab",
    r"(?:location|lokasi): https?://\S+",
)
#: markers newer exports append to edited messages
EDITED_SUFFIXES: tuple[str, ...] = ("<This message was edited>", "<Pesan ini diedit>")

_SYSTEM_RE = re.compile("|".join(f"(?:{p})" for p in SYSTEM_PATTERNS), re.IGNORECASE)
_MARKED_SYSTEM_RE = re.compile("|".join(MARKED_SYSTEM_PATTERNS), re.IGNORECASE)
_PLACEHOLDER_RE = re.compile("|".join(f"(?:{p})" for p in PLACEHOLDER_PATTERNS),
                             re.IGNORECASE)

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACES = "\u202f\u00a0\u2007\u2009\u200a"
#: senders longer than this are taken as system lines that happen to contain ": "
MAX_SENDER_CHARS = 80


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord(c): " " for c in _SPACES}
    table[0x060C] = ","  # Arabic comma
    table[0x066B] = "."  # Arabic decimal separator
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Nd":
            table[cp] = str(unicodedata.digit(ch))
    return table


_FOLD = _fold_table()
_HAS_MARK = re.compile(f"[{_MARKS}]")


def fold_line(line: str) -> tuple[str, Callable[[int], int]]:
    """(folded line, map from folded offset to offset in ``line``). Folding keeps one
    character per character except direction marks, which are dropped."""
    if not _HAS_MARK.search(line):
        return line.translate(_FOLD), lambda i: i
    kept = [i for i, ch in enumerate(line) if ch not in _MARKS]
    folded = "".join(line[i] for i in kept).translate(_FOLD)

    def to_original(i: int) -> int:
        return kept[i] if i < len(kept) else len(line)

    return folded, to_original


@dataclass
class Header:
    """A parsed header line.

    fmt: the matching format; a/b/year/hour/minute/second: fields as numbers (hour already
    24-hour); sender: None for a system line; text: the message's first line as written;
    header: the header text as written (date and time part).
    """

    fmt: HeaderFormat
    a: int
    b: int
    year: int
    hour: int
    minute: int
    second: int
    sender: str | None
    text: str
    header: str

    def local_time(self, day_first: bool = True) -> datetime:
        """Naive local datetime. Raises ``ValueError`` for an impossible date."""
        if self.fmt.date == "ymd":
            month, day = self.a, self.b
        else:
            day, month = (self.a, self.b) if day_first else (self.b, self.a)
        return datetime(self.year, month, day, self.hour, self.minute, self.second)


def _to_24h(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    mark = ampm.replace(".", "").replace(" ", "").lower()
    pm = mark in ("pm", "م")
    if hour == 12:
        return 12 if pm else 0
    return hour + 12 if pm else hour


def match_header(line: str, formats: Iterable[HeaderFormat] = HEADER_FORMATS
                 ) -> Header | None:
    """Parse ``line`` (without its line ending) if it starts a message, else None.

    The sender is split off at the first ``": "`` after the header; a rest without one (or
    with an over-long "sender", or a ``SYSTEM_PATTERNS`` text) is a system line
    (``sender`` None).
    """
    folded, to_original = fold_line(line)
    for fmt in formats:
        m = fmt.regex.match(folded)
        if m is None:
            continue
        hour = int(m["H"])
        if hour > 23 or int(m["M"]) > 59 or (m["S"] and int(m["S"]) > 59):
            continue
        if m["ampm"] and not 1 <= hour <= 12 and hour != 0:
            continue
        year = int(m["y"])
        if year < 100:
            year += 2000
        start = to_original(m.end())
        rest = line[start:]
        sender, text = _split_sender(rest)
        return Header(fmt, int(m["a"]), int(m["b"]), year, _to_24h(hour, m["ampm"]),
                      int(m["M"]), int(m["S"] or 0), sender, text,
                      line[:start].strip(_MARKS + " "))
    return None


def _split_sender(rest: str) -> tuple[str | None, str]:
    clean = rest.strip(_MARKS)
    if _SYSTEM_RE.search(clean) and ": " not in clean.split('"')[0]:
        # a notice whose quoted part holds ": " (e.g. a new subject "Loker: Taiwan")
        return None, rest
    idx = rest.find(": ")
    if idx < 0:
        if rest.endswith(":") and rest.strip(_MARKS + " :"):
            return rest[:-1].strip(_MARKS + " "), ""
        return None, rest
    sender = rest[:idx].strip(_MARKS + " ")
    text = rest[idx + 2:]
    if not sender or len(sender) > MAX_SENDER_CHARS:
        return None, rest
    body = text.strip(_MARKS + " ")
    if _SYSTEM_RE.search(body) and len(body) < 300:
        return None, rest  # a system notice credited to the group's name
    if text[:1] in ("\u200e", "\u200f") and _MARKED_SYSTEM_RE.search(text.strip(_MARKS)) \
            and "\n" not in text and len(body) < 200:
        return None, rest
    return sender, text


# ---------------------------------------------------------------- detection


def sniff(head_text: str) -> bool:
    """True when the first non-empty line of ``head_text`` is a WhatsApp header."""
    for line in head_text.splitlines():
        if line.strip(_MARKS + " \t"):
            return match_header(line.rstrip("\r")) is not None
    return False


_CHAT_MEMBER_RE = re.compile(
    r"(?:^|/)(?:_chat\.txt|whatsapp chat.*\.txt|chat whatsapp.*\.txt|whatsapp.*\.txt)$",
    re.IGNORECASE)


def chat_member(zf: zipfile.ZipFile) -> str | None:
    """The chat text member of a WhatsApp ``.zip`` export (``_chat.txt``, ``WhatsApp Chat
    with X.txt``, ``Chat WhatsApp dengan X.txt``, else any ``.txt`` that sniffs as one)."""
    names = sorted(n for n in zf.namelist() if not n.endswith("/"))
    for name in names:
        if _CHAT_MEMBER_RE.search(name):
            return name
    for name in names:
        if name.lower().endswith(".txt") and not Path(name).name.startswith("."):
            with zf.open(name) as fh:
                head = fh.read(SNIFF_BYTES)
            if sniff(head.decode("utf-8", errors="replace").lstrip("\ufeff")):
                return name
    return None


# ---------------------------------------------------------------- reading


@dataclass
class _Pending:
    lineno: int
    header: Header
    lines: list[str]


def _choose_format(lines: Iterable[str]) -> tuple[HeaderFormat | None, bool]:
    """(the file's dominant header format, day_first) from one pass over its lines."""
    counts: Counter[HeaderFormat] = Counter()
    max_a: Counter[HeaderFormat] = Counter()
    max_b: Counter[HeaderFormat] = Counter()
    for line in lines:
        h = match_header(line.rstrip("\r\n"))
        if h is None:
            continue
        counts[h.fmt] += 1
        max_a[h.fmt] = max(max_a[h.fmt], h.a)
        max_b[h.fmt] = max(max_b[h.fmt], h.b)
    if not counts:
        return None, True
    order = {f: i for i, f in enumerate(HEADER_FORMATS)}
    fmt = max(counts, key=lambda f: (counts[f], -order[f]))
    if max_a[fmt] > 12:
        day_first = True
    elif max_b[fmt] > 12:
        day_first = False
    else:
        day_first = True
    return fmt, day_first


def clean_text(text: str) -> str:
    """Message text without placeholder lines and edit markers ("" when nothing is left)."""
    out = []
    for line in text.split("\n"):
        probe = line.strip(_MARKS + " \t").translate(_FOLD)
        for suffix in EDITED_SUFFIXES:
            if probe.endswith(suffix):
                line = line[: line.rfind(suffix)].rstrip()
                probe = probe[: -len(suffix)].rstrip()
        if probe and _PLACEHOLDER_RE.fullmatch(probe):
            continue
        out.append(line)
    result = "\n".join(out).strip("\n")
    return result if result.strip() else ""


def parse_lines(
    lines: Iterable[str],
    fmt: HeaderFormat,
    day_first: bool,
    tz: tzinfo,
    *,
    source: str,
    location_prefix: str,
    on_error: ErrorHandler,
) -> Iterator[Post]:
    """Posts from the lines of one export, given its header format and date order."""
    keys = KeyRegistry()
    pending: _Pending | None = None
    orphan_reported = False
    tz_name = str(getattr(tz, "key", None) or tz.tzname(None) or tz)

    def flush(p: _Pending) -> Post | None:
        h = p.header
        if h.sender is None:
            return None
        text = clean_text("\n".join(p.lines).rstrip())
        if not text:
            return None
        location = f"{location_prefix}:{p.lineno}"
        try:
            local = h.local_time(day_first)
        except ValueError as exc:
            on_error(RecordError(location, f"impossible date in header {h.header!r}: {exc}"))
            return None
        posted_at = local.replace(tzinfo=tz).astimezone(UTC)
        key = keys.content(f"{local.isoformat()}\x00{h.sender}\x00{text}", source)
        return Post(
            key=key, text=text, source=source, platform="whatsapp", author=h.sender,
            posted_at=posted_at, location=location,
            raw={"sender": h.sender, "time_local": local.isoformat(), "timezone": tz_name,
                 "header": h.header, "line": p.lineno},
        )

    for lineno, raw_line in enumerate(lines, start=1):
        line = raw_line.rstrip("\r\n")
        if lineno == 1:
            line = line.lstrip("\ufeff")
        header = match_header(line, (fmt,))
        if header is not None:
            if pending is not None:
                post = flush(pending)
                if post is not None:
                    yield post
            pending = _Pending(lineno, header, [header.text])
        elif pending is not None:
            pending.lines.append(line)
        elif line.strip(_MARKS + " \t") and not orphan_reported:
            orphan_reported = True
            on_error(RecordError(f"{location_prefix}:{lineno}",
                                 "text before the first message header"))
    if pending is not None:
        post = flush(pending)
        if post is not None:
            yield post


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """Posts of a WhatsApp ``.txt`` export or ``.zip`` export. Raises ``SourceError`` for an
    unreadable file, a zip without a chat, or an unknown ``options.timezone``."""
    try:
        tz = local_timezone(options)
    except ValueError as exc:
        raise SourceError(path, str(exc)) from None
    source = str(path)
    if path.suffix.lower() == ".zip":
        yield from _read_zip(path, options, tz, on_error)
        return
    encoding, _ = sniff_text(path, read_head(path), options.encoding)
    with open_text(path, encoding) as fh:
        fmt, day_first = _choose_format(fh)
    if fmt is None:
        return
    with open_text(path, encoding) as fh:
        yield from parse_lines(fh, fmt, day_first, tz, source=source,
                               location_prefix=source, on_error=on_error)


def _read_zip(path: Path, options: SourceOptions, tz: tzinfo,
              on_error: ErrorHandler) -> Iterator[Post]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"not a readable zip file: {exc}") from None
    with zf:
        member = chat_member(zf)
        if member is None:
            raise SourceError(path, "zip holds no WhatsApp chat (_chat.txt / "
                                    "WhatsApp Chat*.txt)")
        with zf.open(member) as fh:
            head = fh.read(SNIFF_BYTES)
        encoding, _ = sniff_text(Path(f"{path}!{member}"), head, options.encoding)

        def member_lines() -> IO[str]:
            return text_stream(zf.open(member), encoding)

        with member_lines() as fh:
            fmt, day_first = _choose_format(fh)
        if fmt is None:
            return
        with member_lines() as fh:
            yield from parse_lines(fh, fmt, day_first, tz, source=str(path),
                                   location_prefix=f"{path}!{member}", on_error=on_error)

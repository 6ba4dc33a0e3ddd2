"""Watchlist and allowlist values (pure; no database).

``normalize_watch_value(kind, value)`` turns a value typed by an analyst or read from a
list ("0812-0000-3185", "t.me/Loker_TW", "WWW.Agen.example") into the form the analysis
extracts from posts (``patroli.analysis.entities.extract_entities``), so that a watchlist
entry and an entity found in a post compare equal as strings:

======== ===================================== =================================
kind     example input                         stored value
======== ===================================== =================================
phone    ``0812-0000-3185``, ``wa.me/62812..`` ``+6281200003185`` (E.164)
telegram ``@Loker_TW``, ``t.me/Loker_TW``      ``@loker_tw``
domain   ``https://www.Agen.example/x``        ``agen.example`` (``*.go.id`` → ``go.id``)
url      ``WWW.Agen.example/Daftar``           ``https://agen.example/Daftar``
email    ``Info@Agen.example``                 ``info@agen.example``
account  ``fb.com/Loker.TW``, ``IG:@lokertw``  ``facebook:loker.tw``, ``instagram:lokertw``
bank_... ``BRI 0000-01-123456-50-7``           ``bri:000001123456507`` (or digits only)
======== ===================================== =================================

``read_watchlist(path, ...)`` reads a list file (CSV or XLSX, columns
kind,value,reason,source,date) into ``WatchEntry`` records; ``default_allowlist_path()``
is the bundled allowlist of official domains and hotlines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers

from patroli.analysis.entities import extract_entities
from patroli.verify.model import LIST_NAMES, WATCH_KINDS, WatchEntry

__all__ = [
    "ACCOUNT_PLATFORMS",
    "WatchValueError",
    "default_allowlist_path",
    "domain_covers",
    "normalize_watch_value",
    "read_watchlist",
]

log = logging.getLogger(__name__)

#: Platform names accepted in "platform:handle" accounts, with their usual short forms and
#: profile hosts; the value keeps the canonical name (left).
ACCOUNT_PLATFORMS: dict[str, tuple[str, ...]] = {
    "facebook": ("facebook", "fb", "facebook.com", "fb.com", "m.facebook.com", "web.facebook.com"),
    "instagram": ("instagram", "ig", "insta", "instagram.com"),
    "tiktok": ("tiktok", "tt", "tiktok.com", "vt.tiktok.com"),
    "x": ("x", "twitter", "x.com", "twitter.com"),
    "threads": ("threads", "threads.net", "threads.com"),
    "youtube": ("youtube", "yt", "youtube.com"),
    "telegram": ("telegram", "tg", "t.me", "telegram.me"),
    "whatsapp": ("whatsapp", "wa", "wa.me"),
    "line": ("line", "line.me"),
    "linkedin": ("linkedin", "linkedin.com"),
}
_PLATFORM_OF = {alias: name for name, aliases in ACCOUNT_PLATFORMS.items() for alias in aliases}

_HANDLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")
_TG_HANDLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_BANK = re.compile(r"^(?P<bank>[A-Za-z][A-Za-z .&'\-]*?)\s*[:/\s]\s*(?P<number>[\d][\d .\-]*)$")

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "registry"


class WatchValueError(ValueError):
    """A watchlist value (or entry) that cannot be used: unknown kind or list, a value
    that is not a phone / handle / domain / ... of its kind, or an allowlist entry without
    who and why. The message is one line, Bahasa Indonesia / English."""


def default_allowlist_path() -> Path:
    """The bundled allowlist CSV (official domains and hotlines): ``data/registry/allowlist.csv``."""
    return DATA_DIR / "allowlist.csv"


def _bad(kind: str, value: str, why: str = "") -> WatchValueError:
    extra = f" ({why})" if why else ""
    return WatchValueError(f"nilai {kind} tidak sah / not a valid {kind}: {value!r}{extra}")


def _only(values: list[str], kind: str, raw: str) -> str | None:
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise _bad(kind, raw, "more than one value: " + ", ".join(distinct))
    return distinct[0] if distinct else None


def _phone(raw: str) -> str:
    found = _only([e.value for e in extract_entities(raw) if e.kind == "phone"], "phone", raw)
    if found:
        return found
    # Short service numbers ("0800-1000") that the post extractor does not take for a
    # phone: parse as an Indonesian number when the text is only digits and separators.
    if not re.fullmatch(r"\+?[\d\s().\-/]{3,24}", raw):
        raise _bad("phone", raw)
    digits = re.sub(r"[^\d+]", "", raw)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("62") and not digits.startswith("+"):
        digits = "+" + digits
    try:
        num = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException as exc:
        raise _bad("phone", raw) from exc
    if not phonenumbers.is_possible_number(num):
        raise _bad("phone", raw)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def _telegram(raw: str) -> str:
    found = _only([e.value for e in extract_entities(raw) if e.kind == "telegram"],
                  "telegram", raw)
    if found:
        return found
    handle = raw.strip().removeprefix("@")
    if not _TG_HANDLE.fullmatch(handle):
        raise _bad("telegram", raw)
    return "@" + handle.lower()


def _host(raw: str) -> str:
    v = raw.strip().lower()
    v = re.sub(r"^\*?\.", "", v)  # "*.go.id" / ".go.id": the suffix itself
    if "://" not in v:
        v = "//" + v
    try:
        host = (urlsplit(v).hostname or "").rstrip(".")
    except ValueError:
        host = ""
    host = host.removeprefix("www.")
    try:
        host = host.encode("idna").decode("ascii") if host else host
    except UnicodeError:
        host = ""
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(lab) for lab in labels) or (
            labels[-1].isdigit()):
        raise _bad("domain", raw)
    return host


def _domain(raw: str) -> str:
    found = _only([e.value for e in extract_entities(raw) if e.kind == "domain"], "domain", raw)
    return found or _host(raw)


def _url(raw: str) -> str:
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*)://", raw)
    if scheme and scheme.group(1).lower() not in ("http", "https", "hxxp", "hxxps"):
        raise _bad("url", raw, "only http and https links")
    found = _only([e.value for e in extract_entities(raw) if e.kind == "url"], "url", raw)
    if found:
        return found
    v = raw.strip()
    if re.search(r"\s", v):
        raise _bad("url", raw)
    parts = urlsplit(v if "://" in v else "https://" + v)
    if parts.scheme not in ("http", "https"):
        raise _bad("url", raw)
    host = _host(parts.netloc.rsplit("@", 1)[-1].split(":")[0])
    return f"{parts.scheme}://{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def _email(raw: str) -> str:
    found = _only([e.value for e in extract_entities(raw) if e.kind == "email"], "email", raw)
    if found:
        return found
    v = raw.strip()
    if not _EMAIL.fullmatch(v):
        raise _bad("email", raw)
    return v.lower()


def _account(raw: str) -> str:
    v = raw.strip()
    m = re.match(r"^(?:https?://)?(?:www\.)?([A-Za-z0-9.\-]+\.[a-z]{2,})/+(.+)$", v)
    if m:
        platform = _PLATFORM_OF.get(m.group(1).lower())
        if platform is None:
            raise _bad("account", raw, "unknown platform host; use platform:handle")
        path = m.group(2).split("?")[0].split("#")[0].strip("/")
        profile_id = re.search(r"[?&]id=(\d+)", v)
        handle = profile_id.group(1) if path.startswith("profile.php") and profile_id else (
            path.split("/")[0])
    elif ":" in v:
        p, handle = v.split(":", 1)
        platform = _PLATFORM_OF.get(p.strip().lower())
        if platform is None:
            raise _bad("account", raw, f"unknown platform {p.strip()!r}")
    else:
        raise _bad("account", raw, "write platform:handle, e.g. facebook:loker.tw")
    handle = handle.strip().removeprefix("@")
    if not _HANDLE.fullmatch(handle):
        raise _bad("account", raw)
    if platform == "telegram":
        return "telegram:@" + handle.lower()
    return f"{platform}:{handle.lower()}"


def _bank_account(raw: str) -> str:
    v = raw.strip()
    if re.fullmatch(r"[\d][\d .\-]*", v):
        digits = re.sub(r"\D", "", v)
        bank = ""
    else:
        m = _BANK.match(v)
        if m is None:
            raise _bad("bank_account", raw, "write digits or bank:digits")
        digits = re.sub(r"\D", "", m.group("number"))
        bank = re.sub(r"\s+", " ", m.group("bank").strip().lower())
        bank = re.sub(r"^bank\s+", "", bank)
    if not 6 <= len(digits) <= 20:
        raise _bad("bank_account", raw, "6 to 20 digits")
    return f"{bank}:{digits}" if bank else digits


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "phone": _phone,
    "telegram": _telegram,
    "domain": _domain,
    "url": _url,
    "email": _email,
    "account": _account,
    "bank_account": _bank_account,
}


def normalize_watch_value(kind: str, value: str) -> str:
    """The normalised watchlist value of ``value`` for ``kind`` (see the module table).

    kind: one of ``patroli.verify.model.WATCH_KINDS``. Phones, Telegram handles, URLs,
    domains and e-mail addresses go through ``extract_entities`` first, so the result is
    what the analysis extracts from a post with that text; a value the extractor does not
    see on its own (a bare "@handle", a short hotline "0800-1000", "*.go.id") is parsed
    with the same conventions.
    Raises ``WatchValueError`` for an unknown kind, an empty value, a value that is not of
    its kind, or a text holding two different values.
    """
    if kind not in WATCH_KINDS:
        raise WatchValueError(f"jenis tidak dikenal / unknown kind {kind!r} "
                              f"(choose from {', '.join(WATCH_KINDS)})")
    if value is None or not str(value).strip():
        raise WatchValueError(f"nilai kosong / empty {kind} value")
    return _NORMALIZERS[kind](str(value).strip())


def domain_covers(entry_domain: str, host: str) -> bool:
    """True when ``host`` is ``entry_domain`` or a subdomain of it (``"go.id"`` covers
    ``"kp2mi.go.id"``; ``"agen.example"`` does not cover ``"fakeagen.example"``).
    Both are lower-case hosts as ``normalize_watch_value("domain", ...)`` gives them."""
    return host == entry_domain or host.endswith("." + entry_domain)


def _entry_time(cell: str | datetime | date | None) -> datetime | None:
    if cell is None or cell == "":
        return None
    if isinstance(cell, datetime):
        return cell if cell.tzinfo else cell.replace(tzinfo=UTC)
    if isinstance(cell, date):
        return datetime.combine(cell, time(0), tzinfo=UTC)
    s = str(cell).strip()
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        from patroli.verify.registry import parse_date

        d = parse_date(s)
        if d is None:
            raise ValueError(f"bad date {s!r}") from None
        return datetime.combine(d, time(0), tzinfo=UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _unescape_cell(s: str) -> str:
    """Undo the formula-injection guard of exports ("'=..." → "=...")."""
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@\t\r":
        return s[1:]
    return s


def read_watchlist(
    path: str | Path,
    list_name: str = "watch",
    *,
    added_by: str = "",
    source: str = "",
    on_error: Callable[[object], None] | None = None,
) -> list[WatchEntry]:
    """Read a watchlist/allowlist file (CSV or XLSX; columns kind, value, reason, source,
    date; other columns are ignored) into normalised ``WatchEntry`` records.

    list_name: "watch" or "allow" for every entry. added_by / source: defaults for rows
    without their own (a row's ``source`` cell wins). ``date`` (ISO date or datetime,
    also dd/mm/yyyy) becomes ``added_at`` (UTC; a date is midnight UTC).
    Bad rows (unknown kind, a value that does not normalise, a bad date, an allowlist row
    without a reason) are passed to ``on_error`` as ``RegistryRowError(file, row,
    reason)`` (header = row 1) and skipped. Raises ``RegistryFormatError`` when the file is
    unreadable or lacks the kind/value columns, ``WatchValueError`` for an unknown
    list_name or an allowlist read without ``added_by``.
    """
    from patroli.verify.registry import RegistryFormatError, RegistryRowError, read_table

    if list_name not in LIST_NAMES:
        raise WatchValueError(f"daftar tidak dikenal / unknown list {list_name!r}")
    if list_name == "allow" and not added_by.strip():
        raise WatchValueError("allowlist: siapa yang menambahkan wajib diisi / "
                              "who adds it (--by) is required")
    table = read_table(path)
    cols = {k: table.column(k) for k in ("kind", "value", "reason", "source", "date")}
    if cols["kind"] is None or cols["value"] is None:
        raise RegistryFormatError(f"{table.name}: kolom kind dan value wajib ada / "
                                  "needs the columns kind and value")
    out: list[WatchEntry] = []

    def report(row: int, reason: str) -> None:
        err = RegistryRowError(table.name, row, reason)
        if on_error is not None:
            on_error(err)
        else:
            log.warning("%s", err)

    for rownum, cells in table.rows:
        def cell(key: str, cells: list = cells) -> str:
            i = cols[key]
            if i is None or i >= len(cells) or cells[i] is None:
                return ""
            return _unescape_cell(str(cells[i]).strip())

        kind = cell("kind").lower()
        raw = cell("value")
        if not kind and not raw:
            continue
        try:
            value = normalize_watch_value(kind, raw)
        except WatchValueError as exc:
            report(rownum, str(exc))
            continue
        reason = cell("reason")
        if list_name == "allow" and not reason:
            report(rownum, "allowlist: alasan wajib diisi / a reason is required")
            continue
        try:
            i = cols["date"]
            added_at = _entry_time(cells[i] if i is not None and i < len(cells) else None)
        except ValueError as exc:
            report(rownum, f"tanggal tidak sah / {exc}")
            continue
        out.append(WatchEntry(kind=kind, value=value, list_name=list_name, reason=reason,
                              source=cell("source") or source, added_by=added_by,
                              added_at=added_at))
    return out

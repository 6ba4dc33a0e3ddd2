"""Import official registry exports (P3MI agencies and SIP permits) into a snapshot.

``read_registry(agencies_path, permits_path=None, *, mapping=None, on_error=None)`` reads
CSV (UTF-8, UTF-8 with BOM or Windows-1252; ``,`` ``;`` tab or ``|`` sniffed) or XLSX
exports in the shape of the demo registry (``default_registry_paths()``) and returns a
``RegistrySnapshot``. Other shapes are read through a ``ColumnMapping`` (which column holds
the name, the licence, ...). Headers are matched case-, space- and underscore-insensitively,
and common Indonesian headers ("nama_perusahaan", "no_izin", "berlaku_sampai") are known.

Rows are validated one by one: a bad row is reported as ``RegistryRowError(file, row,
reason)`` (spreadsheet numbering, header = row 1) through ``on_error`` and skipped, the
rest is imported. A whole unreadable file raises ``RegistryFormatError`` (one line).

Normal forms: licence numbers "KEP-214/P3MI/2022" and permits "SIP-2026/TW/0457" as
``patroli.analysis.entities`` extracts them from posts; phones E.164 (region ID);
websites full URLs (``agency_hosts`` gives their hosts); e-mails lower-case; destinations
ISO 3166-1 alpha-2 (places lexicon, then pycountry); dates ``datetime.date``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from patroli.analysis.entities import find_licence_numbers, find_permit_numbers
from patroli.verify.matching import normalize_agency_name
from patroli.verify.model import AGENCY_STATUSES, Agency, Permit, RegistrySnapshot

__all__ = [
    "AGENCY_COLUMNS",
    "PERMIT_COLUMNS",
    "STATUS_WORDS",
    "ColumnMapping",
    "RegistryFormatError",
    "RegistryRowError",
    "Table",
    "agency_hosts",
    "default_registry_paths",
    "load_default_registry",
    "mapping_fields",
    "normalize_agency_name",
    "parse_date",
    "read_registry",
    "read_table",
    "resolve_country",
]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "registry"

#: Header names recognised for each agency field (compared after ``_header_key``).
AGENCY_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency_id": ("agency_id", "id", "id_perusahaan", "kode", "kode_perusahaan", "nib"),
    "name": ("name", "nama", "nama_perusahaan", "company", "company_name", "nama_p3mi"),
    "licence_number": ("licence_number", "license_number", "licence", "license", "sip3mi",
                       "no_sip3mi", "nomor_sip3mi", "no_izin", "nomor_izin", "izin"),
    "licence_valid_until": ("licence_valid_until", "license_valid_until", "valid_until",
                            "berlaku_sampai", "masa_berlaku", "tanggal_berakhir",
                            "izin_berlaku_sampai"),
    "status": ("status", "status_izin", "keterangan_status"),
    "status_since": ("status_since", "status_date", "tanggal_status", "sejak"),
    "aliases": ("aliases", "alias", "nama_lain", "other_names"),
    "province": ("province", "provinsi"),
    "city": ("city", "kota", "kabupaten_kota", "kota_kabupaten", "kab_kota"),
    "address": ("address", "alamat", "alamat_kantor"),
    "phone": ("phone", "phones", "telepon", "telp", "no_telp", "nomor_telepon", "tel"),
    "website": ("website", "websites", "situs", "laman", "url"),
    "email": ("email", "emails", "e_mail", "surel"),
}
#: Header names recognised for each permit field.
PERMIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "permit_number": ("permit_number", "sip", "sip2mi", "no_sip", "nomor_sip", "no_sip2mi",
                      "nomor_sip2mi", "permit"),
    "agency_id": ("agency_id", "id_perusahaan", "kode_perusahaan", "agency"),
    "destination": ("destination_country", "destination", "negara", "negara_tujuan",
                    "country"),
    "employer": ("employer", "pengguna", "nama_pengguna", "majikan", "pemberi_kerja"),
    "position": ("position", "jabatan", "posisi", "job", "job_title"),
    "quota": ("quota", "kuota", "jumlah"),
    "issued_on": ("issued_on", "issued", "tanggal_terbit", "diterbitkan", "tgl_terbit"),
    "valid_until": ("valid_until", "berlaku_sampai", "masa_berlaku", "tanggal_berakhir"),
}

#: Status words of exports -> ``AGENCY_STATUSES`` (Indonesian and English).
STATUS_WORDS: dict[str, str] = {
    "active": "active", "aktif": "active", "berlaku": "active", "valid": "active",
    "suspended": "suspended", "suspend": "suspended", "dibekukan": "suspended",
    "pembekuan": "suspended", "ditangguhkan": "suspended", "skorsing": "suspended",
    "dihentikan sementara": "suspended", "penghentian sementara": "suspended",
    "revoked": "revoked", "dicabut": "revoked", "pencabutan": "revoked", "cabut": "revoked",
}

_MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2, "peb": 2,
    "mar": 3, "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "agt": 8,
    "agustus": 8, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10,
    "oktober": 10, "oct": 10, "october": 10, "nov": 11, "nopember": 11, "november": 11,
    "des": 12, "desember": 12, "dec": 12, "december": 12,
}
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[T ][\d:.]+)?$")
_D_MON_Y = re.compile(r"^(\d{1,2})[\s\-]+([A-Za-z]+)\.?[\s\-]+(\d{4})$")
_LIST_SPLIT = re.compile(r"\s*[;|\n]\s*")
_LICENCE_DEFAULT = r"KEP-\d{1,4}/P3MI/\d{4}"
_PERMIT_DEFAULT = r"SIP-\d{4}/[A-Z]{2}/\d{3,5}"


class RegistryFormatError(Exception):
    """A registry or list file that cannot be read at all (missing, not CSV/XLSX, binary,
    no header with the required columns). The message is one line naming the file."""


@dataclass(slots=True, frozen=True)
class RegistryRowError:
    """One bad row: ``file`` (name), ``row`` (spreadsheet row number, header = 1),
    ``reason`` (one line). ``skipped``: False when the row was imported without the bad
    cell (e.g. a phone number that does not parse)."""

    file: str
    row: int
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        kept = "" if self.skipped else " (row kept / baris tetap diimpor)"
        return f"{self.file}:{self.row}: {self.reason}{kept}"


@dataclass(slots=True)
class ColumnMapping:
    """Which header holds which field, for exports in another shape.

    Each ``*`` attribute is a header name (as written in the file) or None to use the
    recognised names (``AGENCY_COLUMNS`` / ``PERMIT_COLUMNS``). Agency fields: agency_id,
    name, licence_number, licence_valid_until, status, status_since, aliases, province,
    city, address, phone, website, email. Permit fields carry a ``permit_`` prefix:
    permit_number, permit_agency_id, permit_destination, permit_employer,
    permit_position, permit_quota, permit_issued_on, permit_valid_until.
    date_format: a ``strptime`` format tried first (e.g. "%d/%m/%Y"); without it ISO,
    dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy and "14 Maret 2027" are read.
    licence_pattern / permit_pattern: regular expressions a licence / permit number must
    match in full (upper-cased, spaces removed); None: the demo formats
    "KEP-NNN/P3MI/YYYY" and "SIP-YYYY/CC/NNNN" (with the CC checked against the
    destination). sheet: the XLSX sheet to read (default the first).
    default_status: status of every agency when the file has no status column.
    """

    agency_id: str | None = None
    name: str | None = None
    licence_number: str | None = None
    licence_valid_until: str | None = None
    status: str | None = None
    status_since: str | None = None
    aliases: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    phone: str | None = None
    website: str | None = None
    email: str | None = None
    permit_number: str | None = None
    permit_agency_id: str | None = None
    permit_destination: str | None = None
    permit_employer: str | None = None
    permit_position: str | None = None
    permit_quota: str | None = None
    permit_issued_on: str | None = None
    permit_valid_until: str | None = None
    date_format: str | None = None
    licence_pattern: str | None = None
    permit_pattern: str | None = None
    sheet: str | None = None
    default_status: str = "active"

    def header_for(self, table: str, key: str) -> str | None:
        """The header given for ``key`` of ``table`` ("agencies" or "permits")."""
        attr = key if table == "agencies" else (
            key if key == "permit_number" else f"permit_{key}")
        return getattr(self, attr, None)


def _header_key(h: object) -> str:
    s = unicodedata.normalize("NFKC", str(h or "")).strip().lower()
    return re.sub(r"[\s_\-./()]+", "_", s).strip("_")


@dataclass(slots=True)
class Table:
    """Rows of a CSV or XLSX sheet: ``header`` (cells of the header row), ``rows``
    ((spreadsheet row number, cells) pairs; cells are str, or date/datetime/int/float
    from XLSX), ``name`` (file name for messages)."""

    name: str
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]] | list[tuple[int, list[Any]]]
    header_row: int = 1

    def column(self, *names: str) -> int | None:
        """Index of the first header equal (``_header_key``) to one of ``names``."""
        keys = [_header_key(h) for h in self.header]
        for n in names:
            k = _header_key(n)
            if k in keys:
                return keys.index(k)
        return None


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:4096]:
        raise RegistryFormatError(f"{name}: berkas biner, bukan CSV/XLSX / binary file, "
                                  "not CSV or XLSX")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield from enumerate(reader, start=1)


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RegistryFormatError(f"{path.name}: bukan XLSX yang sah / not a readable XLSX "
                                  f"file: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                                  ) from None
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise RegistryFormatError(f"{path.name}: tidak ada sheet / no sheet {sheet!r} "
                                          f"(sheets: {', '.join(wb.sheetnames)})")
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, list(row)
    finally:
        wb.close()


def read_table(path: str | Path, *, sheet: str | None = None,
               required: tuple[tuple[str, ...], ...] = ()) -> Table:
    """Open a CSV or XLSX file as a ``Table`` (header = the first non-empty row, or the
    first of the first 10 rows holding a column of every ``required`` group of names).

    XLSX is recognised by its content (a zip), whatever the extension. CSV text is
    decoded as UTF-8 (BOM or not), else Windows-1252; the delimiter is sniffed from the
    header line. Raises ``RegistryFormatError`` (one line) for a missing, empty, binary
    or corrupt file.
    """
    p = Path(path)
    name = p.name
    try:
        with p.open("rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise RegistryFormatError(f"{p}: berkas tidak ada / no such file") from None
    except IsADirectoryError:
        raise RegistryFormatError(f"{p}: ini folder / is a directory") from None
    except OSError as exc:
        raise RegistryFormatError(f"{p}: tidak bisa dibaca / cannot read: {exc.strerror}") from None
    if head.startswith(b"PK\x03\x04"):
        rows: Iterator[tuple[int, list[Any]]] = _xlsx_rows(p, sheet)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        raise RegistryFormatError(f"{name}: bukan XLSX yang sah / not a readable XLSX file")
    else:
        text = _decode(p.read_bytes(), name)
        csv.field_size_limit(1 << 30)
        rows = _csv_rows(text, _sniff_delimiter(text.lstrip("\r\n")))
    try:
        scanned: list[tuple[int, list[Any]]] = []
        header: tuple[int, list[Any]] | None = None
        for item in rows:
            scanned.append(item)
            cells = item[1]
            if not any(c not in (None, "") and str(c).strip() for c in cells):
                continue
            keys = {_header_key(c) for c in cells}
            if not required or all(any(_header_key(n) in keys for n in group)
                                   for group in required):
                header = item
                break
            if len(scanned) >= 10:
                break
        if header is None:
            if not any(any(c not in (None, "") for c in r) for _, r in scanned):
                raise RegistryFormatError(f"{name}: berkas kosong / empty file")
            want = " and ".join("/".join(g[:3]) for g in required)
            raise RegistryFormatError(f"{name}: tidak ada baris judul dengan kolom {want} / "
                                      f"no header row with the columns {want}")
    except csv.Error as exc:
        raise RegistryFormatError(f"{name}: CSV rusak / malformed CSV: {exc}") from None
    hrow, hcells = header
    return Table(name=name, header=[str(c or "").strip() for c in hcells],
                 rows=_guard(rows, name), header_row=hrow)


def _guard(rows: Iterator[tuple[int, list[Any]]], name: str) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from rows
    except csv.Error as exc:
        raise RegistryFormatError(f"{name}: CSV rusak / malformed CSV: {exc}") from None


def parse_date(value: object, fmt: str | None = None) -> date | None:
    """A calendar date from a cell: ``date``/``datetime`` objects, ISO "2027-03-14"
    (a time part is ignored), day-first "14/03/2027", "14-03-2027", "14.03.2027",
    "14 Maret 2027" / "14 Mar 2027" (Indonesian or English month), or ``fmt``
    (strptime) first when given. None for an empty cell; raises ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if not s or s in ("-", "—"):
        return None
    if fmt:
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    m = _YMD.match(s)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(s)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _D_MON_Y.match(s)
    if m and m.group(2).lower() in _MONTHS:
        return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    raise ValueError(f"tanggal tidak sah / bad date {s!r}")


@lru_cache(maxsize=4096)
def resolve_country(name: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country as an export writes it ("Taiwan",
    "Arab Saudi", "Hong Kong", "TW", "Korea, Republic of"), or None.

    Tries an alpha-2/alpha-3 code, the places lexicon of the analysis (English,
    Indonesian and Malay names; the whole text must be one country), then pycountry's
    lookup (official names).
    """
    import pycountry

    from patroli.analysis.normalize import normalize
    from patroli.analysis.places import find_places

    s = " ".join(str(name or "").split())
    if not s:
        return None
    if re.fullmatch(r"[A-Za-z]{2,3}", s):
        c = pycountry.countries.get(alpha_2=s.upper()) if len(s) == 2 else (
            pycountry.countries.get(alpha_3=s.upper()))
        if c is not None:
            return str(c.alpha_2)
    found = {p.country for p in find_places(normalize(s)) if p.kind == "country"}
    if len(found) == 1:
        return found.pop()
    try:
        return str(pycountry.countries.lookup(s).alpha_2)
    except LookupError:
        return None



def agency_hosts(agency: Agency) -> list[str]:
    """Lower-case hosts (without "www.") of an agency's websites, in order, distinct."""
    from urllib.parse import urlsplit

    out: list[str] = []
    for w in agency.websites:
        host = (urlsplit(w if "://" in w else "//" + w).hostname or "").removeprefix("www.")
        if host and host not in out:
            out.append(host)
    return out


def default_registry_paths() -> tuple[Path, Path]:
    """The bundled fictional demo registry: (``agencies.csv``, ``job_orders.csv``)."""
    return DATA_DIR / "agencies.csv", DATA_DIR / "job_orders.csv"


def load_default_registry() -> RegistrySnapshot:
    """``read_registry(*default_registry_paths())`` (unsaved snapshot; raises on a bad
    row, since the bundled files must be clean)."""
    errors: list[RegistryRowError] = []
    snap = read_registry(*default_registry_paths(), on_error=errors.append)
    if errors:
        raise RegistryFormatError(f"bundled registry has bad rows: {errors[0]}")
    return snap


# -- row validation ------------------------------------------------------------------------


class _RowError(Exception):
    pass


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(str(v).split())


def _licence(v: str, pattern: str | None) -> str:
    if pattern:
        s = re.sub(r"\s+", "", v).upper()
        if not re.fullmatch(pattern, s):
            raise _RowError(f"format nomor izin salah / bad licence number {v!r}")
        return s
    found = find_licence_numbers(v)
    if len(found) != 1 or not re.fullmatch(_LICENCE_DEFAULT, found[0][0]) or (
            v[found[0][1][1]:].strip() or v[: found[0][1][0]].strip()):
        raise _RowError(f"format nomor izin salah / bad licence number {v!r} "
                        "(expected KEP-NNN/P3MI/YYYY)")
    return found[0][0]


def _permit_number(v: str, pattern: str | None) -> str:
    if pattern:
        s = re.sub(r"\s+", "", v).upper()
        if not re.fullmatch(pattern, s):
            raise _RowError(f"format nomor SIP salah / bad permit number {v!r}")
        return s
    found = find_permit_numbers(v)
    if len(found) != 1 or (v[found[0][1][1]:].strip() or v[: found[0][1][0]].strip()):
        raise _RowError(f"format nomor SIP salah / bad permit number {v!r} "
                        "(expected SIP-YYYY/CC/NNNN)")
    return found[0][0]


def _date(v: Any, what: str, fmt: str | None) -> date | None:
    try:
        return parse_date(v, fmt)
    except ValueError:
        raise _RowError(f"{what}: tanggal tidak sah / bad date {_text(v)!r}") from None
    except (OverflowError, TypeError):
        raise _RowError(f"{what}: tanggal tidak sah / bad date {_text(v)!r}") from None


def _split(v: Any) -> list[str]:
    s = "" if v is None else str(v)
    if isinstance(v, float) and v.is_integer():
        s = str(int(v))
    return [p.strip() for p in _LIST_SPLIT.split(s) if p.strip()]


def _phones(v: Any, warn: Callable[[str], None]) -> list[str]:
    from patroli.verify.watchlist import WatchValueError, normalize_watch_value

    out: list[str] = []
    parts = _split(v)
    if len(parts) == 1 and "," in parts[0]:
        parts = [p.strip() for p in parts[0].split(",") if p.strip()]
    for p in parts:
        try:
            val = normalize_watch_value("phone", p)
        except WatchValueError:
            warn(f"nomor telepon tidak sah, diabaikan / phone {p!r} ignored: not a phone number")
            continue
        if val not in out:
            out.append(val)
    return out


def _websites(v: Any, warn: Callable[[str], None]) -> list[str]:
    from patroli.verify.watchlist import WatchValueError, normalize_watch_value

    out: list[str] = []
    for p in _split(v.replace(",", ";") if isinstance(v, str) else v):
        url = p if "://" in p else "https://" + p
        try:
            normalize_watch_value("domain", url)
        except WatchValueError:
            warn(f"situs tidak sah, diabaikan / website {p!r} ignored: not a URL")
            continue
        if url not in out:
            out.append(url)
    return out


def _emails(v: Any, warn: Callable[[str], None]) -> list[str]:
    from patroli.verify.watchlist import WatchValueError, normalize_watch_value

    out: list[str] = []
    for p in _split(v.replace(",", ";") if isinstance(v, str) else v):
        try:
            val = normalize_watch_value("email", p)
        except WatchValueError:
            warn(f"e-mail tidak sah, diabaikan / e-mail {p!r} ignored")
            continue
        if val not in out:
            out.append(val)
    return out


def _resolve_columns(table: Table, names: dict[str, tuple[str, ...]], mapping: ColumnMapping,
                     kind: str) -> dict[str, int | None]:
    cols: dict[str, int | None] = {}
    for key, candidates in names.items():
        given = mapping.header_for(kind, key)
        if given is not None:
            idx = table.column(given)
            if idx is None:
                raise RegistryFormatError(f"{table.name}: tidak ada kolom / no column "
                                          f"{given!r} (headers: {', '.join(table.header)})")
            cols[key] = idx
        else:
            cols[key] = table.column(*candidates)
    return cols


def _cell(cells: list[Any], idx: int | None) -> Any:
    if idx is None or idx >= len(cells):
        return None
    return cells[idx]


def _required_groups(names: dict[str, tuple[str, ...]], mapping: ColumnMapping, kind: str,
                     keys: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out = []
    for k in keys:
        given = mapping.header_for(kind, k)
        out.append((given,) if given else names[k])
    return tuple(out)


def _read_agencies(path: Path, mapping: ColumnMapping,
                   report: Callable[[RegistryRowError], None]) -> list[Agency]:
    table = read_table(path, sheet=mapping.sheet, required=_required_groups(
        AGENCY_COLUMNS, mapping, "agencies", ("agency_id", "name")))
    cols = _resolve_columns(table, AGENCY_COLUMNS, mapping, "agencies")
    if cols["agency_id"] is None or cols["name"] is None:
        raise RegistryFormatError(f"{table.name}: kolom agency_id dan name wajib ada / needs "
                                  "agency_id and name columns")
    if mapping.default_status not in AGENCY_STATUSES:
        raise ValueError(f"default_status must be one of {AGENCY_STATUSES}")
    agencies: list[Agency] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        warnings: list[str] = []
        try:
            def get(key: str, cells: list[Any] = cells) -> Any:
                return _cell(cells, cols[key])

            agency_id = _text(get("agency_id"))
            name = _text(get("name"))
            if not agency_id:
                raise _RowError("id agensi kosong / missing agency id")
            if not name:
                raise _RowError("nama kosong / missing name")
            if agency_id.upper() in seen:
                raise _RowError(f"id ganda / duplicate agency id {agency_id!r} "
                                f"(first in row {seen[agency_id.upper()]})")
            if cols["status"] is None:
                status = mapping.default_status
            else:
                raw_status = _text(get("status")).lower()
                status = STATUS_WORDS.get(raw_status, "")
                if not status:
                    raise _RowError(f"status tidak dikenal / unknown status {raw_status!r} "
                                    f"(expected {', '.join(AGENCY_STATUSES)})")
            licence_raw = _text(get("licence_number"))
            licence = _licence(licence_raw, mapping.licence_pattern) if licence_raw else None
            valid_until = _date(get("licence_valid_until"), "licence_valid_until",
                                mapping.date_format)
            status_since = _date(get("status_since"), "status_since", mapping.date_format)
            agency = Agency(
                agency_id=agency_id,
                name=name,
                licence_number=licence,
                licence_valid_until=valid_until,
                status=status,
                status_since=status_since,
                aliases=[a for a in (_text(x) for x in _split(get("aliases"))) if a],
                province=_text(get("province")) or None,
                city=_text(get("city")) or None,
                address=_text(get("address")) or None,
                phones=_phones(get("phone"), warnings.append),
                websites=_websites(get("website"), warnings.append),
                emails=_emails(get("email"), warnings.append),
            )
        except _RowError as exc:
            report(RegistryRowError(table.name, rownum, str(exc)))
            continue
        for w in warnings:
            report(RegistryRowError(table.name, rownum, w, skipped=False))
        seen[agency_id.upper()] = rownum
        agencies.append(agency)
    return agencies


def _read_permits(path: Path, mapping: ColumnMapping, agency_ids: dict[str, str],
                  report: Callable[[RegistryRowError], None]) -> list[Permit]:
    table = read_table(path, sheet=mapping.sheet, required=_required_groups(
        PERMIT_COLUMNS, mapping, "permits", ("permit_number", "agency_id")))
    cols = _resolve_columns(table, PERMIT_COLUMNS, mapping, "permits")
    for key in ("permit_number", "agency_id", "destination"):
        if cols[key] is None:
            raise RegistryFormatError(f"{table.name}: kolom {key} wajib ada / needs a {key} "
                                      "column")
    permits: list[Permit] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        try:
            def get(key: str, cells: list[Any] = cells) -> Any:
                return _cell(cells, cols[key])

            raw_number = _text(get("permit_number"))
            if not raw_number:
                raise _RowError("nomor SIP kosong / missing permit number")
            number = _permit_number(raw_number, mapping.permit_pattern)
            if number in seen:
                raise _RowError(f"nomor SIP ganda / duplicate permit number {number!r} "
                                f"(first in row {seen[number]})")
            raw_agency = _text(get("agency_id"))
            if not raw_agency:
                raise _RowError("id agensi kosong / missing agency id")
            agency_id = agency_ids.get(raw_agency.upper())
            if agency_id is None:
                raise _RowError(f"agensi tidak dikenal / unknown agency id {raw_agency!r}")
            dest_name = _text(get("destination"))
            if not dest_name:
                raise _RowError("negara tujuan kosong / missing destination country")
            dest = resolve_country(dest_name)
            if dest is None:
                raise _RowError(f"negara tujuan tidak dikenal / destination {dest_name!r} "
                                "is not a known country")
            if mapping.permit_pattern is None:
                cc = number.split("/")[1]
                if cc != dest:
                    raise _RowError(f"kode negara SIP {cc} tidak sesuai tujuan / permit "
                                    f"country {cc} does not match destination {dest_name} "
                                    f"({dest})")
            quota_raw = _text(get("quota"))
            quota: int | None = None
            if quota_raw:
                try:
                    quota = int(quota_raw.replace(".", "").replace(",", ""))
                except ValueError:
                    raise _RowError(f"kuota tidak sah / bad quota {quota_raw!r}") from None
                if quota < 0:
                    raise _RowError(f"kuota negatif / negative quota {quota_raw!r}")
            issued = _date(get("issued_on"), "issued_on", mapping.date_format)
            valid_until = _date(get("valid_until"), "valid_until", mapping.date_format)
            if issued and valid_until and valid_until < issued:
                raise _RowError(f"berlaku sampai sebelum terbit / valid_until {valid_until} "
                                f"before issued_on {issued}")
            permit = Permit(
                permit_number=number, agency_id=agency_id, destination=dest,
                destination_name=dest_name, employer=_text(get("employer")) or None,
                position=_text(get("position")) or None, quota=quota, issued_on=issued,
                valid_until=valid_until)
        except _RowError as exc:
            report(RegistryRowError(table.name, rownum, str(exc)))
            continue
        seen[number] = rownum
        permits.append(permit)
    return permits


def read_registry(
    agencies_path: str | Path,
    permits_path: str | Path | None = None,
    *,
    mapping: ColumnMapping | None = None,
    on_error: Callable[[RegistryRowError], None] | None = None,
) -> RegistrySnapshot:
    """Read an agency export (and optionally a permit / job-order export) into an
    unsaved ``RegistrySnapshot`` (``snapshot_id`` and ``imported_at`` None; ``sources``
    the file names).

    Bad rows (missing id or name, duplicate id or permit number, bad date, unknown
    status, bad licence or permit format, destination not resolvable to ISO alpha-2,
    permit of an unknown agency, valid_until before issued_on) are skipped and passed to
    ``on_error`` as ``RegistryRowError``; cells that are only decoration (a phone, website
    or e-mail that does not parse) are dropped and reported with ``skipped=False``.
    Without ``on_error`` they are logged as warnings.
    Raises ``RegistryFormatError`` when a file is unreadable or lacks required columns
    (agencies: id and name; permits: number, agency id, destination).
    """
    mapping = mapping or ColumnMapping()

    def report(err: RegistryRowError) -> None:
        if on_error is not None:
            on_error(err)
        else:
            log.warning("%s", err)

    apath = Path(agencies_path)
    agencies = _read_agencies(apath, mapping, report)
    sources = [str(apath)]
    permits: list[Permit] = []
    if permits_path is not None:
        ppath = Path(permits_path)
        ids = {a.agency_id.upper(): a.agency_id for a in agencies}
        permits = _read_permits(ppath, mapping, ids, report)
        sources.append(str(ppath))
    return RegistrySnapshot(agencies=agencies, permits=permits, sources=sources)


def mapping_fields() -> list[str]:
    """Names of the ``ColumnMapping`` header options (for CLIs and forms)."""
    return [f.name for f in fields(ColumnMapping) if not f.name.startswith("_")
            and f.name not in ("date_format", "licence_pattern", "permit_pattern", "sheet",
                               "default_status")]

"""URLs, e-mail addresses and Telegram handles, with de-obfuscation (pure; no I/O at call time).

Handles defanged and obfuscated links (``hxxps``, ``bit(.)ly``, ``[.]``, ``(dot)``,
``[dot]``, `` titik ``, spaced ``t . me / x``, ``garing`` for "/"), a word glued before
the scheme ("Daftar:https://..."), trailing punctuation and emoji. Bare domains (no
scheme, no "www.") are accepted only with a TLD from ``data/lexicons/tlds.txt``; written
in capitals only when they look like links, not abbreviations ("T.ME/AGEN4" and
"LOKERJEPANG.COM" yes, "PT.ASIA" no: ``_caps_link``). Shorteners come from ``data/lexicons/shorteners.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from patroli.analysis.spans import SpanIndex

__all__ = [
    "LEXICONS",
    "EmailMatch",
    "HandleMatch",
    "UrlMatch",
    "find_emails",
    "find_telegram_handles",
    "find_urls",
    "shorteners",
    "tlds",
]

#: Bundled lexicon folder (read once, lazily).
LEXICONS = Path(__file__).resolve().parent.parent / "data" / "lexicons"


@dataclass(slots=True)
class UrlMatch:
    """url: normalised URL ("https://bit.ly/x"); host: lower-case host without "www.";
    span: original-text span; data: {"shortener": True} / {"obfuscated": True}.
    telegram: "@handle" for t.me/<handle> links; whatsapp: digits of wa.me links."""

    url: str
    host: str
    span: tuple[int, int]
    data: dict[str, Any] = field(default_factory=dict)
    telegram: str | None = None
    whatsapp: str | None = None


@dataclass(slots=True, frozen=True)
class EmailMatch:
    """email: lower-case address; span: original-text span; obfuscated: (at)/(dot) folded."""

    email: str
    span: tuple[int, int]
    obfuscated: bool


@dataclass(slots=True, frozen=True)
class HandleMatch:
    """handle: "@name" lower-cased; span: original-text span."""

    handle: str
    span: tuple[int, int]


def _read_list(name: str) -> frozenset[str]:
    text = (LEXICONS / name).read_text(encoding="utf-8")
    return frozenset(x.strip().lower() for x in text.splitlines()
                     if x.strip() and not x.lstrip().startswith("#"))


@lru_cache(maxsize=1)
def tlds() -> frozenset[str]:
    """Top-level domains accepted for bare domains (lower-case, no dot)."""
    return _read_list("tlds.txt")


@lru_cache(maxsize=1)
def shorteners() -> frozenset[str]:
    """Link-shortener hosts (lower-case)."""
    return _read_list("shorteners.txt")


_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_DOT = (r"(?:\s?[\[\(\{]\s?(?:\.|dot|titik)\s?[\]\)\}]\s?|\s(?:dot|titik)\s|\s\.\s|\.)")
_SLASH = r"(?:/|\s/\s|\sgaring\s)"
_SCHEME = r"(?:(?:https?|hxxps?|hxxp|h\[?tt\]?ps?)\s?(?:\[:\]|:)\s?//)"
_PATH_CHARS = r"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#\[\]]"
_URL_RE = re.compile(
    rf"(?:(?P<scheme>{_SCHEME})|(?<![A-Za-z0-9\-_]))(?P<www>www{_DOT})?(?P<host>{_LABEL}(?:{_DOT}{_LABEL})+)"
    rf"(?::\d{{2,5}})?(?P<path>{_SLASH}{_PATH_CHARS}*)?",
    re.IGNORECASE,
)
_DOT_FOLD_RE = re.compile(_DOT, re.IGNORECASE)
# Candidate starts for ``_URL_RE`` (it opens with a look-behind, so ``re`` would try it
# at every character). A match without a scheme starts a run of at most 63 label
# characters (its first label, or "www") that a DOT and a label character follow; a
# match with a scheme starts at an "h" followed by "t", "x" or "[". The runs are found
# back from their DOT, which holds a rare character ("." "[" "(" "{", alone or after
# one space) or is a word "dot" / "titik" between spaces. ``_LABEL_CHARS`` are the
# characters that ``[a-z0-9\-]`` matches under IGNORECASE (ASCII letters, digits, "-"
# and the four non-ASCII letters that fold to ASCII ones: U+0130, U+0131, U+017F,
# U+212A).
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
                         "\u0130\u0131\u017f\u212a")
_DOT_LABEL_RE = re.compile(rf"{_DOT}[a-z0-9]", re.IGNORECASE)
#: The characters that ``[a-z0-9]`` matches under IGNORECASE.
_LABEL_ALNUM = _LABEL_CHARS - {"-"}
_DOT_WORD_RE = re.compile(r"\s(?:dot|titik)(?=\s)", re.IGNORECASE)
_SCHEME_START_RE = re.compile(r"[hH](?=[tTxX\[])")


def _dot_starts(text: str, lowered: str) -> list[int]:
    """Offsets where a DOT may begin (a superset); ``lowered`` is ``text.lower()``."""
    out: list[int] = []
    for ch in ".[({":
        i = text.find(ch)
        while i >= 0:
            out.append(i - 1 if i and text[i - 1].isspace() else i)
            i = text.find(ch, i + 1)
    # ``lowered`` holds one of these when the text has "dot" or "titik" in any case (an
    # "i" may be U+0130 or U+0131 there: they lower to "i\u0307" and "\u0131").
    if "dot" in lowered or "tik" in lowered or "ti\u0307k" in lowered or "t\u0131k" in lowered:
        out.extend(m.start() for m in _DOT_WORD_RE.finditer(text))
    return out


def _url_candidates(text: str, lowered: str | None = None) -> list[int]:
    """Ascending offsets where ``_URL_RE`` may match (a superset of its match starts).

    lowered: ``text.lower()`` when the caller has it.
    """
    starts: set[int] = set()
    label_chars = _LABEL_CHARS
    for d in _dot_starts(text, text.lower() if lowered is None else lowered):
        if not d or text[d - 1] not in label_chars:
            continue
        # A DOT that starts with "." is that "." alone (the other forms start with a
        # space, a bracket or a word): a label character must follow it. That test is
        # much cheaper than a regex call, and most dots end sentences.
        if text[d] == ".":
            if text[d + 1:d + 2] not in _LABEL_ALNUM:
                continue
        elif not _DOT_LABEL_RE.match(text, d):
            continue
        i = d - 1  # last character of the label run
        lo = max(0, d - 63)
        while i > lo and text[i - 1] in label_chars:
            i -= 1
        if i == lo and lo > 0 and text[lo - 1] in label_chars:
            continue  # a run longer than one label cannot start a host here
        starts.add(i)
    # (a scheme ends with "//")
    if "//" in text:
        starts.update(m.start() for m in _SCHEME_START_RE.finditer(text))
    return sorted(starts)


def _url_matches(text: str, lowered: str | None = None) -> list[re.Match[str]]:
    """The matches of ``_URL_RE.finditer(text)`` (same list), found by trying the
    pattern only at ``_url_candidates`` (leftmost first, non-overlapping)."""
    out: list[re.Match[str]] = []
    end = 0
    match = _URL_RE.match
    for pos in _url_candidates(text, lowered):
        if pos < end:
            continue
        m = match(text, pos)
        if m is not None:
            out.append(m)
            end = m.end()
    return out
_TRAIL = ".,;:!?'\"]}>*"
_TG_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
_WA_HOSTS = frozenset({"wa.me", "api.whatsapp.com", "whatsapp.com", "web.whatsapp.com",
                       "chat.whatsapp.com", "wa.link"})
_TG_PATH_RE = re.compile(r"/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})(?:[/?#]|$)")
_WA_PHONE_RE = re.compile(r"(?:^/|[?&]phone=)\+?(\d{8,15})")


#: First labels of all-capitals "hosts" that are abbreviations ("PT.ASIA", "CV.MAJU.COM",
#: "JL.MERDEKA.NO"), never links.
_ABBREVIATIONS = frozenset({"pt", "cv", "ud", "lpk", "tbk", "jl", "jln", "no", "kp", "rt",
                            "rw", "kel", "kec", "kab", "prov", "dr", "ir", "h", "hj", "st"})
#: Top-level domains that an all-capitals bare host may end with ("LOKERJEPANG.COM").
_CAPS_TLDS = frozenset({"com", "net", "org", "id", "info", "biz", "online", "site", "xyz",
                        "top", "my", "sg", "hk", "tw"})


def _caps_link(host: str, labels: list[str], path: str) -> bool:
    """True when a bare host written in capitals is still a link: a chat, shortener or
    WhatsApp host ("T.ME/AGEN4", "BIT.LY/X"), a host with a path ("LOKER.COM/DAFTAR"),
    or a common web TLD after a first label that is not an abbreviation ("LOKERJEPANG.COM"
    yes; "PT.ASIA", "CV.MAJU.COM" no). All-capital posts are common on social media."""
    if host in _TG_HOSTS or host in _WA_HOSTS or host in shorteners():
        return True
    if labels[0] in _ABBREVIATIONS:
        return False
    return bool(path) or (labels[-1] in _CAPS_TLDS and len(labels[0]) >= 4)


def _trim_trailing(path: str) -> str:
    """Cut trailing punctuation and unbalanced closing brackets."""
    while path:
        if path[-1] in _TRAIL or path[-1] == ")" and path.count("(") < path.count(")"):
            path = path[:-1]
        else:
            break
    return path


def _clean_path(path: str) -> str:
    path = _trim_trailing(path)
    path = re.sub(r"^\s?(?:garing\s|/\s?)", "/", path, flags=re.IGNORECASE)
    return "" if path == "/" else path


def find_urls(text: str, skip: list[tuple[int, int]] | None = None,
              lowered: str | None = None) -> list[UrlMatch]:
    """URLs in ``text`` (original text), in text order.

    skip: spans to ignore (e.g. e-mail addresses found first). lowered: ``text.lower()``
    when the caller has it.
    Returns ``UrlMatch`` with the normalised URL (https:// added when missing, hxxp folded,
    no leading "www.", host lower-cased, trailing punctuation/emoji removed).
    """
    out: list[UrlMatch] = []
    tld_set = tlds()
    skipped = SpanIndex(skip) if skip else None
    for m in _url_matches(text, lowered):
        s, e = m.span()
        if skipped is not None and skipped.overlaps(s, e):
            continue
        if s > 0 and text[s - 1] in "@":
            continue
        scheme, www = m.group("scheme"), m.group("www")
        host_raw = m.group("host")
        if not scheme and s > 0 and (text[s - 1].isalnum() or text[s - 1] in "_-"):
            continue
        host = _DOT_FOLD_RE.sub(".", host_raw).lower()
        obf = host_raw.lower() != host or bool(scheme and "xx" in scheme.lower())
        labels = host.split(".")
        tld = labels[-1]
        path = _clean_path(m.group("path") or "")
        if not scheme and not www:
            if tld not in tld_set:
                continue
            letters = [c for c in host_raw if c.isalpha()]
            if letters and all(c.isupper() for c in letters) and not _caps_link(
                    host, labels, path):
                continue  # "PT.ASIA", "CV.MAJU.COM"-style abbreviations
            if any(c.isupper() for c in labels[-1] if c.isalpha()) and \
                    any(c.isupper() for c in host_raw.split(".")[-1]) and not path:
                continue  # "Jakarta.Info": sentence glued to a capitalised word
            if all(lbl.isdigit() for lbl in labels[:-1]):
                continue
            if e < len(text) and text[e:e + 1] == "@":
                continue
        elif tld.isdigit():
            continue
        if len(labels) < 2 or not any(c.isalpha() for c in tld):
            continue
        if scheme:
            sch = scheme.lower().replace("xx", "tt").replace("[", "").replace("]", "")
            sch = "https" if sch.startswith("https") else "http"
        else:
            sch = "https"
        url = f"{sch}://{host}{path}"
        raw_path = m.group("path") or ""
        end = e - len(raw_path) + len(_trim_trailing(raw_path))
        data: dict[str, Any] = {}
        if host in shorteners():
            if not path and not scheme and not www:
                continue  # a shortener named in passing ("bit.ly, s.id"), not a link
            data["shortener"] = True
        if obf:
            data["obfuscated"] = True
        um = UrlMatch(url, host, (s, end), data)
        if host in _TG_HOSTS:
            tm = _TG_PATH_RE.match(path)
            if tm and tm.group(1).lower() not in ("joinchat", "addstickers", "share", "proxy"):
                um.telegram = "@" + tm.group(1).lower()
        if host in _WA_HOSTS:
            wm = _WA_PHONE_RE.search(path)
            if wm:
                um.whatsapp = wm.group(1)
        out.append(um)
    return out


_AT = r"(?:@|\s?[\[\(\{]\s?(?:at|@)\s?[\]\)\}]\s?|\s(?:at|et)\s)"
# An obfuscated "@" (two patterns that ``re`` finds with its fast first-character scan).
# The second, " at " / " et " in any case, is searched in the lower-cased text: the only
# characters that lower to "a", "e", "t" or whitespace are "aAeEtT" and whitespace
# themselves (one character each), so the lower-cased text has "\s[ae]t\s" exactly
# when the text has "\s[aAeE][tT]\s"; written from its "t", the pattern starts with a
# literal.
_AT_HINT_RES = (re.compile(r"[\[\(\{]\s?(?:at|@)\s?[\]\)\}]", re.IGNORECASE),
                re.compile(r"t(?<=\s[ae]t)\s"))


def _has_obfuscated_at(text: str, lowered: str | None = None) -> bool:
    """Whether ``text`` has an "@" written as "(at)", "[@]", " at " or " et " (any case).

    lowered: ``text.lower()`` when the caller has it.
    """
    bracket_at, spaced_at = _AT_HINT_RES
    if ("(" in text or "[" in text or "{" in text) and bracket_at.search(text):
        return True
    return spaced_at.search(text.lower() if lowered is None else lowered) is not None
_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+\-]*)(?P<at>{_AT})"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})+)",
    re.IGNORECASE,
)


def find_emails(text: str, lowered: str | None = None) -> list[EmailMatch]:
    """E-mail addresses (lower-cased), with ``(at)``, ``[at]``, `` at ``, ``(dot)`` folded.

    Obfuscated forms written with spaces (" at ", " dot ") need a TLD from the bundled list.
    lowered: ``text.lower()`` when the caller has it.
    """
    out: list[EmailMatch] = []
    if "@" not in text and not _has_obfuscated_at(text, lowered):
        return out
    tld_set = tlds()
    for m in _EMAIL_RE.finditer(text):
        at = m.group("at")
        domain_raw = m.group("domain")
        domain = _DOT_FOLD_RE.sub(".", domain_raw).lower()
        tld = domain.rsplit(".", 1)[-1]
        obf = at != "@" or domain != domain_raw.lower()
        if obf and tld not in tld_set:
            continue
        if at.strip() in ("at", "et") and (
                domain == domain_raw.lower() and not re.search(r"[._\d]", m.group("local"))):
            continue  # "apply at site.example": a preposition, not an obfuscated "@"
        if text[m.end():m.end() + 1] == "/":
            continue
        if not any(c.isalpha() for c in tld):
            continue
        local = m.group("local").rstrip(".")
        out.append(EmailMatch(f"{local.lower()}@{domain}", (m.start(), m.end()), obf))
    return out


# (the look-behind follows the "@" so that ``re`` skips ahead to "@" characters)
_HANDLE_RE = re.compile(r"@(?<![A-Za-z0-9_.@/]@)([A-Za-z][A-Za-z0-9_]{2,31})(?![A-Za-z0-9_@])")
_TG_CONTEXT_RE = re.compile(r"(?<![a-z])(?:telegram|tele|tg|telegr|channel|kanal|grup|group"
                            r"|join)(?![a-z])")
_OTHER_PLATFORM_RE = re.compile(
    r"(?<![a-z])(?:ig|insta|instagram|twitter|x|tiktok|tt|fb|facebook|threads|youtube|yt"
    r"|follow|kami|we are|we're|by|cc|via ig|line)(?![a-z])")
_CONTACT_CUE_RE = re.compile(
    r"(?<![a-z])(?:hub|hubungi|admin|pm|chat|kontak|contact|daftar|join|grup|group|channel"
    r"|kanal|to|ke|recruiter|hr|cs|info|cp|dm)(?![a-z])[\s:.\-]*$")


def find_telegram_handles(text: str, lowered: str | None = None) -> list[HandleMatch]:
    """Bare ``@handle`` mentions that the text ties to Telegram.

    Rule: a handle is Telegram when a Telegram word (telegram/tele/tg/channel/grup/join)
    is in the same line before it, or when it is offered as a contact ("hub @x",
    "admin: @x", "send ... to @x", "PM @x") and no other platform (IG, X, TikTok, FB,
    "follow", "kami @x") is named right before it. Handles inside e-mail addresses and
    URLs are ignored (t.me links are handled by ``find_urls``).
    """
    low = lowered if lowered is not None else text.lower()
    out: list[HandleMatch] = []
    for m in _HANDLE_RE.finditer(text):
        s = m.start()
        line_start = low.rfind("\n", 0, s) + 1
        before = low[max(line_start, s - 60):s]
        near = low[max(line_start, s - 24):s]
        other = None
        for om in _OTHER_PLATFORM_RE.finditer(near):
            other = om
        tg = None
        for tm in _TG_CONTEXT_RE.finditer(before):
            tg = tm
        if other is not None and (tg is None or tg.start() < other.start() + (len(before)
                                                                            - len(near))):
            continue
        if tg is not None or _CONTACT_CUE_RE.search(near):
            out.append(HandleMatch("@" + m.group(1).lower(), (s, m.end())))
    return out

"""The Verifier: registry, permit, contact and watchlist checks for one analysed post.

``Verifier(snapshot, watch, today=...)`` builds its lookup tables once (agency index,
permits by number, watch/allow entries); ``verify(post, norm, entities)`` is pure (no
I/O) and returns ``(findings, verification)``:

* findings: at most one ``unlicensed_agency_claim`` (every registry problem found, the
  specific reasons first in Bahasa Indonesia then English, evidence spans on the agency
  name / licence / permit in the post) and at most one ``watchlist_hit``;
* verification (stored as ``Assessment.verification``), a JSON-ready dict:

  - ``status``: verified / lookalike / suspended / revoked / licence_expired /
    permit_invalid / not_found / no_agency (``STATUSES``, most severe first);
  - ``registry_version``, ``checked_on`` (the post's date in WIB, else today);
  - ``agency``: the registered agency the post claims (name, id, status, status_since,
    licence number, licence_valid_until, licence_valid) or None; ``lookalike_of``;
  - ``mentions``: every company name checked (as written, span, match kind, registry
    name); ``licences``: cited licence numbers and their owners;
  - ``permits``: per cited permit: exists, belongs_to_agency, destination (+ matches),
    position (+ plausible), valid_until, valid_on_date, ok;
  - ``contacts``: phones / hosts / e-mails of registered agencies found in the post
    (``same_agency`` True = evidence for the claimed agency, False = red flag);
  - ``watchlist``: hits (kind, value, reason, source, span); ``allowlisted``: values that
    never count as red-flag evidence (kind, value, span, why);
  - ``reasons``: problem codes (``REASONS``); ``unknown``: numbers reported without a
    finding: licence / permit numbers when the registry knows nothing else of the claim
    (status ``not_found``: an incomplete registry cannot tell a fabricated number from a
    missing import), and permit numbers missing for a registered agency (exports lag
    behind newly issued permits; the number's country code is still checked against the
    ad's destination, and an unknown permit beside a lookalike name is flagged);
    ``permits_ok``: at least one permit cited
    and every one checks out; ``clears``: rule findings the registry disproves (a usable
    permit for formal-sector work in a moratorium country clears
    ``moratorium_destination``);
  - ``summary_id`` / ``summary_en``: one plain-language line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from patroli.analysis.normalize import Normalized
from patroli.types import Entity, Finding, Post
from patroli.verify.matching import AgencyIndex, host_of, normalize_number
from patroli.verify.model import Agency, Permit, RegistrySnapshot, WatchEntry

__all__ = ["REASONS", "STATUSES", "Verifier", "build_verifier"]

_DATA = Path(__file__).resolve().parent.parent / "data"
_WIB = ZoneInfo("Asia/Jakarta")

#: Verification statuses, most severe first (the post's status is its worst finding).
STATUSES: tuple[str, ...] = ("revoked", "suspended", "lookalike", "licence_expired",
                             "permit_invalid", "verified", "not_found", "no_agency")

#: Problem code -> (weight 0..100 of the resulting finding, status it implies,
#: explanation template in Bahasa Indonesia, in English). Fields: {name} {registered}
#: {since} {until} {number} {owner} {dest} {countries}.
REASONS: dict[str, tuple[float, str, str, str]] = {
    "revoked": (65, "revoked",
                "Izin {registered} telah dicabut{since}",
                "The licence of {registered} has been revoked{since}"),
    "suspended": (60, "suspended",
                  "Izin {registered} dibekukan{since}",
                  "The licence of {registered} is suspended{since}"),
    "lookalike": (60, "lookalike",
                  "Mirip nama P3MI terdaftar {registered} (bukan perusahaan yang sama): "
                  "\"{name}\"",
                  "Looks like the registered P3MI {registered} but is not the same company: "
                  "\"{name}\""),
    "licence_expired": (50, "licence_expired",
                        "Izin usaha {registered} kedaluwarsa pada {until}",
                        "The licence of {registered} expired on {until}"),
    "licence_unknown": (45, "permit_invalid",
                        "Nomor izin {number} tidak ada di registri",
                        "Licence number {number} is not in the registry"),
    "licence_other": (50, "permit_invalid",
                      "Nomor izin {number} milik perusahaan lain ({owner})",
                      "Licence number {number} belongs to another company ({owner})"),
    "permit_unknown": (45, "permit_invalid",
                       "{number} tidak ada di registri",
                       "{number} is not in the registry"),
    "permit_other_agency": (50, "permit_invalid",
                            "{number} milik perusahaan lain ({owner})",
                            "{number} belongs to another company ({owner})"),
    "permit_other_country": (45, "permit_invalid",
                             "{number} berlaku untuk {dest}, bukan {countries}",
                             "{number} is for {dest}, not {countries}"),
    "permit_expired": (45, "permit_invalid",
                       "{number} kedaluwarsa pada {until}",
                       "{number} expired on {until}"),
    "permit_not_yet_valid": (40, "permit_invalid",
                             "{number} belum berlaku",
                             "{number} is not valid yet"),
    "contact_other_agency": (45, "permit_invalid",
                             "Kontak {number} milik perusahaan lain ({owner})",
                             "Contact {number} belongs to another company ({owner})"),
}
_PERMIT_CC = re.compile(r"^SIP[-:]?\d{4}/([A-Z]{2})/")
_CHECK_ID = "Cek nama dan nomor izin di data resmi KP2MI."
_CHECK_EN = "Check the name and licence in KP2MI's official data."
_P3MI_PREFIXES = ("PT ", "Perseroan Terbatas ", "CV ")
_CONTACT_KINDS = ("phone", "url", "domain", "email")
_WATCH_ONLY_KINDS = ("telegram", "bank_account")  # watchlist kinds that are not contacts


@lru_cache(maxsize=1)
def _official_contacts() -> dict[str, Any]:
    data = yaml.safe_load((_DATA / "policy" / "official_contacts.yaml").read_text("utf-8"))
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=1)
def _positions() -> tuple[re.Pattern[str], dict[str, frozenset[str]], frozenset[str]]:
    """(one regex over every position word, word -> its groups, domestic group names)."""
    data = yaml.safe_load((_DATA / "lexicons" / "positions.yaml").read_text("utf-8")) or {}
    word_groups: dict[str, set[str]] = {}
    for name, words in (data.get("groups") or {}).items():
        for w in words or ():
            word_groups.setdefault(str(w).lower(), set()).add(name)
    rx = re.compile(r"(?<!\w)(?:" + "|".join(
        re.escape(w) for w in sorted(word_groups, key=len, reverse=True)) + r")(?!\w)")
    return (rx, {w: frozenset(g) for w, g in word_groups.items()},
            frozenset(data.get("domestic") or ()))


def _position_groups(text: str) -> set[str]:
    """Position groups whose words occur in ``text`` (lower-case), one regex pass."""
    rx, groups, _ = _positions()
    out: set[str] = set()
    for m in rx.finditer(text):
        out |= groups.get(m.group(0), frozenset())
    return out


_position_groups_cached = lru_cache(maxsize=4096)(_position_groups)


_STOP = frozenset({"worker", "workers", "crew", "staff", "helper", "with", "and", "the",
                   "based", "pathway", "recognition"})


@lru_cache(maxsize=4096)
def _position_words_rx(position: str) -> re.Pattern[str] | None:
    """One regex finding any distinctive word (4+ letters, not in ``_STOP``) of a
    lower-case permit position at a word start; None when it has no such word."""
    words = sorted({w for w in re.findall(r"[a-z]{4,}", position) if w not in _STOP})
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")")


def _fmt(code: str, lang: int, **kw: str) -> str:
    tmpl = REASONS[code][2 if lang == 0 else 3]
    return tmpl.format(**{k: kw.get(k, "") for k in
                          ("name", "registered", "since", "until", "number", "owner", "dest",
                           "countries")})


class Verifier:
    """Checks posts against one registry snapshot and the watch/allow lists.

    snapshot: the registry (``RegistrySnapshot``); watch: ``WatchEntry`` s of both lists
    (``list_name`` "watch" or "allow"); today: the day to judge validity on when a post
    has no ``posted_at`` (default: the current date, read at each ``verify`` call);
    rules: the rule set whose ``watchlist_hit`` / ``unlicensed_agency_claim`` titles and
    ``watchlist_hit`` weight are used, and whose destination policy gives the moratorium
    countries (default: the bundled rules).
    ``version``: ``"<snapshot version>+watch-<n watch>-allow-<n allow>"``.
    """

    def __init__(self, snapshot: RegistrySnapshot, watch: Sequence[WatchEntry] = (), *,
                 today: date | None = None, rules: Any = None) -> None:
        from patroli.analysis.rules import default_ruleset

        self.snapshot = snapshot
        self.today = today
        self.rules = rules or default_ruleset()
        self.index = AgencyIndex(snapshot.agencies)
        self.permits: dict[str, Permit] = {
            normalize_number(p.permit_number): p for p in snapshot.permits}
        self.watch: dict[tuple[str, str], WatchEntry] = {}
        self.allow: dict[tuple[str, str], WatchEntry] = {}
        for w in watch:
            key = (w.kind, self._norm_watch(w.kind, w.value))
            (self.allow if w.list_name == "allow" else self.watch).setdefault(key, w)
        oc = _official_contacts()
        self.allow_suffixes = tuple(str(s).lower().lstrip(".") for s in
                                    oc.get("domain_suffixes") or ())
        self._allow_suffix_set = frozenset(self.allow_suffixes)
        self._allow_dot_suffixes = tuple("." + s for s in self.allow_suffixes)
        self.allow_hosts = {host_of(str(d)) for d in oc.get("domains") or ()}
        self.allow_phones = {str(p) for p in oc.get("phones") or ()}
        self.moratorium = {str(e.get("iso")).upper() for e in
                           (self.rules.policy.get("moratorium") or [])
                           if isinstance(e, dict) and e.get("iso")}
        by_id = {r.id: r for r in self.rules.rules}
        self._uac = by_id.get("unlicensed_agency_claim")
        self._wl = by_id.get("watchlist_hit")
        self.version = (f"{snapshot.version}+watch-{sum(1 for _ in self.watch)}"
                        f"-allow-{len(self.allow)}")
        self._no_agency_summary = self._summary("no_agency", None, None, [], [], False)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _norm_watch(kind: str, value: str) -> str:
        v = value.strip()
        if kind in ("domain",):
            return host_of(v)
        if kind in ("telegram", "email", "account"):
            v = v.lower()
            if kind == "telegram" and not v.startswith("@"):
                v = "@" + v
            return v
        if kind == "url":
            return v.rstrip("/").removeprefix("https://").removeprefix("http://") \
                .removeprefix("www.").lower()
        if kind == "bank_account":
            bank, _, digits = v.rpartition(":")
            return (bank.lower() + ":" if bank else "") + re.sub(r"\D", "", digits)
        return v

    def _day(self, post: Post) -> date:
        if post.posted_at is not None:
            pa = post.posted_at
            return (pa.astimezone(_WIB) if pa.tzinfo else pa).date()
        return self.today or date.today()

    def _allowed(self, kind: str, value: str, host: str | None = None) -> str | None:
        """Why ``value`` is allowlisted, or None. host: ``host_of(value)`` when the caller
        has it already (not used for phones)."""
        if self.allow:
            w = self.allow.get((kind, self._norm_watch(kind, value)))
            if w is not None:
                return "allowlist: " + w.reason
        if kind == "phone":
            if value in self.allow_phones:
                return "official hotline"
            if value in self.index.by_phone:
                return "registered agency contact"
            return None
        if host is None:
            host = host_of(value)
        if not host:
            return None
        if kind in ("url", "domain", "email") and (
                ("domain", host) in self.allow or host in self.allow_hosts):
            return "allowlist domain"
        if host in self._allow_suffix_set or host.endswith(self._allow_dot_suffixes):
            return "official government domain"
        if kind == "email" and value.lower() in self.index.by_email:
            return "registered agency contact"
        if self.index.host_owner(host) is not None:
            return "registered agency contact"
        return None

    def _watch_hits(self, post: Post, entities: list[Entity]) -> list[dict[str, Any]]:
        if not self.watch:
            return []
        hits: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()

        def add(key: tuple[str, str], value: str, span: Any) -> None:
            w = self.watch.get(key)
            if w is not None and key not in seen:
                seen.add(key)
                hits.append({"kind": w.kind, "value": value, "reason": w.reason,
                             "source": w.source, "span": list(span) if span else None})

        for e in entities:
            if e.kind in ("phone", "telegram", "email", "bank_account"):
                add((e.kind, self._norm_watch(e.kind, e.value)), e.value, e.span)
            if e.kind == "url":
                add(("url", self._norm_watch("url", e.value)), e.value, e.span)
            if e.kind in ("url", "domain", "email"):
                h = host_of(e.value)
                while h and "." in h:
                    add(("domain", h), e.value, e.span)
                    h = h.split(".", 1)[1]
        if post.author and post.platform:
            add(("account", f"{post.platform}:{post.author}".lower()), post.author, None)
        return hits

    def _position_plausible(self, position: str | None, text: str,
                            text_groups: Callable[[], set[str]]) -> bool | None:
        if not position:
            return None
        p = position.lower()
        if _position_groups_cached(p) & text_groups():
            return True
        rx = _position_words_rx(p)
        return rx is not None and rx.search(text) is not None

    # ------------------------------------------------------------------ verify
    def verify(self, post: Post, norm: Normalized, entities: Iterable[Entity]
               ) -> tuple[list[Finding], dict[str, Any]]:
        """Check one post (see the module docstring for the returned dict).

        post: for ``posted_at`` (validity date) and ``author``/``platform`` (account
        watchlist); norm: ``normalize(post.text)``; entities: ``extract_entities``.
        Pure: reads only the tables built in ``__init__``. Never raises for well-typed input.
        """
        ents = list(entities)
        day = self._day(post)
        # one pass: the entities each check needs (most posts have none of them)
        names: list[Entity] = []
        lic_ents: list[Entity] = []
        permit_ents: list[Entity] = []
        contact_ents: list[Entity] = []
        places: list[Entity] = []
        watch_only = False
        for e in ents:
            kind = e.kind
            if kind == "agency_name":
                if e.value.startswith(_P3MI_PREFIXES):
                    names.append(e)
            elif kind == "licence_number":
                lic_ents.append(e)
            elif kind == "permit_number":
                permit_ents.append(e)
            elif kind in _CONTACT_KINDS:
                contact_ents.append(e)
            elif kind == "country" or kind == "city":
                places.append(e)
            elif kind in _WATCH_ONLY_KINDS:
                watch_only = True
        if not (names or lic_ents or permit_ents or contact_ents) and not (
                self.watch and (watch_only or (post.author and post.platform))):
            return [], self._nothing_to_check(day)
        problems: list[tuple[str, dict[str, str], list[tuple[int, int]]]] = []
        mentions: list[dict[str, Any]] = []
        claimed: list[Agency] = []
        claimed_spans: dict[str, list[tuple[int, int]]] = {}
        lookalike_of: dict[str, Any] | None = None
        seen_names: set[str] = set()
        for e in names:
            m = self.index.match_name(e.value)
            mentions.append({"name": e.value, "span": list(e.span), "match": m.kind,
                             "registered": m.agency.name if m.agency else None,
                             "agency_id": m.agency.agency_id if m.agency else None,
                             "score": round(m.score, 1)})
            if m.agency is None:
                continue
            if m.kind == "exact":
                if m.agency.agency_id not in claimed_spans:
                    claimed.append(m.agency)
                    claimed_spans[m.agency.agency_id] = []
                claimed_spans[m.agency.agency_id].append(e.span)
            elif m.normalized not in seen_names:
                seen_names.add(m.normalized)
                if lookalike_of is None:
                    lookalike_of = {"name": m.agency.name, "agency_id": m.agency.agency_id,
                                    "written": e.value, "score": round(m.score, 1)}
                problems.append(("lookalike", {"name": e.value, "registered": m.agency.name},
                                 [e.span]))
        named_any = bool(mentions)
        licences: list[dict[str, Any]] = []
        lic_owners: list[tuple[Entity, Agency | None]] = []
        for e in lic_ents:
            owner = self.index.licence_owner(e.value)
            lic_owners.append((e, owner))
            licences.append({"number": e.value, "span": list(e.span),
                             "owner": owner.name if owner else None,
                             "owner_id": owner.agency_id if owner else None})
        # cited permits: (entity, normalised number, registry record or None)
        cited: list[tuple[Entity, str, Permit | None]] = []
        for e in permit_ents:
            number = normalize_number(e.value)
            cited.append((e, number, self.permits.get(number)))
        holders = [self.index.by_id.get(p.agency_id) if p else None for _, _, p in cited]
        holder_ids = {h.agency_id for h in holders if h is not None}
        if not claimed and lookalike_of is None:
            # No registered name. Without any name, the agency a cited licence, else a
            # permit, belongs to is the one claimed. With unregistered names only, a
            # licence identifies the agency when a cited permit agrees with it (the
            # registry then describes the claim and the name is the contradiction);
            # otherwise the registry knows nothing of this company (status not_found).
            for _, owner in lic_owners:
                if owner is not None and owner.agency_id not in claimed_spans and (
                        not named_any or owner.agency_id in holder_ids):
                    claimed.append(owner)
                    claimed_spans[owner.agency_id] = []
            if not claimed and not named_any:
                for holder in holders:
                    if holder is not None and holder.agency_id not in claimed_spans:
                        claimed.append(holder)
                        claimed_spans[holder.agency_id] = []
        described = bool(claimed) or lookalike_of is not None
        claimed_ids = {a.agency_id for a in claimed}
        # Numbers the registry does not know: a red flag when the registry knows the
        # agency claimed or imitated (the number is then wrong); when it knows nothing of
        # the claim (name, licence, permits), the post is "not_found" without a finding:
        # an incomplete registry cannot tell a fabricated number from a missing import.
        unknown: list[tuple[str, dict[str, str], list[tuple[int, int]]]] = []
        for e, owner in lic_owners:
            if owner is None:
                unknown.append(("licence_unknown", {"number": e.value}, [e.span]))
            elif not described:
                unknown.append(("licence_other", {"number": e.value, "owner": owner.name},
                                [e.span]))
            elif claimed_ids and owner.agency_id not in claimed_ids:
                problems.append(("licence_other", {"number": e.value, "owner": owner.name},
                                 [e.span]))
            elif owner.agency_id in claimed_spans:
                claimed_spans[owner.agency_id].append(e.span)
            named_owner = any(mm["agency_id"] == owner.agency_id for mm in mentions) \
                if owner is not None else True
            if owner is not None and described and named_any and not named_owner and (
                    ("licence_other", e.value)
                    not in {(c, k.get("number")) for c, k, _ in problems}):
                problems.append(("licence_other", {"number": e.value, "owner": owner.name},
                                 [e.span]))
        for a in claimed:
            spans = claimed_spans.get(a.agency_id) or []
            since = f" sejak {a.status_since.isoformat()}" if a.status_since else ""
            since_en = f" since {a.status_since.isoformat()}" if a.status_since else ""
            if a.status == "revoked":
                problems.append(("revoked", {"registered": a.name, "agency_id": a.agency_id, "since": since,
                                             "since_en": since_en}, spans))
            elif a.status == "suspended":
                problems.append(("suspended", {"registered": a.name, "agency_id": a.agency_id, "since": since,
                                               "since_en": since_en}, spans))
            if a.licence_valid_until is not None and a.licence_valid_until < day:
                problems.append(("licence_expired", {"registered": a.name, "agency_id": a.agency_id,
                                                     "until": a.licence_valid_until.isoformat()},
                                 spans))
        permits: list[dict[str, Any]] = []
        clears: set[str] = set()
        permit_problems: list[tuple[str, dict[str, str], list[tuple[int, int]]]] = []
        if cited:
            permits, permit_problems, clears = self._check_permits(
                cited, ents, places, claimed_ids, day, norm.text)
        # A permit number the registry does not know is a red flag when the post imitates
        # a registered agency; for a registered agency (or none) it is reported, not
        # flagged: registry exports lag behind the permits issued since (check SISKOP2MI).
        if permit_problems:
            (problems if described else unknown).extend(
                pp for pp in permit_problems if pp[0] != "permit_unknown")
            (problems if lookalike_of is not None else unknown).extend(
                pp for pp in permit_problems if pp[0] == "permit_unknown")
        if described:
            problems.extend(pp for pp in unknown if pp[0] != "permit_unknown")
            unknown = [pp for pp in unknown if pp[0] == "permit_unknown"]
        # contacts that belong to registered agencies; allowlisted values
        contacts: list[dict[str, Any]] = []
        allowlisted: list[dict[str, Any]] = []
        for e in contact_ents:
            kind, value = e.kind, e.value
            host = None
            if kind == "phone":
                owner = self.index.by_phone.get(value)
            else:
                host = host_of(value)
                owner = self.index.by_email.get(value.lower()) if kind == "email" else None
                if owner is None:
                    owner = self.index.owner_of_host(host)
            if owner is not None:
                same = owner.agency_id in claimed_ids if claimed_ids else None
                contacts.append({"kind": kind, "value": value, "span": list(e.span),
                                 "agency_id": owner.agency_id, "agency": owner.name,
                                 "same_agency": same})
                if same is False:
                    problems.append(("contact_other_agency", {"number": value,
                                                              "owner": owner.name}, [e.span]))
            why = self._allowed(kind, value, host)
            if why is not None:
                allowlisted.append({"kind": kind, "value": value, "span": list(e.span),
                                    "why": why})
        watch_hits = self._watch_hits(post, ents)
        if watch_hits and allowlisted:
            allowed_values = {(a["kind"], a["value"]) for a in allowlisted}
            watch_hits = [h for h in watch_hits if (h["kind"], h["value"]) not in allowed_values]
        if not (contacts or allowlisted or watch_hits or names or lic_ents or permit_ents):
            # only contacts that belong to no agency and are not allowlisted: nothing was
            # claimed, found or flagged, so the result is that of a post with no contacts
            return [], self._nothing_to_check(day)
        # status
        codes = [c for c, _, _ in problems]
        status_set = {REASONS[c][1] for c in codes}
        if status_set:
            status = next(s for s in STATUSES if s in status_set)
        elif claimed:
            status = "verified"
        elif named_any or unknown:
            status = "not_found"
        else:
            status = "no_agency"
        main = claimed[0] if claimed else None
        for c, kw, _ in problems:  # the agency behind the status, when there are several
            if REASONS[c][1] == status and kw.get("agency_id") in self.index.by_id:
                main = self.index.by_id[kw["agency_id"]]
                break
        agency = None
        if main is not None:
            agency = {"name": main.name, "agency_id": main.agency_id, "status": main.status,
                      "status_since": main.status_since.isoformat() if main.status_since
                      else None, "licence_number": main.licence_number,
                      "licence_valid_until": main.licence_valid_until.isoformat()
                      if main.licence_valid_until else None,
                      "licence_valid": main.in_good_standing(day)}
        permits_ok = bool(permits) and all(p.get("ok") for p in permits)
        summary_id, summary_en = self._summary(status, main, lookalike_of, permits, problems,
                                               named_any)
        verification: dict[str, Any] = {
            "status": status,
            "registry_version": self.version,
            "checked_on": day.isoformat(),
            "agency": agency,
            "lookalike_of": lookalike_of,
            "mentions": mentions,
            "licences": licences,
            "permits": permits,
            "permits_ok": permits_ok,
            "contacts": contacts,
            "watchlist": watch_hits,
            "allowlisted": allowlisted,
            "reasons": list(dict.fromkeys(codes)),
            "unknown": [{"code": c, "number": kw.get("number")} for c, kw, _ in unknown],
            "clears": sorted(clears) if not problems else [],
            "summary_id": summary_id,
            "summary_en": summary_en,
        }
        findings: list[Finding] = []
        if problems:
            findings.append(self._uac_finding(problems))
        if watch_hits:
            findings.append(self._watch_finding(watch_hits))
        return findings, verification

    def _check_permits(self, cited: list[tuple[Entity, str, Permit | None]],
                       ents: list[Entity], places: list[Entity], claimed_ids: set[str],
                       day: date, text: str
                       ) -> tuple[list[dict[str, Any]],
                                  list[tuple[str, dict[str, str], list[tuple[int, int]]]],
                                  set[str]]:
        """The ``permits`` records, the permit problems and the rule findings the permits
        clear, for cited permits (entity, normalised number, registry record or None)."""
        permits: list[dict[str, Any]] = []
        clears: set[str] = set()
        domestic_groups = _positions()[2]
        memo: list[set[str]] = []

        def text_groups() -> set[str]:
            if not memo:
                memo.append(_position_groups(text))
            return memo[0]

        # destination countries named in the post (not the country code inside a cited
        # permit number such as "SIP-2026/MY/0612", which the place finder may read)
        number_spans = [e.span for e in ents if e.kind in ("permit_number", "licence_number")]

        def outside(span: tuple[int, int]) -> bool:
            return not any(s <= span[0] and span[1] <= t for s, t in number_spans)

        countries = {e.value for e in places
                     if e.kind == "country" and e.value != "ID" and outside(e.span)}
        countries |= {e.data.get("country") for e in places
                      if e.kind == "city" and e.data.get("country") not in (None, "ID")
                      and outside(e.span)}
        permit_problems: list[tuple[str, dict[str, str], list[tuple[int, int]]]] = []
        for e, number, p in cited:
            rec: dict[str, Any] = {"number": e.value, "span": list(e.span), "exists": p is not None}
            if p is None:
                # The number itself names the destination (SIP-YYYY/CC/NNNN): a number for
                # another country than the ad's is a contradiction whatever the registry.
                cc = _PERMIT_CC.search(number)
                code = cc.group(1) if cc else None
                rec.update({"ok": False, "destination": code,
                            "destination_matches": (code in countries) if code and countries
                            else None})
                permits.append(rec)
                permit_problems.append(("permit_unknown", {"number": e.value}, [e.span]))
                if rec["destination_matches"] is False:
                    permit_problems.append(("permit_other_country", {
                        "number": e.value, "dest": code or "",
                        "countries": ", ".join(sorted(c for c in countries if c))}, [e.span]))
                continue
            holder = self.index.by_id.get(p.agency_id)
            belongs = p.agency_id in claimed_ids if claimed_ids else None
            dest_ok = (p.destination.upper() in countries) if countries else None
            valid = p.valid_on(day)
            plausible = self._position_plausible(p.position, text, text_groups)
            rec.update({
                "agency_id": p.agency_id, "holder": holder.name if holder else None,
                "belongs_to_agency": belongs, "destination": p.destination,
                "destination_name": p.destination_name, "destination_matches": dest_ok,
                "post_countries": sorted(c for c in countries if c),
                "position": p.position, "position_plausible": plausible,
                "employer": p.employer,
                "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                "valid_on_date": valid,
            })
            if belongs is False:
                permit_problems.append(("permit_other_agency", {
                    "number": e.value, "owner": holder.name if holder else p.agency_id},
                    [e.span]))
            if dest_ok is False:
                permit_problems.append(("permit_other_country", {
                    "number": e.value, "dest": p.destination_name or p.destination,
                    "countries": ", ".join(sorted(c for c in countries if c))}, [e.span]))
            if not valid:
                if p.issued_on is not None and p.issued_on > day:
                    permit_problems.append(("permit_not_yet_valid", {"number": e.value}, [e.span]))
                else:
                    permit_problems.append(("permit_expired", {
                        "number": e.value,
                        "until": p.valid_until.isoformat() if p.valid_until else ""}, [e.span]))
            holder_ok = holder is not None and holder.in_good_standing(day)
            rec["ok"] = bool(belongs is not False and dest_ok is not False and valid
                             and holder_ok)
            permits.append(rec)
            if (rec["ok"] and p.destination.upper() in self.moratorium and plausible
                    and not (_position_groups_cached((p.position or "").lower())
                             & domestic_groups)):
                clears.add("moratorium_destination")
        return permits, permit_problems, clears

    # ------------------------------------------------------------------ output
    def _nothing_to_check(self, day: date) -> dict[str, Any]:
        """``verify``'s dict for a post that names no company and cites no licence,
        permit or contact (nor anything watchlisted): status ``no_agency``."""
        summary_id, summary_en = self._no_agency_summary
        return {
            "status": "no_agency",
            "registry_version": self.version,
            "checked_on": day.isoformat(),
            "agency": None,
            "lookalike_of": None,
            "mentions": [],
            "licences": [],
            "permits": [],
            "permits_ok": False,
            "contacts": [],
            "watchlist": [],
            "allowlisted": [],
            "reasons": [],
            "unknown": [],
            "clears": [],
            "summary_id": summary_id,
            "summary_en": summary_en,
        }

    def _uac_finding(self, problems: list[tuple[str, dict[str, str], list[tuple[int, int]]]]
                     ) -> Finding:
        ids: list[str] = []
        ens: list[str] = []
        spans: set[tuple[int, int]] = set()
        for code, kw, sp in problems:
            t_id = _fmt(code, 0, **kw)
            t_en = _fmt(code, 1, **{**kw, "since": kw.get("since_en", "")})
            if t_id not in ids:
                ids.append(t_id)
                ens.append(t_en)
            spans.update(tuple(s) for s in sp)
        rule = self._uac
        return Finding(
            indicator="unlicensed_agency_claim",
            weight=max(REASONS[c][0] for c, _, _ in problems),
            spans=sorted(spans)[:20],
            explanation_id="; ".join(ids) + ". " + _CHECK_ID,
            explanation_en="; ".join(ens) + ". " + _CHECK_EN,
            category=rule.category if rule else "deception",
            title_id=rule.title_id if rule else "Perekrut tidak berizin / izin bermasalah",
            title_en=rule.title_en if rule else "Unlicensed or invalid recruiter",
        )

    def _watch_finding(self, hits: list[dict[str, Any]]) -> Finding:
        rule = self._wl
        parts_id = [f"{h['value']} ({h['reason'] or 'tanpa alasan'}"
                    + (f"; sumber: {h['source']}" if h["source"] else "") + ")" for h in hits]
        parts_en = [f"{h['value']} ({h['reason'] or 'no reason given'}"
                    + (f"; source: {h['source']}" if h["source"] else "") + ")" for h in hits]
        base_id = rule.explanation_id if rule else "Kontak ada di daftar pantau."
        base_en = rule.explanation_en if rule else "A contact is on the watchlist."
        return Finding(
            indicator="watchlist_hit",
            weight=rule.weight if rule else 50.0,
            spans=sorted({tuple(h["span"]) for h in hits if h["span"]})[:20],  # type: ignore[misc]
            explanation_id=base_id + " " + "; ".join(parts_id),
            explanation_en=base_en + " " + "; ".join(parts_en),
            category=rule.category if rule else "deception",
            title_id=rule.title_id if rule else "Kontak di daftar pantau",
            title_en=rule.title_en if rule else "Watchlisted contact",
        )

    @staticmethod
    def _summary(status: str, main: Agency | None, lookalike_of: dict[str, Any] | None,
                 permits: list[dict[str, Any]], problems: list[Any], named_any: bool
                 ) -> tuple[str, str]:
        name = main.name if main else ""
        if status == "verified" and main is not None:
            until = main.licence_valid_until.isoformat() if main.licence_valid_until else "-"
            s_id = f"Terverifikasi: {name}, izin berlaku s.d. {until}"
            s_en = f"Verified: {name}, licence valid until {until}"
            for p in permits:
                if p.get("ok"):
                    dest = p.get("destination_name") or p.get("destination")
                    s_id += f"; {p['number']} berlaku untuk {dest}"
                    s_en += f"; {p['number']} valid for {dest}"
                elif not p.get("exists"):
                    s_id += f"; {p['number']} tidak ditemukan di registri (cek SISKOP2MI)"
                    s_en += f"; {p['number']} not found in the registry (check SISKOP2MI)"
            return s_id, s_en
        if status == "lookalike" and lookalike_of is not None:
            return (f"Mirip nama P3MI terdaftar {lookalike_of['name']} (bukan perusahaan yang "
                    f"sama): \"{lookalike_of['written']}\"",
                    f"Looks like the registered P3MI {lookalike_of['name']} (not the same "
                    f"company): \"{lookalike_of['written']}\"")
        if status in ("revoked", "suspended", "licence_expired", "permit_invalid"):
            code, kw, _ = next(p for p in problems if REASONS[p[0]][1] == status)
            return (_fmt(code, 0, **kw),
                    _fmt(code, 1, **{**kw, "since": kw.get("since_en", "")}))
        if status == "not_found":
            return ("Perusahaan tidak ditemukan di registri P3MI (nama dan nomor izin tidak "
                    "terdaftar)" if not named_any else
                    "Perusahaan tidak ditemukan di registri P3MI",
                    "Company not found in the P3MI registry (name and numbers not registered)"
                    if not named_any else "Company not found in the P3MI registry")
        return ("Tidak menyebut perusahaan penempatan (P3MI)",
                "No placement company (P3MI) named")


def build_verifier(store: Any = None, *, agencies: str | Path | None = None,
                   permits: str | Path | None = None, today: date | None = None,
                   rules: Any = None, use_bundled: bool = True) -> Verifier | None:
    """The verifier a scan or check uses by default (reads files or the store once).

    1. ``agencies`` (and optionally ``permits``) CSV/XLSX exports given: those files
       (``patroli.verify.registry.read_registry``; bad rows are skipped), plus the
       store's watch/allow entries when a store is given;
    2. else the store's latest registry snapshot
       (``patroli.store.registry.latest_snapshot``) with its active watch and allow
       entries (``watch_entries``);
    3. else, when ``use_bundled``, the bundled demo registry
       (``default_registry_paths()``) with the store's entries if any;
    4. else None (no registry check).
    Raises ``patroli.verify.registry.RegistryFormatError`` for unreadable files given in 1.
    """
    from patroli.verify.registry import default_registry_paths, read_registry

    watch: list[WatchEntry] = []
    snapshot: RegistrySnapshot | None = None
    if store is not None:
        try:
            from patroli.store.registry import latest_snapshot, watch_entries

            watch = list(watch_entries(store))
            if agencies is None:
                snapshot = latest_snapshot(store)
        except Exception:  # noqa: BLE001 - a store without registry tables: no entries
            watch, snapshot = [], None
    if agencies is not None:
        snapshot = read_registry(agencies, permits, on_error=lambda _err: None)
    if snapshot is None and use_bundled:
        a_path, p_path = default_registry_paths()
        if Path(a_path).is_file():
            snapshot = read_registry(a_path, p_path if Path(p_path).is_file() else None,
                                     on_error=lambda _err: None)
    if snapshot is None:
        return None
    return Verifier(snapshot, watch, today=today, rules=rules)

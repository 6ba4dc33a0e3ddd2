"""Core types that flow through patroli (DESIGN.md, "Core types").

``Post`` comes out of ``patroli.sources``; ``analysis.analyze(post)`` turns it into an
``Assessment`` that carries ``Finding`` s and ``Entity`` s; ``patroli.store`` keeps them.
All types are plain dataclasses: no I/O, no database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Label = Literal["illegal", "legitimate", "awareness", "other"]
Level = Literal["high", "medium", "low"]

LABELS: tuple[str, ...] = ("illegal", "legitimate", "awareness", "other")
LEVELS: tuple[str, ...] = ("high", "medium", "low")

#: Entity kinds (DESIGN.md). ``value`` normalisation per kind:
#: phone: E.164 ("+6281200003185"; a wa.me / api.whatsapp.com link yields a phone with
#: ``data["channel"] == "whatsapp"`` beside its url); telegram: "@handle" lower-cased;
#: url: full URL with scheme, no leading "www."; domain: lower-cased host;
#: email: lower-cased address; money: "15000000 IDR/month" (see ``Entity.data``);
#: agency_name: the name as written, whitespace-collapsed; permit_number: upper-cased;
#: country: ISO 3166-1 alpha-2 code; city: the city name, ``data["country"]`` its ISO code.
ENTITY_KINDS: tuple[str, ...] = (
    "phone",
    "telegram",
    "url",
    "domain",
    "email",
    "bank_account",
    "ewallet",
    "money",
    "agency_name",
    "licence_number",
    "permit_number",
    "country",
    "city",
)

Span = tuple[int, int]


def content_key(text: str, source: str = "") -> str:
    """Stable post key for a record without its own id: ``"sha256:" + 24 hex chars``.

    The hash covers the source name and the text (whitespace-collapsed), so the same
    text read again from the same source yields the same key.
    """
    h = hashlib.sha256()
    h.update(source.encode("utf-8"))
    h.update(b"\x00")
    h.update(" ".join(text.split()).encode("utf-8"))
    return "sha256:" + h.hexdigest()[:24]


@dataclass(slots=True)
class Post:
    """One social-media post, message, page or document to analyse.

    key: stable id for idempotency, unique within ``source`` (the record's own id where it
        has one, e.g. ``"D0001"``, a Telegram message id ``"telegram:<chat>:<id>"``, else
        ``content_key(text, source)``).
    source: where it came from (file path or connector name).
    platform: facebook / instagram / tiktok / telegram / whatsapp / x / web / None.
    posted_at: timezone-aware datetime (UTC preferred) or None when unknown.
    text: the text as written (never normalised here; offsets in findings refer to it).
    raw: the original record (a dict for structured inputs), kept as evidence.
    location: where in the source it was read, e.g. ``"posts.jsonl:12"``.
    """

    key: str
    text: str
    source: str = ""
    platform: str | None = None
    url: str | None = None
    author: str | None = None
    posted_at: datetime | None = None
    language: str | None = None
    raw: Any = None
    location: str | None = None
    record_id: str | None = None


@dataclass(slots=True)
class Entity:
    """Something extracted from a text.

    kind: one of ``ENTITY_KINDS``.
    value: normalised value (see ``ENTITY_KINDS`` comment), used for pivots.
    span: (start, end) character offsets into the *original* post text.
    data: kind-specific details, e.g. money ``{"amount": 15000000.0, "currency": "IDR",
        "period": "month"}``, phone ``{"region": "ID", "obfuscated": True}``.
    """

    kind: str
    value: str
    span: Span
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "value": self.value, "span": list(self.span)}
        if self.data:
            d["data"] = self.data
        return d


@dataclass(slots=True)
class Finding:
    """One indicator (red flag) found in a post.

    indicator: rule id, e.g. ``"upfront_fee"``.
    weight: the rule's weight (points towards the 0–100 risk score).
    spans: evidence spans, offsets into the original text.
    explanation_id / explanation_en: plain-language reason in Bahasa Indonesia / English.
    category: ILO forced-labour indicator or grouping where it fits (e.g. "deception").
    """

    indicator: str
    weight: float
    spans: list[Span] = field(default_factory=list)
    explanation_id: str = ""
    explanation_en: str = ""
    category: str | None = None
    title_id: str = ""
    title_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "weight": self.weight,
            "spans": [list(s) for s in self.spans],
            "title_id": self.title_id,
            "title_en": self.title_en,
            "explanation_id": self.explanation_id,
            "explanation_en": self.explanation_en,
            "category": self.category,
        }


@dataclass(slots=True)
class Assessment:
    """The analysis of one post.

    risk_score: 0–100 (integer). level: "high" (>= 70), "medium" (>= 40), "low".
    label: illegal / legitimate / awareness / other; probabilities: label -> 0..1 (sum 1).
    analyzed_at: timezone-aware UTC.
    """

    post_key: str
    risk_score: int
    level: str
    label: str
    probabilities: dict[str, float]
    findings: list[Finding]
    entities: list[Entity]
    rule_set_version: str
    analyzed_at: datetime
    model_version: str | None = None
    verification: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)

    @property
    def indicators(self) -> list[str]:
        return [f.indicator for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_key": self.post_key,
            "risk_score": self.risk_score,
            "risk_level": self.level,
            "label": self.label,
            "probabilities": self.probabilities,
            "indicators": self.indicators,
            "findings": [f.to_dict() for f in self.findings],
            "entities": [e.to_dict() for e in self.entities],
            "verification": self.verification,
            "rule_set_version": self.rule_set_version,
            "model_version": self.model_version,
            "analyzed_at": self.analyzed_at.isoformat(),
        }

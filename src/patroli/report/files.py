"""Streaming report writers: JSON list, CSV table, self-contained HTML."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from patroli.types import Assessment, Post

if TYPE_CHECKING:
    from patroli.scan import ScanSummary

#: entity kinds shown as "contacts" in tables and reports
CONTACT_KINDS = ("phone", "telegram", "email", "url")


def post_record(post: Post, assessment: Assessment) -> dict[str, Any]:
    """One post's report object (the JSON report is a list of these).

    Keys: id (the input record's own ``id`` where present, else the post key), post_key,
    source, location, platform, url, author, posted_at (ISO 8601 UTC or null), label,
    risk_score (0–100), risk_level, probabilities, indicators (ids), findings (with
    evidence spans and reasons in Bahasa Indonesia and English), entities (list of
    ``{kind, value, span}``; phones in E.164; money with amount/currency/period),
    verification (the registry check: status, agency, lookalike_of, permits, contacts,
    watchlist, allowlisted, summary_id / summary_en, registry_version; ``{}`` when no
    verifier ran), rule_set_version, text.
    """
    return {
        "id": post.record_id if post.record_id is not None else post.key,
        "post_key": post.key,
        "source": post.source,
        "location": post.location,
        "platform": post.platform,
        "url": post.url,
        "author": post.author,
        "posted_at": post.posted_at.isoformat() if post.posted_at else None,
        "label": assessment.label,
        "risk_score": assessment.risk_score,
        "risk_level": assessment.level,
        "probabilities": assessment.probabilities,
        "indicators": assessment.indicators,
        "findings": [f.to_dict() for f in assessment.findings],
        "entities": [
            {"kind": e.kind, "value": e.value, "span": list(e.span), **({"data": e.data} if e.data else {})}
            for e in assessment.entities
        ],
        "verification": assessment.verification,
        "rule_set_version": assessment.rule_set_version,
        "text": post.text,
    }


class ReportWriter:
    """Base of the streaming writers: ``write`` each post, then ``close(summary)``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.count = 0

    def write(self, post: Post, assessment: Assessment) -> None:
        raise NotImplementedError

    def close(self, summary: ScanSummary | None = None) -> None:
        raise NotImplementedError


class JsonWriter(ReportWriter):
    """A JSON list, one object per post (``post_record``), written as it goes."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._fh: IO[str] = open(self.path, "w", encoding="utf-8")
        self._fh.write("[")

    def write(self, post: Post, assessment: Assessment) -> None:
        self._fh.write(",\n" if self.count else "\n")
        json.dump(post_record(post, assessment), self._fh, ensure_ascii=False)
        self.count += 1

    def close(self, summary: ScanSummary | None = None) -> None:
        self._fh.write("\n]\n" if self.count else "]\n")
        self._fh.close()


CSV_COLUMNS = [
    "id", "post_key", "source", "platform", "url", "posted_at", "label", "risk_score",
    "risk_level", "indicators", "phones", "telegram", "emails", "urls", "destinations", "text",
]


def entity_values(assessment: Assessment, kind: str) -> list[str]:
    """Distinct values of one entity kind, in text order."""
    out: list[str] = []
    for e in assessment.entities:
        if e.kind == kind and e.value not in out:
            out.append(e.value)
    return out


class CsvWriter(ReportWriter):
    """A CSV table (UTF-8 with BOM so spreadsheet programs read it), one row per post.

    Multi-valued cells (indicators, phones, ...) are joined with "; ". Cells that a
    spreadsheet would run as a formula (starting with = + - @) are prefixed with "'".
    """

    def __init__(self, path: Path):
        super().__init__(path)
        self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._fh)
        self._csv.writerow(CSV_COLUMNS)

    def write(self, post: Post, assessment: Assessment) -> None:
        from patroli.scan import destinations

        rec = post_record(post, assessment)
        row = [
            rec["id"], post.key, post.source, post.platform or "", post.url or "",
            rec["posted_at"] or "", assessment.label, assessment.risk_score, assessment.level,
            "; ".join(assessment.indicators),
            "; ".join(entity_values(assessment, "phone")),
            "; ".join(entity_values(assessment, "telegram")),
            "; ".join(entity_values(assessment, "email")),
            "; ".join(entity_values(assessment, "url")),
            "; ".join(destinations(assessment)),
            post.text,
        ]
        self._csv.writerow([_csv_safe(v) for v in row])
        self.count += 1

    def close(self, summary: ScanSummary | None = None) -> None:
        self._fh.close()


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def highlight(text: str, spans: list[tuple[int, int, str]]) -> Markup:
    """HTML of ``text`` with each (start, end, title) span wrapped in ``<mark>``.

    Everything from the text is escaped; overlapping spans are merged (titles joined).
    """
    merged: list[list] = []
    for start, end, title in sorted(spans):
        start, end = max(0, start), min(len(text), end)
        if end <= start:
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if title not in merged[-1][2]:
                merged[-1][2].append(title)
        else:
            merged.append([start, end, [title]])
    out: list[str] = []
    pos = 0
    for start, end, titles in merged:
        out.append(str(escape(text[pos:start])))
        out.append(
            f'<mark title="{escape(", ".join(titles))}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


_env = Environment(
    loader=PackageLoader("patroli.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _post_view(post: Post, assessment: Assessment) -> dict[str, Any]:
    spans = [(s, e, f.indicator) for f in assessment.findings for s, e in f.spans]
    return {
        "post": post,
        "a": assessment,
        "anchor": "p-" + hashlib.sha1(post.key.encode("utf-8")).hexdigest()[:12],
        "body": highlight(post.text, spans),
        "contacts": [e for e in assessment.entities if e.kind in CONTACT_KINDS],
    }


class HtmlWriter(ReportWriter):
    """One self-contained HTML file (inline CSS, no scripts, strict CSP).

    Post sections are streamed to a temporary file as they come; ``close`` writes the
    summary and triage table first, then copies the sections, so memory stays flat.
    Every string from the input is escaped (autoescaping templates + ``highlight``).
    """

    def __init__(self, path: Path):
        super().__init__(path)
        self._tmp = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._section = _env.get_template("post.html.j2")

    def write(self, post: Post, assessment: Assessment) -> None:
        self._tmp.write(self._section.render(**_post_view(post, assessment)))
        self.count += 1

    def close(self, summary: ScanSummary | None = None) -> None:
        head, tail = _env.get_template("report.html.j2").render(
            summary=summary,
            top=[_post_view(p, a) for p, a in (summary.top if summary else [])],
            count=self.count,
        ).split("<!--POSTS-->", 1)
        with open(self.path, "w", encoding="utf-8") as out:
            out.write(head)
            self._tmp.seek(0)
            shutil.copyfileobj(self._tmp, out)
            out.write(tail)
        self._tmp.close()

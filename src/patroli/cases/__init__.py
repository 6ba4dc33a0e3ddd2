"""Cases, evidence and chain of custody (DESIGN.md "cases/", issue 6 part A).

- ``patroli.cases.model``: statuses, the transition table, errors, dataclasses.
- ``patroli.store.cases``: the store functions (create_case, case_from_entity, add_posts,
  add_entity, add_report, add_comment, set_status, assign, request_close, approve_close,
  case_detail, list_cases, timeline).
- ``patroli.cases.fetch``: address-safe HTTP fetching (``Fetcher``).
- ``patroli.cases.evidence``: capture to WARC, source records, package export/verify.
"""

from __future__ import annotations

from patroli.cases.model import (
    CASE_PRIORITIES,
    CASE_STATUSES,
    TRANSITIONS,
    CaseError,
    CaseNotFoundError,
    FourEyesError,
)

__all__ = [
    "CASE_PRIORITIES",
    "CASE_STATUSES",
    "TRANSITIONS",
    "CaseError",
    "CaseNotFoundError",
    "FourEyesError",
]

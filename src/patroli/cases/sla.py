"""SLA figures of takedown requests (issue 6, part B): the removal clock of
Permenkominfo 5/2020 (24 hours; 4 hours for urgent content).

Definitions (items of ``takedown_items``; times UTC, hours as floats):

- detection_to_request_hours: ``sent_at - first_detected_at`` of sent items.
- request_to_removal_hours: ``removed_at - sent_at`` of removed items.
- share_removed_24h: of the sent items whose 24-hour deadline has passed or that were
  removed, the share removed within 24 hours of sending (items still inside their
  deadline are left out: they can still make it). ``None`` when there are none.
- share_removed_4h_urgent: the same with 4 hours, over "4h" items only.
- backlog: items sent or acknowledged and neither removed nor refused, by age since
  sending: ``<4h``, ``4-24h``, ``1-7d``, ``>7d``.
- Months are calendar months in ``tz`` (default Asia/Jakarta, WIB) of ``sent_at``: the
  monthly figures are a cohort (items sent that month, with outcomes as of ``now``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from patroli.store.takedown import list_items

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = ["BACKLOG_BUCKETS", "backlog_bucket", "monthly_report", "sla_figures",
           "sla_from_items"]

#: Backlog age buckets: (name, upper bound in hours; None = no bound).
BACKLOG_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("<4h", 4.0), ("4-24h", 24.0), ("1-7d", 168.0), (">7d", None))
_OPEN = ("sent", "acknowledged")


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def backlog_bucket(age_hours: float) -> str:
    """The ``BACKLOG_BUCKETS`` name of an age in hours (bounds are exclusive above)."""
    for name, bound in BACKLOG_BUCKETS:
        if bound is None or age_hours < bound:
            return name
    return BACKLOG_BUCKETS[-1][0]


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 2) if xs else None


def _share(items: list[Mapping[str, Any]], hours: float, now: datetime) -> float | None:
    due = [i for i in items if i.get("sent_at") and (
        i.get("removed_at") or _hours(i["sent_at"], now) >= hours)]
    if not due:
        return None
    ok = sum(1 for i in due if i.get("removed_at")
             and _hours(i["sent_at"], i["removed_at"]) <= hours)
    return round(ok / len(due), 4)


def sla_from_items(items: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """SLA figures of item dicts (``takedown_items`` columns): counts (items, sent,
    removed, refused, reappeared, pending), median_detection_to_request_hours,
    median_request_to_removal_hours, share_removed_24h, share_removed_4h_urgent,
    backlog {bucket: count}. Pure: no database."""
    items = list(items)
    sent = [i for i in items if i.get("sent_at")]
    det = [_hours(i["first_detected_at"], i["sent_at"]) for i in sent
           if i.get("first_detected_at")]
    rem = [_hours(i["sent_at"], i["removed_at"]) for i in sent if i.get("removed_at")]
    backlog = {name: 0 for name, _ in BACKLOG_BUCKETS}
    for i in sent:
        if i["status"] in _OPEN:
            backlog[backlog_bucket(_hours(i["sent_at"], now))] += 1
    return {
        "items": len(items), "sent": len(sent),
        "removed": sum(1 for i in sent if i.get("removed_at")),
        "refused": sum(1 for i in sent if i["status"] == "refused"),
        "reappeared": sum(1 for i in sent if i["status"] == "reappeared"),
        "pending": sum(1 for i in sent if i["status"] in _OPEN),
        "median_detection_to_request_hours": _median(det),
        "median_request_to_removal_hours": _median(rem),
        "share_removed_24h": _share(sent, 24.0, now),
        "share_removed_4h_urgent": _share([i for i in sent if i["priority"] == "4h"], 4.0,
                                          now),
        "backlog": backlog,
    }


def _month(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m")


def sla_figures(store: Store, *, now: datetime | None = None, tz: str = "Asia/Jakarta"
                ) -> dict[str, Any]:
    """SLA figures overall, per platform and per month (``tz`` months of ``sent_at``):
    ``{"overall": figures, "by_platform": {platform: figures}, "by_month": {"YYYY-MM":
    figures}, "now": ISO time}`` with figures as ``sla_from_items``."""
    now = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    items = list_items(store)
    by_platform: dict[str, list[dict[str, Any]]] = {}
    by_month: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        by_platform.setdefault(i["platform"], []).append(i)
        if i["sent_at"]:
            by_month.setdefault(_month(i["sent_at"], zone), []).append(i)
    return {"now": now.isoformat(), "overall": sla_from_items(items, now),
            "by_platform": {p: sla_from_items(v, now) for p, v in sorted(by_platform.items())},
            "by_month": {m: sla_from_items(v, now) for m, v in sorted(by_month.items())}}


def _kind(i: Mapping[str, Any]) -> str:
    if not i.get("url"):
        return "accounts"
    return "sites" if i.get("platform") == "web" else "contents"


def monthly_report(store: Store, month: str | None = None, *, now: datetime | None = None,
                   tz: str = "Asia/Jakarta") -> dict[str, Any]:
    """The monthly figures an agency publishes, for items sent in ``month`` ("YYYY-MM" in
    ``tz``; default: the current month).

    Returns month, tz, reported (items sent), by_kind {accounts, contents, sites: n
    reported}, removed, pending, refused, reappeared, median_hours_to_removal,
    share_removed_24h, share_removed_4h_urgent, backlog, and by_platform {platform:
    {reported, removed, pending, refused, median_hours_to_removal, share_removed_24h}}.
    Raises ValueError for a malformed month.
    """
    zone = ZoneInfo(tz)
    now = now or datetime.now(UTC)
    month = month or _month(now, zone)
    datetime.strptime(month, "%Y-%m")  # ValueError when malformed
    items = [i for i in list_items(store) if i["sent_at"] and _month(i["sent_at"], zone) == month]
    f = sla_from_items(items, now)
    kinds = {"accounts": 0, "contents": 0, "sites": 0}
    for i in items:
        kinds[_kind(i)] += 1
    per: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        per.setdefault(i["platform"], []).append(i)
    by_platform = {}
    for p, v in sorted(per.items()):
        pf = sla_from_items(v, now)
        by_platform[p] = {"reported": pf["sent"], "removed": pf["removed"],
                          "pending": pf["pending"], "refused": pf["refused"],
                          "median_hours_to_removal": pf["median_request_to_removal_hours"],
                          "share_removed_24h": pf["share_removed_24h"]}
    return {"month": month, "tz": tz, "generated_at": now.isoformat(), "reported": f["sent"],
            "by_kind": kinds, "removed": f["removed"], "pending": f["pending"],
            "refused": f["refused"], "reappeared": f["reappeared"],
            "median_hours_to_removal": f["median_request_to_removal_hours"],
            "median_hours_detection_to_request": f["median_detection_to_request_hours"],
            "share_removed_24h": f["share_removed_24h"],
            "share_removed_4h_urgent": f["share_removed_4h_urgent"],
            "backlog": f["backlog"], "by_platform": by_platform}

"""Overlap tests against many spans in logarithmic time (keeps analysis linear).

A 1 MB post has thousands of URLs, phones and pattern hits; testing each new span
against a list of earlier ones would make the analysis quadratic.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import accumulate


class SpanIndex:
    """A fixed set of (start, end) spans, end exclusive, overlapping or not.

    ``overlaps(start, end)`` is true when some span shares a character with
    [start, end); ``contains(pos)`` when some span covers ``pos``. O(log n) each.
    """

    __slots__ = ("_max_end", "_starts")

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._max_end = list(accumulate((e for _, e in ordered), max))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self._starts, end)  # spans that start before ``end``
        return i > 0 and self._max_end[i - 1] > start

    def contains(self, pos: int) -> bool:
        return self.overlaps(pos, pos + 1)


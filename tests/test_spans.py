"""SpanIndex / DisjointSpans agree with the brute-force overlap test."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from patroli.analysis.spans import SpanIndex

span = st.tuples(st.integers(0, 200), st.integers(1, 30)).map(lambda t: (t[0], t[0] + t[1]))


@given(st.lists(span, max_size=40), span)
def test_overlaps_matches_brute_force(spans: list[tuple[int, int]], probe: tuple[int, int]) -> None:
    index = SpanIndex(spans)
    expected = any(a < probe[1] and probe[0] < b for a, b in spans)
    assert index.overlaps(*probe) is expected
    assert index.contains(probe[0]) is any(a <= probe[0] < b for a, b in spans)
    assert bool(index) is bool(spans)

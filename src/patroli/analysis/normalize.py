"""Normalisation that folds obfuscation while keeping offsets into the original text.

PLACEHOLDER INTERFACE (to be completed): ``normalize(text) -> Normalized``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(slots=True)
class Normalized:
    """A folded copy of a text with a map back to the original.

    text: the folded text (lower-case, NFKC, obfuscation folded).
    offsets: ``offsets[i]`` is the index in the original text of folded character ``i``;
        ``len(offsets) == len(text) + 1`` (the last entry is ``len(original)``).
    """

    original: str
    text: str
    offsets: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded-text span [start, end) to the original text span."""
        if end <= start:
            o = self.offsets[start]
            return (o, o)
        return (self.offsets[start], self.offsets[end - 1] + 1)


def normalize(text: str) -> Normalized:
    out: list[str] = []
    offs: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).lower()
        for c in folded:
            out.append(c)
            offs.append(i)
    offs.append(len(text))
    return Normalized(text, "".join(out), offs)

"""Shared test fixtures.

The shared data set (``../shared`` beside the repository, or ``$PATROLI_SHARED``) is read
in place, never copied; tests that need it skip with a clear reason when it is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PATROLI_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path inside the shared data set; skips the calling test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not found at {p} (set PATROLI_SHARED to the shared folder)")
    return p


@pytest.fixture(scope="session")
def corpus_rows() -> list[dict]:
    """The 300 labeled development posts of ``shared/data/corpus/posts.jsonl``."""
    p = shared_path("data", "corpus", "posts.jsonl")
    with p.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]

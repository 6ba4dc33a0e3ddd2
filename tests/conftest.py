"""Shared test fixtures.

The shared data set (``../shared`` beside the repository, or ``$PATROLI_SHARED``) is read
in place, never copied; tests that need it skip with a clear reason when it is absent.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with fixed examples (derandomize) so a run is repeatable;
# locally they explore new random examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

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


# -- databases ----------------------------------------------------------------------------

#: PostgreSQL server for the database tests (the CI service by default).
PG_URL = os.environ.get("PATROLI_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed: {exc}"
    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return None
    except (psycopg.Error, OSError) as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}".strip()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL schema for this test session (dropped afterwards);
    skips when the server does not answer."""
    from sqlalchemy import create_engine, text

    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    schema = f"patroli_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in tmp_path, or the session's PostgreSQL schema
    with every table of the store emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'patroli.db'}"
        return
    from sqlalchemy import text

    from patroli.store import Store
    from patroli.store.models import Base

    url = request.getfixturevalue("pg_url")
    store = Store(url)  # migrates the schema on first use
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    store.close()
    yield url

"""Fixtures of the web tests: an app on a fresh SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from patroli.web.app import create_app

SECRET = "s" * 40


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    for var in ("PATROLI_TRUST_PROXY", "PATROLI_REDIS_URL", "PATROLI_LOGIN_RATE",
                "PATROLI_PUBLIC_RATE", "PATROLI_MAX_REQUEST_BYTES", "PATROLI_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    a = create_app(f"sqlite:///{tmp_path / 'web.db'}", secret_key=SECRET, testing=True)
    yield a
    a.state.store.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c

"""Fixtures of the browser tests: the app served by uvicorn on 127.0.0.1 (ephemeral port,
background thread, temporary SQLite file) and Debian's Chromium driven by Playwright.

- ``live_server``: ``(base_url, store_url)``; users ``LIVE_USERS`` (role -> username,
  all with password ``webutil.PASSWORD``) exist: an admin and an analyst.
- ``browser``: a Chromium ``Browser`` (session-wide); tests open their own contexts.
- ``live_users``: ``LIVE_USERS``.
- ``live_app``: the FastAPI app ``live_server`` serves (tests may set e.g.
  ``app.state.fetcher``).
Browser tests carry ``@pytest.mark.browser`` and skip when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from patroli.store import Store
from patroli.store.users import add_user
from patroli.web.security import PasswordService

from ..webutil import PASSWORD

expect.set_options(timeout=20_000)  # like the pages' default timeout: CI machines may be slower

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: role -> username of the accounts the live server has (password ``webutil.PASSWORD``).
LIVE_USERS: dict[str, str] = {"admin": "admin", "analyst": "analis"}
SHOTS = Path(os.environ.get("PATROLI_SHOTS_DIR", "/tmp/patroli_shots"))
_SECRET = "b" * 40
#: The app of the running live server (set by ``live_server``).
_LIVE: dict[str, Any] = {}


def _needs_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run browser tests")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Serve a fresh app on 127.0.0.1:<ephemeral port>; yields (base_url, store_url)."""
    import uvicorn

    from patroli.web.app import create_app

    db = tmp_path_factory.mktemp("live") / "live.db"
    store_url = f"sqlite:///{db}"
    with Store(store_url) as store:
        hasher = PasswordService(fast=True)
        for role, name in LIVE_USERS.items():
            add_user(store, name, hasher.hash(PASSWORD), role, actor="test",
                     display_name=name.title())
    saved = {k: os.environ.get(k) for k in ("PATROLI_PUBLIC_RATE", "PATROLI_LOGIN_RATE")}
    os.environ["PATROLI_PUBLIC_RATE"] = "1000/60"
    os.environ["PATROLI_LOGIN_RATE"] = "1000/60"
    try:
        app = create_app(store_url, secret_key=_SECRET, testing=True)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    _LIVE["app"] = app
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", store_url
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        app.state.store.close()


@pytest.fixture(scope="session")
def live_app(live_server: tuple[str, str]) -> Any:
    """The FastAPI app behind ``live_server``."""
    return _LIVE["app"]


@pytest.fixture(scope="session")
def live_users() -> dict[str, str]:
    return dict(LIVE_USERS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (skips when it is not installed)."""
    _needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    """Where screenshots go (``$PATROLI_SHOTS_DIR``, default /tmp/patroli_shots)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS

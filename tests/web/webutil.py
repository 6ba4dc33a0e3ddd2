"""Helpers shared by the web tests (imported as ``webutil``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patroli.store.users import add_user
from patroli.web.security import PasswordService

PASSWORD = "kata-sandi-yang-panjang"
_FAST = PasswordService(fast=True)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app, username: str, role: str, *, display_name: str = "",
              password: str = PASSWORD):
    """Create a user in the app's store (cheap argon2 parameters)."""
    return add_user(app.state.store, username, _FAST.hash(password), role,
                    actor="test", display_name=display_name)


def csrf_from(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, **kw):
    """GET the login page (for its CSRF token), POST the form; returns the response."""
    page = client.get("/login")
    token = csrf_from(page.text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, **kw}, follow_redirects=False)

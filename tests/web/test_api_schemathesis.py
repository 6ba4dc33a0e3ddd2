"""schemathesis against the API's own OpenAPI schema (issue 5): no input generated from
the schema makes the in-process app answer with a server error (5xx).

Runs every operation of ``/api/v1/openapi.json`` with a token holding every scope
(and, separately, without a token for the public ones), bounded to 25 examples each.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from patroli.cli_api import create_token
from patroli.web.app import create_app
from patroli.web.security import MemoryTokenBucket

_TMP = Path(tempfile.mkdtemp(prefix="patroli-schemathesis-"))
atexit.register(shutil.rmtree, _TMP, True)
_app = create_app(f"sqlite:///{_TMP / 'st.db'}", secret_key="t" * 40, testing=True)
# The public limit would answer 429 (not a server error, but it would hide the rest).
_app.state.limiters["public"] = MemoryTokenBucket(1e9, 1e9)
_TOKEN, _ = create_token(_app.state.store, "schemathesis", ["all"], actor="test")
atexit.register(_app.state.store.close)

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app)

_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))


@schema.parametrize()
@_SETTINGS
def test_no_server_error_with_token(case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_TOKEN}"})
    case.validate_response(response, checks=[not_a_server_error])


@schema.include(path_regex=r"/(check|reports)$").parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_without_token(case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])

"""Hash-chained audit log, user store, CLI commands, ``serve`` smoke test (issue 5)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from patroli.store import Store
from patroli.store.audit import (
    GENESIS_HASH,
    append,
    entries,
    entry_hash,
    head,
    verify_chain,
)
from patroli.store.users import (
    UserError,
    UserExistsError,
    UserNotFoundError,
    add_user,
    get_user,
    list_users,
    set_role,
)
from patroli.web.security import PasswordService

HASH = PasswordService(fast=True).hash("kata-sandi-yang-panjang")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    try:
        yield s
    finally:
        if s.engine.dialect.name == "postgresql":  # the schema outlives the test
            _restore_pg_guard(s)
        s.close()


def _restore_pg_guard(s: Store) -> None:
    with s._write() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        conn.execute(text(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION patroli_audit_log_append_only()"))


def _drop_guards(s: Store) -> None:
    """Remove the append-only triggers, as an attacker with database access could."""
    with s._write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _fill(s: Store, n: int = 5) -> None:
    for i in range(n):
        append(s, f"user{i}", "test.event", f"target-{i}",
               {"i": i, "note": "catatan <b>", "nested": {"b": [1, 2], "a": None}})


def test_chain_links_and_verifies(store: Store) -> None:
    assert verify_chain(store) == (True, None)
    assert head(store) == (0, GENESIS_HASH)
    _fill(store)
    rows = sorted(entries(store, 100), key=lambda r: r.id)
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    for prev, cur in zip(rows, rows[1:], strict=False):
        assert cur.prev_hash == prev.hash
    for r in rows:
        assert r.hash == entry_hash(r.id, r.at, r.actor, r.action, r.target, r.details,
                                    r.prev_hash)
        assert r.at.tzinfo is not None
    assert verify_chain(store) == (True, None)
    assert head(store) == (5, rows[-1].hash)


def test_database_refuses_update_and_delete(store: Store) -> None:
    _fill(store, 2)
    from sqlalchemy.exc import DBAPIError

    for stmt in ("UPDATE audit_log SET actor = 'x' WHERE id = 1",
                 "DELETE FROM audit_log WHERE id = 2"):
        with pytest.raises(DBAPIError, match="append-only"), store._write() as conn:
            conn.execute(text(stmt))
    assert verify_chain(store) == (True, None)


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_log SET actor = 'someone-else' WHERE id = 3",
    "UPDATE audit_log SET details = '{\"i\": 99}' WHERE id = 3",
    "UPDATE audit_log SET at = at - INTERVAL '1 hour' WHERE id = 3",
    "DELETE FROM audit_log WHERE id = 3",
    "UPDATE audit_log SET hash = (CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END)"
    " || substr(hash, 2) WHERE id = 3",
])
def test_tampering_is_detected_at_the_changed_entry(store: Store, tamper: str) -> None:
    _fill(store)
    _drop_guards(store)
    if store.engine.dialect.name == "sqlite" and "INTERVAL" in tamper:
        tamper = "UPDATE audit_log SET at = datetime(at, '-1 hour') WHERE id = 3"
    if store.engine.dialect.name == "postgresql" and "details" in tamper:
        tamper = tamper.replace("'{\"i\": 99}'", "'{\"i\": 99}'::jsonb")
    with store._write() as conn:
        conn.execute(text(tamper))
    ok, bad = verify_chain(store)
    # a deleted entry is noticed at its successor; the others at the entry itself
    assert (ok, bad) == (False, 4 if tamper.startswith("DELETE") else 3)


def test_rewriting_the_chain_from_an_entry_on_is_detected_at_that_entry(store: Store) -> None:
    _fill(store)
    _drop_guards(store)
    rows = sorted(entries(store, 100), key=lambda r: r.id)
    r = rows[1]
    forged = entry_hash(r.id, r.at, "mallory", r.action, r.target, r.details, r.prev_hash)
    with store._write() as conn:  # recompute entry 2's own hash: entry 3's link breaks
        conn.execute(text("UPDATE audit_log SET actor = 'mallory', hash = :h WHERE id = 2"),
                     {"h": forged})
    assert verify_chain(store) == (False, 3)


def test_hashed_details_are_what_is_stored(store: Store) -> None:
    append(store, "a\x00b", "x.y", "t\ud800", {"k": "v\x00", "n": 1.5, "t": (1, 2)})
    assert verify_chain(store) == (True, None)
    e = entries(store, 1)[0]
    assert e.actor == "a\ufffdb" and e.details == {"k": "v\ufffd", "n": 1.5, "t": [1, 2]}


def test_user_store_and_audit_entries(store: Store) -> None:
    u = add_user(store, " Budi.S ", HASH, "analyst", actor="cli:root", display_name="Budi")
    assert u.username == "budi.s" and not u.disabled and u.created_at.tzinfo is not None
    with pytest.raises(UserExistsError):
        add_user(store, "BUDI.S", HASH, "viewer", actor="cli:root")
    for bad in ("", "a", "<script>", "budi s", "-x", "x" * 65):
        with pytest.raises(UserError):
            add_user(store, bad, HASH, "viewer", actor="cli:root")
    with pytest.raises(UserError, match="role"):
        add_user(store, "citra", HASH, "root", actor="cli:root")
    with pytest.raises(UserError, match="argon2"):
        add_user(store, "citra", "plaintext", "viewer", actor="cli:root")
    with pytest.raises(UserNotFoundError):
        set_role(store, "nobody", "viewer", actor="cli:root")
    assert set_role(store, "budi.s", "supervisor", actor="cli:root").role == "supervisor"
    assert get_user(store, "BUDI.S").role == "supervisor"
    assert [x.username for x in list_users(store)] == ["budi.s"]
    log = [(e.action, e.target, e.details) for e in entries(store)]
    assert log == [("user.set_role", "budi.s", {"from": "analyst", "to": "supervisor"}),
                   ("user.add", "budi.s", {"role": "analyst", "display_name": "Budi"})]
    assert verify_chain(store) == (True, None)


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    import threading

    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store(url).close()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        s = Store(url, migrate=False)
        try:
            for i in range(10):
                append(s, f"t{n}", "concurrent", str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = Store(url)
    assert head(s)[0] == 40 and verify_chain(s) == (True, None)
    s.close()


# -- CLI --------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _cli():
    import typer

    from patroli.cli_web import audit_app, serve, user_app

    app = typer.Typer()
    app.command()(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    return app


def test_cli_user_and_audit_commands(cli_db: str) -> None:
    runner = CliRunner()
    app = _cli()
    pw = "kata-sandi-yang-panjang\n"
    r = runner.invoke(app, ["user", "add", "Sari", "--role", "analyst", "--password-stdin",
                            "--display-name", "Sari W", "--db", cli_db], input=pw)
    assert r.exit_code == 0, r.output
    assert "added user sari (analyst)" in r.output
    r = runner.invoke(app, ["user", "add", "sari", "--role", "analyst", "--password-stdin",
                            "--db", cli_db], input=pw)
    assert r.exit_code == 2 and "exists already" in r.output
    r = runner.invoke(app, ["user", "add", "dodi", "--role", "analyst", "--password-stdin",
                            "--db", cli_db], input="short\n")
    assert r.exit_code == 2 and "10" in r.output
    r = runner.invoke(app, ["user", "add", "dodi", "--role", "god", "--password-stdin",
                            "--db", cli_db], input=pw)
    assert r.exit_code == 2 and "unknown role" in r.output
    # prompted password (hidden, confirmed)
    r = runner.invoke(app, ["user", "add", "eka", "--role", "viewer", "--db", cli_db],
                      input=pw + pw)
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["user", "set-role", "sari", "supervisor", "--db", cli_db]
                         ).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "eka", "--db", cli_db]).exit_code == 0
    r = runner.invoke(app, ["user", "disable", "nobody", "--db", cli_db])
    assert r.exit_code == 2 and "no user" in r.output
    r = runner.invoke(app, ["user", "list", "--db", cli_db])
    assert r.exit_code == 0 and "sari" in r.output and "supervisor" in r.output
    assert "yes" in r.output  # eka is disabled
    s = Store(cli_db)
    u = get_user(s, "sari")
    assert u.password_hash.startswith("$argon2id$") and "kata-sandi" not in u.password_hash
    assert PasswordService().verify(u.password_hash, "kata-sandi-yang-panjang")
    actions = [e.action for e in entries(s)]
    assert actions == ["user.disable", "user.set_role", "user.add", "user.add"]
    assert all(e.actor.startswith("cli:") for e in entries(s))
    r = runner.invoke(app, ["audit", "verify", "--db", cli_db])
    assert r.exit_code == 0 and "audit log OK: 4 entries" in r.output
    r = runner.invoke(app, ["audit", "list", "--json", "--db", cli_db])
    assert r.exit_code == 0 and r.output.count('"action"') == 4
    _drop_guards(s)
    with s._write() as conn:
        conn.execute(text("UPDATE audit_log SET target = 'x' WHERE id = 2"))
    s.close()
    r = runner.invoke(app, ["audit", "verify", "--db", cli_db])
    assert r.exit_code == 1 and "entry 2" in r.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_smoke(tmp_path: Path) -> None:
    """``serve`` answers on loopback (one real port, stopped at the end)."""
    import httpx

    port = _free_port()
    code = ("import typer, sys; from patroli.cli_web import serve; "
            "app = typer.Typer(); app.command()(serve); app.command('x')(lambda: None); "
            "app(sys.argv[1:])")
    env = {**os.environ, "PATROLI_SECRET_KEY": "k" * 40}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port),
         "--db", str(tmp_path / "serve.db")], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.TransportError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(err) from exc
                time.sleep(0.1)
        assert r.status_code == 200 and "Masuk" in r.text
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers
        # X-Forwarded-Proto is not believed without PATROLI_TRUST_PROXY=1
        r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2,
                      headers={"x-forwarded-proto": "https"})
        assert "Secure" not in r.headers["set-cookie"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

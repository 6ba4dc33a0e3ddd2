"""Command-line commands of the web application (issue 5).

Registered by ``patroli.cli``: ``app.command()(serve)``,
``app.add_typer(user_app, name="user")``, ``app.add_typer(audit_app, name="audit")``.

- ``patroli serve [--host 127.0.0.1] [--port 8000] [--db URL]``
- ``patroli user add USERNAME --role ROLE [--display-name N] [--password-stdin]``
  (the password is read from stdin or prompted; never taken from the command line),
  ``user list``, ``user disable USERNAME``, ``user enable USERNAME``,
  ``user set-role USERNAME ROLE``, ``user set-password USERNAME [--password-stdin]``
- ``patroli audit verify`` (exit 1 and the first bad entry's id when the chain is
  broken), ``patroli audit list [--limit N] [--json]``

Every change is written to the audit log with actor ``cli:<operating-system user>``.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from patroli.cli_common import DbOption, console, err_console, fail, open_store
from patroli.store.users import ROLES

__all__ = ["audit_app", "serve", "user_app"]

user_app = typer.Typer(help="Akun pengguna konsol / console user accounts.",
                       no_args_is_help=True)
audit_app = typer.Typer(help="Log audit berantai hash / hash-chained audit log.",
                        no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin",
                       help="Read the password from the first line of standard input.")]


_fail = fail
_store = open_store


def _actor() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no user name in the environment (containers)
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


def _read_password(password_stdin: bool) -> str:
    from patroli.web.security import PasswordPolicyError, check_password_policy

    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
    else:
        password = typer.prompt("Kata sandi / password", hide_input=True,
                                confirmation_prompt=True)
    try:
        check_password_policy(password)
    except PasswordPolicyError as exc:
        _fail(str(exc))
    return password


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8000,
    db: DbOption = None,
) -> None:
    """Jalankan konsol web / run the web console and portal (uvicorn)."""
    import uvicorn

    from patroli.web.app import create_app

    try:
        web_app = create_app(db)
    except ValueError as exc:
        _fail(str(exc))
    except Exception as exc:
        _fail(f"cannot open database: {str(exc).splitlines()[0]}")
    # Proxy headers are handled by the app itself (only with PATROLI_TRUST_PROXY=1).
    uvicorn.run(web_app, host=host, port=port, proxy_headers=False, server_header=False,
                log_level="info")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown.")] = "",
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Tambah pengguna / add a user (password prompted or from --password-stdin)."""
    from patroli.store.users import UserError, add_user
    from patroli.web.security import PasswordService

    if role not in ROLES:
        _fail(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    password = _read_password(password_stdin)
    store = _store(db)
    try:
        rec = add_user(store, username, PasswordService().hash(password), role,
                       actor=_actor(), display_name=display_name)
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(f"added user {rec.username} ({rec.role})")


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """Daftar pengguna / list users."""
    from patroli.store.users import list_users

    store = _store(db)
    try:
        rows = list_users(store)
    finally:
        store.close()
    table = Table("username", "role", "display name", "disabled", "created (UTC)",
                  "last login (UTC)")
    for u in rows:
        table.add_row(Text(u.username), u.role, Text(u.display_name), "yes" if u.disabled else "",
                      u.created_at.strftime("%Y-%m-%d %H:%M"),
                      u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "")
    console.print(table)


def _set_disabled(username: str, disabled: bool, db: str | None) -> None:
    from patroli.store.users import UserError, set_disabled

    store = _store(db)
    try:
        rec = set_disabled(store, username, disabled, actor=_actor())
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(f"{'disabled' if disabled else 'enabled'} user {rec.username}")


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Nonaktifkan pengguna / disable a user (their sessions stop working)."""
    _set_disabled(username, True, db)


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Aktifkan kembali pengguna / enable a disabled user."""
    _set_disabled(username, False, db)


@user_app.command("set-role")
def user_set_role(username: Annotated[str, typer.Argument()],
                  role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}.")],
                  db: DbOption = None) -> None:
    """Ubah peran pengguna / change a user's role."""
    from patroli.store.users import UserError, set_role

    store = _store(db)
    try:
        rec = set_role(store, username, role, actor=_actor())
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(f"user {rec.username} is now {rec.role}")


@user_app.command("set-password")
def user_set_password(username: Annotated[str, typer.Argument()],
                      password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Ganti kata sandi / set a user's password (ends their open sessions)."""
    from patroli.store.users import UserError, set_password_hash
    from patroli.web.security import PasswordService

    password = _read_password(password_stdin)
    store = _store(db)
    try:
        rec = set_password_hash(store, username, PasswordService().hash(password),
                                actor=_actor())
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    console.print(f"password of {rec.username} changed")


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Periksa rantai hash log audit / verify the audit log's hash chain.

    Exit 0 when every entry holds (prints the count and the head hash: keep it elsewhere
    to detect removal of the newest entries), 1 with the first bad entry's id otherwise.
    """
    from patroli.store.audit import head, verify_chain

    store = _store(db)
    try:
        ok, bad = verify_chain(store)
        n, digest = head(store)
    finally:
        store.close()
    if not ok:
        err_console.print(Text(
            f"patroli: audit log TAMPERED: entry {bad} does not match the chain",
            style="bold red"), soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"audit log OK: {n} entries; head hash {digest}")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="Entries to show, newest first.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    db: DbOption = None,
) -> None:
    """Tampilkan entri log audit / list audit-log entries (newest first, times UTC)."""
    from patroli.store.audit import entries

    store = _store(db)
    try:
        rows = entries(store, limit, actor=actor, action=action)
    finally:
        store.close()
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        return
    table = Table("id", "at (UTC)", "actor", "action", "target", "details")
    for r in rows:
        table.add_row(str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), Text(r.actor),
                      Text(r.action), Text(r.target),
                      Text(json.dumps(r.details, ensure_ascii=False, sort_keys=True)))
    console.print(table)

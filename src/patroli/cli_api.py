"""Command-line commands for REST API tokens (issue 5).

Registered by ``patroli.cli`` with ``app.add_typer(token_app, name="token")``.

- ``patroli token create NAME --scope SCOPE [--scope SCOPE ...]``: make a token and
  print it ONCE (the store keeps only its SHA-256); ``--scope all`` gives every scope.
- ``patroli token list [--json]``: every token (id, name, scopes, creator, dates,
  revoked or not); never the token itself.
- ``patroli token revoke ID``: revoke a token (it stops working at once).

Every change is written to the audit log with actor ``cli:<operating-system user>``.
Library functions: ``create_token`` (what ``token create`` calls).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from patroli.cli_web import DbOption, _actor, _fail, _store, console
from patroli.web.api import SCOPES, hash_token, new_token

if TYPE_CHECKING:
    from patroli.store import Store
    from patroli.store.users import ApiTokenRecord

__all__ = ["create_token", "token_app"]

token_app = typer.Typer(help="Token API / REST API tokens.", no_args_is_help=True)


def create_token(store: Store, name: str, scopes: list[str], *, actor: str,
                 ) -> tuple[str, ApiTokenRecord]:
    """Create an API token: returns (the token, to show once; its stored record).

    name: a label for people (1-200 characters after stripping).
    scopes: names from ``patroli.web.api.SCOPES`` (duplicates dropped, order kept);
        ``"all"`` stands for every scope.
    Raises ValueError for an empty name, no scope or an unknown scope.
    """
    from patroli.store.users import add_api_token

    label = name.strip()
    if not label or len(label) > 200:
        raise ValueError("token name must have 1 to 200 characters")
    wanted: list[str] = []
    for s in scopes:
        for part in (x.strip() for x in s.split(",")):
            if not part:
                continue
            for one in (SCOPES if part == "all" else (part,)):
                if one not in SCOPES:
                    raise ValueError(f"unknown scope {one!r}; use {', '.join(SCOPES)} or all")
                if one not in wanted:
                    wanted.append(one)
    if not wanted:
        raise ValueError(f"give at least one --scope ({', '.join(SCOPES)} or all)")
    token = new_token()
    rec = add_api_token(store, label, hash_token(token), wanted, actor=actor)
    return token, rec


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A label for the token, e.g. the partner.")],
    scope: Annotated[list[str], typer.Option(
        "--scope", help=f"Scope to grant (repeat or comma-separate): {', '.join(SCOPES)}, "
        "or all.")],
    db: DbOption = None,
) -> None:
    """Buat token API / create an API token (shown once: store it safely)."""
    store = _store(db)
    try:
        token, rec = create_token(store, name, scope, actor=_actor())
    except ValueError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"Token #{rec.id} '{rec.name}' ({', '.join(rec.scopes)}). Simpan sekarang; tidak "
        "akan ditampilkan lagi / store it now; it is not shown again:", err=True)
    typer.echo(token)


@token_app.command("list")
def token_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines output.")] = False,
    db: DbOption = None,
) -> None:
    """Daftar token API / list API tokens (never the tokens themselves)."""
    from patroli.store.users import list_api_tokens

    store = _store(db)
    try:
        recs = list_api_tokens(store)
    finally:
        store.close()
    if as_json:
        for r in recs:
            typer.echo(json.dumps({
                "id": r.id, "name": r.name, "scopes": r.scopes, "created_by": r.created_by,
                "created_at": r.created_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None},
                ensure_ascii=False))
        return
    table = Table("id", "name", "scopes", "created by", "created (UTC)", "last used",
                  "status")
    for r in recs:
        table.add_row(str(r.id), r.name, ", ".join(r.scopes), r.created_by,
                      r.created_at.strftime("%Y-%m-%d %H:%M"),
                      r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "—",
                      "dicabut / revoked" if r.revoked_at else "aktif / active")
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")],
    db: DbOption = None,
) -> None:
    """Cabut token API / revoke an API token (it stops working at once)."""
    from patroli.store.users import UserNotFoundError, revoke_api_token

    store = _store(db)
    try:
        revoke_api_token(store, token_id, actor=_actor())
    except UserNotFoundError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"Token #{token_id} dicabut / revoked.", err=True)

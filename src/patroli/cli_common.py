"""What every command module shares: consoles, the ``--db`` option, one-line failures.

``fail(message)`` prints ``patroli: error: <message>`` on stderr as plain text (never
as Rich markup: messages carry paths and input) and exits with code 2; ``open_store(db)``
opens ``patroli.store.Store`` or fails with one line.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file (default: $PATROLI_DATABASE_URL, "
                 "else ./patroli.db)."),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error to stderr and exit with ``code`` (default 2)."""
    err_console.print(Text(f"patroli: error: {message}", style="bold red"), soft_wrap=True)
    raise typer.Exit(code)


def open_store(db: str | None) -> Any:
    """``patroli.store.Store(db)``; a bad URL or an unreachable server fails in one line."""
    from patroli.store import Store

    try:
        return Store(db)
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line, exit 2
        fail(f"cannot open database: {str(exc).splitlines()[0] if str(exc) else exc!r}")

"""Alembic environment of ``patroli.store`` (programmatic; no alembic.ini needed).

``Store.migrate()`` passes an open connection in ``config.attributes["connection"]``.
Without one (e.g. ``alembic`` run by hand with ``-x url=...`` or ``sqlalchemy.url``),
the URL comes from ``patroli.store.database_url()``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from patroli.store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from patroli.store import database_url

    x_url = context.get_x_argument(as_dictionary=True).get("url")
    return database_url(x_url or config.get_main_option("sqlalchemy.url") or None)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the passed connection, or a new engine on ``database_url()``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

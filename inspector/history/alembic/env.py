"""Alembic's environment for the history store.

The store runs it (`inspector.history.migrations`) with its open connection in
`config.attributes["connection"]`, inside the transaction the store began: no alembic.ini, no URL.
For development (`alembic revision --autogenerate`), `migrations.alembic_config(db)` gives a Config
whose `sqlalchemy.url` this file connects to. SQLite alters tables in batch mode (copy and move),
since it has almost no ALTER TABLE.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from inspector.history.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("the history store's migrations run on a connection, not as an SQL script")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from inspector.history.database import engine_for
    from inspector.history.location import parse_db

    engine = engine_for(parse_db(context.config.get_main_option("sqlalchemy.url") or ""), create=True)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


run_migrations()

"""Alembic environment of the RexNet ledger.

RexNet runs migrations programmatically (:func:`rexnet.store.migrate.upgrade_connection`) and hands
over an open SQLAlchemy connection in ``config.attributes["connection"]``; the migration then runs
inside the caller's transaction. For ad-hoc use of the ``alembic`` command a
``sqlalchemy.url`` main option is honoured as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from rexnet.store.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("rexnet migrations need a connection in config.attributes or sqlalchemy.url")
    from rexnet.store.database import create_engine_for  # late: only for the alembic command line

    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported: run `rexnet db upgrade`")
run_migrations_online()

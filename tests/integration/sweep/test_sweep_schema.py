"""Migration 0004 creates exactly the sweep tables of rexnet.sweep.tables (SQLite and PostgreSQL),
and a ledger left at an older head gets them on first use by a sweep."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rexnet.store import open_store
from rexnet.store.database import create_engine_for
from rexnet.store.migrate import alembic_config, current_revision, head_revision
from rexnet.sweep.ledger import SweepLedger
from rexnet.sweep.tables import metadata

TABLES = {"sweeps", "sweep_runs"}


def test_migration_matches_the_sweep_metadata(db_url):
    open_store(db_url).close()
    engine = create_engine_for(db_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()  # 0004 or later
            assert TABLES <= set(sa.inspect(conn).get_table_names())
            # the sweep tables are part of the ledger's metadata: compare all of it
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_older_ledger_gets_the_tables(db_url):
    engine = create_engine_for(db_url)
    try:
        with engine.connect().execution_options(rexnet_write=True) as conn, conn.begin():
            command.upgrade(alembic_config(conn), "0003")
        SweepLedger(engine)  # what every sweep command does first
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()  # 0004 or later
            assert TABLES <= set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()

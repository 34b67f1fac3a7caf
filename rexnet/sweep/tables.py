"""The sweep tables, ``sweeps`` and ``sweep_runs``, as SQLAlchemy Core metadata.

They live in the main ledger database (``--db``) next to ``runs``; migration
``migrations/versions/0004_sweeps.py`` creates them (this metadata is what it must produce).

* ``sweeps``: one row per sweep name: its id, the canonical spec (base scenario record, grid, set,
  seeds, units) and when it was first run.
* ``sweep_runs``: one row per grid point and seed: the point's values, the run that holds its
  history (``run_id``; ``db_url`` NULL means this database, else the SQLite file of that run),
  the status (``pending``, ``running``, ``completed``, ``failed``), why it failed, how often it
  was submitted, its head hash and its summary (JSON) once completed.

Unlike ``runs`` and ``event_log`` these rows are bookkeeping, not history: a status moves on when
a run is redone. Nothing here is ever deleted by RexNet.
"""

from __future__ import annotations

import sqlalchemy as sa

from rexnet.errors import StoreError
from rexnet.store.database import translated
from rexnet.store.schema import SWEEP_RUN_STATUSES, metadata, sweep_runs, sweeps

# The tables belong to the ledger's schema (rexnet.store.schema, checked against the migrations
# there); they are re-exported here for the sweep code.
__all__ = ["SWEEP_RUN_STATUSES", "metadata", "sweep_runs", "sweeps", "ensure_schema"]

#: Same key as :mod:`rexnet.store.migrate`'s lock: one migrator at a time per database.
_PG_LOCK_KEY = 0x5245584E4554


def ensure_schema(engine: sa.Engine) -> None:
    """Create the sweep tables if the database lacks them (by migrating to the newest script).

    ``open_store`` migrates only when the database is behind the revision the store package
    names as head; until that names 0004 a ledger at the older head is brought up here.
    """
    with translated(engine.url, "cannot read the sweep tables"), engine.connect() as conn:
        present = sa.inspect(conn).has_table("sweep_runs")
    if present:
        return
    from alembic import command

    from rexnet.store.migrate import alembic_config

    with translated(engine.url, "cannot create the sweep tables"):
        with engine.connect().execution_options(rexnet_write=True) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            if not sa.inspect(conn).has_table("sweep_runs"):
                command.upgrade(alembic_config(conn), "head")
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("sweep_runs"):
            raise StoreError("the sweep tables are missing after migrating (migration 0004_sweeps absent?)")

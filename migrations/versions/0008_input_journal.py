"""The input journal of ingest runs: ``input_journal``, append-only and hash-chained.

Revision ID: 0008
Revises: 0007

``rexnet ingest`` used to embed the whole parsed command list in ``run_started`` (50 MB for a
million commands, beyond PostgreSQL's limit for one value at ten million). From this revision on
the commands are stored here, in chunks of consecutive commands (``body``: a compact JSON array of
``[op, field, ...]`` rows), each chunk's ``hash`` chained from the previous chunk's. The run's
``run_started`` record holds the head hash and the number of chunks and commands, and is itself
in the event chain: the journal is tamper-evident through it.

Like the event log, the journal is guarded by the database, on SQLite and PostgreSQL:

* no UPDATE, no DELETE (and no TRUNCATE on PostgreSQL): a journal is never changed;
* no row of a run that does not exist (SQLite enforces the foreign key only on connections that
  ask for it; the trigger holds on every connection);
* chunks are appended densely, in order: the first chunk of a run is 0, every next one is the
  run's highest plus one;
* no chunk once the run's log is closed by ``run_completed``.

On SQLite these are row triggers (one primary-key lookup in ``runs``, one seek to the end of the
run's chunks and of its events); on PostgreSQL one check per statement over its new rows (a
writer's batch of chunks is one ``COPY``), as migration 0005 does for the event log.

The SQL is written out here (a migration is history: it never imports live code).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANGE_MESSAGE = "input_journal is append-only: the inputs of a run cannot be changed"
NO_RUN_MESSAGE = "input_journal: no such run (a chunk must belong to an existing run)"
ORDER_MESSAGE = "input_journal is append-only: the chunks of a run are appended in order"
CLOSED_MESSAGE = "input_journal is append-only: the inputs of a run are closed after run_completed"


def upgrade() -> None:
    op.create_table(
        "input_journal",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("chunk", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("first_line", sa.BigInteger, nullable=False),
        sa.Column("commands", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_input_journal_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "chunk", name="pk_input_journal"),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _sqlite() -> None:
    op.execute(
        f"CREATE TRIGGER input_journal_no_update BEFORE UPDATE ON input_journal "
        f"BEGIN SELECT RAISE(ABORT, '{CHANGE_MESSAGE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER input_journal_no_delete BEFORE DELETE ON input_journal "
        f"BEGIN SELECT RAISE(ABORT, '{CHANGE_MESSAGE}'); END"
    )
    op.execute(
        f"""
        CREATE TRIGGER input_journal_append_guard BEFORE INSERT ON input_journal
        BEGIN
            SELECT CASE
                WHEN NOT EXISTS (SELECT 1 FROM runs WHERE run_id = NEW.run_id)
                    THEN RAISE(ABORT, '{NO_RUN_MESSAGE}')
                WHEN NEW.chunk <> coalesce(
                        (SELECT chunk FROM input_journal WHERE run_id = NEW.run_id
                         ORDER BY chunk DESC LIMIT 1) + 1, 0)
                    THEN RAISE(ABORT, '{ORDER_MESSAGE}')
                WHEN (SELECT type FROM event_log WHERE run_id = NEW.run_id
                      ORDER BY seq DESC LIMIT 1) = 'run_completed'
                    THEN RAISE(ABORT, '{CLOSED_MESSAGE}')
            END;
        END
        """
    )


def _postgresql() -> None:
    # restrict_violation (SQLSTATE 23001) is an integrity error class, as in 0001 and 0005.
    op.execute(
        f"""
        CREATE FUNCTION rexnet_input_journal_no_change() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            RAISE EXCEPTION '{CHANGE_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER input_journal_no_change BEFORE UPDATE OR DELETE ON input_journal "
        "FOR EACH ROW EXECUTE FUNCTION rexnet_input_journal_no_change()"
    )
    op.execute(
        "CREATE TRIGGER input_journal_no_truncate BEFORE TRUNCATE ON input_journal "
        "FOR EACH STATEMENT EXECUTE FUNCTION rexnet_input_journal_no_change()"
    )
    op.execute(
        f"""
        CREATE FUNCTION rexnet_input_journal_append_guard() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            -- per run of the statement's rows: dense chunks right after the run's older ones
            IF EXISTS (
                SELECT 1 FROM (
                    SELECT run_id, min(chunk) AS lo, max(chunk) AS hi, count(*) AS n
                    FROM new_rows GROUP BY run_id
                ) AS batch
                WHERE batch.hi - batch.lo + 1 <> batch.n
                   OR batch.lo <> coalesce((SELECT max(chunk) FROM input_journal AS j
                                            WHERE j.run_id = batch.run_id AND j.chunk < batch.lo), -1) + 1
                   OR EXISTS (SELECT 1 FROM input_journal AS j
                              WHERE j.run_id = batch.run_id AND j.chunk > batch.hi)
            ) THEN
                RAISE EXCEPTION '{ORDER_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            IF EXISTS (
                SELECT 1 FROM (SELECT DISTINCT run_id FROM new_rows) AS batch
                WHERE (SELECT type FROM event_log AS e WHERE e.run_id = batch.run_id
                       ORDER BY e.seq DESC LIMIT 1) = 'run_completed'
            ) THEN
                RAISE EXCEPTION '{CLOSED_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER input_journal_append_guard AFTER INSERT ON input_journal "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION rexnet_input_journal_append_guard()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS input_journal_append_guard ON input_journal")
        op.execute("DROP TRIGGER IF EXISTS input_journal_no_change ON input_journal")
        op.execute("DROP TRIGGER IF EXISTS input_journal_no_truncate ON input_journal")
        op.execute("DROP FUNCTION IF EXISTS rexnet_input_journal_append_guard()")
        op.execute("DROP FUNCTION IF EXISTS rexnet_input_journal_no_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS input_journal_append_guard")
        op.execute("DROP TRIGGER IF EXISTS input_journal_no_update")
        op.execute("DROP TRIGGER IF EXISTS input_journal_no_delete")
    op.drop_table("input_journal")

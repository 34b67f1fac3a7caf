"""Tamper guards on appends: nothing after ``run_completed``, no rows of unknown runs, seq order.

Revision ID: 0005
Revises: 0004

0001 refuses changing or deleting events, but an INSERT was free: anyone with write access could
append a chained ``trade`` after a run's ``run_completed`` and move the head forward (which the
head trigger allows), or add rows under a run id that does not exist. From this revision on the
database refuses, for rows inserted into ``event_log``:

* a row whose run does not exist. The foreign key of 0001 says so already, but SQLite enforces
  foreign keys only on connections that ask for them (``PRAGMA foreign_keys``); a trigger holds
  on every connection. (PostgreSQL always enforces the key.)
* a row after the run's ``run_completed``: a completed log is closed for good;
* a row out of order: a negative seq, or a seq below the run's highest. Honest writers append
  each run's events densely, in seq order, so a gap is never theirs to fill.

and, for an UPDATE of ``runs``, moving the head of a run whose log ends with ``run_completed``.

Appends are the ledger's hot loop, so the checks are shaped for it. On SQLite (row triggers
only) a row costs one primary-key lookup in ``runs`` and one seek to the end of the run's
``(run_id, seq)`` range. On PostgreSQL the check runs once per statement (a writer's batch is one
``COPY``) over the statement's new rows (a transition table): per run, the new seqs must be
dense and above every older row, and neither the row before them nor any but the last of them
may be ``run_completed``.

Someone who can drop triggers (SQLite) or set ``session_replication_role = replica``
(PostgreSQL) gets past all of this; ``rexnet audit`` and the keyed digests of ``rexnet digest``
answer that attacker (README, "Threat model").

The SQL is written out here (a migration is history: it never imports live code).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NO_RUN_MESSAGE = "event_log: no such run (an event must belong to an existing run)"
CLOSED_MESSAGE = "events are append-only: the log of a run is closed after run_completed"
ORDER_MESSAGE = "events are append-only: the events of a run are appended in seq order"
HEAD_MESSAGE = "runs: the head of a completed run cannot move"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _sqlite() -> None:
    # one statement (RAISE inside CASE), and the run's last row sought once per insert
    op.execute(
        f"""
        CREATE TRIGGER event_log_append_guard BEFORE INSERT ON event_log
        BEGIN
            SELECT CASE
                WHEN NOT EXISTS (SELECT 1 FROM runs WHERE run_id = NEW.run_id)
                    THEN RAISE(ABORT, '{NO_RUN_MESSAGE}')
                WHEN NEW.seq < 0 THEN RAISE(ABORT, '{ORDER_MESSAGE}')
                ELSE (
                    SELECT CASE
                        WHEN type = 'run_completed' THEN RAISE(ABORT, '{CLOSED_MESSAGE}')
                        WHEN seq > NEW.seq THEN RAISE(ABORT, '{ORDER_MESSAGE}')
                    END
                    FROM event_log WHERE run_id = NEW.run_id ORDER BY seq DESC LIMIT 1
                )
            END;
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER runs_completed_head BEFORE UPDATE OF head_seq, head_hash, events ON runs
        WHEN (NEW.head_seq IS NOT OLD.head_seq OR NEW.head_hash IS NOT OLD.head_hash
              OR NEW.events IS NOT OLD.events)
             AND (SELECT type FROM event_log WHERE run_id = OLD.run_id
                  ORDER BY seq DESC LIMIT 1) = 'run_completed'
        BEGIN
            SELECT RAISE(ABORT, '{HEAD_MESSAGE}');
        END
        """
    )


def _postgresql() -> None:
    # restrict_violation (SQLSTATE 23001) is an integrity error class, as in 0001.
    op.execute(
        f"""
        CREATE FUNCTION rexnet_event_log_append_guard() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            -- per run of the statement's rows: its first and last new seq, their number, and
            -- the first new run_completed
            IF EXISTS (
                SELECT 1 FROM (
                    SELECT run_id, min(seq) AS lo, max(seq) AS hi,
                           min(seq) FILTER (WHERE type = 'run_completed') AS closing
                    FROM new_rows GROUP BY run_id
                ) AS batch
                WHERE batch.closing < batch.hi
                   OR (SELECT type FROM event_log AS e WHERE e.run_id = batch.run_id AND e.seq < batch.lo
                       ORDER BY e.seq DESC LIMIT 1) = 'run_completed'
            ) THEN
                RAISE EXCEPTION '{CLOSED_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            IF EXISTS (
                SELECT 1 FROM (
                    SELECT run_id, min(seq) AS lo, max(seq) AS hi, count(*) AS n
                    FROM new_rows GROUP BY run_id
                ) AS batch
                WHERE batch.lo < 0 OR batch.hi - batch.lo + 1 <> batch.n
                   OR (SELECT max(seq) FROM event_log AS e WHERE e.run_id = batch.run_id) > batch.hi
            ) THEN
                RAISE EXCEPTION '{ORDER_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER event_log_append_guard AFTER INSERT ON event_log "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION rexnet_event_log_append_guard()"
    )
    op.execute(
        f"""
        CREATE FUNCTION rexnet_runs_completed_head() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF (NEW.head_seq, NEW.head_hash, NEW.events) IS DISTINCT FROM
               (OLD.head_seq, OLD.head_hash, OLD.events)
               AND (SELECT type FROM event_log WHERE run_id = OLD.run_id
                    ORDER BY seq DESC LIMIT 1) = 'run_completed' THEN
                RAISE EXCEPTION '{HEAD_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER runs_completed_head BEFORE UPDATE ON runs "
        "FOR EACH ROW EXECUTE FUNCTION rexnet_runs_completed_head()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_log_append_guard ON event_log")
        op.execute("DROP TRIGGER IF EXISTS runs_completed_head ON runs")
        op.execute("DROP FUNCTION IF EXISTS rexnet_event_log_append_guard()")
        op.execute("DROP FUNCTION IF EXISTS rexnet_runs_completed_head()")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_log_append_guard")
        op.execute("DROP TRIGGER IF EXISTS runs_completed_head")

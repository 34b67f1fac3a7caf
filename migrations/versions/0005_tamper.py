"""Tamper guards on appends: nothing after ``run_completed``, no rows of unknown runs, seq order.

Revision ID: 0005
Revises: 0004

0001 refuses changing or deleting events, but an INSERT was free: anyone with write access could
append a chained ``trade`` after a run's ``run_completed`` and move the head forward (which the
head trigger allows), or add rows under a run id that does not exist. From this revision on the
database refuses, for every row inserted into ``event_log``:

* a row whose run does not exist. The foreign key of 0001 says so already, but SQLite enforces
  foreign keys only on connections that ask for them (``PRAGMA foreign_keys``); a trigger holds
  on every connection. (PostgreSQL always enforces the key, so it needs no trigger for this.)
* a row after the run's ``run_completed`` (a completed log is closed for good), and a row whose
  seq is below the run's highest (events are appended in seq order; honest writers never leave a
  gap to fill later).

and, for an UPDATE of ``runs``, moving the head of a run whose log ends with ``run_completed``.

Each check is one primary-key lookup (the run's last row is the end of its ``(run_id, seq)``
range), so an append stays linear in the number of rows. Someone who can drop triggers (SQLite)
or set ``session_replication_role = replica`` (PostgreSQL) gets past all of this; ``rexnet
audit`` and the keyed digests of ``rexnet digest`` are the answer to that attacker (README,
"Threat model").

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

#: the run's last stored row (``NEW`` is the row being inserted or the runs row being updated)
_LAST = "SELECT seq, type FROM event_log WHERE run_id = NEW.run_id ORDER BY seq DESC LIMIT 1"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _sqlite() -> None:
    op.execute(
        f"""
        CREATE TRIGGER event_log_append_guard BEFORE INSERT ON event_log
        BEGIN
            SELECT RAISE(ABORT, '{NO_RUN_MESSAGE}')
            WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = NEW.run_id);
            SELECT RAISE(ABORT, '{CLOSED_MESSAGE}')
            FROM ({_LAST}) AS last WHERE last.type = 'run_completed';
            SELECT RAISE(ABORT, '{ORDER_MESSAGE}')
            FROM ({_LAST}) AS last WHERE last.seq > NEW.seq;
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER runs_completed_head BEFORE UPDATE OF head_seq, head_hash, events ON runs
        WHEN (NEW.head_seq IS NOT OLD.head_seq OR NEW.head_hash IS NOT OLD.head_hash
              OR NEW.events IS NOT OLD.events)
             AND EXISTS (SELECT 1 FROM ({_LAST}) AS last WHERE last.type = 'run_completed')
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
        DECLARE
            last_seq bigint;
            last_type text;
        BEGIN
            SELECT seq, type INTO last_seq, last_type FROM event_log
            WHERE run_id = NEW.run_id ORDER BY seq DESC LIMIT 1;
            IF last_type = 'run_completed' THEN
                RAISE EXCEPTION '{CLOSED_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            IF last_seq > NEW.seq THEN
                RAISE EXCEPTION '{ORDER_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER event_log_append_guard BEFORE INSERT ON event_log "
        "FOR EACH ROW EXECUTE FUNCTION rexnet_event_log_append_guard()"
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

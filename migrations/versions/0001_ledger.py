"""The ledger: ``runs`` and the append-only ``events`` table, guarded by triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Append-only is enforced by the database, not by convention: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL) of ``events``, DELETE of ``runs``, any change of a run's settled
facts, and a head that moves backwards. Only ``name``, ``status`` and the head (``head_seq``,
``head_hash``, ``events``) of a run may change, and the head only forwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EVENTS_MESSAGE = "events are append-only: history cannot be changed"
RUN_DELETE_MESSAGE = "runs are permanent: a run cannot be deleted"
RUN_FACTS_MESSAGE = "runs: the settled facts of a run cannot be changed (only name, status and head may)"
RUN_HEAD_MESSAGE = "runs: the head of a run can only move forward"

#: Columns of ``runs`` fixed at creation (``name`` stays mutable: a label, not a fact).
SETTLED = (
    "run_id",
    "parent_run_id",
    "fork_seq",
    "scenario",
    "seed",
    "code_version",
    "market",
    "price_scale",
    "qty_scale",
    "money_scale",
    "created_at",
)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("parent_run_id", sa.Text, nullable=True),
        sa.Column("fork_seq", sa.BigInteger, nullable=True),
        sa.Column("scenario", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("code_version", sa.Text, nullable=False),
        sa.Column("market", sa.Text, nullable=False),
        sa.Column("price_scale", sa.Text, nullable=False),
        sa.Column("qty_scale", sa.Text, nullable=False),
        sa.Column("money_scale", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.LargeBinary, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
        sa.ForeignKeyConstraint(["parent_run_id"], ["runs.run_id"], name="fk_runs_parent_run_id_runs"),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name="ck_runs_status"),
        sa.CheckConstraint("(parent_run_id IS NULL) = (fork_seq IS NULL)", name="ck_runs_fork"),
    )
    op.create_index("ix_runs_name", "runs", ["name"], unique=True)
    op.create_table(
        "events",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("t_ms", sa.BigInteger, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_events_run_id_runs"),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _changed(columns: tuple[str, ...], *, op_: str) -> str:
    return " OR ".join(f"NEW.{c} {op_} OLD.{c}" for c in columns)


def _sqlite_triggers() -> None:
    def refuse(name: str, when: str, message: str, condition: str | None = None) -> None:
        where = f" WHEN {condition}" if condition else ""
        op.execute(f"CREATE TRIGGER {name} BEFORE {when}{where} BEGIN SELECT RAISE(ABORT, '{message}'); END")

    refuse("events_no_update", "UPDATE ON events", EVENTS_MESSAGE)
    refuse("events_no_delete", "DELETE ON events", EVENTS_MESSAGE)
    refuse("runs_no_delete", "DELETE ON runs", RUN_DELETE_MESSAGE)
    refuse("runs_settled_facts", "UPDATE ON runs", RUN_FACTS_MESSAGE, _changed(SETTLED, op_="IS NOT"))
    refuse(
        "runs_head_forward",
        "UPDATE ON runs",
        RUN_HEAD_MESSAGE,
        "NEW.head_seq < OLD.head_seq OR NEW.events < OLD.events OR (NEW.head_seq = OLD.head_seq"
        " AND (NEW.head_hash IS NOT OLD.head_hash OR NEW.events IS NOT OLD.events))",
    )


def _postgresql_triggers() -> None:
    # restrict_violation (SQLSTATE 23001) is an integrity error class, so drivers report it as such.
    op.execute(
        f"""
        CREATE FUNCTION rexnet_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            RAISE EXCEPTION '{EVENTS_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION rexnet_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION rexnet_events_append_only()"
    )
    op.execute(
        f"""
        CREATE FUNCTION rexnet_runs_guard() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                RAISE EXCEPTION '{RUN_DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            IF {_changed(SETTLED, op_="IS DISTINCT FROM")} THEN
                RAISE EXCEPTION '{RUN_FACTS_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            IF NEW.head_seq < OLD.head_seq OR NEW.events < OLD.events OR (NEW.head_seq = OLD.head_seq
               AND (NEW.head_hash IS DISTINCT FROM OLD.head_hash OR NEW.events <> OLD.events)) THEN
                RAISE EXCEPTION '{RUN_HEAD_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $body$
        """
    )
    op.execute(
        "CREATE TRIGGER runs_guard BEFORE UPDATE OR DELETE ON runs "
        "FOR EACH ROW EXECUTE FUNCTION rexnet_runs_guard()"
    )
    op.execute(
        "CREATE TRIGGER runs_no_truncate BEFORE TRUNCATE ON runs "
        "FOR EACH STATEMENT EXECUTE FUNCTION rexnet_runs_guard()"
    )


def downgrade() -> None:
    # Dropping the ledger destroys history; it exists for development databases only.
    op.drop_table("events")
    op.drop_index("ix_runs_name", table_name="runs")
    op.drop_table("runs")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rexnet_events_append_only()")
        op.execute("DROP FUNCTION IF EXISTS rexnet_runs_guard()")

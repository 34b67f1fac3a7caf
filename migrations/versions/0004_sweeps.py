"""Parameter sweeps: ``sweeps`` and ``sweep_runs`` (see :mod:`rexnet.sweep.schema`).

Revision ID: 0004
Revises: 0003

A sweep records its grid and the status of each of its runs in the main ledger database, so a
re-run skips what is complete and redoes what is not. These are bookkeeping rows (a run's
status moves on when it is redone); the runs' histories stay in ``runs`` / ``event_log``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("sweep_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", name="pk_sweeps"),
    )
    op.create_index("ix_sweeps_name", "sweeps", ["name"], unique=True)
    op.create_table(
        "sweep_runs",
        sa.Column("sweep_id", sa.Text, nullable=False),
        sa.Column("point_key", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("point_index", sa.Integer, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("db_url", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.Text, nullable=True),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", "point_key", "seed", name="pk_sweep_runs"),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweeps.sweep_id"], name="fk_sweep_runs_sweep_id_sweeps"),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed')", name="ck_sweep_runs_status"
        ),
    )


def downgrade() -> None:
    op.drop_table("sweep_runs")
    op.drop_index("ix_sweeps_name", table_name="sweeps")
    op.drop_table("sweeps")

"""Persisted snapshots of the market state: ``snapshots``.

Revision ID: 0009
Revises: 0008

As-of reads (``rexnet book --time``, ``accounts``, the book replay of ``rexnet serve``) fold the
log from seq 0, which on a run of millions of events takes tens of seconds. From this revision the
writers of runs (``run``, ``ingest``, ``fork``, ``resume``) also store the fold's state every so
many events, and ``rexnet snapshot`` adds them to runs recorded before; reads start from the
nearest one at or before their point.

A row is a cache, not history: the run, the seq of the event after which the state holds, that
event's time and chain hash, the format of the state, the state itself (compressed JSON of plain
values, never a pickle) and a sha256 digest of all of them. A read uses a snapshot only when its
digest matches and the log still has that hash at that seq; ``rexnet audit`` re-derives every one.

The SQL is written out here (a migration is history: it never imports live code).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("t_ms", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_snapshots_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")

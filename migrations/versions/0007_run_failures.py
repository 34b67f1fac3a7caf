"""Why a run failed: ``runs.failure``.

Revision ID: 0007
Revises: 0006

A run that stops after its input was accepted (an interruption, a database error, a number out of
range) is marked ``failed``; this column keeps the one-line reason beside the status, so
``rexnet runs`` and SQL users see it after the process that hit it is gone. NULL for every run that
did not fail (and for runs that failed before this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.add_column(sa.Column("failure", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.drop_column("failure")

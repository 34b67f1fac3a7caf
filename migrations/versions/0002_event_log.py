"""Rename the ``events`` table to ``event_log`` so that ``events`` can be the full-history view.

A forked run stores only its own events; its history is its parent's prefix plus those. Users'
SQL reads ``events`` (DESIGN.md section 8), so from 0003 on ``events`` is a view that stitches
each run's ancestors in, over the physical log kept here. The append-only triggers follow the
table on both backends (SQLite rewrites trigger references on rename; PostgreSQL binds triggers
to the table, not its name).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("events", "event_log")


def downgrade() -> None:
    op.rename_table("event_log", "events")

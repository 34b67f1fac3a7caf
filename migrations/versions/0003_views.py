"""SQL views of the event catalogue in the ledger itself, including the full-history ``events`` view.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

After 0002 the stored rows live in ``event_log``. This revision creates, for ``sqlite3`` and
``psql`` users, the views of :mod:`rexnet.analytics.catalogue` (``run_markets``,
``event_history``, ``events``, ``orders``, ``trades``, ``order_updates``, ``rejections``,
``gate_closures``, ``reservations``, ``realizations``, ``settlements``, ``unit_prices``,
``imbalance``) in display units. ``events`` shows each run's *full* history: a fork inherits its
ancestors' events up to its fork point.

INSTEAD OF triggers keep ``UPDATE events`` / ``DELETE FROM events`` refused with the message the
table's triggers used to give. (Like any row trigger they fire per affected row: a statement that
matches no row changes nothing and raises nothing.)

The view text comes from the catalogue module so the ledger's views, the DuckDB session's views
and the tests share one definition. A later change of the catalogue needs its own migration that
re-creates the views (``catalogue.drop_statements()`` then ``create_statements()``).
"""

from __future__ import annotations

from alembic import op

from rexnet.analytics.catalogue import APPEND_ONLY_MESSAGE, Dialect, create_statements, drop_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in create_statements(Dialect(dialect)):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION rexnet_events_view_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END
            $body$
            """
        )
        op.execute(
            "CREATE TRIGGER events_view_append_only INSTEAD OF UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION rexnet_events_view_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_view_no_{action.lower()} INSTEAD OF {action} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    # the triggers go with the events view
    for statement in drop_statements():
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rexnet_events_view_append_only()")

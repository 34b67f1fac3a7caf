"""Migrations: an empty database reaches head on SQLite and PostgreSQL, the migrated schema equals
the store's SQLAlchemy metadata (autogenerate finds no difference), and upgrading is idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rexnet.store import open_store, upgrade
from rexnet.store.database import create_engine_for
from rexnet.store.migrate import HEAD, alembic_config, current_revision, head_revision, migrations_dir
from rexnet.store.schema import metadata

TRIGGERS = {
    "sqlite": {
        "events_no_update",
        "events_no_delete",
        "runs_no_delete",
        "runs_settled_facts",
        "runs_head_forward",
        "events_view_no_update",
        "events_view_no_delete",
        "event_log_append_guard",
        "runs_completed_head",
        "input_journal_no_update",
        "input_journal_no_delete",
        "input_journal_append_guard",
    },
    "postgresql": {
        "events_append_only",
        "events_no_truncate",
        "runs_guard",
        "runs_no_truncate",
        "events_view_append_only",
        "event_log_append_guard",
        "runs_completed_head",
        "input_journal_no_change",
        "input_journal_no_truncate",
        "input_journal_append_guard",
    },
}


def triggers(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {row[0] for row in conn.exec_driver_sql(sql)}


def test_head_constant_matches_the_scripts():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


def test_migrations_ship_with_the_package():
    assert (migrations_dir() / "env.py").is_file()
    assert (migrations_dir() / "versions" / "0001_ledger.py").is_file()


def test_empty_database_to_head(db_url):
    assert upgrade(db_url) == (None, head_revision())
    engine = create_engine_for(db_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert {"runs", "event_log"} <= set(sa.inspect(conn).get_table_names())
            assert triggers(conn) == TRIGGERS[conn.dialect.name]
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_metadata(db_url):
    upgrade(db_url)
    engine = create_engine_for(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url):
    with open_store(db_url) as store:  # first use migrates implicitly
        run = store.create_run(name="keep", scenario={}, seed=1, code_version="t", market={})
    for _ in range(2):
        assert upgrade(db_url) == (head_revision(), head_revision())
        with open_store(db_url) as store:
            assert [r.run_id for r in store.list_runs()] == [run.run_id]


def test_downgrade_to_base_and_back(db_url):
    upgrade(db_url)
    engine = create_engine_for(db_url)
    try:
        with engine.connect().execution_options(rexnet_write=True) as conn, conn.begin():
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert current_revision(conn) is None
            assert not {"runs", "event_log"} & set(sa.inspect(conn).get_table_names())
            assert triggers(conn) == set()
    finally:
        engine.dispose()
    assert upgrade(db_url) == (None, head_revision())


def test_events_table_is_clustered_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'event_log'").scalar()
    finally:
        engine.dispose()
    assert "WITHOUT ROWID" in sql

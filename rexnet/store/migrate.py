"""Schema migrations: find the Alembic scripts, upgrade to head, refuse a schema that is too new.

The scripts ship inside the package as ``rexnet._migrations`` (the repository's top-level
``migrations/`` folder, mapped by ``pyproject.toml``). Upgrades run programmatically on a
connection the caller owns, inside its transaction; on PostgreSQL an advisory lock serialises
concurrent first uses (many simulation workers opening one ledger at once).

Alembic is imported only when a migration actually runs: opening an up-to-date database costs one
query against ``alembic_version`` (:data:`HEAD` is checked against the scripts by a test).
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from rexnet.errors import SchemaTooNew

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

#: The newest revision in ``migrations/versions`` (kept in step by ``tests/integration/test_migrations.py``).
HEAD = "0009"

#: Arbitrary constant key of the PostgreSQL advisory lock taken while migrating.
_PG_LOCK_KEY = 0x5245584E4554  # "REXNET"


@functools.cache
def migrations_dir() -> Path:
    """The folder of the Alembic environment (``env.py``, ``versions/``)."""
    try:
        path = Path(str(importlib.resources.files("rexnet._migrations")))
    except ModuleNotFoundError:
        # A source checkout whose (editable) install does not map rexnet._migrations.
        path = Path(__file__).resolve().parents[2] / "migrations"
    return path


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at RexNet's migrations, carrying ``connection`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    return HEAD


def current_revision(connection: sa.Connection) -> str | None:
    """The database's revision (``None`` for an empty database)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def check_revision(revision: str | None) -> None:
    """Raise :class:`~rexnet.errors.SchemaTooNew` if ``revision`` is unknown to this code."""
    if revision is None or revision == HEAD:
        return
    known = {script.revision for script in _scripts().walk_revisions()}
    if revision not in known:
        raise SchemaTooNew(
            f"database schema revision {revision!r} is newer than this RexNet knows "
            f"(head {HEAD!r}): upgrade RexNet to use this database"
        )


def upgrade_connection(connection: sa.Connection) -> tuple[str | None, str]:
    """Migrate the database of ``connection`` to head inside its current transaction.

    Returns:
        ``(from_revision, to_revision)``; equal when there was nothing to do.

    Raises:
        SchemaTooNew: the database has a revision this code does not know.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    before = current_revision(connection)
    check_revision(before)
    if before != HEAD:
        from alembic import command

        command.upgrade(alembic_config(connection), "head")
    return before, HEAD

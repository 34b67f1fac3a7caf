"""Frozen migrations: each migration carries the view text it creates, and the newest one equals
the live catalogue, so the catalogue and the ledger's views cannot drift apart."""

from __future__ import annotations

import ast
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from rexnet.analytics.catalogue import Dialect, render
from rexnet.store import upgrade
from rexnet.store.migrate import alembic_config, migrations_dir


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"frozen_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _newest_with_views():
    """The newest migration (walking down from head) that defines frozen ``VIEWS``."""
    from alembic.script import ScriptDirectory

    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        module = _module(Path(script.path))
        if hasattr(module, "VIEWS"):
            return module
    raise AssertionError("no migration defines VIEWS")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_newest_migration_views_equal_the_live_catalogue(dialect):
    assert _newest_with_views().VIEWS[dialect] == render(Dialect(dialect))


def test_no_migration_imports_live_rexnet_code():
    # env.py hands over the schema for autogenerate; the revisions themselves are history
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            assert not any(n.startswith("rexnet") for n in names), f"{path.name} imports {names}"


def test_migrated_sqlite_ledger_has_exactly_the_catalogue_views(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    con = sqlite3.connect(tmp_path / "ledger.db")
    try:
        stored = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    finally:
        con.close()
    assert stored == {name: f"CREATE VIEW {name} AS {sql}" for name, sql in render(Dialect("sqlite"))}


def test_frozen_0003_is_what_it_always_created():
    # 0003's views are the catalogue of that revision: the ones 0006 did not add, unchanged since
    old = _module(migrations_dir() / "versions" / "0003_views.py").VIEWS
    new = _newest_with_views().VIEWS
    for dialect in ("sqlite", "postgresql"):
        assert [name for name, _ in old[dialect]] == [name for name, _ in new[dialect] if name != "agents"]
        assert set(old[dialect]) <= set(new[dialect])

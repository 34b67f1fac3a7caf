"""Shared fixtures: database URLs for the store contract suite (SQLite always, PostgreSQL when set)."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL_ENV = "REXNET_TEST_PG_URL"

# the profile cache (rexnet.sim.profile_cache) of a test session lives in a temporary directory,
# never in the user's own cache (subprocesses inherit it)
if "REXNET_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["REXNET_CACHE_DIR"] = tempfile.mkdtemp(prefix="rexnet-test-cache-")


def pg_url_or_skip() -> str:
    """The PostgreSQL test URL; under ``CI=true`` a missing or unreachable server fails instead of skipping."""
    url = os.environ.get(PG_URL_ENV)
    in_ci = os.environ.get("CI") == "true"
    if not url:
        if in_ci:
            pytest.fail(f"{PG_URL_ENV} is not set but CI=true: PostgreSQL tests must run in CI")
        pytest.skip(f"{PG_URL_ENV} not set: PostgreSQL tests skipped outside CI")
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL schema for one test (dropped afterwards)."""
    import sqlalchemy as sa

    base = pg_url_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(base)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # noqa: BLE001 - any connection problem means the server is absent
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {base} unreachable under CI=true: {exc}")
        pytest.skip(f"PostgreSQL at {base} unreachable: {exc}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def db_url(request, tmp_path) -> str:
    """Each backend in turn: the contract suite runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url")

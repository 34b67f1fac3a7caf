"""Fixtures of the explorer's HTTP tests: the small ledger of ``serve_ledger`` and a test client."""

from __future__ import annotations

import pytest
from serve_ledger import build


@pytest.fixture(scope="session")
def ledger(tmp_path_factory):
    """``(db_url, db_path, runs by name)`` of a SQLite ledger holding demo, p and its fork f."""
    folder = tmp_path_factory.mktemp("serve")
    path = folder / "ledger.db"
    url = f"sqlite:///{path}"
    return url, path, build(url, folder)


@pytest.fixture(scope="module")
def client(ledger):
    from starlette.testclient import TestClient

    from rexnet.serve import create_app

    with TestClient(create_app(ledger[0]), raise_server_exceptions=False) as test_client:
        yield test_client

"""Fixtures of the analytics tests (the runs are described in ``analytics_helpers``)."""

from __future__ import annotations

import pytest
from analytics_helpers import ingest, make_fork


@pytest.fixture
def ledger(sqlite_url, tmp_path):
    """``(url, run_id)`` of a SQLite ledger holding the demo run."""
    return sqlite_url, ingest(sqlite_url, tmp_path)


@pytest.fixture
def forked(ledger):
    """``(url, parent_id, fork_id)``."""
    url, parent = ledger
    return url, parent, make_fork(url, parent)

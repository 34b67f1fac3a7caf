"""Shared fixtures of the replay tests: a database with one small simulated run."""

from __future__ import annotations

import pytest
from replay_cli import invoke_json


@pytest.fixture(scope="module")
def parent_db(tmp_path_factory) -> tuple[str, dict]:
    """A database holding run ``p``: the default scenario, 6 units, seed 2."""
    db = f"sqlite:///{tmp_path_factory.mktemp('replay') / 'ledger.db'}"
    summary = invoke_json(db, "run", "--units", "6", "--seed", "2", "--name", "p")
    return db, summary

"""Helpers of the hostile-input tests: run the CLI in-process and take the ledger's fingerprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.store import open_store

GOOD_LINE = {
    "t": 0,
    "op": "limit",
    "agent": "a",
    "ref": "o1",
    "side": "sell",
    "unit": 2,
    "price": 40,
    "qty": 1,
}


def invoke(db: str, *args: str) -> Any:
    """The CLI in-process; uncaught exceptions stay in ``result.exception`` (the tests look)."""
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=True)


def ledger(db: str) -> tuple[tuple[tuple[str, str, int], ...], int]:
    """``((run_id, status, events), ...), event rows``: equal before and after means nothing was written."""
    store = open_store(db)
    try:
        runs = tuple((r.run_id, r.status, r.events) for r in store.list_runs())
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM event_log")).scalar_one()
    finally:
        store.close()
    return runs, int(rows)


def jsonl(path: Path, *lines: Any) -> Path:
    """Write ``lines`` (dicts as JSON, strings as they are) one per line."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def assert_refused(result: Any, *words: str) -> None:
    """Exit 2 with a one-line message containing ``words``, and no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in message, message

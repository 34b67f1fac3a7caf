"""Helpers of the hostile secrets and read-only tests: a small ledger, the CLI, a password in a URL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from rexnet.cli import cli

#: A trade at unit 2 (a sells 1.5 kW at 40, b buys 0.5 kW), a shrink, a rejection, realizations.
STREAM = [
    {"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.5},
    {"t": 1, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
    {"t": 2, "op": "limit", "agent": "c", "ref": "o3", "side": "buy", "unit": 2, "price": 39, "qty": 1.0},
    {"t": 3, "op": "shrink", "agent": "a", "ref": "o1", "qty": 0.2},
    {"t": 4, "op": "limit", "agent": "d", "ref": "o4", "side": "sell", "unit": 99, "price": 40, "qty": 1},
    {"t": 1900, "op": "realize", "agent": "a", "unit": 2, "qty": 0.4},
    {"t": 1901, "op": "realize", "agent": "b", "unit": 2, "qty": -0.5},
]


def new_secret() -> str:
    """A password no output could contain by chance (with characters URLs must escape)."""
    return f"S3cret:Pw@{uuid.uuid4().hex[:10]}/x"


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` as the user's password."""
    return sa.make_url(url).set(password=password).render_as_string(hide_password=False)


def with_query_password(url: str, password: str) -> str:
    """``url`` with ``password`` in its query string (``?password=``), as libpq accepts it."""
    parsed = sa.make_url(url)
    return parsed.update_query_dict({"password": password}).render_as_string(hide_password=False)


def invoke(db: str, *args: str):
    """The CLI's result; ``.output`` holds stdout and stderr."""
    return CliRunner().invoke(cli, ["--db", db, *args])


def ingest(db: str, folder: Path, name: str = "demo") -> str:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in STREAM))
    result = invoke(db, "ingest", str(path), "--name", name, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["run_id"]


def command_paths(group=cli, prefix=()) -> list[tuple[str, ...]]:
    """Every command of the CLI as its words (``("db", "upgrade")``...)."""
    out = []
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            out += command_paths(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out

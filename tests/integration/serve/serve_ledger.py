"""A small recorded ledger for the explorer's tests: a hand-worked ingest, a simulated run and a fork.

``demo`` is the ingest stream of ``tests/integration/test_cli_market.py`` (worked by hand there):
``a`` sells 1.5 kW of unit 2 at 40, ``b`` buys 0.5 kW at market (trade 0.5 @ 40), ``c`` bids 39 for
1.0 kW, ``a`` shrinks to 0.2 kW; ``a`` realizes 0.4 kW, ``b`` -0.5 kW. Settlement of unit 2:
``a`` trade cash +0.005, shortfall 0.1 kW, penalty 0.1 kW x 3000/MWh x 0.25 h = 0.075, net -0.07.

``p`` is the default scenario for 6 units (seed 2) and ``f`` its fork after t = 3000 s with
another price prior, so the two diverge.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rexnet.cli import cli

STREAM = [
    {"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.5},
    {"t": 1, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
    {"t": 2, "op": "limit", "agent": "c", "ref": "o3", "side": "buy", "unit": 2, "price": 39, "qty": 1.0},
    {"t": 3, "op": "shrink", "agent": "a", "ref": "o1", "qty": 0.2},
    {"t": 1900, "op": "realize", "agent": "a", "unit": 2, "qty": 0.4},
    {"t": 1901, "op": "realize", "agent": "b", "unit": 2, "qty": -0.5},
]


def invoke_json(db: str, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["--db", db, *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr or result.stdout
    return json.loads(result.stdout)


def build(db: str, folder: Path) -> dict[str, dict]:
    """Record ``demo``, ``p`` and ``f`` into ``db``; their summaries by name."""
    stream = folder / "demo.jsonl"
    stream.write_text("".join(json.dumps(line) + "\n" for line in STREAM))
    return {
        "demo": invoke_json(db, "ingest", str(stream), "--name", "demo"),
        "p": invoke_json(db, "run", "--units", "6", "--seed", "2", "--name", "p"),
        "f": invoke_json(db, "fork", "p", "--time", "3000", "--set", "run.price_prior=80", "--name", "f"),
    }

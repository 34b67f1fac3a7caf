"""Helpers of the analytics tests: the hand-worked ingest stream, recorded, plus a fork of it.

The stream is the one of ``tests/integration/test_cli_market.py`` (answers worked by hand there):
``a`` sells 1.5 kW of unit 2 at 40, ``b`` buys 0.5 kW at market (trade 0.5 @ 40), ``c`` bids 39
for 1.0 kW, ``a`` shrinks to 0.2 kW, ``d`` and ``e`` are rejected; ``a`` realizes 0.4 kW,
``b`` -0.5 kW. Settlement of unit 2 (900 s): ``a`` trade cash +0.005, shortfall 0.1 kW, penalty
0.1 kW x 3000/MWh x 0.25 h = 0.075, net -0.07; ``b`` -0.005; the system +0.075.

The fork (``fork``) shares the parent's first 10 events (seq 0..9: run start, unit openings, ``a``'s
sell order) and continues differently: ``b`` buys 1.0 kW at market (trade 1.0 @ 40), ``a``
realizes 0.4 kW (shortfall 0.6 kW, penalty 0.6 x 3000 x 0.25 / 1000 = 0.45), ``b`` -1.0 kW.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.domain.commands import PlaceMarket, Realize
from rexnet.market_engine import MarketEngine
from rexnet.replay.projection import run_spec
from rexnet.store import open_store

STREAM = [
    {"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.5},
    {"t": 1, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
    {"t": 2, "op": "limit", "agent": "c", "ref": "o3", "side": "buy", "unit": 2, "price": 39, "qty": 1.0},
    {"t": 3, "op": "shrink", "agent": "a", "ref": "o1", "qty": 0.2},
    {"t": 4, "op": "limit", "agent": "d", "ref": "o4", "side": "sell", "unit": 99, "price": 40, "qty": 1},
    {"t": 5, "op": "limit", "agent": "e", "ref": "o5", "side": "sell", "unit": 2, "price": 40.005, "qty": 1},
    {"t": 1900, "op": "realize", "agent": "a", "unit": 2, "qty": 0.4},
    {"t": 1901, "op": "realize", "agent": "b", "unit": 2, "qty": -0.5},
]

FORK_SEQ = 9  # the parent's order_accepted of o1


def invoke(db: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db, *args])


def ingest(db: str, tmp_path, name: str = "demo") -> str:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in STREAM))
    result = invoke(db, "ingest", str(path), "--name", name, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["run_id"]


FORK_COMMANDS = (
    PlaceMarket(1000, "b", "f2", "buy", 2, 1000),
    Realize(1_900_000, "a", 2, 400),
    Realize(1_901_000, "b", 2, -1000),
)


def stored_history(store, run, upto: int) -> list:
    """Event records of ``run``'s full history up to seq ``upto`` (following fork parents)."""
    events = []
    if run.parent_run_id is not None:
        events = stored_history(store, store.get_run(run.parent_run_id), min(upto, run.fork_seq))
    return events + [row.event() for row in store.read(run.run_id, to_seq=upto)]


def make_fork(
    db: str, parent_ref: str, *, name: str = "fork", fork_seq: int = FORK_SEQ, commands=FORK_COMMANDS
) -> str:
    """Fork ``parent_ref`` after ``fork_seq`` and continue with ``commands`` (see module doc)."""
    store = open_store(db)
    try:
        parent = store.get_run(parent_ref)
        prefix = stored_history(store, parent, fork_seq)
        engine = MarketEngine(run_spec(parent)).replay(prefix)
        fork = store.create_run(
            name=name,
            scenario={"kind": "test-fork"},
            seed=0,
            code_version="test",
            market=parent.market,
            parent_run_id=parent.run_id,
            fork_seq=fork_seq,
        )
        with store.writer(fork.run_id) as writer:
            for command in commands:
                writer.append(engine.submit(command))
            writer.append(engine.finish())
        return fork.run_id
    finally:
        store.close()

"""Helpers of the replay tests: CLI invocation and the observable state of an engine."""

from __future__ import annotations

import dataclasses
import json

from click.testing import CliRunner

from rexnet.cli import cli


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def invoke_json(db: str, *args: str) -> dict:
    code, out, err = invoke(db, *args, "--format", "json")
    assert code == 0, err or out
    return json.loads(out)


def recorded_run(store, source, name: str, events) -> str:
    """A new run, recorded through the store API (so its chain holds), of ``events`` under
    ``source``'s scenario, seed and market: a forged history that only a re-simulation or a
    fold can tell from the real one."""
    run = store.create_run(
        name=name,
        scenario=source.scenario,
        seed=source.seed,
        code_version=source.code_version,
        market=source.market,
    )
    with store.writer(run.run_id) as w:
        w.append(events)
    return run.run_id


def state_of(engine, agents: list[str]) -> dict:
    """Everything observable of an engine: books (FIFO included), ids, positions, live orders,
    settlement; as new plain values (the engine may go on changing)."""
    ex = engine.exchange
    return {
        "exchange": ex.state.snapshot(),
        "depth": {u: engine.depth(u) for u in engine.open_units()},
        "positions": {(a, u): engine.position(a, u) for a in agents for u in engine.open_units()},
        "live": {a: engine.live_orders(a) for a in agents},
        "settlement_units": {u: dataclasses.asdict(s) for u, s in engine.settlement._units.items()},
        "settled": set(engine.settlement._settled),
        "last_active_unit": engine.last_active_unit,
    }

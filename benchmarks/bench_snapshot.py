"""Restoring an in-memory snapshot of the market state: the state codec against a refold.

Usage::

    python benchmarks/bench_snapshot.py [--units 96] [--ingest-events 100000] [--restores 20]
                                        [--repeat 7]

An as-of read (``rexnet book``, the serve book scrubber, reports) starts from the nearest
snapshot of the fold and folds the rest; restoring the snapshot is paid on every read. Two states
are built in memory (not timed): the fold of the first half of one simulated day of the default
scenario (``--units`` delivery units), and the state after ``--ingest-events`` events of an
ingested command stream (``benchmarks/streams.py``, the default market: 200 agents, 8 units
ahead). For each, the contenders restore a fresh engine and accounts ``--restores`` times:

* **codec, decode**: :func:`rexnet.replay.state_codec.decode_state` of the
  :func:`~rexnet.replay.state_codec.encode_state` bytes, what the snapshots hold;
* **pickle.loads** and **copy.deepcopy**: how the in-memory snapshots were restored before, shown
  only when the build can still do it (compiled, the classes no longer have the argument-less
  ``__init__`` that ``copy`` and ``pickle`` of a native class call);
* **refold** (reference): the fold of the events up to the point into a fresh engine and
  accounts, the work a snapshot saves (done once per round, not ``--restores`` times).

Taking a snapshot (``encode_state``, ``pickle.dumps``) is timed too. The contenders run
interleaved, ``--repeat`` rounds; each figure is the median per restore over the rounds, with the
best beside it, and ratios against the codec's decode; all of it under
:func:`rexnet.sim.kernel.relaxed_gc`, as the scrubber's reads. Not a test: prints figures.
"""

from __future__ import annotations

import argparse
import copy
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rexnet import _compiled
from rexnet import engine as engine_module
from rexnet.app.simulate import with_overrides
from rexnet.domain.events import RunStarted
from rexnet.domain.market import MarketSpec
from rexnet.ingest.stream import parse_commands
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.state_codec import decode_state, encode_state
from rexnet.sim.kernel import relaxed_gc
from rexnet.sim.scenario import load_scenario
from rexnet.sim.simulation import Simulation

sys.path.insert(0, str(Path(__file__).parent))
from streams import write_stream  # noqa: E402


def default_day(units: int) -> tuple[MarketSpec, list[Any]]:
    """The events of one simulated run of the default scenario."""
    scenario = with_overrides(load_scenario("default"), seed=0, units=units)
    spec = scenario.to_spec()
    engine = MarketEngine(spec)
    events: list[Any] = [RunStarted(0, scenario.to_record(), 0, "bench", spec.to_record())]
    Simulation(scenario, 0, engine, emit_shocks=True).run(events.extend)
    return spec, events + engine.finish()


def ingested(n_events: int) -> tuple[MarketSpec, list[Any]]:
    """The first ``n_events`` events of an ingested command stream (default market)."""
    spec = MarketSpec()
    with tempfile.TemporaryDirectory() as tmp:
        # about two events per command: half as many commands gives enough events
        stream = write_stream(Path(tmp) / "stream.jsonl", n_events // 2 + 1000)
        commands = parse_commands(stream, spec).commands
    engine = MarketEngine(spec)
    events: list[Any] = []
    for command in commands:
        events += engine.submit(command)
        if len(events) >= n_events:
            break
    return spec, events[:n_events]


def fold(spec: MarketSpec, events: list[Any]) -> tuple[MarketEngine, Accounts]:
    engine, accounts = MarketEngine(spec), Accounts()
    for event in events:
        engine.apply(event)
        accounts.apply(event)
    return engine, accounts


def can_copy(engine: MarketEngine, accounts: Accounts) -> bool:
    """Whether ``pickle`` and ``copy`` can rebuild the classes in this build."""
    try:
        copy.deepcopy(engine)
        pickle.loads(pickle.dumps((engine, accounts), protocol=pickle.HIGHEST_PROTOCOL))
    except TypeError:
        return False
    return True


def bench(name: str, spec: MarketSpec, events: list[Any], restores: int, repeat: int) -> None:
    engine, accounts = fold(spec, events)
    now_ms = engine.now_ms
    data = encode_state(engine, accounts)
    restored = decode_state(data, spec, now_ms=now_ms)
    assert encode_state(*restored) == data, "the codec does not round-trip"
    old = can_copy(engine, accounts)
    pickled = pickle.dumps((engine, accounts), protocol=pickle.HIGHEST_PROTOCOL) if old else b""
    print(
        f"\n{name}: {len(events)} events folded, {len(engine.exchange.state.orders)} resting orders, "
        f"{len(engine.open_units())} open books; codec {len(data) / 1e3:.0f} kB"
        + (f", pickle {len(pickled) / 1e3:.0f} kB" if old else "")
    )
    contenders: dict[str, Callable[[], object]] = {
        "codec, decode (validated)": lambda: decode_state(data, spec, now_ms=now_ms),
        "codec, encode (take a snapshot)": lambda: encode_state(engine, accounts),
    }
    if old:
        contenders["old: pickle.loads"] = lambda: pickle.loads(pickled)
        contenders["old: copy.deepcopy"] = lambda: copy.deepcopy((engine, accounts))
        contenders["old: pickle.dumps (take a snapshot)"] = lambda: pickle.dumps(
            (engine, accounts), protocol=pickle.HIGHEST_PROTOCOL
        )
    times: dict[str, list[float]] = {key: [] for key in [*contenders, "refold (reference)"]}
    with relaxed_gc():  # (as the scrubber and the folds run)
        for _ in range(repeat):
            for key, restore in contenders.items():
                start = time.perf_counter()
                for _ in range(restores):
                    restore()
                times[key].append((time.perf_counter() - start) / restores)
            start = time.perf_counter()
            fold(spec, events)
            times["refold (reference)"].append(time.perf_counter() - start)
    base = statistics.median(times["codec, decode (validated)"])
    for key, values in times.items():
        median = statistics.median(values)
        print(
            f"  {key:38s} {median * 1e3:9.2f} ms (best {min(values) * 1e3:8.2f})"
            f"  x{median / base:6.2f} of the codec's decode"
        )
    if not old:
        print("  (pickle / deepcopy: not possible in this build, see the module docstring)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument("--ingest-events", type=int, default=100_000)
    parser.add_argument("--restores", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"build: {'compiled' if _compiled.is_compiled(engine_module) else 'pure Python'}")
    spec, events = default_day(args.units)
    bench(
        f"default scenario, {args.units} units, mid-run",
        spec,
        events[: len(events) // 2],
        args.restores,
        args.repeat,
    )
    spec, events = ingested(args.ingest_events)
    bench("ingested stream", spec, events, args.restores, args.repeat)


if __name__ == "__main__":
    main()

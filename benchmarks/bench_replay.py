"""Replay throughput next to append throughput, for the same events in the same run.

Usage::

    python benchmarks/bench_replay.py [--units 96] [--seed 0] [--pg URL] [--repeat 9]

(``--pg``: the runs go into a throwaway schema of that database, dropped at the end.)

The events of one simulated run (the default scenario; ``--units`` delivery units) are generated
once in memory, then for each backend (a temporary SQLite file; PostgreSQL with ``--pg``):

* **append**: a new run, the events encoded, hashed and appended by ``RunWriter`` (batches of
  5000, one transaction each), flush included;
* **replay, projection fold, engine**: the run's history read back in column chunks
  (:func:`rexnet.replay.history.read_history_coded`), decoded and folded into a fresh
  :class:`~rexnet.market_engine.MarketEngine` (order books, positions, settlement state) with the live
  engine's own ``apply``: :func:`rexnet.replay.projection.fold`, what ``rexnet book`` and every
  as-of read by seq do;
* **replay, projection fold, engine + accounts + stats**: the same read folded into every
  projection ``rexnet replay`` rebuilds;
* **replay, ``rexnet replay``**: :func:`rexnet.app.operations.replay_run`, the command itself:
  the fold into the three projections while the whole hash chain is recomputed from the stored
  bytes, in a forked child on the other core for runs of 20k+ events
  (:mod:`rexnet.replay.background`);
* and the parts: read only, read + decode, the chain check alone in-process.

The contenders run interleaved, ``--repeat`` rounds. Each figure is the best wall-clock time of
its rounds, with the median beside it; the ratios are given for both (on this kind of shared
machine single rounds of the append swing by 30%). Not a test: prints figures.

Goal (issue 6): replay, "events/s from the database into projections", at least 2x append. That
is the projection fold; the line with all three projections is the one to hold to it. ``rexnet
replay`` does more than replay into projections: it also recomputes the hash of every stored
event (an audit of the log), so its line is printed for information, not as the goal's measure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rexnet import __version__
from rexnet.app.operations import replay_run
from rexnet.app.simulate import with_overrides
from rexnet.domain.events import RunStarted
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.decode import FOLD_CODED
from rexnet.replay.history import check_chain, read_history_coded
from rexnet.replay.projection import fold, fold_history
from rexnet.replay.stats import RunStats
from rexnet.sim.scenario import load_scenario
from rexnet.sim.simulation import Simulation
from rexnet.store import open_store


def simulate(units: int, seed: int) -> tuple[list[Any], Any]:
    scenario = with_overrides(load_scenario("default"), seed=seed, units=units)
    spec = scenario.to_spec()
    engine = MarketEngine(spec)
    events: list[Any] = [RunStarted(0, scenario.to_record(), seed, __version__, spec.to_record())]
    Simulation(scenario, seed, engine, emit_shocks=True).run(events.extend)
    events += engine.finish()
    return events, scenario


APPEND = "append (encode+hash+insert)"
FOLD_ENGINE = "replay: projection fold, engine"
FOLD_ALL = "replay: projection fold, engine + accounts + stats"
REPLAY = "replay: `rexnet replay` (3 projections + chain check)"


def bench(url: str, events: list[Any], scenario: Any, repeat: int) -> None:
    store = open_store(url)
    spec = scenario.to_spec()
    runs: list[Any] = []

    def append() -> None:
        run = store.create_run(
            name=None,
            scenario=scenario.to_record(),
            seed=scenario.run.seed,
            code_version=__version__,
            market=spec.to_record(),
        )
        writer = store.writer(run.run_id, batch_size=5000)
        writer.append(events)
        writer.flush()
        runs.append(run.run_id)

    append()  # the run the readers read (a warm-up for the appends)
    run = store.get_run(runs[-1])

    def read_only() -> None:
        for _ in read_history_coded(store, run):
            pass

    def read_decode() -> None:
        for chunk in read_history_coded(store, run):
            FOLD_CODED(chunk, ())

    def fold_engine() -> None:
        """What ``rexnet book`` / as-of reads do: the market engine (books, positions, settlement)."""
        fold(store, run, MarketEngine(spec))

    def fold_all() -> None:
        """Every projection ``rexnet replay`` rebuilds: engine, accounts, run statistics."""
        fold_history(store, run, (MarketEngine(spec).apply, Accounts().apply, RunStats(spec).apply))

    def replay_command() -> None:
        """What ``rexnet replay`` does: the three projections, and the full chain check."""
        replay_run(store, run)

    def chain_only() -> None:
        assert check_chain(store, run) is None

    contenders = {
        APPEND: append,
        "read (column chunks)": read_only,
        "read + decode": read_decode,
        "chain check alone (in-process)": chain_only,
        FOLD_ENGINE: fold_engine,
        FOLD_ALL: fold_all,
        REPLAY: replay_command,
    }
    times: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(repeat):  # interleaved, so background load hits every contender alike
        for label, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    best = {label: min(ts) for label, ts in times.items()}
    median = {label: statistics.median(ts) for label, ts in times.items()}
    n = len(events)
    backend = url.split(":", 1)[0]
    print(f"{backend}: {n} events, {repeat} rounds (wall clock; best, and median in brackets)")
    for label in contenders:
        rate = n / best[label]
        print(f"  {label:52s} {best[label]:6.3f} s {rate:10,.0f} events/s  ({median[label]:.3f} s)")
    for label in (FOLD_ENGINE, FOLD_ALL, REPLAY):
        ratio, ratio_median = best[APPEND] / best[label], median[APPEND] / median[label]
        goal = "goal >= 2x" if label != REPLAY else "(+ the chain audit)"
        print(f"  {label:52s} / append: {ratio:.2f}x  (medians: {ratio_median:.2f}x)  {goal}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--pg", default=None, help="also run against this PostgreSQL URL")
    args = parser.parse_args()
    t0 = time.perf_counter()
    events, scenario = simulate(args.units, args.seed)
    print(f"simulated {len(events)} events in {time.perf_counter() - t0:.1f} s (not timed below)")
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{Path(tmp) / 'bench.db'}", events, scenario, args.repeat)
    if args.pg:
        with scratch_schema(args.pg) as url:
            bench(url, events, scenario, args.repeat)


@contextmanager
def scratch_schema(base: str) -> Iterator[str]:
    """A throwaway PostgreSQL schema (the benchmark's runs cannot be deleted, only dropped)."""
    import uuid

    import sqlalchemy as sa

    schema = "bench_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


if __name__ == "__main__":
    main()

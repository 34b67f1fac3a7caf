"""Replay throughput next to append throughput, for the same events in the same run.

Usage::

    python benchmarks/bench_replay.py [--units 96] [--seed 0] [--pg URL] [--repeat 3]

(``--pg``: the runs go into a throwaway schema of that database, dropped at the end.)

The events of one simulated run (the default scenario; ``--units`` delivery units) are generated
once in memory, then for each backend (a temporary SQLite file; PostgreSQL with ``--pg``):

* **append**: a new run, the events encoded, hashed and appended by ``RunWriter`` (batches of
  5000, one transaction each), flush included;
* **replay**: the run's history read back (:func:`rexnet.replay.history.read_history`), each row
  decoded (:func:`rexnet.replay.decode.event_of`, the replay's fast path; the general
  ``StoredEvent.event`` is shown for reference) and folded into a fresh
  :class:`~rexnet.engine.MarketEngine` with the live engine's ``apply``. Also shown split into
  its parts: read only, read + decode.

Each figure is the best of ``--repeat`` wall-clock times (on a busy machine, raise it). Goal:
replay >= 2x append. Not a test: prints figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rexnet import __version__
from rexnet.domain.events import RunStarted
from rexnet.engine import MarketEngine
from rexnet.replay.decode import event_of
from rexnet.replay.history import read_history
from rexnet.replay.projection import fold
from rexnet.replay.simulate import with_overrides
from rexnet.sim.runner import Simulation
from rexnet.sim.scenario import load_scenario
from rexnet.store import open_store


def simulate(units: int, seed: int) -> tuple[list[Any], Any]:
    scenario = with_overrides(load_scenario("default"), seed=seed, units=units)
    spec = scenario.to_spec()
    engine = MarketEngine(spec)
    events: list[Any] = [RunStarted(0, scenario.to_record(), seed, __version__, spec.to_record())]
    Simulation(scenario, seed, engine, emit_shocks=True).run(events.extend)
    events += engine.finish()
    return events, scenario


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


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

    t_append = best(append, repeat)
    run = store.get_run(runs[-1])

    def read_only() -> None:
        for _ in read_history(store, run):
            pass

    def read_decode() -> None:
        for row in read_history(store, run):
            event_of(row)

    def read_codec_decode() -> None:
        for row in read_history(store, run):
            row.event()

    def full_record_replay() -> None:
        """Replay through full stored records (run id and hash fetched, StoredEvent per row)."""
        engine = MarketEngine(spec)
        apply = engine.apply
        for row in read_history(store, run):
            apply(event_of(row))

    def replay() -> None:
        """What `rexnet replay` / `book` / `accounts` do: projection.fold (lean read_rows)."""
        fold(store, run, MarketEngine(spec))

    t_full = best(full_record_replay, repeat)
    t_read, t_codec, t_decode, t_replay = (
        best(f, repeat) for f in (read_only, read_codec_decode, read_decode, replay)
    )
    n = len(events)
    backend = url.split(":", 1)[0]
    print(f"{backend}: {n} events")
    for label, t in (
        ("append (encode+hash+insert)", t_append),
        ("read", t_read),
        ("read + decode (codec)", t_codec),
        ("read + decode (replay)", t_decode),
        ("replay (projection.fold)", t_replay),
    ):
        print(f"  {label:30s} {t:7.3f} s  {n / t:10,.0f} events/s")
    print(f"  {'replay via full records':30s} {t_full:7.3f} s  {n / t_full:10,.0f} events/s")
    print(f"  replay / append throughput: {t_append / t_replay:.2f}x (goal >= 2x)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
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

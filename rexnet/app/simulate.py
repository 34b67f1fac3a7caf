"""Simulated runs into the ledger: ``rexnet run``.

A scenario and a seed go through the simulator (:mod:`rexnet.sim`) against a live
:class:`~rexnet.market_engine.MarketEngine`; every batch of events is streamed to the store as it is
produced (memory bounded by the writer's batch) and folded into the run's statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rexnet.app.results import RunSummary
from rexnet.domain.strict import RECORD
from rexnet.replay.recording import RunRecorder
from rexnet.replay.stats import RunStats
from rexnet.sim.scenario import Scenario, parse_scenario
from rexnet.sim.simulation import Simulation
from rexnet.store.recorder import Recorder

Progress = Callable[[int, int], None]


def with_overrides(scenario: Scenario, *, seed: int | None = None, units: int | None = None) -> Scenario:
    """The scenario with ``--seed`` / ``--units`` written into it, so the stored record is what ran."""
    run = scenario.run
    update: dict[str, Any] = {}
    if seed is not None:
        update["seed"] = seed
    if units is not None:
        update["units"] = units
    if not update:
        return scenario
    return scenario.model_copy(update={"run": run.model_copy(update=update)})


def run_scenario(
    store: Recorder,
    scenario: Scenario,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> RunSummary:
    """Simulate ``scenario`` (its ``run.seed``) into a new run; returns the summary.

    ``batch_size`` defaults to ``REXNET_BATCH_SIZE`` (5000): events per committed transaction.
    """
    if batch_size is None:
        from rexnet.app.operations import batch_size as env_batch_size

        batch_size = env_batch_size()
    # (again: --seed / --units were written in after the file was checked)
    scenario = parse_scenario(scenario.to_record(), source="scenario", context=RECORD)
    spec = scenario.to_spec()
    seed = scenario.run.seed
    recorder = RunRecorder(
        store, name=name, scenario=scenario.to_record(), seed=seed, spec=spec, batch_size=batch_size
    )
    stats = RunStats(spec)

    def on_events(events: list[Any]) -> None:
        recorder.record(events)
        stats.feed(events)

    with recorder.guard():
        sim = Simulation(scenario, seed, recorder.engine, emit_shocks=True)
        sim.run(on_events, progress)
        tail = recorder.engine.finish()
        on_events(tail)
        events, head = recorder.complete()
    figures = {k: v for k, v in stats.summary().items() if k != "events"}
    return RunSummary(recorder.run_id, name, events, head, {"seed": seed, **figures})

"""One sweep run as a Dask task: open the ledger, simulate (or finish) the run, return its summary.

:func:`run_task` runs in a worker process. It opens the run's ledger itself (the shared
PostgreSQL ledger, or the run's own SQLite file) and is idempotent, keyed by the run's name
(``sweep/<sweep>/<point>/seed=<seed>``):

* no run of that name: simulate it (:func:`rexnet.app.simulate.run_scenario`);
* a completed run of that name (the client died before recording it): reuse it;
* a run of that name with another scenario or seed is not this task's: the next name is tried;
* an incomplete one (its worker was killed, or a Dask retry after a worker death): resume it
  with :func:`rexnet.app.operations.resume_run`, which re-executes the run, checks every
  committed event and appends the rest: the same history as an uninterrupted run. If resuming
  is impossible (the stored prefix does not match this code), that run is marked ``failed`` and
  the point is simulated afresh as a new run named ``...#2`` (``#3``...). Nothing is deleted.

The summary of a resumed or reused run is folded from its stored history
(:func:`rexnet.app.operations.replay_run`), so it always describes the whole run.

Test hook: a task whose ``kill_after`` is set ends its process with ``os._exit(1)`` as soon as
that many events of its run are committed, like a worker killed mid-run (``kill_once``: only
when the task started the run itself, so a Dask retry then resumes and completes it).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rexnet.errors import CheckFailed, RunNotFound
from rexnet.store import EventStore, LedgerReader, Recorder, RunInfo, RunWriter, open_store

if TYPE_CHECKING:
    from rexnet.app.results import ReplaySummary, RunSummary
    from rexnet.sim.scenario import Scenario

#: Summary fields kept per run (JSON-able; decimals as strings): what the sweep table aggregates.
SUMMARY_KEYS = (
    "events",
    "head_hash",
    "trades",
    "volume_kwh",
    "min_price",
    "max_price",
    "rejections",
    "units_settled",
    "penalties",
    "deficit_kwh",
    "surplus_kwh",
)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep task (see the module docstring); returns ``{"run_id", "mode", "summary"}``.

    ``task`` keys: ``db_url``, ``run_name``, ``scenario`` (a scenario record), ``batch_size``,
    optional ``kill_after`` / ``kill_once`` (test hook).
    """
    from rexnet.sim.scenario import Scenario

    scenario = Scenario.from_record(task["scenario"])
    record = scenario.to_record()  # as stored in runs.scenario by run_scenario
    store = open_store(task["db_url"])
    try:
        name = task["run_name"]
        for attempt in range(1, 100):
            run_name = name if attempt == 1 else f"{name}#{attempt}"
            run = _find(store, run_name)
            if run is None:
                target = _TaskStore(store, task["batch_size"], task.get("kill_after"))
                return _done(_simulate(target, scenario, run_name, task["batch_size"]), "simulated")
            if run.scenario != record or run.seed != scenario.run.seed:
                continue  # a run of another scenario under this name (e.g. an older sweep's file)
            if run.status == "completed":
                return _done(_replayed(store, run), "reused")
            kill = None if task.get("kill_once") else task.get("kill_after")
            try:
                return _done(_resumed(_TaskStore(store, task["batch_size"], kill), run), "resumed")
            except CheckFailed:
                store.set_status(run.run_id, "failed")  # left as it is; redone as a new run
        raise RuntimeError(f"{name}: too many failed runs of this point")
    finally:
        store.close()


def _find(store: LedgerReader, name: str) -> RunInfo | None:
    try:
        return store.get_run(name)
    except RunNotFound:
        return None


def _simulate(store: Recorder, scenario: Scenario, name: str, batch_size: int) -> RunSummary:
    from rexnet.app.simulate import run_scenario

    try:
        return run_scenario(store, scenario, name=name, batch_size=batch_size)
    except BaseException:
        _mark_failed(store, name)
        raise


def _resumed(store: Recorder, run: RunInfo) -> ReplaySummary:
    from rexnet.app.operations import resume_run

    try:
        resume_run(store, run)
    except CheckFailed:
        raise
    except BaseException:
        _mark_failed(store, run.run_id)
        raise
    return _replayed(store, store.get_run(run.run_id))


def _replayed(store: Recorder, run: RunInfo) -> ReplaySummary:
    from rexnet.app.operations import replay_run

    return replay_run(store, run)


def _mark_failed(store: Recorder, ref: str) -> None:
    """Best effort: the run a failing task leaves behind is marked ``failed`` (never deleted)."""
    try:
        run = store.get_run(ref)
        if run.status == "running":
            store.set_status(run.run_id, "failed")
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def _done(summary: RunSummary | ReplaySummary, mode: str) -> dict[str, Any]:
    fields = summary.as_dict()
    kept = {k: _plain(fields.get(k)) for k in SUMMARY_KEYS}
    return {"run_id": summary.run_id, "mode": mode, "summary": kept}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


class _TaskStore:
    """The store as the task's writers see it: the sweep's batch size, and the kill hook.

    (``resume_run`` takes its batch size from the worker's environment; the sweep's is the one
    the client was given, so it is imposed here.)
    """

    def __init__(self, store: EventStore, batch_size: int, kill_after: int | None) -> None:
        self._store = store
        self._batch_size = batch_size
        self._kill_after = kill_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def writer(self, run_id: str, *, batch_size: int = 5000) -> RunWriter:
        if self._kill_after is None:
            return RunWriter(self._store, run_id, batch_size=self._batch_size)
        return _KillingWriter(self._store, run_id, batch_size=self._batch_size, after=self._kill_after)


class _KillingWriter(RunWriter):
    """Ends the process once ``after`` events of its run are committed (the test hook)."""

    def __init__(self, store: EventStore, run_id: str, *, batch_size: int, after: int) -> None:
        super().__init__(store, run_id, batch_size=batch_size)
        self._after = after

    def flush(self) -> None:
        super().flush()
        if self.committed_seq + 1 >= self._after:
            os._exit(1)  # what a killed worker looks like: no exception, no cleanup

"""Running a sweep: record it, decide what to (re)do, fan the runs out on Dask, record the outcomes.

:func:`run_sweep` is what ``rexnet sweep`` does:

1. record the sweep (``sweeps``) and one ``sweep_runs`` row per grid point and seed in the main
   ledger database; a point whose values the scenario refuses is ``failed`` with that reason at
   once and never submitted;
2. skip every run already ``completed`` whose run is still there, ``completed``, with the
   recorded head hash; everything else (``pending``, ``running``: the client died, ``failed``)
   is (re)submitted; the task resumes an incomplete run (see :mod:`rexnet.sweep.task`);
3. run the tasks on Dask: ``Client(ADDRESS)`` for an existing scheduler, else a
   ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``; one simulation per
   worker process at a time (a run is single-threaded Python);
4. record each outcome as it arrives (``as_completed``): the run id, head hash and summary, or
   the reason it failed (a Python error in the run, or ``KilledWorker`` when its worker died
   more often than the scheduler allows). One failing run never touches the others.

Storage: a PostgreSQL ``--db`` takes every run into the one shared ledger (the workers write
concurrently; ``(run, seq)`` keys keep them apart). A SQLite ``--db`` gets one SQLite file per run
in ``<folder of the db>/sweep-<name>/<point>-s<seed>.db``: SQLite serialises writers, so
concurrent runs in one file would queue on its lock. The file of each run is recorded in
``sweep_runs.db_url``; the main file holds only the sweep record (analysis: see
:mod:`rexnet.sweep.query`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rexnet.errors import InputError, RexnetError
from rexnet.store import open_store
from rexnet.store.database import is_memory, parse_url
from rexnet.store.recorder import LedgerReader, Recorder
from rexnet.sweep.ledger import SweepLedger, SweepRun
from rexnet.sweep.spec import SweepSpec, file_stem
from rexnet.sweep.summary import point_table

#: Test hook, ``POINT_KEY|SEED|EVENTS[|once]``: that run's worker dies after EVENTS are committed.
KILL_ENV = "REXNET_SWEEP_KILL"

Progress = Callable[[int, int], None]


def run_name(sweep: str, point_key: str, seed: int) -> str:
    """The ledger name of a sweep run (unique per sweep, point and seed)."""
    return f"sweep/{sweep}/{point_key}/seed={seed}"


def run_sweep(
    db_url: str,
    spec: SweepSpec,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Run (or finish) the sweep ``spec`` into the ledger at ``db_url``; the outcome.

    ``batch_size`` (events per committed transaction of a run) defaults to ``REXNET_BATCH_SIZE``
    (5000), as for ``rexnet run``.

    Returns:
        ``{"sweep_id", "name", "storage", "runs": [...], "points": [...], "completed", "failed",
        "ran", "skipped"}``; ``runs`` has one entry per point and seed with its ``status``,
        ``action`` (``ran``, ``skipped`` or ``invalid``), ``run_id``, ``head_hash`` and ``error``.

    Raises:
        InputError: bad database URL, an in-memory SQLite ledger, a sweep of that name with a
            different spec, an unreachable scheduler.
    """
    if batch_size is None:
        from rexnet.app.operations import batch_size as env_batch_size

        batch_size = env_batch_size()
    files = _runs_folder(db_url, spec.name)
    store = open_store(db_url)
    try:
        ledger = SweepLedger(store.engine)
        sweep_id = ledger.register(spec.name, spec.record_json())
        ledger.add_missing(sweep_id, _wanted(spec, files))
        todo, actions = _plan(ledger, sweep_id, spec, store)
        if progress is not None:
            progress(spec.runs - len(todo), spec.runs)  # skipped and invalid runs count as done
        if todo:
            if files is not None:
                files.mkdir(parents=True, exist_ok=True)
            tasks = [_task(db_url, spec, row, batch_size) for row in todo]
            _execute(
                ledger,
                sweep_id,
                store,
                todo,
                tasks,
                workers=workers,
                scheduler=scheduler,
                progress=progress,
                total=spec.runs,
            )
        rows = ledger.runs(sweep_id)
    finally:
        store.close()
    runs = [_run_entry(row, actions.get((row.point_key, row.seed), "ran")) for row in rows]
    return {
        "sweep_id": sweep_id,
        "name": spec.name,
        "storage": "ledger" if files is None else str(files),
        "runs": runs,
        "points": point_table(rows),
        "completed": sum(r["status"] == "completed" for r in runs),
        "failed": sum(r["status"] != "completed" for r in runs),
        "ran": sum(r["action"] == "ran" for r in runs),
        "skipped": sum(r["action"] == "skipped" for r in runs),
    }


def _runs_folder(db_url: str, name: str) -> Path | None:
    """``<db folder>/sweep-<name>`` for a SQLite ledger; ``None`` (the shared ledger) for PostgreSQL."""
    url = parse_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    if is_memory(url):
        raise InputError("a sweep needs a database file or PostgreSQL, not an in-memory SQLite database")
    return Path(url.database or "").resolve().parent / f"sweep-{name}"


def _wanted(spec: SweepSpec, files: Path | None) -> list[SweepRun]:
    out = []
    for point in spec.points:
        for seed in spec.seeds:
            url = None if files is None else f"sqlite:///{files / file_stem(point.key, seed)}.db"
            out.append(
                SweepRun(
                    point.key,
                    seed,
                    point.index,
                    point.params,
                    None,
                    url,
                    "failed" if point.error else "pending",
                    point.error,
                    0,
                    None,
                    None,
                )
            )
    return out


def _plan(
    ledger: SweepLedger, sweep_id: str, spec: SweepSpec, store: LedgerReader
) -> tuple[list[SweepRun], dict[tuple[str, int], str]]:
    """The rows to submit, and the action per ``(point, seed)`` for rows that are not submitted."""
    errors = {p.key: p.error for p in spec.points}
    todo, actions = [], {}
    for row in ledger.runs(sweep_id):
        key = (row.point_key, row.seed)
        if errors.get(row.point_key):
            actions[key] = "invalid"
            if row.status != "failed" or row.error != errors[row.point_key]:
                ledger.update(sweep_id, row.point_key, row.seed, status="failed", error=errors[row.point_key])
        elif row.status == "completed" and _still_complete(store, row):
            actions[key] = "skipped"
        else:
            todo.append(row)
    return todo, actions


def _still_complete(store: LedgerReader, row: SweepRun) -> bool:
    """The recorded run exists, is completed and has the recorded head hash."""
    if row.run_id is None or row.head_hash is None:
        return False
    try:
        if row.db_url is None:
            run = store.get_run(row.run_id)
        else:
            if not Path(parse_url(row.db_url).database or "").exists():
                return False
            with open_store(row.db_url) as other:
                run = other.get_run(row.run_id)
    except RexnetError:
        return False
    return run.status == "completed" and run.head_hash.hex() == row.head_hash


def _task(db_url: str, spec: SweepSpec, row: SweepRun, batch_size: int) -> dict[str, Any]:
    point = spec.points[row.point_index]
    task = {
        "db_url": row.db_url or db_url,
        "run_name": run_name(spec.name, row.point_key, row.seed),
        "scenario": point.scenarios[row.seed].to_record(),
        "batch_size": batch_size,
    }
    hook = os.environ.get(KILL_ENV)
    if hook:
        key, seed, after, *once = hook.split("|")
        if key == row.point_key and int(seed) == row.seed:
            task.update(kill_after=int(after), kill_once=once == ["once"])
    return task


def _execute(
    ledger: SweepLedger,
    sweep_id: str,
    store: Recorder,
    rows: list[SweepRun],
    tasks: list[dict[str, Any]],
    *,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
    total: int,
) -> None:
    from rexnet.sweep.cluster import dask_client
    from rexnet.sweep.task import run_task

    with dask_client(workers=workers, scheduler=scheduler, jobs=len(tasks)) as client:
        from distributed import as_completed

        futures = {}
        for row, task in zip(rows, tasks, strict=True):
            ledger.update(sweep_id, row.point_key, row.seed, status="running", error=None, bump=True)
            future = client.submit(run_task, task, pure=False)
            futures[future] = (row, task)
        done, offset = 0, total - len(tasks)
        for future in as_completed(futures):
            row, task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, not raised
                _record_failure(ledger, sweep_id, store, row, task, exc)
            else:
                summary = result["summary"]
                ledger.update(
                    sweep_id,
                    row.point_key,
                    row.seed,
                    status="completed",
                    error=None,
                    run_id=result["run_id"],
                    head_hash=summary["head_hash"],
                    summary=summary,
                )
            done += 1
            if progress is not None:
                progress(offset + done, total)


def _record_failure(
    ledger: SweepLedger,
    sweep_id: str,
    store: Recorder,
    row: SweepRun,
    task: dict[str, Any],
    exc: BaseException,
) -> None:
    """``failed`` with the reason; the run the task left behind is marked ``failed`` (not deleted)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if type(exc).__name__ == "KilledWorker":  # its first sentence says it all; the rest is a link
        text = text.split(". ", 1)[0]
    reason = f"{type(exc).__name__}: {text}"
    run_id = None
    try:
        target: Recorder = store if row.db_url is None else open_store(row.db_url)
        try:
            for info in target.list_runs():
                base = task["run_name"]
                if info.name is not None and (info.name == base or info.name.startswith(base + "#")):
                    run_id = info.run_id  # the newest of them (creation order)
                    if info.status == "running":
                        target.set_status(info.run_id, "failed")
        finally:
            if target is not store:
                target.close()
    except RexnetError:
        pass  # the reason above is what matters; the run (if any) stays as it is
    ledger.update(
        sweep_id,
        row.point_key,
        row.seed,
        status="failed",
        error=reason,
        run_id=run_id,
        head_hash=None,
        summary=None,
    )


def _run_entry(row: SweepRun, action: str) -> dict[str, Any]:
    return {
        "point": row.point_key,
        "params": row.params,
        "seed": row.seed,
        "status": row.status,
        "action": action,
        "run_id": row.run_id,
        "db_url": row.db_url,
        "head_hash": row.head_hash,
        "attempts": row.attempts,
        "error": row.error,
    }

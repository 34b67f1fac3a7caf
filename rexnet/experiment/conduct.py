"""Running an experiment: its runs through the sweep machinery, shocks as forks, metrics per run.

:func:`run_experiment` is what ``rexnet experiment`` does:

1. expand the spec at the chosen scale into a sweep (:mod:`rexnet.sweep`) with one point per
   factor level (design ``levels``) or a single unshocked point (design ``fork``), every point on
   the same seeds, and run it on Dask: recorded in the ledger, resumable (finished runs are
   skipped when the experiment is run again);
2. design ``fork``: fork every unshocked run at the time its treatment's shock becomes known, so
   each pair shares its history up to the shock and differs only after it (the forks are Dask
   tasks too, and idempotent by run name);
3. read every metric of every run with SQL (:mod:`rexnet.experiment.metrics`) into tidy rows.

Everything returned traces back to run ids (and, for a SQLite ledger, the per-run files of the
sweep) that ``rexnet replay``, ``fork`` and ``sql`` open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexnet.errors import CheckFailed, InputError
from rexnet.experiment.metrics import read_metrics, recovery_units
from rexnet.experiment.spec import ExperimentSpec, Scale

Progress = Callable[[str, int, int], None]

#: the levels of a fork design's pair
UNSHOCKED, SHOCKED = "unshocked", "shocked"


@dataclass
class Result:
    """The runs of an experiment and the tidy metric rows read from them."""

    spec: ExperimentSpec
    scale: Scale
    seeds: list[int]
    sweep: str
    #: one entry per run: condition, factor, level, seed, run_id, db_url
    runs: list[dict[str, Any]] = field(default_factory=list)
    #: tidy rows: experiment, condition, factor, level, seed, run_id, metric, value
    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep_name(spec: ExperimentSpec, scale: Scale, n_seeds: int) -> str:
    """The name of the experiment's sweep (another seed count is another sweep)."""
    return f"experiment-{spec.name}-{scale}-s{n_seeds}"


def seeds_for(spec: ExperimentSpec, scale: Scale, n: int | None) -> list[int]:
    """Seeds ``1..n`` (the scale's count unless ``n`` is given): the same for every condition."""
    count = spec.scales[scale].seeds if n is None else n
    if not 2 <= count <= 1000:
        raise InputError(f"--seeds {count}: an interval needs 2 to 1000 seeds")
    return list(range(1, count + 1))


def level_text(value: Any) -> str:
    """A factor level as it appears in results (JSON for non-strings)."""
    return value if isinstance(value, str) else json.dumps(value)


def build_sweep(spec: ExperimentSpec, scale: Scale, seeds: list[int], folder: Path | None) -> Any:
    """The sweep that runs every condition of the experiment on ``seeds``."""
    from rexnet.sweep.spec import parse_sweep

    chosen = spec.scales.get(scale)
    if chosen is None:
        raise InputError(f"--scale {scale}: experiment {spec.name!r} has no [scales.{scale}] table")
    if spec.design == "levels":
        points = [{f.key: level} for f in spec.factors for level in f.levels]
    else:
        points = [{}]
    raw: dict[str, Any] = {
        "name": sweep_name(spec, scale, len(seeds)),
        "scenario": spec.scenario,
        "seeds": seeds,
        "points": points,
    }
    if chosen.units is not None:
        raw["units"] = chosen.units
    if chosen.set:
        raw["set"] = chosen.set
    return parse_sweep(raw, source=f"experiment {spec.name}", folder=folder)


def checked_sweep(spec: ExperimentSpec, scale: Scale, seeds: list[int], folder: Path | None) -> Any:
    """The experiment's sweep (:func:`build_sweep`), every point and shock checked before anything
    runs (``InputError`` names the first bad one)."""
    sweep = build_sweep(spec, scale, seeds, folder)
    bad = [p for p in sweep.points if p.error]
    if bad:
        raise InputError(f"experiment {spec.name}: {bad[0].key}: {bad[0].error}")
    for treatment in spec.treatments:
        known_at_s(treatment.shock, sweep.base.market.unit_seconds)
    return sweep


def known_at_s(shock: dict[str, Any], unit_seconds: int) -> float:
    """When a shock becomes known (the fork time): ``at_s``, or ``notice_s`` before its first unit.

    Raises:
        InputError: the shock is not a valid ``[[shocks]]`` table (named).
    """
    from pydantic import ValidationError

    from rexnet.domain.strict import first_problem
    from rexnet.sim.scenario import ShockSpec

    try:
        spec = ShockSpec.model_validate(shock)
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise InputError(f"treatments.shock.{where}: {what}") from None
    return spec.known_at_s(unit_seconds)


def run_experiment(
    db_url: str,
    spec: ExperimentSpec,
    *,
    scale: Scale = "small",
    seeds: int | None = None,
    folder: Path | None = None,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    sweep: Any = None,
) -> Result:
    """Run (or finish) ``spec`` into the ledger at ``db_url`` and read its metrics (module docstring).
    ``sweep``: the :func:`checked_sweep` of these arguments, when the caller already made it.

    Raises:
        InputError: bad spec values, database URL or scheduler.
    """
    from rexnet.sweep import run_sweep

    seed_list = seeds_for(spec, scale, seeds)
    if sweep is None:
        sweep = checked_sweep(spec, scale, seed_list, folder)
    result = Result(spec, scale, seed_list, sweep.name)

    def sweep_progress(done: int, total: int) -> None:
        if progress is not None:
            progress("runs", done, total)

    from rexnet.sweep.cluster import shared_dask_client

    jobs = sweep.runs * (1 + len(spec.treatments))
    with shared_dask_client(workers=workers, scheduler=scheduler, jobs=jobs) as client:
        outcome = run_sweep(db_url, sweep, workers=workers, scheduler=scheduler, progress=sweep_progress)
        # a PostgreSQL ledger holds every run; a SQLite one gives each run its own file
        runs = {(r["point"], r["seed"]): {**r, "db_url": r["db_url"] or db_url} for r in outcome["runs"]}
        result.failed.extend(
            f"{r['point']} seed {r['seed']}: {r['error']}"
            for r in outcome["runs"]
            if r["status"] != "completed"
        )
        if spec.design == "levels":
            for point in sweep.points:
                ((key, value),) = point.params.items()
                for seed in seed_list:
                    run = runs[(point.key, seed)]
                    if run["status"] == "completed":
                        result.runs.append(_entry(point.key, key, level_text(value), seed, run))
        else:
            unit_seconds = sweep.base.market.unit_seconds
            forks = _fork_all(
                spec, sweep, runs, seed_list, out, unit_seconds, workers, scheduler, progress, result
            )
            for treatment in spec.treatments:
                for seed in seed_list:
                    base = runs[("base", seed)]
                    if base["status"] != "completed":
                        continue
                    fork = forks.get((treatment.name, seed))
                    if fork is None:
                        continue
                    result.runs.append(_entry("base", treatment.name, UNSHOCKED, seed, base))
                    result.runs.append(_entry(treatment.name, treatment.name, SHOCKED, seed, fork))
        result.rows = _read_all(client, spec, result, progress)
    return result


def _entry(condition: str, factor: str, level: str, seed: int, run: dict[str, Any]) -> dict[str, Any]:
    return {
        "condition": condition,
        "factor": factor,
        "level": level,
        "seed": seed,
        "run_id": run["run_id"],
        "db_url": run["db_url"],
    }


def _fork_all(
    spec: ExperimentSpec,
    sweep: Any,
    runs: dict[tuple[str, int], dict[str, Any]],
    seeds: list[int],
    out: Path,
    unit_seconds: int,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
    result: Result,
) -> dict[tuple[str, int], dict[str, Any]]:
    """Fork each completed unshocked run with each treatment's shock; ``(treatment, seed) -> run``."""
    shocks_dir = out / "shocks"
    shocks_dir.mkdir(parents=True, exist_ok=True)
    tasks = []
    for treatment in spec.treatments:
        path = shocks_dir / f"{treatment.name}.toml"
        path.write_text(_shock_toml(treatment.name, treatment.shock), encoding="utf-8")
        at_s = known_at_s(treatment.shock, unit_seconds)
        for seed in seeds:
            base = runs[("base", seed)]
            if base["status"] != "completed":
                continue
            tasks.append(
                {
                    "key": (treatment.name, seed),
                    "db_url": base["db_url"],
                    "parent": base["run_id"],
                    "at_s": at_s,
                    "shock_file": str(path.resolve()),
                    "name": f"{sweep.name}/{treatment.name}/seed={seed}",
                }
            )
    if not tasks:
        return {}
    from rexnet.sweep.cluster import dask_client

    forks: dict[tuple[str, int], dict[str, Any]] = {}
    with dask_client(workers=workers, scheduler=scheduler, jobs=len(tasks)) as client:
        from distributed import as_completed

        futures = {client.submit(fork_task, task, pure=False): task for task in tasks}
        done = 0
        for future in as_completed(futures):
            task = futures[future]
            try:
                forks[task["key"]] = {**future.result(), "db_url": task["db_url"]}
            except Exception as exc:  # noqa: BLE001 - a failed fork is reported, the rest go on
                result.failed.append(f"{task['name']}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            done += 1
            if progress is not None:
                progress("forks", done, len(tasks))
    return forks


def _shock_toml(name: str, shock: dict[str, Any]) -> str:
    lines = ["[[shocks]]", f"name = {json.dumps(name)}"]
    for key, value in shock.items():
        if key != "name":
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def fork_task(task: dict[str, Any]) -> dict[str, Any]:
    """Fork one unshocked run (a Dask task, idempotent by run name): ``{"run_id", "head_hash"}``.

    A completed fork of that name is reused; an incomplete one (its worker died) is resumed.
    """
    from rexnet.app.operations import fork_run, resume_run
    from rexnet.errors import RunNotFound
    from rexnet.store import open_store

    with open_store(task["db_url"]) as store:
        try:
            run = store.get_run(task["name"])
        except RunNotFound:
            run = None
        if run is not None:
            if run.status != "completed":
                resume_run(store, run)
                run = store.get_run(run.run_id)
            return {"run_id": run.run_id, "head_hash": run.head_hash.hex()}
        parent = store.get_run(task["parent"])
        summary = fork_run(
            store, parent, at_time=task["at_s"], shock_file=task["shock_file"], name=task["name"]
        )
        return {"run_id": summary.run_id, "head_hash": summary.head_hash}


def _read_all(
    client: Any, spec: ExperimentSpec, result: Result, progress: Progress | None
) -> list[dict[str, Any]]:
    """Every metric of every run as tidy rows, read in parallel (one Dask task per ledger file)."""
    from distributed import as_completed

    contexts = {
        t.name: {"units": [t.shock["first_unit"], t.shock["last_unit"]], "band": t.band}
        for t in spec.treatments
    }
    names = [m for m in spec.metrics if spec.design == "fork" or not m.startswith("affected_")]
    by_url: dict[str, list[dict[str, Any]]] = {}
    for run in result.runs:
        entry = {**run, "ctx": contexts.get(run["factor"], {})}
        if spec.design == "fork" and run["level"] == SHOCKED:
            entry["pair"] = _pair_of(result, run)["run_id"]
        by_url.setdefault(run["db_url"], []).append(entry)
    futures = [
        client.submit(metrics_task, url, entries, names, pure=False) for url, entries in by_url.items()
    ]
    values: dict[tuple[str, str, str], dict[str, float | None]] = {}
    done = 0
    for future in as_completed(futures):
        for key, got in future.result():
            values[key] = got
            done += 1
        if progress is not None:
            progress("metrics", done, len(result.runs))
    rows: list[dict[str, Any]] = []
    for run in result.runs:  # the order of result.runs, whatever order the tasks finished in
        for metric, value in values[(run["run_id"], run["factor"], run["level"])].items():
            rows.append(
                {
                    "experiment": spec.name,
                    "condition": run["condition"],
                    "factor": run["factor"],
                    "level": run["level"],
                    "seed": run["seed"],
                    "run_id": run["run_id"],
                    "metric": metric,
                    "value": value,
                }
            )
    return rows


def metrics_task(
    url: str, entries: list[dict[str, Any]], names: list[str]
) -> list[tuple[tuple[str, str, str], dict[str, float | None]]]:
    """The metrics of the runs of one ledger (a Dask task): ``[((run, factor, level), values)]``."""
    from rexnet.analytics import Analytics

    out = []
    # a sweep's SQLite file holds one run and is read once: a columnar mirror of it would cost
    # more than it saves; a PostgreSQL ledger (every run of the experiment) is worth mirroring
    with Analytics(url, mirror="off" if url.startswith("sqlite") else None) as ax:
        for entry in entries:
            got = read_metrics(ax, entry["run_id"], names, entry["ctx"])
            if "pair" in entry:  # the shocked run's unshocked parent lives in the same ledger
                got.update(recovery_units(ax, entry["run_id"], ax, entry["pair"], entry["ctx"]))
            out.append(((entry["run_id"], entry["factor"], entry["level"]), got))
    return out


def _pair_of(result: Result, entry: dict[str, Any]) -> dict[str, Any]:
    for other in result.runs:
        if (
            other["factor"] == entry["factor"]
            and other["seed"] == entry["seed"]
            and other["level"] == UNSHOCKED
        ):
            return other
    raise CheckFailed(f"run {entry['run_id']}: its unshocked pair is missing")


def workers_default() -> int:
    return os.cpu_count() or 1

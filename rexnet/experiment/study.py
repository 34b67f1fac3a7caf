"""``rexnet experiment`` end to end: plan an experiment, conduct it, write its output folder.

The batch use case over the application layer: :func:`plan` checks the spec, the scale and the
seeds and sizes the work before anything runs (so the CLI can announce it); :func:`conduct`
runs or finishes every run (:func:`rexnet.experiment.conduct.run_experiment`), writes the folder
(:mod:`rexnet.experiment.report`, with a copy of a spec given by path and the commands that
reproduce it) and returns a typed :class:`Outcome` for the CLI to render.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexnet.errors import InputError
from rexnet.experiment.conduct import Progress, Result, checked_sweep, run_experiment, seeds_for
from rexnet.experiment.spec import ExperimentSpec, Scale, load_experiment


@dataclass(frozen=True)
class Plan:
    """An experiment checked and sized, before it runs.

    Attributes:
        ref: the experiment as given (a built-in name or a spec file's path).
        spec: its validated spec; ``folder``: the spec file's folder (``None``: built-in).
        scale: ``small`` or ``full``; ``seeds``: the seeds every condition runs on;
        ``seeds_option``: the ``--seeds`` given (``None``: the scale's count).
        sweep: the experiment's sweep, every point and shock checked.
        runs: runs in all (a fork design's forks included).
        workers: the local workers the estimate assumes.
        expected_seconds: the scale's time per run x runs / parallel workers.
    """

    ref: str
    spec: ExperimentSpec
    folder: Path | None
    scale: Scale
    seeds: list[int]
    seeds_option: int | None
    sweep: Any
    runs: int
    workers: int
    expected_seconds: float


@dataclass(frozen=True)
class Outcome:
    """An experiment conducted: its runs' metrics and the folder written.

    Attributes:
        plan: what was run.
        result: runs, tidy metric rows and the runs that did not complete (``result.failed``).
        out: the output folder; ``summary``: its interval summary rows (summary.csv).
        seconds: wall time of the whole experiment.
    """

    plan: Plan
    result: Result
    out: Path
    summary: list[dict[str, Any]]
    seconds: float

    @property
    def run_count(self) -> int:
        return len({r["run_id"] for r in self.result.runs})

    def headline(self) -> list[dict[str, Any]]:
        """The summary rows of the spec's headline metrics (its first three when none is named)."""
        head = self.plan.spec.headline or self.plan.spec.metrics[:3]
        return [r for r in self.summary if r["metric"] in head]


def plan(ref: str, *, scale: Scale = "small", seeds: int | None = None, workers: int | None = None) -> Plan:
    """Load and check the experiment ``ref`` at ``scale`` (every point and shock) and size it
    (``InputError`` when bad), before anything runs."""
    spec, folder = load_experiment(ref)
    chosen = spec.scales.get(scale)
    if chosen is None:
        raise InputError(f"--scale {scale}: experiment {spec.name!r} has no [scales.{scale}] table")
    seed_list = seeds_for(spec, scale, seeds)
    sweep = checked_sweep(spec, scale, seed_list, folder)
    runs = sweep.runs + (len(spec.treatments) * len(seed_list) if spec.design == "fork" else 0)
    n_workers = workers or os.cpu_count() or 1
    expected = chosen.seconds_per_run * runs / max(1, min(n_workers, runs))
    return Plan(ref, spec, folder, scale, seed_list, seeds, sweep, runs, n_workers, expected)


def conduct(
    db_url: str,
    planned: Plan,
    *,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Run (or finish) ``planned`` into the ledger at ``db_url`` and write its output folder
    (default ``experiment-NAME-SCALE``); runs that did not complete are in ``result.failed``."""
    from rexnet.experiment.report import write_outputs

    spec = planned.spec
    folder_out = out or Path(f"experiment-{spec.name}-{planned.scale}")
    started = time.monotonic()
    result = run_experiment(
        db_url,
        spec,
        scale=planned.scale,
        seeds=planned.seeds_option,
        folder=planned.folder,
        out=folder_out,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        sweep=planned.sweep,
    )
    # the spec travels with its results; a spec given by path is named by that copy, so the
    # page names no folder of this machine
    folder_out.mkdir(parents=True, exist_ok=True)
    ref = planned.ref
    if planned.folder is not None:
        (folder_out / "experiment.toml").write_bytes(Path(planned.ref).read_bytes())
        ref = "experiment.toml  # the copy of the spec in this folder"
    written = write_outputs(result, folder_out, reproduce_commands(ref, planned, result))
    return Outcome(planned, result, folder_out, written["summary"], time.monotonic() - started)


def reproduce_commands(ref: str, planned: Plan, result: Result) -> list[str]:
    """The commands that reproduce the experiment and open its runs (no URL, no server path)."""
    seed_opt = f" --seeds {planned.seeds_option}" if planned.seeds_option is not None else ""
    spec_ref, _, note = ref.partition("  #")
    lines = [
        "# with the same --db / REXNET_DB as the run that wrote this folder:",
        f"rexnet experiment {spec_ref} --scale {planned.scale}{seed_opt}" + (f"  #{note}" if note else ""),
        f"rexnet sweeps {result.sweep}        # the runs, their status and ledger files",
    ]
    if result.runs:
        first = result.runs[0]
        lines += [
            "# open any run of results.csv (SQLite ledger: --db sqlite:///<its file, from `rexnet sweeps`>):",
            f"rexnet replay {first['run_id']}",
            f"rexnet audit {first['run_id']}",
            f'rexnet sql "SELECT unit, vwap FROM unit_prices ORDER BY unit" --run {first["run_id"]}',
            f"rexnet fork {first['run_id']} --time 3600 --set settlement.penalty_price=1000",
        ]
    return lines

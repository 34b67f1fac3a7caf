"""``rexnet experiment``: the seed's research questions, run as declarative, paired experiments.

Thin: :mod:`rexnet.experiment` does the work. Exit codes: 0 every run completed and the output
folder is written, 1 some run did not complete (listed; run the experiment again to finish it),
2 bad input (an unknown experiment, a bad key of a spec file, a bad option).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from rexnet.cli import cli
from rexnet.cli.output import format_option, print_json, print_rows
from rexnet.errors import CheckFailed, InputError


@cli.command()
@click.argument("name", metavar="NAME|SPEC.toml", required=False)
@click.option("--list", "list_", is_flag=True, help="List the built-in experiments.")
@click.option("--seeds", type=click.IntRange(2, 1000), default=None, help="Seeds (default: the scale's).")
@click.option(
    "--scale",
    type=click.Choice(["small", "full"]),
    default="small",
    show_default=True,
    help="small: minutes on a laptop; full: the publication setting (more seeds and prosumers).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Local Dask worker processes.")
@click.option("--scheduler", metavar="ADDRESS", default=None, help="An existing Dask scheduler address.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder (default: experiment-NAME-SCALE).",
)
@click.option("--db", "db_url", default=None, help="Ledger URL (overrides the global --db / REXNET_DB).")
@format_option("table", "json")
@click.pass_obj
def experiment(
    state,
    name: str | None,
    list_: bool,
    seeds: int | None,
    scale: str,
    workers: int | None,
    scheduler: str | None,
    out_dir: str | None,
    db_url: str | None,
    fmt: str,
) -> None:
    """Run the experiment NAME (built-in) or SPEC.toml: every condition on the same seeds.

    Runs go through the sweep machinery (Dask) into the ledger and are resumable: running the
    experiment again skips finished runs. Writes results.csv, summary.csv (means, 95% intervals,
    paired differences), PNG figures and index.html into the output folder.
    """
    from rexnet.experiment import builtin_names, load_experiment

    if list_:
        rows = []
        for builtin in builtin_names():
            spec, _ = load_experiment(builtin)
            rows.append({"name": spec.name, "question": spec.question, "title": spec.title})
        if fmt == "json":
            print_json(rows)
        else:
            print_rows(rows, "table", ["name", "question", "title"])
        return
    if name is None:
        raise InputError("give an experiment NAME or SPEC.toml (or --list)")
    if workers is not None and scheduler is not None:
        raise InputError("give --workers (local cluster) or --scheduler (existing cluster), not both")
    spec, folder = load_experiment(name)
    from rexnet.experiment.runner import build_sweep, run_experiment, seeds_for

    chosen = spec.scales.get(scale)  # type: ignore[call-overload]
    if chosen is None:
        raise InputError(f"--scale {scale}: experiment {spec.name!r} has no [scales.{scale}] table")
    seed_list = seeds_for(spec, scale, seeds)  # type: ignore[arg-type]
    sweep = build_sweep(spec, scale, seed_list, folder)  # type: ignore[arg-type]
    runs = sweep.runs + (len(spec.treatments) * len(seed_list) if spec.design == "fork" else 0)
    n_workers = workers or _cpus()
    expected = chosen.seconds_per_run * runs / max(1, min(n_workers, runs))
    click.echo(
        f"experiment {spec.name} ({scale}): {runs} runs on {len(seed_list)} seeds, "
        f"expected about {_duration(expected)} with {n_workers} workers",
        err=True,
    )
    out = Path(out_dir or f"experiment-{spec.name}-{scale}")
    started = time.monotonic()
    bars: dict[str, Any] = {}
    try:
        result = run_experiment(
            db_url or state.db_url,
            spec,
            scale=scale,  # type: ignore[arg-type]
            seeds=seeds,
            folder=folder,
            out=out,
            workers=workers,
            scheduler=scheduler,
            progress=lambda stage, done, total: _advance(bars, stage, done, total),
        )
    finally:
        for bar in bars.values():
            bar.render_finish()
    from rexnet.experiment.report import HEADLINE_COLUMNS, write_outputs

    # the spec travels with its results; a spec given by path is named by that copy, so the
    # page names no folder of this machine
    out.mkdir(parents=True, exist_ok=True)
    if folder is not None:
        (out / "experiment.toml").write_bytes(Path(name).read_bytes())
        name = "experiment.toml  # the copy of the spec in this folder"
    commands = _commands(name, scale, seeds, result)
    written = write_outputs(result, out, commands)
    elapsed = time.monotonic() - started
    if fmt == "json":
        print_json(
            {
                "experiment": spec.name,
                "scale": scale,
                "seeds": result.seeds,
                "runs": len({r["run_id"] for r in result.runs}),
                "failed": result.failed,
                "out": str(out),
                "seconds": round(elapsed, 1),
                "summary": written["summary"],
            }
        )
    else:
        click.echo(
            f"experiment {spec.name}: {len({r['run_id'] for r in result.runs})} runs in "
            f"{_duration(elapsed)}; wrote {out}/index.html, summary.csv, results.csv"
        )
        head = spec.headline or spec.metrics[:3]
        print_rows(
            [r for r in written["summary"] if r["metric"] in head],
            "table",
            list(HEADLINE_COLUMNS),
        )
    if result.failed:
        raise CheckFailed(
            f"{len(result.failed)} runs of experiment {spec.name!r} did not complete "
            f"(first: {result.failed[0]}): run it again to finish them"
        )


def _advance(bars: dict[str, Any], stage: str, done: int, total: int) -> None:
    bar = bars.get(stage)
    if bar is None:
        bar = bars[stage] = click.progressbar(
            length=total, label=stage, file=sys.stderr, show_pos=True, show_eta=True
        )
        bar.render_progress()
    bar.update(done - bar.pos)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _commands(name: str, scale: str, seeds: int | None, result: Any) -> list[str]:
    """The commands that reproduce the experiment and open its runs (no URL, no server path)."""
    seed_opt = f" --seeds {seeds}" if seeds is not None else ""
    spec_ref, _, note = name.partition("  #")
    lines = [
        "# with the same --db / REXNET_DB as the run that wrote this folder:",
        f"rexnet experiment {spec_ref} --scale {scale}{seed_opt}" + (f"  #{note}" if note else ""),
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

"""``rexnet experiment``: the seed's research questions, run as declarative, paired experiments.

Thin: :mod:`rexnet.experiment` does the work. Exit codes: 0 every run completed and the output
folder is written, 1 some run did not complete (listed; run the experiment again to finish it),
2 bad input (an unknown experiment, a bad key of a spec file, a bad option).
"""

from __future__ import annotations

import sys
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
    from rexnet.experiment.study import conduct, plan

    planned = plan(name, scale=scale, seeds=seeds, workers=workers)  # type: ignore[arg-type]
    click.echo(
        f"experiment {planned.spec.name} ({scale}): {planned.runs} runs on {len(planned.seeds)} seeds, "
        f"expected about {_duration(planned.expected_seconds)} with {planned.workers} workers",
        err=True,
    )
    bars: dict[str, Any] = {}
    try:
        outcome = conduct(
            db_url or state.db_url,
            planned,
            out=Path(out_dir) if out_dir else None,
            workers=workers,
            scheduler=scheduler,
            progress=lambda stage, done, total: _advance(bars, stage, done, total),
        )
    finally:
        for bar in bars.values():
            bar.render_finish()
    result = outcome.result
    if fmt == "json":
        print_json(
            {
                "experiment": planned.spec.name,
                "scale": scale,
                "seeds": result.seeds,
                "runs": outcome.run_count,
                "failed": result.failed,
                "out": str(outcome.out),
                "seconds": round(outcome.seconds, 1),
                "summary": outcome.summary,
            }
        )
    else:
        from rexnet.experiment.report import HEADLINE_COLUMNS

        click.echo(
            f"experiment {planned.spec.name}: {outcome.run_count} runs in "
            f"{_duration(outcome.seconds)}; wrote {outcome.out}/index.html, summary.csv, results.csv"
        )
        print_rows(outcome.headline(), "table", list(HEADLINE_COLUMNS))
    if result.failed:
        raise CheckFailed(
            f"{len(result.failed)} runs of experiment {planned.spec.name!r} did not complete "
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


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"

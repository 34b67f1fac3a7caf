"""Sweep commands: ``sweep`` (run a grid x seeds on Dask), ``sweeps`` (list) and ``sweep-query``.

Thin: :mod:`rexnet.sweep` does the work. Exit codes: 0 every run of the sweep completed, 1 some
run failed (the summary says which and why; run the sweep again to redo them), 2 bad input.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from rexnet.cli import cli
from rexnet.cli.analytics import param_option, parse_params
from rexnet.cli.output import format_option, print_json, print_rows
from rexnet.errors import CheckFailed, InputError

_DB_HELP = "Ledger URL for this command (overrides the global --db / REXNET_DB)."


@cli.command()
@click.argument("sweep_file", metavar="SWEEP.toml", type=click.Path(dir_okay=False))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local Dask cluster (default: CPU count).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Use an existing Dask scheduler (tcp://host:8786) instead of a local cluster.",
)
@click.option("--db", "db_url", default=None, help=_DB_HELP)
@click.option("--name", default=None, help="Sweep name (default: the file's `name`, else its stem).")
@format_option("table", "json")
@click.pass_obj
def sweep(
    state,
    sweep_file: str,
    workers: int | None,
    scheduler: str | None,
    db_url: str | None,
    name: str | None,
    fmt: str,
) -> None:
    """Run the parameter sweep SWEEP.toml: every grid point x seed as one run, in parallel on Dask.

    Runs go into the PostgreSQL ledger, or for a SQLite --db into one SQLite file per run
    (sweep-NAME/ next to the database). Running the same sweep again skips completed runs and
    redoes failed or unfinished ones. Prints a table of mean outputs per grid point; exits 1
    when a run did not complete (its reason is listed).

    \b
    A sweep file:
        name = "penalties"              # default: the file name
        scenario = "default"            # built-in name or scenario file
        seeds = [1, 2, 3]               # or a count: seeds = 3
        units = 8                       # optional
        [set]                           # optional: in every run
        "run.price_prior" = 55.0
        [grid]                          # every combination, per seed
        "settlement.penalty_price" = [1000.0, 3000.0]
        "population[3].count" = [2, 8]  # or "population.wind.count"
    """
    from rexnet.sweep import load_sweep, run_sweep

    if workers is not None and scheduler is not None:
        raise InputError("give --workers (local cluster) or --scheduler (existing cluster), not both")
    spec = load_sweep(sweep_file, name=name)
    with click.progressbar(
        length=spec.runs, label=f"sweep {spec.name}", file=sys.stderr, show_pos=True
    ) as bar:
        last = [0]

        def progress(done: int, total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        outcome = run_sweep(
            db_url or state.db_url, spec, workers=workers, scheduler=scheduler, progress=progress
        )
    if fmt == "json":
        print_json(outcome)
    else:
        _print_outcome(outcome)
    if outcome["failed"]:
        raise CheckFailed(
            f"{outcome['failed']} of {len(outcome['runs'])} runs of sweep {outcome['name']!r} "
            "did not complete: run the sweep again to redo them"
        )


def _print_outcome(o: dict[str, Any]) -> None:
    where = "the ledger" if o["storage"] == "ledger" else f"one SQLite file per run in {o['storage']}"
    click.echo(
        f"sweep {o['name']} ({o['sweep_id']}): {len(o['runs'])} runs, {o['completed']} completed "
        f"({o['ran']} run now, {o['skipped']} already complete), {o['failed']} failed; "
        f"runs in {where}"
    )
    from rexnet.sweep.summary import COLUMNS

    print_rows(o["points"], "table", list(COLUMNS))
    failed = [r for r in o["runs"] if r["status"] != "completed"]
    if failed:
        click.echo("failed:")
        for r in failed:
            click.echo(f"  {r['point']} seed {r['seed']}: {r['error']}")


@cli.command()
@click.argument("sweep_ref", metavar="[SWEEP]", required=False)
@click.option("--db", "db_url", default=None, help=_DB_HELP)
@format_option("table", "json")
@click.pass_obj
def sweeps(state, sweep_ref: str | None, db_url: str | None, fmt: str) -> None:
    """List the sweeps (with SWEEP, a name or sweep file: its runs and their status)."""
    url = db_url or state.db_url
    if sweep_ref is None:
        from rexnet.store import open_store
        from rexnet.sweep.ledger import SweepLedger

        with open_store(url, read_only=True) as store:
            rows = SweepLedger(store.engine).list_sweeps()
        print_rows(rows, fmt, ["name", "sweep_id", "created_at", "completed", "failed", "running", "pending"])
        return
    from rexnet.sweep.query import sweep_rows

    _, runs = sweep_rows(url, sweep_ref)
    print_rows(
        [
            {
                "point": r.point_key,
                "seed": r.seed,
                "status": r.status,
                "run_id": r.run_id,
                "attempts": r.attempts,
                "head_hash": r.head_hash,
                "db_url": r.db_url,
                "error": r.error,
            }
            for r in runs
        ],
        fmt,
        ["point", "seed", "status", "run_id", "attempts", "error"] if fmt == "table" else None,
    )


@cli.command("sweep-query")
@click.argument("name")
@click.argument("sweep_ref", metavar="SWEEP")
@param_option
@click.option("--db", "db_url", default=None, help=_DB_HELP)
@format_option("table", "csv", "json")
@click.pass_obj
def sweep_query_command(
    state, name: str, sweep_ref: str, pairs: tuple[str, ...], db_url: str | None, fmt: str
) -> None:
    """Run the named query NAME (see `rexnet sql --list`) for every completed run of SWEEP.

    The results are stacked with the columns point, seed and the grid's keys in front.
    """
    from rexnet.cli.analytics import _print
    from rexnet.sweep.query import sweep_query

    columns, rows, missing = sweep_query(db_url or state.db_url, sweep_ref, name, parse_params(pairs))
    if missing:
        click.echo(f"note: {len(missing)} runs of the sweep are not completed and were left out", err=True)
    _print(columns, rows, fmt)

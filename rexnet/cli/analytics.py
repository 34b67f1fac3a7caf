"""Analysis commands: ``sql``, ``query``, ``export`` and ``report`` (thin: rexnet.analytics does the work).

DuckDB, pandas and matplotlib are imported inside the commands, so the rest of the CLI starts
without them.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import click

from rexnet.cli import cli
from rexnet.cli.output import format_option, print_json, print_rows
from rexnet.errors import InputError


def _analytics(state: Any, no_mirror: bool = False) -> Any:
    from rexnet.analytics import Analytics

    return Analytics(state.db_url, mirror="off" if no_mirror else None, notify=_warn)


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


#: ``--no-mirror`` of the commands that read through DuckDB
no_mirror_option = click.option(
    "--no-mirror",
    is_flag=True,
    help="Scan the ledger itself instead of its columnar analytics mirror (env REXNET_MIRROR=off).",
)


def _plain(value: Any) -> Any:
    """A value the printers handle (dates and other DuckDB types as text)."""
    if value is None or isinstance(value, (bool, int, float, str, Decimal, bytes, list, dict)):
        return value
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        return str(value)
    return str(value)


def _print(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    dicts = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    if fmt == "table" and not dicts:
        click.echo("  ".join(columns) if columns else "(no rows)")
        click.echo("(no rows)")
        return
    print_rows(dicts, fmt, columns)


@cli.command()
@click.argument("sql_text", metavar="SQL", required=False)
@click.option("--run", "run_ref", metavar="RUN", help="Restrict every view to this run (id or name).")
@click.option("--list", "list_queries", is_flag=True, help="List the views and the named queries.")
@no_mirror_option
@format_option("table", "csv", "json")
@click.pass_obj
def sql(
    state, sql_text: str | None, run_ref: str | None, list_queries: bool, no_mirror: bool, fmt: str
) -> None:
    """Run read-only SQL (DuckDB) over the ledger's views: events, orders, trades, settlements, ...

    Views: events, orders, trades, order_updates, rejections, gate_closures, reservations,
    realizations, settlements, unit_prices, imbalance, run_markets, event_history, runs,
    event_log. A query may read only these and call plain functions: anything that could write,
    or read a file, a setting or DuckDB's catalog, is refused (exit 2).
    """
    if list_queries:
        from rexnet.analytics.catalogue import VIEWS
        from rexnet.analytics.queries import QUERIES

        rows = [("view", name, "") for name in VIEWS] + [
            ("view", "runs", "snapshot of the runs table"),
            ("view", "event_log", "the stored events (integers, canonical JSON payloads)"),
        ]
        for q in QUERIES.values():
            params = ", ".join(f"{k}={d}" for k, (_, d) in q.params.items())
            rows.append(("query", q.name, q.description + (f" [params: {params}]" if params else "")))
        _print(["kind", "name", "description"], rows, fmt)
        return
    if not sql_text:
        raise InputError("give a SQL query (or --list)")
    with _analytics(state, no_mirror) as ax:
        columns, rows = ax.rows(sql_text, run=run_ref)
    _print(columns, rows, fmt)


#: ``--param/-p NAME=VALUE`` of the named-query commands (``query``, ``sweep-query``)
param_option = click.option(
    "--param",
    "-p",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the query (repeatable), e.g. -p bucket=3600.",
)


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """The ``--param`` pairs as a dict (raises InputError for one that is not NAME=VALUE)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair!r} is not NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


@cli.command()
@click.argument("name")
@click.argument("run_ref", metavar="RUN")
@param_option
@no_mirror_option
@format_option("table", "csv", "json")
@click.pass_obj
def query(state, name: str, run_ref: str, pairs: tuple[str, ...], no_mirror: bool, fmt: str) -> None:
    """Run a named query (see `rexnet sql --list`) for RUN."""
    params = parse_params(pairs)
    with _analytics(state, no_mirror) as ax:
        columns, rows = ax.named_rows(name, run_ref, **params)
    _print(columns, rows, fmt)


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--parquet",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write one Parquet file per view into.",
)
@no_mirror_option
@click.pass_obj
def export(state, run_ref: str, out_dir: str, no_mirror: bool) -> None:
    """Export RUN's rows of every view as Parquet files (full history for a fork)."""
    with _analytics(state, no_mirror) as ax:
        paths = ax.export_parquet(run_ref, out_dir)
    for path in paths:
        click.echo(str(path))


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for index.html and its PNG plots.",
)
@click.option(
    "--depth-time",
    type=float,
    default=None,
    metavar="T",
    help="Time (seconds) of the depth profile; default: the middle of the run.",
)
@no_mirror_option
@click.pass_obj
def report(state, run_ref: str, out_dir: str, depth_time: float | None, no_mirror: bool) -> None:
    """Write an HTML report with plots for RUN (and the comparison with its parent for a fork)."""
    from rexnet.analytics.report import write_report

    with _analytics(state, no_mirror) as ax:
        index = write_report(
            ax, run_ref, out_dir, depth_time=depth_time, progress=lambda msg: click.echo(msg, err=True)
        )
    click.echo(str(index))


@cli.command()
@click.option("--rebuild", is_flag=True, help="Discard the mirror and copy the whole ledger again.")
@format_option("table", "json")
@click.pass_obj
def mirror(state, rebuild: bool, fmt: str) -> None:
    """Bring the columnar analytics mirror up to date (sql, query, export and report do it too).

    Only events above the seq mirrored per run are copied. A ledger whose history no longer ends in
    what the mirror copied is a failed check (exit 1): see `rexnet audit`; --rebuild accepts it.
    """
    from rexnet.analytics import mirror as columnar

    url = state.store.engine.url  # opening the store migrates the ledger first
    try:
        summary = columnar.refresh(url, rebuild=rebuild, notify=_warn)
    except columnar.MirrorUnavailable as error:
        raise InputError(f"the analytics mirror cannot be used: {error}") from None
    result = {
        "runs_copied": len(summary.copied),
        "events_copied": summary.rows,
        "rebuilt": summary.rebuilt,
        "seconds": round(summary.seconds, 3),
    }
    if fmt == "json":
        print_json(result)
    else:
        print_rows([{**result, "rebuilt": ", ".join(summary.rebuilt)}], fmt)

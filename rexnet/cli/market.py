"""Market commands: ``ingest`` an external command stream, and the ``book`` and ``accounts`` views."""

from __future__ import annotations

import click

from rexnet.app import use_cases
from rexnet.cli import cli
from rexnet.cli.output import format_option, print_json, print_rows
from rexnet.cli.params import RUN_NAME, SEQ, SIM_TIME, UNIT

_AT = click.option("--at", "at_seq", type=SEQ, default=None, help="State after the event with this seq.")
_TIME = click.option(
    "--time",
    "at_time",
    type=SIM_TIME,
    default=None,
    help="State after every event with t <= T (sim seconds).",
)


@cli.command()
@click.argument("commands", metavar="COMMANDS.jsonl", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--market",
    "market_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Market rules (TOML); defaults for missing keys.",
)
@click.option("--name", type=RUN_NAME, default=None, help="A unique name for the run (see README, Limits).")
@format_option("table", "json")
@click.pass_obj
def ingest(state, commands: str, market_file: str | None, name: str | None, fmt: str) -> None:
    """Run an external JSONL command stream (``-``: standard input) through the exchange into a new run."""
    summary = use_cases.ingest(state.store, commands, market=market_file, name=name).as_dict()
    if fmt == "json":
        print_json(summary)
    else:
        click.echo(f"run {summary['run_id']}: {summary['events']} events, head {summary['head_hash']}")


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--unit", type=UNIT, required=True, help="Delivery unit.")
@_AT
@_TIME
@format_option("table", "json")
@click.pass_obj
def book(state, run_ref: str, unit: int, at_seq: int | None, at_time: float | None, fmt: str) -> None:
    """Depth of one unit's order book by price level, best first (as of --at / --time)."""
    run = state.run(run_ref)
    view = use_cases.book(state.store, run, unit, at_seq=at_seq, at_time=at_time)
    if fmt == "json":
        print_json(view)
        return
    rows = [{"side": "ask", **lvl} for lvl in reversed(view["asks"])]
    rows += [{"side": "bid", **lvl} for lvl in view["bids"]]
    click.echo(f"unit {unit}")
    print_rows(rows, "table", ["side", "price", "qty", "orders"])


@cli.command()
@click.argument("run_ref", metavar="RUN")
@_AT
@_TIME
@format_option("table", "json")
@click.pass_obj
def accounts(state, run_ref: str, at_seq: int | None, at_time: float | None, fmt: str) -> None:
    """Cash, positions, reservations and penalties per participant (as of --at / --time)."""
    run = state.run(run_ref)
    rows = use_cases.accounts(state.store, run, at_seq=at_seq, at_time=at_time)
    print_rows(rows, fmt if fmt == "json" else "table")

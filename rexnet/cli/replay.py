"""History commands: ``replay`` (rebuild, optionally ``--verify``), ``fork`` and ``resume``."""

from __future__ import annotations

import click

from rexnet.cli import cli
from rexnet.cli.output import format_option, print_json
from rexnet.cli.params import RUN_NAME, SEQ, SIM_TIME


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--verify",
    is_flag=True,
    help="Also re-simulate from the stored scenario + seed and compare hash chains (exit 1 on a divergence).",
)
@format_option("table", "json")
@click.pass_obj
def replay(state, run_ref: str, verify: bool, fmt: str) -> None:
    """Rebuild a run's projections from its log and print a summary."""
    from rexnet.app import use_cases

    summary = use_cases.replay(state.store, state.run(run_ref), verify_first=verify).as_dict()
    if fmt == "json":
        print_json(summary)
        return
    s = summary
    click.echo(
        f"run {s['run_id']}: {s['events']} events, head {s['head_hash']} (recomputed), status {s['status']}"
    )
    click.echo(
        f"  open units {s['open_units']}, open orders {s['open_orders']}, participants {s['participants']}, "
        f"accounts total {s['accounts_total_cash']}"
    )
    click.echo(
        f"  trades {s['trades']}, volume {s['volume_kwh']} kWh, units settled {s['units_settled']}, "
        f"penalties {s['penalties']}"
    )
    if verify:
        v = s["verify"]
        tail = "" if v["complete"] else " (the run is incomplete: `rexnet resume` finishes it)"
        click.echo(f"verified {v['verified']} events{tail}")


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--at",
    "at_seq",
    type=SEQ,
    default=None,
    help="Fork after the instant of the event with this seq (every event at that time is shared).",
)
@click.option(
    "--time", "at_time", type=SIM_TIME, default=None, help="Fork after every event with t <= T (sim seconds)."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change from the fork time on: population[I].FIELD, population.KIND.FIELD, run.price_prior.",
)
@click.option(
    "--shock",
    "shock_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML file of [[shocks]] announced at or after the fork time.",
)
@click.option("--name", type=RUN_NAME, default=None, help="A unique name for the fork (see README, Limits).")
@format_option("table", "json")
@click.pass_obj
def fork(
    state,
    run_ref: str,
    at_seq: int | None,
    at_time: float | None,
    sets: tuple[str, ...],
    shock_file: str | None,
    name: str | None,
    fmt: str,
) -> None:
    """Re-simulate RUN to a point (checked against its log) and continue it, changed, as a new run."""
    from rexnet.app import use_cases

    parent = state.run(run_ref)
    summary = use_cases.fork(
        state.store, parent, at_seq=at_seq, at_time=at_time, sets=list(sets), shock_file=shock_file, name=name
    ).as_dict()
    if fmt == "json":
        print_json(summary)
        return
    s = summary
    click.echo(
        f"run {s['run_id']}: fork of {s['parent']} at seq {s['fork_seq']} (t = {s['fork_t']:g} s), "
        f"{s['events']} events ({s['appended']} own), head {s['head_hash']}"
    )


@cli.command()
@click.argument("run_ref", metavar="RUN")
@format_option("table", "json")
@click.pass_obj
def resume(state, run_ref: str, fmt: str) -> None:
    """Continue a run that was cut short, from its last committed event.

    The result equals an uninterrupted run. A completed run is left alone (message, exit 0).
    """
    from rexnet.app import use_cases

    run = state.run(run_ref)
    summary = use_cases.resume(state.store, run).as_dict()
    if fmt == "json":
        print_json(summary)
        return
    s = summary
    if not s["resumed"]:
        click.echo(
            f"run {s['run_id']} is already completed ({s['events']} events, "
            f"head {s['head_hash']}); nothing to do"
        )
        return
    click.echo(
        f"run {s['run_id']}: resumed, {s['appended']} events appended; "
        f"{s['events']} events, head {s['head_hash']}"
    )


@cli.command()
@click.argument("run_ref", metavar="RUN", required=False)
@click.option("--all", "all_runs", is_flag=True, help="Every run of the ledger.")
@format_option("table", "json")
@click.pass_obj
def snapshot(state, run_ref: str | None, all_runs: bool, fmt: str) -> None:
    """Store the snapshots that make as-of reads of a long run fast (`book --time`, `serve`).

    Runs recorded by this RexNet have them already; this adds them to runs recorded before, and
    replaces any that is unusable or differs from what the history gives (`rexnet audit` names
    those). Folds the run's history once.
    """
    from rexnet.errors import InputError
    from rexnet.replay.decode import NotApplicable
    from rexnet.replay.persisted import backfill
    from rexnet.replay.projection import not_applicable

    if all_runs == (run_ref is not None):
        raise InputError("give a RUN or --all")
    runs = state.store.list_runs() if all_runs else [state.run(run_ref)]
    results = []
    for run in runs:
        try:
            counts = backfill(state.store, run)
        except NotApplicable as failed:
            raise not_applicable(run, failed) from None
        results.append({"run_id": run.run_id, **counts})
    if fmt == "json":
        print_json(results if all_runs else results[0])
        return
    for r in results:
        click.echo(
            f"run {r['run_id']}: {r['written']} snapshots written, {r['replaced']} replaced, {r['kept']} kept"
        )

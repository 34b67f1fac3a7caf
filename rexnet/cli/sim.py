"""``rexnet run``: simulate a scenario into the ledger, with a progress bar and a summary."""

from __future__ import annotations

import sys

import click

from rexnet.cli import cli
from rexnet.cli.output import format_option, print_json, print_rows
from rexnet.cli.params import RUN_NAME, SEED, UNITS


@cli.command()
@click.argument("scenario", required=False, default=None, metavar="[SCENARIO]")
@click.option("--seed", type=SEED, default=None, help="Run seed (default: the scenario's).")
@click.option("--units", type=UNITS, default=None, help="Number of delivery units to simulate.")
@click.option("--name", type=RUN_NAME, default=None, help="A unique name for the run (see README, Limits).")
@format_option("table", "json")
@click.pass_obj
def run(state, scenario: str | None, seed: int | None, units: int | None, name: str | None, fmt: str) -> None:
    """Simulate SCENARIO (a TOML file or a built-in name; default: the default scenario)."""
    from rexnet.app import use_cases
    from rexnet.app.simulate import with_overrides
    from rexnet.sim.scenario import load_scenario

    chosen = with_overrides(load_scenario(scenario), seed=seed, units=units)
    store = state.store
    with click.progressbar(
        length=chosen.run.units, label="simulating", file=sys.stderr, show_pos=True
    ) as bar:
        last = [0]

        def progress(done: int, total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        summary = use_cases.run(store, chosen, name=name, progress=progress).as_dict()
    if fmt == "json":
        print_json(summary)
        return
    _print_summary(summary)


def _print_summary(s: dict) -> None:
    click.echo(f"run {s['run_id']}: {s['events']} events, head {s['head_hash']}")
    click.echo(
        f"  trades {s['trades']}, volume {s['volume_kwh']} kWh, price range "
        f"{s['min_price']} .. {s['max_price']} /MWh, rejections {s['rejections']}"
    )
    click.echo(
        f"  units settled {s['units_settled']}, penalties {s['penalties']}, "
        f"deficit {s['deficit_kwh']} kWh, surplus {s['surplus_kwh']} kWh"
    )
    if s["by_kind"]:
        print_rows(s["by_kind"], "table", ["kind", "agents", "energy_kwh", "net_cash", "cost_per_kwh"])

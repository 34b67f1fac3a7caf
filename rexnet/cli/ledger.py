"""Ledger commands: ``db upgrade``, ``runs``, ``events`` and ``audit``."""

from __future__ import annotations

import click

from rexnet.cli import cli
from rexnet.cli.output import dumps, escape, format_option, print_json, print_rows
from rexnet.domain.display import event_display
from rexnet.errors import CheckFailed
from rexnet.replay.audit import audit_run
from rexnet.replay.history import read_history
from rexnet.replay.projection import run_spec


@cli.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state) -> None:
    """Apply the schema migrations (also done implicitly on first use)."""
    from rexnet.store import upgrade

    before, after = upgrade(state.db_url)
    if before == after:
        click.echo(f"database at revision {after} (up to date)")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@cli.command()
@format_option("table", "json")
@click.pass_obj
def runs(state, fmt: str) -> None:
    """List the runs in the ledger."""
    print_rows([r.identity() for r in state.store.list_runs()], fmt)


@cli.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@format_option("table", "jsonl")
@click.pass_obj
def events(state, run_ref: str, types: tuple[str, ...], fmt: str) -> None:
    """List a run's events in display units (kW, currency/MWh, currency).

    A fork's history includes the events it shares with its parent (seq <= fork_seq).
    """
    run = state.run(run_ref)
    spec = run_spec(run)
    stream = read_history(state.store, run, types=set(types) or None)
    if fmt == "jsonl":
        for stored in stream:
            row = {"run_id": run.run_id, "seq": stored.seq, **event_display(stored.event(), spec)}
            click.echo(dumps(row))
        return
    rows = []
    for stored in stream:
        shown = event_display(stored.event(), spec)
        fields = " ".join(f"{k}={v}" for k, v in shown.items() if k not in ("t", "type"))
        rows.append({"seq": stored.seq, "t": shown["t"], "type": shown["type"], "fields": fields})
    print_rows(rows, "table")


@cli.command()
@click.argument("run_ref", metavar="RUN")
@format_option("table", "json")
@click.pass_obj
def audit(state, run_ref: str, fmt: str) -> None:
    """Check a run from its log: hash chain, reservations, settlements, conservation.

    Exit 1 (listing the first discrepancies) when anything disagrees.
    """
    run = state.run(run_ref)
    result = audit_run(state.store, run)
    if fmt == "json":
        print_json(
            {"run_id": run.run_id, "ok": result.ok, "summary": result.summary, "problems": result.problems}
        )
    else:
        click.echo(escape(result.summary))
        for line in result.problems:
            click.echo(f"  {escape(line)}")
    if not result.ok:
        raise CheckFailed(result.problems[0] if result.problems else result.summary)

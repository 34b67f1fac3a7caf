"""Ledger commands: ``db upgrade``, ``runs``, ``events`` and ``audit`` (``digest`` has its own module)."""

from __future__ import annotations

import click

from rexnet.app.audit import audit_all, audit_run
from rexnet.cli import cli
from rexnet.cli.output import dumps, escape, format_option, key_option, print_json, print_rows
from rexnet.domain.display import event_display
from rexnet.errors import CheckFailed, InputError, RunNotFound
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
    """List the runs in the ledger (a failed run with the reason it failed)."""
    rows = [
        {**r.identity(), **({"failure": r.failure} if r.failure else {})} for r in state.store.list_runs()
    ]
    columns = None
    if any("failure" in row for row in rows):
        columns = ["run_id", "name", "status", "parent", "fork_seq", "events", "head_hash", "failure"]
    print_rows(rows, fmt, columns)


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
@click.argument("run_ref", metavar="[RUN]", required=False)
@click.option(
    "--all", "all_runs", is_flag=True, help="Audit every run, and look for events of runs that do not exist."
)
@click.option(
    "--digest",
    "digest_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also prove the log still extends this digest (`rexnet digest`); RUN defaults to its run.",
)
@key_option
@format_option("table", "json")
@click.pass_obj
def audit(
    state, run_ref: str | None, all_runs: bool, digest_file: str | None, key_file: str | None, fmt: str
) -> None:
    """Check a run: hash chain, re-execution of its inputs, closing, settlements, digest.

    Exit 0 when nothing is wrong, including a run cut short by a crash, reported as "incomplete,
    resumable" (`rexnet resume` finishes it); exit 1 (naming the first forged seq) when a check
    fails or the ledger is damaged; exit 2 for a bad run id or option.
    """
    if all_runs:
        if run_ref is not None or digest_file is not None:
            raise InputError("--all audits every run: give no RUN and no --digest")
        results, orphans = audit_all(state.store)
        _print_all(results, orphans, fmt)
        failed = [r for r in results if not r.ok]
        if failed or orphans:
            first = failed[0].summary if failed else f"events of run {orphans[0][0]!r}, which does not exist"
            raise CheckFailed(
                f"{len(failed)} runs failed, {len(orphans)} unknown run ids in event_log; first: {first}"
            )
        return
    digest = None
    if digest_file is not None:
        from rexnet.app.digest import load_key, read_digest

        digest = read_digest(digest_file, load_key(key_file))
        if run_ref is None:
            try:
                run = state.store.get_run(digest.run_id)
            except RunNotFound:
                raise CheckFailed(f"run {digest.run_id} of the digest is not in the ledger") from None
        else:
            run = state.run(run_ref)
            if run.run_id != digest.run_id:
                raise InputError(f"--digest {digest_file} is of run {digest.run_id}, not of run {run.run_id}")
    elif run_ref is None:
        raise InputError("give a RUN, --all, or --digest FILE")
    else:
        run = state.run(run_ref)
    result = audit_run(state.store, run, digest=digest)
    if fmt == "json":
        print_json(_record(result))
    else:
        click.echo(escape(result.summary))
        for line in result.problems:
            click.echo(f"  {escape(line)}")
    if not result.ok:
        raise CheckFailed(result.problems[0] if result.problems else result.summary)


def _record(result) -> dict:
    return {
        "run_id": result.run_id,
        "ok": result.ok,
        "verdict": result.verdict,
        "seq": result.seq,
        "summary": result.summary,
        "problems": result.problems,
    }


def _print_all(results, orphans, fmt: str) -> None:
    if fmt == "json":
        print_json(
            {
                "runs": [_record(r) for r in results],
                "orphans": [
                    {"run_id": o[0], "rows": o[1], "first_seq": o[2], "last_seq": o[3]} for o in orphans
                ],
            }
        )
        return
    for result in results:
        click.echo(result.summary)
        for line in result.problems:
            click.echo(f"  {line}")
    for run_id, rows, first, last in orphans:
        click.echo(f"event_log: {rows} events (seq {first}..{last}) of run {run_id!r}, which does not exist")
    counts = {v: sum(1 for r in results if r.verdict == v) for v in ("ok", "incomplete", "failed")}
    click.echo(
        f"{len(results)} runs: {counts['ok']} ok, {counts['incomplete']} incomplete, "
        f"{counts['failed']} failed; {len(orphans)} unknown run ids in event_log"
    )

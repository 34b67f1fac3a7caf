"""The ``rexnet`` command line: a thin translation layer over the library.

Commands parse arguments, call the library and print. Errors the library raises on purpose are
turned into one-line messages with the exit codes of DESIGN.md section 5: 2 for bad input
(:class:`~rexnet.errors.InputError`), 1 for a failed check (:class:`~rexnet.errors.CheckFailed`).
"""

from __future__ import annotations

from typing import Any

import click

from rexnet import __version__
from rexnet.errors import CheckFailed, InputError, RexnetError

DEFAULT_DB = "sqlite:///rexnet.db"


class CliState:
    """Per-invocation state: the database URL and the store, opened on first use."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            from rexnet.store import open_store

            self._store = open_store(self.db_url)
        return self._store

    def run(self, ref: str) -> Any:
        """The run named by id or unique name (RunNotFound -> exit 2)."""
        return self.store.get_run(ref)


class RexnetGroup(click.Group):
    """Turns RexNet's typed errors into one-line messages and exit codes; never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CheckFailed as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except InputError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except RexnetError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=RexnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="REXNET_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="Ledger database URL (SQLite file or PostgreSQL); env REXNET_DB.",
)
@click.version_option(__version__, prog_name="rexnet")
@click.pass_context
def cli(ctx: click.Context, db_url: str) -> None:
    """RexNet: reservation exchange, event-sourced market ledger and prosumer simulator."""
    ctx.obj = CliState(db_url)


def main() -> None:
    """Console-script entry point."""
    # click's own usage errors already exit 2; ours are handled in RexnetGroup.invoke
    cli.main(prog_name="rexnet", standalone_mode=True)


# importing the command modules registers their commands on `cli`
from rexnet.cli import analytics, experiment, ledger, market, replay, sim, sweep  # noqa: E402,F401

__all__ = ["cli", "main", "CliState", "DEFAULT_DB"]

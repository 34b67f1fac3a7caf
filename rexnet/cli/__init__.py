"""The ``rexnet`` command line: a thin translation layer over the library.

Commands parse arguments, call the library and print. Errors the library raises on purpose are
turned into one-line messages with the exit codes of DESIGN.md section 5: 2 for bad input
(:class:`~rexnet.errors.InputError`), 1 for a failed check (:class:`~rexnet.errors.CheckFailed`).
That translation (:class:`RexnetGroup`) is the one place every error passes on its way out, so it
is also where passwords are masked, those of ``--db`` and any other.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from rexnet import __version__
from rexnet.cli.output import clip_words, escape
from rexnet.domain import limits
from rexnet.errors import CheckFailed, InputError, RexnetError

if TYPE_CHECKING:
    from rexnet.store.event_store import EventStore
    from rexnet.store.records import RunInfo

DEFAULT_DB = "sqlite:///rexnet.db"

#: Commands that only read the ledger: their store is opened read-only (works on a read-only
#: SQLite file; never migrates one). ``sweeps`` and ``sweep-query`` open their own, read-only too.
READING_COMMANDS = frozenset(
    {"runs", "events", "book", "accounts", "audit", "digest", "replay", "sql", "query", "export", "report"}
)


class CliState:
    """Per-invocation state: the database URL and the store, opened on first use."""

    def __init__(self, db_url: str, *, read_only: bool = False) -> None:
        self.db_url = db_url
        self.read_only = read_only
        self._store: EventStore | None = None

    @property
    def store(self) -> EventStore:
        if self._store is None:
            from rexnet.store import open_store

            self._store = open_store(self.db_url, read_only=self.read_only)
        return self._store

    def close(self) -> None:
        """Release the store's connections (SQLite then checkpoints and removes its -wal file)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def run(self, ref: str) -> RunInfo:
        """The run named by id or unique name (RunNotFound -> exit 2)."""
        return self.store.get_run(ref)


#: Command -> the module of :mod:`rexnet.cli` that defines it. A command's module (and what it
#: imports) loads only when that command runs, so ``rexnet book`` does not pay for DuckDB, Dask or
#: the web explorer; ``rexnet --help`` loads them all. ``tests/unit/test_cli_lazy.py`` holds this
#: map equal to what the modules register.
COMMAND_MODULES = {
    "accounts": "market",
    "audit": "ledger",
    "book": "market",
    "db": "ledger",
    "digest": "digest",
    "events": "ledger",
    "experiment": "experiment",
    "export": "analytics",
    "fork": "replay",
    "ingest": "market",
    "mirror": "analytics",
    "query": "analytics",
    "replay": "replay",
    "report": "analytics",
    "resume": "replay",
    "run": "sim",
    "runs": "ledger",
    "serve": "serve",
    "snapshot": "replay",
    "sql": "analytics",
    "sweep": "sweep",
    "sweep-query": "sweep",
    "sweeps": "sweep",
}


class RexnetGroup(click.Group):
    """Turns RexNet's typed errors into one-line messages and exit codes; never a traceback.

    Commands load lazily (:data:`COMMAND_MODULES`): importing a command's module registers it.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            import importlib

            importlib.import_module(f"rexnet.cli.{module}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CheckFailed as exc:
            _error(ctx, str(exc), escaped=True)
            ctx.exit(1)
        except (InputError, RexnetError) as exc:
            _error(ctx, str(exc), escaped=True)
            ctx.exit(2)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:  # noqa: BLE001 - a bug: its traceback, but with passwords masked
            _error(ctx, "".join(traceback.format_exception(*sys.exc_info())).rstrip(), prefix="")
            ctx.exit(1)


def _error(ctx: click.Context, message: str, *, prefix: str = "Error: ", escaped: bool = False) -> None:
    """Print ``message`` to stderr with every password masked (``--db``'s, any URL's, any keyword's)
    and, when ``escaped`` (a typed error's one line), its control characters escaped (a message may
    quote stored text) and any huge quoted input cut to its start (:func:`clip_words`)."""
    from rexnet.store.database import mask_secrets, url_secrets

    secrets = url_secrets(ctx.obj.db_url) if isinstance(ctx.obj, CliState) else []
    text = mask_secrets(message, secrets)
    click.echo(prefix + (clip_words(escape(text)) if escaped else text), err=True)


@click.group(cls=RexnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="REXNET_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="Ledger database URL (SQLite file or PostgreSQL); env REXNET_DB.",
)
@click.option(
    "--limit",
    "raised",
    multiple=True,
    metavar="KEY=N",
    help="Raise a work limit for this command, e.g. --limit max_units=1000000 (README: Limits).",
)
@click.version_option(__version__, prog_name="rexnet")
@click.pass_context
def cli(ctx: click.Context, db_url: str, raised: tuple[str, ...]) -> None:
    """RexNet: reservation exchange, event-sourced market ledger and prosumer simulator."""
    try:
        chosen = limits.DEFAULT.raised(list(raised))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from None
    ctx.with_resource(limits.using(chosen))
    ctx.obj = CliState(db_url, read_only=ctx.invoked_subcommand in READING_COMMANDS)
    ctx.call_on_close(ctx.obj.close)
    _refuse_memory(db_url)


def _refuse_memory(db_url: str) -> None:
    """An in-memory SQLite ``--db`` is refused: every command is its own process, so it would be lost."""
    from rexnet.store.database import is_memory, parse_url

    if is_memory(parse_url(db_url)):
        raise InputError(
            f"--db {db_url}: the command line needs a database file or PostgreSQL, not an in-memory "
            "SQLite database (it would be lost when the command ends); use sqlite:///PATH"
        )


def main() -> None:
    """Console-script entry point."""
    # click's own usage errors already exit 2; ours are handled in RexnetGroup.invoke
    cli.main(prog_name="rexnet", standalone_mode=True)


__all__ = ["cli", "main", "CliState", "DEFAULT_DB"]

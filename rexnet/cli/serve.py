"""``rexnet serve``: the read-only web explorer (thin: rexnet.serve does the work).

The web stack is the optional extra ``serve``; without it the command says which extra to
install and exits 2.
"""

from __future__ import annotations

import click

from rexnet.cli import cli
from rexnet.errors import InputError


@cli.command()
@click.option("--db", "db_url", default=None, metavar="URL", help="Ledger URL (default: the global --db).")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (local only by default)."
)
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.pass_obj
def serve(state, db_url: str | None, host: str, port: int) -> None:
    """Serve a read-only web explorer of the ledger: runs, overview plots, book replay with a time
    scrubber, settlement trails, fork vs parent, and a SQL console (GET only; no route writes).
    """
    from rexnet.serve import missing

    absent = missing()
    if absent:
        raise InputError(
            f"rexnet serve needs the 'serve' extra ({', '.join(absent)} missing): pip install 'rexnet[serve]'"
        )
    import uvicorn

    from rexnet.serve import create_app

    app = create_app(db_url or state.db_url)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"RexNet explorer on http://{shown}:{port}/ (read-only; Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")

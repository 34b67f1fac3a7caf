"""``rexnet digest``: a keyed digest of a run's head, to keep outside the ledger (and its key)."""

from __future__ import annotations

import click

from rexnet.cli import cli
from rexnet.cli.output import key_option
from rexnet.errors import InputError


@cli.command()
@click.argument("run_ref", metavar="[RUN]", required=False)
@key_option
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the digest here (default: print it).",
)
@click.option(
    "--new-key",
    "new_key_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Create a new random key in this file (mode 0600; never overwritten) and exit.",
)
@click.option(
    "--alg",
    type=click.Choice(["hmac-sha256", "ed25519"]),
    default="hmac-sha256",
    show_default=True,
    help="Kind of key --new-key makes; ed25519 also writes FILE.pub, enough to check digests.",
)
@click.pass_obj
def digest(
    state, run_ref: str | None, key_file: str | None, out_file: str | None, new_key_file: str | None, alg: str
) -> None:
    """Write a keyed digest of RUN's head (run id, seq, head hash, event count): HMAC-SHA256, or
    an Ed25519 signature with a PEM private key.

    Keep the digest and the key away from the database: `rexnet audit RUN --digest FILE --key KEY`
    later proves the log still extends this head unchanged (truncation, rewrites and replaced
    runs are then detected).
    """
    from rexnet.app.digest import dumps, load_key, make_digest, new_key

    if new_key_file is not None:
        if run_ref is not None or out_file is not None:
            raise InputError("--new-key FILE only creates a key: give no RUN and no --out")
        made = new_key(new_key_file, alg=alg)
        public = f" (public key: {new_key_file}.pub)" if alg == "ed25519" else ""
        click.echo(
            f"{alg} key {made} written to {new_key_file} (mode 0600){public}: keep it away from the ledger"
        )
        return
    if run_ref is None:
        raise InputError("give a RUN to digest (or --new-key FILE)")
    key = load_key(key_file)
    run = state.run(run_ref)
    text = dumps(make_digest(state.store, run, key))
    if out_file is None:
        click.echo(text, nl=False)
        return
    try:
        with open(out_file, "x") as handle:
            handle.write(text)
    except FileExistsError:
        raise InputError(f"--out {out_file}: the file exists (a digest is never overwritten)") from None
    except OSError as error:
        raise InputError(f"--out {out_file}: {error.strerror}") from None
    click.echo(
        f"run {run.run_id}: digest of seq {run.head_seq} ({run.head_seq + 1} events) written to {out_file}"
    )

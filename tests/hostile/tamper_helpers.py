"""Helpers of the tamper tests: an attacker who can write the ledger database.

``attacker(db)`` is a plain SQLAlchemy connection, without RexNet's hooks, in a transaction; with
``guards_off=True`` it first gets past every trigger the way a real attacker would: on SQLite by
dropping them, on PostgreSQL with ``SET session_replication_role = replica`` (which also skips
foreign keys). :func:`rewrite` then replaces a run's log from a seq on with re-chained rows and
moves the run's head to match, so the hash chain is intact and only re-execution, the closing
checks or a digest can tell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.domain.codec import GENESIS, chain_hash

#: a row as the attacker handles it: (seq, t_ms, type, version, payload text)
Row = tuple[int, int, str, int, str]


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def invoke_json(db: str, *args: str) -> dict:
    code, out, err = invoke(db, *args, "--format", "json")
    assert code == 0, err or out
    return json.loads(out)


def small_run(db: str, name: str, *, seed: int = 3, units: int = 2) -> dict:
    """A short simulated run (about a thousand events), its ``rexnet run`` summary."""
    return invoke_json(db, "run", "--units", str(units), "--seed", str(seed), "--name", name)


@contextmanager
def attacker(db: str, *, guards_off: bool = False) -> Iterator[sa.Connection]:
    engine = sa.create_engine(db)
    try:
        with engine.begin() as conn:
            if guards_off:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET session_replication_role = replica")
                else:
                    names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    for (name,) in names.all():
                        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            yield conn
    finally:
        engine.dispose()


def rows_of(conn: sa.Connection, run_id: str) -> list[Row]:
    result = conn.execute(
        sa.text("SELECT seq, t_ms, type, version, payload FROM event_log WHERE run_id = :r ORDER BY seq"),
        {"r": run_id},
    )
    return [tuple(r) for r in result.all()]  # type: ignore[misc]


def run_id_of(db: str, name: str) -> str:
    return next(r["run_id"] for r in invoke_json(db, "runs") if r["name"] == name)


def hash_before(conn: sa.Connection, run_id: str, seq: int) -> bytes:
    if seq == 0:
        return GENESIS
    value = conn.execute(
        sa.text("SELECT hash FROM event_log WHERE run_id = :r AND seq = :s"), {"r": run_id, "s": seq - 1}
    ).scalar()
    return bytes(value)


def rewrite(
    conn: sa.Connection, run_id: str, from_seq: int, rows: list[Row], *, status: str | None = None
) -> None:
    """Replace the run's events from ``from_seq`` on by ``rows`` (re-numbered from ``from_seq``,
    re-chained) and move the head to the new last row; the guards must be off."""
    prev = hash_before(conn, run_id, from_seq)
    conn.execute(
        sa.text("DELETE FROM event_log WHERE run_id = :r AND seq >= :s"), {"r": run_id, "s": from_seq}
    )
    seq = from_seq - 1
    for seq, (_, t_ms, kind, version, payload) in enumerate(rows, start=from_seq):
        prev = chain_hash(prev, seq, t_ms, kind, version, payload.encode())
        conn.execute(
            sa.text("INSERT INTO event_log VALUES (:r, :s, :t, :k, :v, :p, :h)"),
            {"r": run_id, "s": seq, "t": t_ms, "k": kind, "v": version, "p": payload, "h": prev},
        )
    values = {"r": run_id, "s": seq, "h": prev, "n": seq + 1}
    conn.execute(
        sa.text("UPDATE runs SET head_seq = :s, head_hash = :h, events = :n WHERE run_id = :r"), values
    )
    if status is not None:
        conn.execute(sa.text("UPDATE runs SET status = :st WHERE run_id = :r"), {"r": run_id, "st": status})

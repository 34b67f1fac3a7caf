"""Reads and writes of the ``snapshots`` table (migration 0009): persisted states of the fold.

The store only moves rows: what a state means, how it is made and checked is
:mod:`rexnet.replay.persisted`. A row is ``(run_id, seq, t_ms, hash, format, state, digest)``.
Writers insert with ``ON CONFLICT DO NOTHING`` (a resumed run may take a snapshot it already
has); ``rexnet snapshot`` replaces rows it found wrong (``replace``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from rexnet.store.database import translated

if TYPE_CHECKING:
    from rexnet.store.event_store import EventStore


class SnapshotKey(NamedTuple):
    """A snapshot row without its state (what a lookup needs to choose one)."""

    run_id: str
    seq: int
    t_ms: int
    hash: bytes
    format: int
    digest: bytes


_COLUMNS = "run_id, seq, t_ms, hash, format, state, digest"


def insert_sql(dialect: str, *, replace: bool = False) -> str:
    ph = "?" if dialect == "sqlite" else "%s"
    values = ", ".join([ph] * 7)
    action = (
        "DO UPDATE SET t_ms = excluded.t_ms, hash = excluded.hash, format = excluded.format, "
        "state = excluded.state, digest = excluded.digest"
        if replace
        else "DO NOTHING"
    )
    return f"INSERT INTO snapshots ({_COLUMNS}) VALUES ({values}) ON CONFLICT (run_id, seq) {action}"


def insert_rows(cursor: Any, dialect: str, rows: Sequence[tuple[Any, ...]], *, replace: bool = False) -> None:
    """Insert full snapshot rows through a DB-API cursor (inside the caller's transaction)."""
    if rows:
        cursor.executemany(insert_sql(dialect, replace=replace), list(rows))


def put_snapshots(store: EventStore, rows: Sequence[tuple[Any, ...]], *, replace: bool = False) -> None:
    """Insert (or with ``replace`` overwrite) full snapshot rows in one transaction."""
    if not rows:
        return
    with translated(store.engine.url, "cannot write snapshots"), store.engine.connect() as conn:
        conn = conn.execution_options(rexnet_write=True)
        with conn.begin():
            cursor = conn.connection.cursor()
            try:
                insert_rows(cursor, store.dialect, rows, replace=replace)
            finally:
                cursor.close()


def snapshot_keys(store: EventStore, run_id: str, lo: int, hi: int | None) -> list[SnapshotKey]:
    """The snapshot rows of ``run_id`` with ``lo <= seq <= hi`` (``hi`` None: no bound), by seq."""
    ph = store._ph
    sql = f"SELECT run_id, seq, t_ms, hash, format, digest FROM snapshots WHERE run_id = {ph} AND seq >= {ph}"
    params: list[Any] = [run_id, lo]
    if hi is not None:
        sql += f" AND seq <= {ph}"
        params.append(hi)
    rows = store._fetch(run_id, sql + " ORDER BY seq", params)
    return [SnapshotKey(str(r[0]), int(r[1]), int(r[2]), bytes(r[3]), int(r[4]), bytes(r[5])) for r in rows]


def snapshot_state(store: EventStore, run_id: str, seq: int) -> bytes | None:
    """The stored state bytes of one snapshot (``None`` when the row is gone)."""
    ph = store._ph
    rows = store._fetch(
        run_id, f"SELECT state FROM snapshots WHERE run_id = {ph} AND seq = {ph}", (run_id, seq)
    )
    return None if not rows else bytes(rows[0][0])

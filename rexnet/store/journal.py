"""Writing and reading a run's input journal (table ``input_journal``, migration 0008).

Chunks go in by transactions of :data:`CHUNKS_PER_WRITE` rows: on PostgreSQL one ``COPY`` per
transaction (the append guard of migration 0008 checks a statement's rows at once, so one COPY is
one check), on SQLite one ``executemany``. Reading is by windows of chunk indexes, each query
bounded on both sides like :meth:`EventStore._chunks` (a gap shows as a missing index, which
:func:`rexnet.ingest.chunks.check_journal` names).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rexnet.store.database import translated

if TYPE_CHECKING:
    from rexnet.store.event_store import EventStore

#: Chunks per write transaction and per read query (a chunk is a few hundred kB of JSON).
CHUNKS_PER_WRITE = 16
_COLUMNS = "run_id, chunk, first_line, commands, body, hash"
_COPY = f"COPY input_journal ({_COLUMNS}) FROM STDIN"


def append_journal(store: EventStore, run_id: str, chunks: Iterable[Any]) -> int:
    """Append ``chunks`` (:class:`rexnet.ingest.chunks.Chunk` rows, in index order) to the run's
    journal; returns how many were written."""
    batch: list[tuple[Any, ...]] = []
    written = 0
    for chunk in chunks:
        batch.append((run_id, *chunk))
        if len(batch) >= CHUNKS_PER_WRITE:
            _write(store, run_id, batch)
            written += len(batch)
            batch = []
    if batch:
        _write(store, run_id, batch)
        written += len(batch)
    return written


def _write(store: EventStore, run_id: str, rows: list[tuple[Any, ...]]) -> None:
    with translated(store.url, f"run {run_id}: cannot write the input journal"):
        with store.engine.connect() as conn:
            conn = conn.execution_options(rexnet_write=True)
            with conn.begin():
                cursor = conn.connection.cursor()
                try:
                    if conn.dialect.name == "postgresql":
                        with cursor.copy(_COPY) as copy:  # type: ignore[attr-defined]
                            for row in rows:
                                copy.write_row(row)
                    else:
                        cursor.executemany(
                            f"INSERT INTO input_journal ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows
                        )
                finally:
                    cursor.close()


def journal_rows(store: EventStore, run_id: str) -> Iterator[tuple[int, int, int, str, bytes]]:
    """The run's stored chunks ``(chunk, first_line, commands, body, hash)`` in index order,
    read :data:`CHUNKS_PER_WRITE` at a time."""
    ph = store._ph
    bounds = store._fetch(
        run_id, f"SELECT min(chunk), max(chunk) FROM input_journal WHERE run_id = {ph}", (run_id,)
    )
    if not bounds or bounds[0][0] is None:
        return
    low, top = int(bounds[0][0]), int(bounds[0][1])
    sql = (
        "SELECT chunk, first_line, commands, body, hash FROM input_journal "
        f"WHERE run_id = {ph} AND chunk >= {ph} AND chunk <= {ph} ORDER BY chunk"
    )
    for lo in range(min(low, 0), top + 1, CHUNKS_PER_WRITE):
        for row in store._fetch(run_id, sql, (run_id, lo, lo + CHUNKS_PER_WRITE - 1)):
            yield int(row[0]), int(row[1]), int(row[2]), row[3], bytes(row[4])

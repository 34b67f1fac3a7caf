"""The ledger in memory: :class:`MemoryStore`, the recorder protocol over plain lists and dicts.

For tests and notebooks that need a ledger but no database. It keeps the rules the SQL store's
database enforces (append-only rows, dense seqs behind an optimistic head check, unique run
names) and stores exactly the same bytes (the rows come from the same append loop), so the
contract suite holds it to the same behaviour; what only a database can show (triggers refusing
a hostile ``UPDATE``, URLs, migrations, concurrent processes) stays with the SQL stores.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from rexnet.domain.codec import GENESIS, first_bad_seq
from rexnet.errors import ConcurrencyError, IntegrityError, RunNotFound, shown
from rexnet.store.event_store import failure_line
from rexnet.store.records import CodedChunk, RunInfo, StoredEvent, check_fork_seq, check_new_run, scales
from rexnet.store.schema import RUN_STATUSES
from rexnet.store.snapshot_table import SnapshotKey
from rexnet.store.writer import RunWriter


class MemoryStore:
    """An in-memory ledger (see the module docstring); one per instance, nothing shared."""

    url = "memory://"

    def __init__(self) -> None:
        self._runs: dict[str, RunInfo] = {}
        self._rows: dict[str, list[StoredEvent]] = {}
        self._journal: dict[str, list[tuple[int, int, int, str, bytes]]] = {}
        #: persisted snapshot rows ``(run_id, seq, t_ms, hash, format, state, digest)`` by run and seq
        self._snapshots: dict[str, dict[int, tuple[Any, ...]]] = {}

    def reopened(self) -> MemoryStore:
        return self

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "MemoryStore()"

    # -- runs --------------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        name: str | None,
        scenario: dict[str, Any],
        seed: int,
        code_version: str,
        market: dict[str, Any],
        parent_run_id: str | None = None,
        fork_seq: int | None = None,
    ) -> RunInfo:
        check_new_run(parent_run_id, fork_seq, seed)
        if name is not None and any(r.name == name for r in self._runs.values()):
            raise IntegrityError(f"a run named {shown(name)} already exists")
        head_seq, head_hash = -1, GENESIS
        if parent_run_id is not None and fork_seq is not None:
            parent = self._by_id(parent_run_id)
            check_fork_seq(parent, fork_seq)
            head_seq, head_hash = fork_seq, self._hash_at(parent, fork_seq)
        info = RunInfo(
            run_id=uuid.uuid4().hex[:12],
            name=name,
            parent_run_id=parent_run_id,
            fork_seq=fork_seq,
            scenario=_json_copy(scenario),
            seed=seed,
            code_version=code_version,
            market=_json_copy(market),
            status="running",
            created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            head_seq=head_seq,
            head_hash=head_hash,
            events=head_seq + 1,
            **scales(market),
        )
        self._runs[info.run_id] = info
        self._rows[info.run_id] = []
        return info

    def get_run(self, ref: str) -> RunInfo:
        found = [r for r in self._runs.values() if ref in (r.run_id, r.name)]
        if not found:
            raise RunNotFound(f"no run {shown(ref)}")
        if len(found) > 1:
            raise RunNotFound(f"run name {shown(ref)} is ambiguous")
        return found[0]

    def list_runs(self) -> list[RunInfo]:
        return sorted(self._runs.values(), key=lambda r: (r.created_at, r.run_id))

    def set_status(self, run_id: str, status: str, *, reason: str | None = None) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
        info = self._by_id(run_id)
        failure = failure_line(reason) if status == "failed" else None
        self._runs[run_id] = dataclasses.replace(info, status=status, failure=failure)

    def head(self, run_id: str) -> tuple[int, bytes]:
        info = self._by_id(run_id)
        return info.head_seq, info.head_hash

    # -- events ------------------------------------------------------------------------------------
    def writer(self, run_id: str, *, batch_size: int = 5000) -> RunWriter:
        return RunWriter(self, run_id, batch_size=batch_size)

    def commit_rows(
        self,
        run_id: str,
        after_seq: int,
        rows: list[tuple[Any, ...]],
        head: bytes,
        snapshots: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        if not rows:
            self.put_snapshots(snapshots)
            return
        info = self._by_id(run_id)
        if info.head_seq != after_seq:
            raise ConcurrencyError(f"run {run_id}: seq {after_seq + 1} already written by another writer")
        self._rows[run_id].extend(
            StoredEvent(run_id, seq, t, kind, version, payload, bytes(digest))
            for seq, t, kind, version, payload, digest in rows
        )
        last = rows[-1][0]
        self._runs[run_id] = dataclasses.replace(info, head_seq=last, head_hash=bytes(head), events=last + 1)
        self.put_snapshots(snapshots)

    # -- the input journal and persisted snapshots -------------------------------------------------
    def append_journal(self, run_id: str, chunks: Iterable[Any]) -> int:
        self._by_id(run_id)
        stored = self._journal.setdefault(run_id, [])
        before = len(stored)
        stored.extend((int(c[0]), int(c[1]), int(c[2]), str(c[3]), bytes(c[4])) for c in chunks)
        return len(stored) - before

    def journal_rows(self, run_id: str) -> Iterator[tuple[int, int, int, str, bytes]]:
        return iter(list(self._journal.get(run_id, ())))

    def snapshot_keys(self, run_id: str, lo: int, hi: int | None) -> list[SnapshotKey]:
        rows = self._snapshots.get(run_id, {})
        return [
            SnapshotKey(r[0], r[1], r[2], r[3], r[4], r[6])
            for seq, r in sorted(rows.items())
            if seq >= lo and (hi is None or seq <= hi)
        ]

    def snapshot_state(self, run_id: str, seq: int) -> bytes | None:
        row = self._snapshots.get(run_id, {}).get(seq)
        return None if row is None else bytes(row[5])

    def put_snapshots(self, rows: Sequence[tuple[Any, ...]], *, replace: bool = False) -> None:
        for row in rows:
            stored = self._snapshots.setdefault(str(row[0]), {})
            if replace or int(row[1]) not in stored:
                stored[int(row[1])] = tuple(row)

    def read(
        self,
        run_id: str,
        *,
        from_seq: int = 0,
        to_seq: int | None = None,
        types: Collection[str] | None = None,
        to_t_ms: int | None = None,
        chunk: int | None = None,
    ) -> Iterator[StoredEvent]:
        for row in list(self._rows.get(run_id, ())):
            if (
                row.seq >= from_seq
                and (to_seq is None or row.seq <= to_seq)
                and (types is None or row.type in types)
                and (to_t_ms is None or row.t_ms <= to_t_ms)
            ):
                yield row

    def read_chunks(
        self,
        run_id: str,
        *,
        from_seq: int = 0,
        to_seq: int | None = None,
        types: Collection[str] | None = None,
        to_t_ms: int | None = None,
        chunk: int | None = None,
        hashes: bool = False,
    ) -> Iterator[list[tuple[Any, ...]]]:
        rows = [
            (r.seq, r.t_ms, r.type, r.version, r.payload.encode(), r.hash)[: 6 if hashes else 5]
            for r in self.read(run_id, from_seq=from_seq, to_seq=to_seq, types=types, to_t_ms=to_t_ms)
        ]
        size = chunk or 5000
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    def read_coded(
        self,
        run_id: str,
        *,
        from_seq: int,
        to_seq: int,
        codes: Sequence[tuple[str, int]],
        chunk: int | None = None,
    ) -> Iterator[CodedChunk]:
        index = {pair: i for i, pair in enumerate(codes)}
        size = chunk or 5000
        for lo in range(from_seq, to_seq + 1, size):
            hi = min(lo + size - 1, to_seq)
            rows = list(self.read(run_id, from_seq=lo, to_seq=hi))
            kinds = [index.get((r.type, r.version), f"{r.type}@{r.version}") for r in rows]
            span = range(lo, hi + 1)
            if [r.seq for r in rows] == list(span) and all(isinstance(k, int) for k in kinds):
                # as the SQL stores read a dense chunk of known types: parsed, seqs as a range
                yield CodedChunk(span, [r.t_ms for r in rows], kinds, [orjson.loads(r.payload) for r in rows])
            else:  # row by row, payloads as bytes for the decoder to report
                yield CodedChunk(
                    [r.seq for r in rows], [r.t_ms for r in rows], kinds, [r.payload.encode() for r in rows]
                )

    def verify_chain(self, run_id: str) -> int | None:
        info = self._by_id(run_id)
        prev, expected = GENESIS, 0
        if info.parent_run_id is not None and info.fork_seq is not None:
            prev, expected = self._hash_at(self._by_id(info.parent_run_id), info.fork_seq), info.fork_seq + 1
        rows = [(r.seq, r.t_ms, r.type, r.version, r.payload.encode(), r.hash) for r in self._rows[run_id]]
        return first_bad_seq([rows], info.head_seq, info.head_hash, prev=prev, expected=expected)

    def orphan_events(self) -> list[tuple[str, int, int, int]]:
        """None here: rows are only ever stored under a recorded run."""
        return []

    # -- helpers -----------------------------------------------------------------------------------
    def _by_id(self, run_id: str) -> RunInfo:
        info = self._runs.get(run_id)
        if info is None:
            raise RunNotFound(f"no run {shown(run_id)}")
        return info

    def hash_at(self, run: RunInfo, seq: int) -> bytes:
        return self._hash_at(run, seq)

    def _hash_at(self, info: RunInfo, seq: int) -> bytes:
        """The chain hash of ``info``'s history at ``seq`` (following fork parents)."""
        while info.fork_seq is not None and info.parent_run_id is not None and seq <= info.fork_seq:
            info = self._by_id(info.parent_run_id)
        if seq < 0:
            return GENESIS
        return next(r.hash for r in self._rows[info.run_id] if r.seq == seq)


def _json_copy(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy through JSON, as the SQL store keeps it (sorted keys; no shared objects)."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    return copied

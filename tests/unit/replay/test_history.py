"""read_history stitches ancestors' prefixes (up to each fork_seq) to a run's own events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pytest

from rexnet.domain.codec import GENESIS, chain_hash
from rexnet.replay.history import check_chain, lineage, read_history, read_history_coded
from rexnet.store.records import CodedChunk


class Row(NamedTuple):
    run_id: str
    seq: int
    t_ms: int
    type: str
    version: int
    payload: str
    hash: bytes


@dataclass
class Run:
    run_id: str
    parent_run_id: str | None
    fork_seq: int | None
    head_seq: int
    head_hash: bytes = GENESIS


class FakeStore:
    """Runs: root r (seq 0..9), a forked from r at 4 (5..12), b forked from a at 7 (8..10)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {}
        self.runs: dict[str, Run] = {}
        self._add("r", None, None, range(0, 10))
        self._add("a", "r", 4, range(5, 13))
        self._add("b", "a", 7, range(8, 11))

    def _add(self, run_id, parent, fork_seq, seqs):
        prev = GENESIS
        if parent is not None:
            prev = next(
                r.hash for r in read_history(self, self.runs[parent], from_seq=fork_seq, to_seq=fork_seq)
            )
        rows = []
        for seq in seqs:
            prev = chain_hash(prev, seq, seq * 10, "x", 1, f"{run_id}{seq}".encode())
            rows.append(Row(run_id, seq, seq * 10, "x", 1, f"{run_id}{seq}", prev))
        self.rows[run_id] = rows
        self.runs[run_id] = Run(run_id, parent, fork_seq, seqs[-1], prev)

    def get_run(self, ref):
        return self.runs[ref]

    def read(self, run_id, *, from_seq=0, to_seq=None, types=None, to_t_ms=None):
        for row in self.rows[run_id]:
            if (
                row.seq >= from_seq
                and (to_seq is None or row.seq <= to_seq)
                and (to_t_ms is None or row.t_ms <= to_t_ms)
            ):
                yield row

    def read_chunks(self, run_id, *, from_seq=0, to_seq=None, types=None, to_t_ms=None, hashes=False):
        rows = self.read(run_id, from_seq=from_seq, to_seq=to_seq, to_t_ms=to_t_ms)
        lean = [
            (r.seq, r.t_ms, r.type, r.version, r.payload.encode(), r.hash)[: 6 if hashes else 5] for r in rows
        ]
        for start in range(0, len(lean), 4):  # small chunks: the folds must carry the chain across them
            yield lean[start : start + 4]

    def read_coded(self, run_id, *, from_seq, to_seq, codes):
        rows = list(self.read(run_id, from_seq=from_seq, to_seq=to_seq))
        yield CodedChunk(
            [r.seq for r in rows], [r.t_ms for r in rows], [r.run_id for r in rows], [r.payload for r in rows]
        )


@pytest.fixture
def store():
    return FakeStore()


def ids(rows):
    return [f"{r.run_id}{r.seq}" for r in rows]


def test_lineage_root_first(store):
    assert [(r.run_id, lo, hi) for r, lo, hi in lineage(store, store.runs["b"])] == [
        ("r", 0, 4),
        ("a", 5, 7),
        ("b", 8, None),
    ]


def test_full_history_of_a_fork_of_a_fork(store):
    assert ids(read_history(store, store.runs["b"])) == [
        "r0",
        "r1",
        "r2",
        "r3",
        "r4",
        "a5",
        "a6",
        "a7",
        "b8",
        "b9",
        "b10",
    ]
    assert ids(read_history(store, store.runs["a"])) == [f"r{i}" for i in range(5)] + [
        f"a{i}" for i in range(5, 13)
    ]


@pytest.mark.parametrize(
    "bounds, expected",
    [
        ({"from_seq": 3, "to_seq": 6}, ["r3", "r4", "a5", "a6"]),
        ({"to_seq": 2}, ["r0", "r1", "r2"]),
        ({"from_seq": 9}, ["b9", "b10"]),
        ({"to_t_ms": 55}, ["r0", "r1", "r2", "r3", "r4", "a5"]),
        ({"from_seq": 6, "to_seq": 5}, []),
    ],
)
def test_bounds_across_segments(store, bounds, expected):
    assert ids(read_history(store, store.runs["b"], **bounds)) == expected


def test_chain_of_full_history(store):
    assert check_chain(store, store.runs["b"]) is None
    assert check_chain(store, store.runs["r"]) is None
    bad = store.rows["a"][1]
    store.rows["a"][1] = bad._replace(payload="forged")
    assert check_chain(store, store.runs["b"]) == 6
    store.runs["b"].head_seq = 11
    store.rows["a"][1] = bad
    assert check_chain(store, store.runs["b"]) == 11


def test_coded_history_of_a_fork_of_a_fork_stops_at_the_recorded_head(store):
    def payloads(**kw):
        return [p for chunk in read_history_coded(store, store.runs["b"], **kw) for p in chunk.payloads]

    assert payloads() == [f"r{i}" for i in range(5)] + ["a5", "a6", "a7", "b8", "b9", "b10"]
    assert payloads(to_seq=6) == ["r0", "r1", "r2", "r3", "r4", "a5", "a6"]
    store.runs["b"].head_seq = 9  # rows past the head the run records are not its history
    assert payloads()[-1] == "b9"

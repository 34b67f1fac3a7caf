"""read_history stitches ancestors' prefixes (up to each fork_seq) to a run's own events."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from rexnet.domain.events import OrderRejected
from rexnet.domain.market import MarketSpec
from rexnet.replay.history import check_chain, lineage, read_history, read_history_coded
from rexnet.store import MemoryStore


class Ledger(MemoryStore):
    """Runs: root r (seq 0..9), a forked from r at 4 (5..12), b forked from a at 7 (8..10); the
    event at seq s of run x is a rejection with ref ``f"{x}{s}"`` at t = 10 s ms."""

    def __init__(self) -> None:
        super().__init__()
        self._add("r", None, None, range(0, 10))
        self._add("a", "r", 4, range(5, 13))
        self._add("b", "a", 7, range(8, 11))

    def _add(self, name, parent, fork_seq, seqs):
        run = self.create_run(
            name=name,
            scenario={},
            seed=0,
            code_version="test",
            market=MarketSpec().to_record(),
            parent_run_id=None if parent is None else self.get_run(parent).run_id,
            fork_seq=fork_seq,
        )
        with self.writer(run.run_id) as writer:
            writer.append(OrderRejected(seq * 10, f"{name}{seq}", "x", "test", "") for seq in seqs)

    @property
    def runs(self):
        return {name: self.get_run(name) for name in "rab"}

    def rows_of(self, name):
        return self._rows[self.get_run(name).run_id]

    def set_head(self, name, head_seq):
        run = self.get_run(name)
        self._runs[run.run_id] = dataclasses.replace(run, head_seq=head_seq)


@pytest.fixture
def store():
    return Ledger()


def ids(rows):
    return [orjson.loads(r.payload)["ref"] for r in rows]


def test_lineage_root_first(store):
    assert [(r.name, lo, hi) for r, lo, hi in lineage(store, store.runs["b"])] == [
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
    bad = store.rows_of("a")[1]
    store.rows_of("a")[1] = bad._replace(payload=bad.payload.replace("a6", "a7"))
    assert check_chain(store, store.runs["b"]) == 6
    store.set_head("b", 11)
    store.rows_of("a")[1] = bad
    assert check_chain(store, store.runs["b"]) == 11


def test_coded_history_of_a_fork_of_a_fork_stops_at_the_recorded_head(store):
    def payloads(**kw):
        chunks = read_history_coded(store, store.runs["b"], **kw)
        return [
            (p if isinstance(p, dict) else orjson.loads(p))["ref"] for chunk in chunks for p in chunk.payloads
        ]

    assert payloads() == [f"r{i}" for i in range(5)] + ["a5", "a6", "a7", "b8", "b9", "b10"]
    assert payloads(to_seq=6) == ["r0", "r1", "r2", "r3", "r4", "a5", "a6"]
    store.set_head("b", 9)  # rows past the head the run records are not its history
    assert payloads()[-1] == "b9"

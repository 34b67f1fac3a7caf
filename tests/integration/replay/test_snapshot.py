"""Snapshot-based as-of reads equal the plain fold, at any seq or time, in any order."""

from __future__ import annotations

import random

from replay_cli import state_of

from rexnet.replay.projection import engine_as_of
from rexnet.replay.snapshot import Snapshots
from rexnet.store import open_store


def test_snapshots_equal_the_fold(parent_db):
    db, parent = parent_db
    store = open_store(db)
    run = store.get_run("p")
    snaps = Snapshots(store, run, every=300)
    agents = sorted({f"{k}-{i:03d}" for k in ("wind", "household", "storage") for i in range(1, 4)})
    rng = random.Random(1)
    seqs = [0, 299, 300, 301, parent["events"] - 1, *rng.sample(range(parent["events"]), 8)]
    for seq in seqs:
        assert state_of(snaps.engine_as_of(at_seq=seq), agents) == state_of(
            engine_as_of(store, run, at_seq=seq), agents
        ), seq
    for t in (0.0, 1234.5, 9000.0, 12_000.0):
        assert state_of(snaps.engine_as_of(at_time=t), agents) == state_of(
            engine_as_of(store, run, at_time=t), agents
        ), t
    head = snaps.engine_as_of()
    assert state_of(head, agents) == state_of(engine_as_of(store, run), agents)
    assert len(snaps._seqs) == parent["events"] // 300 + 1

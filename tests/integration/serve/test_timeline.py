"""The book replay's as-of states equal the plain fold of the log, at any seq, in any order."""

from __future__ import annotations

import random

from rexnet.replay.accounts import Accounts
from rexnet.replay.projection import book_view, engine_as_of, fold, run_spec
from rexnet.serve import timeline as timeline_module
from rexnet.serve.timeline import Timeline, seq_at, t_ms_of
from rexnet.store import open_store


def test_timeline_equals_the_fold(ledger):
    store = open_store(ledger[0])
    try:
        for name in ("p", "f"):  # f: a fork, whose history starts in its parent
            run = store.get_run(name)
            timeline = Timeline(store, run, every=97)
            rng = random.Random(7)
            seqs = [run.head_seq, 0, 96, 97, 1000, *rng.sample(range(run.head_seq), 6), run.head_seq - 1]
            for seq in seqs:
                view = timeline.view(seq)
                engine = engine_as_of(store, run, at_seq=seq)
                for book in view["books"]:
                    expected = book_view(engine, book["unit"])
                    assert [(b["price"], b["qty"], b["orders"]) for b in book["bids"]] == [
                        (f"{lvl['price'].normalize():f}", f"{lvl['qty'].normalize():f}", lvl["orders"])
                        for lvl in expected["bids"][:10]
                    ], (name, seq)
                assert sorted(b["unit"] for b in view["books"]) == sorted(engine.open_units())
                accounts = fold(store, run, Accounts(), at_seq=seq)
                assert [a["agent"] for a in view["accounts"]] == [
                    a["agent"] for a in accounts.rows(run_spec(run))
                ]
                assert [a["cash"] for a in view["accounts"]] == [
                    f"{a['cash'].normalize():f}" for a in accounts.rows(run_spec(run))
                ]
            timeline.warm()
            assert timeline._seqs[-1] + timeline.every > run.head_seq
    finally:
        store.close()


def test_seq_at_is_the_last_event_at_or_before(ledger):
    store = open_store(ledger[0])
    try:
        run = store.get_run("p")
        times = [t_ms_of(store, run, s) for s in range(run.head_seq + 1)]
        for t in (0, 1, 999, 1800_000, times[500], times[500] + 1, times[-1], times[-1] + 10):
            expected = max((s for s, ts in enumerate(times) if ts <= t), default=-1)
            assert seq_at(store, run, t) == expected, t
    finally:
        store.close()


def test_tape_lists_the_trades_around_the_point(ledger):
    store = open_store(ledger[0])
    try:
        run = store.get_run("p")
        timeline = Timeline(store, run)
        trades = [row.seq for row in store.read(run.run_id, types={"trade"})]
        point = trades[40]
        tape = timeline.view(point)["tape"]
        assert [t["seq"] for t in tape if not t["after"]] == trades[29:41]
        assert [t["seq"] for t in tape if t["after"]] == trades[41:47]
    finally:
        store.close()


def test_a_state_that_cannot_be_kept_is_folded_from_the_last_snapshot(ledger, monkeypatch):
    """A state the codec cannot encode (a figure beyond 64 bits) is not kept: reads fold on from
    the last snapshot kept, and warming stops instead of trying again forever."""
    store = open_store(ledger[0])
    try:
        run = store.get_run("p")
        timeline = Timeline(store, run, every=97)
        monkeypatch.setattr(timeline_module, "freeze", lambda engine, accounts: None)
        seq = 1000
        engine, accounts = timeline.state_at(seq)
        assert timeline._seqs == [-1]
        expected = engine_as_of(store, run, at_seq=seq)
        assert engine.exchange.state.snapshot() == expected.exchange.state.snapshot()
        assert accounts.rows(run_spec(run)) == fold(store, run, Accounts(), at_seq=seq).rows(run_spec(run))
        timeline.warm()
        assert timeline._seqs == [-1]
    finally:
        store.close()

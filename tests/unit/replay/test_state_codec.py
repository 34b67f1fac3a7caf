"""The snapshot codec: state -> bytes -> state is exact, equals the fold, continues like the fold,
and refuses anything it did not write (never a pickle, never a traceback)."""

from __future__ import annotations

import pickle

import orjson
import pytest

from rexnet import __version__
from rexnet.app.simulate import with_overrides
from rexnet.domain.events import RunStarted
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Accounts
from rexnet.replay.state_codec import SnapshotInvalid, decode_state, encode_state, freeze, thaw
from rexnet.sim.scenario import load_scenario
from rexnet.sim.simulation import Simulation


@pytest.fixture(scope="module")
def history():
    """The events of a simulated run (4 units of the default scenario), and its market spec."""
    scenario = with_overrides(load_scenario("default"), seed=3, units=4)
    spec = scenario.to_spec()
    engine = MarketEngine(spec)
    events = [RunStarted(0, scenario.to_record(), 3, __version__, spec.to_record())]
    Simulation(scenario, 3, engine, emit_shocks=True).run(events.extend)
    events += engine.finish()
    return events, spec


def _fold(spec, events):
    engine, accounts = MarketEngine(spec), Accounts()
    for e in events:
        engine.apply(e)
        accounts.apply(e)
    return engine, accounts


def _cuts(events):
    n = len(events)
    return sorted({1, 2, n // 7, n // 3, n // 2, 2 * n // 3, n - 2, n} | set(range(100, n, max(1, n // 25))))


def test_round_trip_equals_the_fold_at_every_cut(history):
    events, spec = history
    engine, accounts = MarketEngine(spec), Accounts()
    done = 0
    for cut in _cuts(events):
        for e in events[done:cut]:
            engine.apply(e)
            accounts.apply(e)
        done = cut
        data = encode_state(engine, accounts)
        e2, a2 = decode_state(data, spec, now_ms=events[cut - 1].t)
        assert encode_state(e2, a2) == data
        assert e2.exchange.state.snapshot() == engine.exchange.state.snapshot()
        assert e2.settlement._units == engine.settlement._units
        assert e2.settlement._settled == engine.settlement._settled
        assert e2.next_due_ms() == engine.next_due_ms()
        assert e2.now_ms == engine.now_ms
        assert a2.rows(spec) == accounts.rows(spec)
        for agent in list(accounts.accounts)[:5]:
            assert e2.live_orders(agent) == engine.live_orders(agent)


def test_a_decoded_state_continues_exactly_as_the_fold(history):
    events, spec = history
    full_engine, full_accounts = _fold(spec, events)
    for cut in _cuts(events)[::3]:
        engine, accounts = _fold(spec, events[:cut])
        e2, a2 = decode_state(encode_state(engine, accounts), spec, now_ms=events[cut - 1].t)
        for e in events[cut:]:
            e2.apply(e)
            a2.apply(e)
        assert encode_state(e2, a2) == encode_state(full_engine, full_accounts)
        assert e2.exchange.state.snapshot() == full_engine.exchange.state.snapshot()


def test_a_decoded_state_decides_like_the_live_engine(history):
    """Decisions read every part of the state (ids, queues, refs): re-run the rest of the live
    session's clock from a decoded mid-run state and compare the events it decides."""
    events, spec = history
    cut = len(events) // 2
    engine, accounts = _fold(spec, events[:cut])
    e2, _ = decode_state(encode_state(engine, accounts), spec, now_ms=events[cut - 1].t)
    end = events[-1].t
    assert e2.advance(end) == engine.advance(end)


def test_frozen_states_thaw_into_fresh_engines(history):
    """In-memory snapshots: each thaw is a new engine with the frozen state (clock included), and
    changing one leaves the snapshot and the other thaws as they were."""
    events, spec = history
    cut = len(events) // 2
    engine, accounts = _fold(spec, events[:cut])
    frozen = freeze(engine, accounts)
    assert frozen is not None and frozen.now_ms == events[cut - 1].t == engine.now_ms
    first, first_accounts = thaw(frozen, spec)
    second, _ = thaw(frozen, spec)
    assert first is not second and first.exchange.state.books is not second.exchange.state.books
    for e in events[cut:]:
        first.apply(e)
        first_accounts.apply(e)
    full = _fold(spec, events)
    assert encode_state(first, first_accounts) == encode_state(*full)
    assert encode_state(second, thaw(frozen, spec)[1]) == encode_state(engine, accounts)


def test_a_state_beyond_64_bits_is_not_frozen(history):
    events, spec = history
    engine, accounts = _fold(spec, events[: len(events) // 2])
    next(iter(accounts.accounts.values())).trade_cash = 2**64
    assert freeze(engine, accounts) is None


def _mid_state(history):
    events, spec = history
    engine, accounts = _fold(spec, events[: len(events) // 2])
    assert engine.exchange.state.orders, "the cut should hold resting orders"
    return orjson.loads(encode_state(engine, accounts)), spec


def _refused(raw, spec) -> str:
    data = raw if isinstance(raw, bytes) else orjson.dumps(raw)
    with pytest.raises(SnapshotInvalid) as info:
        decode_state(data, spec, now_ms=0)
    return str(info.value)


def test_refuses_a_pickle_and_garbage(history):
    raw, spec = _mid_state(history)
    engine, accounts = _fold(spec, history[0][:50])
    assert "not JSON" in _refused(
        pickle.dumps((engine.exchange.state.next_order_id, accounts.rows(spec))), spec
    )
    assert _refused(b"", spec)
    assert _refused(b"[]", spec)
    assert _refused({**raw, "format": 99}, spec).startswith("format 99")
    assert _refused({**raw, "extra": 1}, spec)


def _first_book_with_bids(raw):
    return next(b for b in raw["exchange"]["books"] if b[6])


@pytest.mark.parametrize(
    "edit",
    [
        "true_for_int",
        "float_for_int",
        "string_price",
        "bad_side",
        "order_of_another_price",
        "order_twice",
        "unindexed_order",
        "empty_level",
        "levels_out_of_order",
        "settled_with_state",
        "unit_twice",
        "account_twice",
        "short_row",
    ],
)
def test_refuses_inconsistent_states(history, edit):
    raw, spec = _mid_state(history)
    book = _first_book_with_bids(raw)
    level = book[6][0]
    order = level[1][0]
    if edit == "true_for_int":
        raw["exchange"]["next_order_id"] = True
    elif edit == "float_for_int":
        order[6] = 1.5
    elif edit == "string_price":
        level[0] = str(level[0])
    elif edit == "bad_side":
        order[3] = "hold"
    elif edit == "order_of_another_price":
        order[5] = level[0] + 1
    elif edit == "order_twice":
        level[1].append(list(order))
    elif edit == "unindexed_order":
        raw["exchange"]["refs"] = raw["exchange"]["refs"][1:]
    elif edit == "empty_level":
        book[6].append([level[0] - 10_000, []])
    elif edit == "levels_out_of_order":
        book[6].insert(0, [level[0] - 1, [[*order[:5], level[0] - 1, *order[6:]]]])
    elif edit == "settled_with_state":
        units = raw["settlement"]["units"] or [[999, [], [], [], 0, 0, None]]
        raw["settlement"]["units"] = units
        raw["settlement"]["settled"].append([units[0][0], units[0][0]])
    elif edit == "unit_twice":
        raw["exchange"]["books"].append(raw["exchange"]["books"][0])
    elif edit == "account_twice":
        raw["accounts"].append(raw["accounts"][0])
    elif edit == "short_row":
        raw["accounts"][0] = raw["accounts"][0][:-1]
    assert _refused(raw, spec)

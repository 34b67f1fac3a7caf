"""Properties of settlement on random markets: conservation, replay == live, a clean audit, and
forged rows caught at the right place."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rexnet.domain.events import ReservationFixed, Settled
from rexnet.domain.market import MarketSpec
from rexnet.settlement import Discrepancy, Settlement, audit_events

AGENTS = ["a", "b", "c", "d", "e"]
UNITS = [2, 3, 5]

SPECS = st.sampled_from(
    [
        MarketSpec(),
        MarketSpec(penalty_price=Decimal("10")),  # the VWAP term usually wins: rounding happens
        MarketSpec(
            penalty_price=Decimal("0.01"), penalty_vwap_multiple=Decimal("1.37"), surplus_price=Decimal("7.5")
        ),
        MarketSpec(surplus_price=Decimal("25"), penalty_vwap_multiple=Decimal("0")),
    ]
)

TRADES = st.lists(
    st.tuples(
        st.sampled_from(UNITS),
        st.sampled_from(AGENTS),  # seller
        st.sampled_from(AGENTS),  # buyer (a self-trade is possible under the "allow" policy)
        st.integers(1, 30_000),  # price, ticks
        st.integers(1, 40),  # qty, lots
    ),
    max_size=25,
)

REALIZATIONS = st.dictionaries(
    st.tuples(st.sampled_from(AGENTS), st.sampled_from(UNITS)), st.integers(-6_000, 6_000), max_size=12
)


@st.composite
def markets(draw, ledger_for):
    """(spec, ledger) of a finished market: trades, gates, reservations, realizations, settlement."""
    spec = draw(SPECS)
    led = ledger_for(spec)
    for unit, seller, buyer, price, lots in draw(TRADES):
        led.trade(unit, seller=seller, buyer=buyer, price=price, qty=lots * spec.lot_units)
    realizations = draw(REALIZATIONS)
    for unit in UNITS:
        led.close_gate(unit)
        for (agent, u), x in sorted(realizations.items()):
            if u == unit:
                led.realize(unit, agent, x)
        led.settle_through(unit)
    return spec, led


def rows_of(log, unit):
    return [ev for ev in log if isinstance(ev, Settled) and ev.unit == unit]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_conservation_per_unit(ledger_for, data):
    spec, led = data.draw(markets(ledger_for))
    for unit in UNITS:
        reservations = [ev.qty for ev in led.log if isinstance(ev, ReservationFixed) and ev.unit == unit]
        assert sum(reservations) == 0
        rows = rows_of(led.log, unit)
        if not rows:
            continue
        *people, system = rows
        assert system.agent == "system"
        assert [r.agent for r in people] == sorted(r.agent for r in people)
        assert sum(r.reserved for r in people) == system.reserved == 0
        assert sum(r.trade_cash for r in people) == 0
        assert sum(r.realized for r in people) == system.realized
        assert sum(r.net_cash for r in rows) == 0
        for r in people:
            assert r.shortfall * r.surplus == 0 and r.penalty >= 0 and r.surplus_credit >= 0
            assert r.realized - r.reserved == r.surplus - r.shortfall
            assert r.surplus_credit == r.surplus * spec.surplus_ticks
            assert r.penalty >= r.shortfall * spec.penalty_ticks
    assert led.settlement.next_due_ms() is None


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_replay_equals_live_and_audit_is_clean(ledger_for, data):
    spec, led = data.draw(markets(ledger_for))
    replayed = Settlement(spec)
    for ev in led.log:
        if not isinstance(ev, Settled):
            replayed.apply(ev)
    relived = replayed.advance(spec.delivery_end_ms(max(UNITS)))
    live = [ev for ev in led.log if isinstance(ev, Settled)]
    assert [r._replace(t=0) for r in relived] == [r._replace(t=0) for r in live]
    report = audit_events(enumerate(led.log), spec)
    assert report.ok, report.discrepancies
    assert report.units_settled == len({r.unit for r in live})


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_forged_settled_penalty_is_caught(ledger_for, data):
    spec, led = data.draw(markets(ledger_for))
    candidates = [i for i, ev in enumerate(led.log) if isinstance(ev, Settled) and ev.agent != "system"]
    if not candidates:
        return
    seq = data.draw(st.sampled_from(candidates))
    row = led.log[seq]
    delta = data.draw(st.sampled_from([-1, 1, 1000]))
    led.log[seq] = row._replace(penalty=row.penalty + delta)
    report = audit_events(enumerate(led.log), spec)
    assert report.discrepancies == [
        Discrepancy(seq, row.agent, row.unit, "penalty", row.penalty, row.penalty + delta)
    ]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_forged_reservation_is_caught(ledger_for, data):
    spec, led = data.draw(markets(ledger_for))
    candidates = [i for i, ev in enumerate(led.log) if isinstance(ev, ReservationFixed)]
    if not candidates:
        return
    seq = data.draw(st.sampled_from(candidates))
    row = led.log[seq]
    led.log[seq] = row._replace(qty=row.qty + spec.lot_units)
    report = audit_events(enumerate(led.log), spec)
    last = max(i for i in candidates if led.log[i].unit == row.unit)
    assert report.discrepancies == [
        Discrepancy(seq, row.agent, row.unit, "qty", row.qty, row.qty + spec.lot_units),
        Discrepancy(last, None, row.unit, "reservation_sum", 0, spec.lot_units),
    ]

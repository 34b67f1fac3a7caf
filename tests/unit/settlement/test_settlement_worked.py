"""Hand-worked settlements with the default market (tick 0.01, meter 0.001 kW, unit 900 s,
penalty 3000/MWh, VWAP multiple 2, surplus 0).

One money unit is 0.01 currency/MWh x 0.001 kW x 0.25 h = 2.5e-9 currency, so a money figure
M is M / 400_000_000 currency. Every expectation is given both ways.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from rexnet.domain.commands import Realize, Reason
from rexnet.domain.events import OrderRejected, Realized, Settled, UnitOpened
from rexnet.domain.market import MarketSpec
from rexnet.settlement import DUPLICATE_REALIZATION, Settlement

U = 4  # delivered during [3600 s, 4500 s)
KW_1_5 = 1500  # 1.5 kW in meter units
P40 = 4000  # 40.00 /MWh in ticks


def currency(spec: MarketSpec, money: int) -> Decimal:
    return spec.money_display(money, places=10)


def rows_by_agent(events) -> dict[str, Settled]:
    return {ev.agent: ev for ev in events if isinstance(ev, Settled)}


def sell_15_at_40(ledger) -> None:
    """a sells 1.5 kW of unit U at 40/MWh to b; gate closes: e_a = +1500, e_b = -1500."""
    ledger.trade(U, seller="a", buyer="b", price=P40, qty=KW_1_5)
    ledger.close_gate(U)


def test_trade_cash_of_a_fill_is_price_times_qty(spec):
    # 1.5 kW x 0.25 h = 0.375 kWh = 0.000375 MWh, at 40/MWh = 0.015
    assert P40 * KW_1_5 == 6_000_000
    assert spec.money_display(6_000_000) == Decimal("0.015000")
    assert spec.money_scale == Fraction(1, 400_000_000)


def test_shortfall_charged_at_fixed_penalty_and_buyer_surplus_dumped(spec, ledger_for):
    ledger = ledger_for(spec)
    sell_15_at_40(ledger)
    ledger.realize(U, "a", 1200)  # injected 1.2 kW of the 1.5 sold
    ledger.realize(U, "b", -1000)  # consumed 1.0 kW of the 1.5 bought
    rows = rows_by_agent(ledger.settle_through(U))
    a, b, system = rows["a"], rows["b"], rows["system"]
    # a: shortfall 0.3 kW; rate max(3000, 2 x 40) = 3000/MWh; 0.075 kWh x 3000/MWh = 0.225
    assert a == Settled(4_500_000, "a", U, 1500, 1200, 6_000_000, 300, 90_000_000, 0, 0, -84_000_000)
    assert currency(spec, a.penalty) == Decimal("0.225")
    assert currency(spec, a.net_cash) == Decimal("-0.21")
    # b: surplus 0.5 kW credited at 0 (dumped locally)
    assert b == Settled(4_500_000, "b", U, -1500, -1000, -6_000_000, 0, 0, 500, 0, -6_000_000)
    assert currency(spec, b.net_cash) == Decimal("-0.015")
    # system: receives the penalty; its realized is the unit's balance (+0.2 kW)
    assert system == Settled(4_500_000, "system", U, 0, 200, 0, 300, -90_000_000, 500, 0, 90_000_000)
    assert list(rows) == ["a", "b", "system"]
    assert sum(r.net_cash for r in rows.values()) == 0


def test_surplus_credited_at_surplus_price(ledger_for):
    spec = MarketSpec(surplus_price=Decimal("10"))
    ledger = ledger_for(spec)
    sell_15_at_40(ledger)
    ledger.realize(U, "a", 1500)
    ledger.realize(U, "b", -1000)
    rows = rows_by_agent(ledger.settle_through(U))
    # 0.5 kW x 0.25 h = 0.000125 MWh at 10/MWh = 0.00125
    assert rows["b"].surplus == 500
    assert rows["b"].surplus_credit == 500_000
    assert currency(spec, rows["b"].surplus_credit) == Decimal("0.00125")
    assert rows["b"].net_cash == -6_000_000 + 500_000
    assert rows["a"].net_cash == 6_000_000  # met its floor exactly: no penalty, no surplus
    assert rows["system"].surplus_credit == -500_000
    assert rows["system"].net_cash == -500_000  # the system pays the credit
    assert sum(r.net_cash for r in rows.values()) == 0


def test_penalty_follows_vwap_multiple_when_above_fixed_price(ledger_for):
    spec = MarketSpec(penalty_price=Decimal("10"))  # 10/MWh: below 2 x VWAP
    ledger = ledger_for(spec)
    ledger.trade(U, seller="a", buyer="b", price=4000, qty=1000)
    ledger.trade(U, seller="c", buyer="b", price=5000, qty=500)
    ledger.close_gate(U)
    ledger.realize(U, "a", 993)  # 7 meter units short
    ledger.realize(U, "b", -1500)
    ledger.realize(U, "c", 500)
    rows = rows_by_agent(ledger.settle_through(U))
    # VWAP = 6_500_000 / 1500 = 4333.33 ticks; rate = 2 x VWAP = 26000/3 ticks (86.67/MWh)
    # penalty = 7 x 26000/3 = 60666.67 -> 60667 (half-up)
    assert rows["a"].shortfall == 7
    assert rows["a"].penalty == 60_667
    assert currency(spec, rows["a"].penalty) == Decimal("0.0001516675")
    assert rows["system"].penalty == -60_667
    assert sum(r.net_cash for r in rows.values()) == 0


def test_penalty_rounding_is_half_up(ledger_for):
    spec = MarketSpec(penalty_price=Decimal("10"), penalty_vwap_multiple=Decimal("2.5"))
    ledger = ledger_for(spec)
    ledger.trade(U, seller="a", buyer="b", price=4001, qty=100)
    ledger.close_gate(U)
    ledger.realize(U, "a", 99)
    ledger.realize(U, "b", -100)
    rows = rows_by_agent(ledger.settle_through(U))
    assert rows["a"].penalty == 10_003  # 1 x 2.5 x 4001 = 10002.5 -> 10003


def test_consumer_without_reservation_pays_its_whole_consumption(spec, ledger_for):
    ledger = ledger_for(spec)
    ledger.close_gate(U)  # nothing traded
    ledger.realize(U, "d", -2000)  # consumed 2 kW with no reservation
    assert ledger.settlement.due_units(spec.delivery_end_ms(U)) == [U]
    rows = rows_by_agent(ledger.settle_through(U))
    # 2 kW x 0.25 h = 0.0005 MWh at 3000/MWh = 1.5
    assert rows["d"] == Settled(4_500_000, "d", U, 0, -2000, 0, 2000, 600_000_000, 0, 0, -600_000_000)
    assert currency(spec, rows["d"].net_cash) == Decimal("-1.5")
    assert rows["system"].realized == -2000  # the unit's system balance is negative
    assert rows["system"].net_cash == 600_000_000


def test_reservation_without_realization_realized_zero(spec, ledger_for):
    ledger = ledger_for(spec)
    sell_15_at_40(ledger)
    ledger.realize(U, "b", -1500)
    rows = rows_by_agent(ledger.settle_through(U))
    assert rows["a"].realized == 0
    assert rows["a"].shortfall == 1500
    assert rows["a"].penalty == 450_000_000
    assert currency(spec, rows["a"].penalty) == Decimal("1.125")  # 0.000375 MWh x 3000
    assert currency(spec, rows["a"].net_cash) == Decimal("-1.11")
    assert sum(r.net_cash for r in rows.values()) == 0


def test_trader_netting_to_zero_still_settles_its_trade_cash(spec, ledger_for):
    ledger = ledger_for(spec)
    ledger.trade(U, seller="b", buyer="a", price=4000, qty=500)
    ledger.trade(U, seller="a", buyer="c", price=4500, qty=500)
    ledger.close_gate(U)  # a's reservation is 0: no row
    ledger.realize(U, "b", 500)
    ledger.realize(U, "c", -500)
    rows = rows_by_agent(ledger.settle_through(U))
    assert rows["a"] == Settled(4_500_000, "a", U, 0, 0, 250_000, 0, 0, 0, 0, 250_000)
    assert sum(r.net_cash for r in rows.values()) == 0


def test_unit_with_only_trades_netting_to_zero_is_due(spec, ledger_for):
    ledger = ledger_for(spec)
    ledger.trade(U, seller="a", buyer="a", price=4000, qty=500)  # a self-trade, allowed by policy
    ledger.close_gate(U)
    assert ledger.settlement.next_due_ms() == spec.delivery_end_ms(U)
    rows = rows_by_agent(ledger.settle_through(U))
    assert rows["a"].trade_cash == 0 and rows["a"].net_cash == 0


def test_system_row_totals(ledger_for):
    ledger = ledger_for(MarketSpec(surplus_price=Decimal("5")))
    sell_15_at_40(ledger)
    ledger.trade(U, seller="c", buyer="d", price=4200, qty=200)
    ledger.close_gate(U)
    for agent, x in (("a", 1000), ("b", -1200), ("c", 300), ("d", -300), ("z", 50)):
        ledger.realize(U, agent, x)
    rows = rows_by_agent(ledger.settle_through(U))
    people = [r for a, r in rows.items() if a != "system"]
    system = rows["system"]
    assert list(rows) == ["a", "b", "c", "d", "z", "system"]
    assert system.reserved == sum(r.reserved for r in people) == 0
    assert system.realized == sum(r.realized for r in people) == -150
    assert system.trade_cash == 0
    assert system.shortfall == sum(r.shortfall for r in people) == 500 + 100
    assert system.surplus == sum(r.surplus for r in people) == 300 + 100 + 50
    assert system.penalty == -sum(r.penalty for r in people)
    assert system.surplus_credit == -sum(r.surplus_credit for r in people) == -450 * 500
    assert system.net_cash == -system.penalty + system.surplus_credit
    assert sum(r.net_cash for r in rows.values()) == 0


# -- realizations ---------------------------------------------------------------------------------
def test_realization_outside_delivery_is_rejected(spec):
    s = Settlement(spec)
    start, end = spec.delivery_start_ms(U), spec.delivery_end_ms(U)
    for t in (start - 1, end, 0):
        (ev,) = s.handle(Realize(t, "a", U, 100))
        assert isinstance(ev, OrderRejected)
        assert (ev.ref, ev.agent, ev.reason) == (f"realize:{U}", "a", Reason.OUTSIDE_DELIVERY)
    assert "outside the delivery period [3600s, 4500s) of unit 4" in ev.message
    assert s.next_due_ms() is None  # rejections change nothing
    assert s.handle(Realize(start, "a", U, 100)) == [Realized(start, "a", U, 100)]
    assert s.handle(Realize(end - 1, "b", U, -100)) == [Realized(end - 1, "b", U, -100)]


def test_second_realization_of_same_agent_and_unit_is_rejected(spec):
    s = Settlement(spec)
    start = spec.delivery_start_ms(U)
    s.handle(Realize(start + 10, "a", U, 100))
    (ev,) = s.handle(Realize(start + 20, "a", U, 300))
    assert isinstance(ev, OrderRejected)
    assert ev.reason == DUPLICATE_REALIZATION == "duplicate_realization"
    assert s.realization("a", U) == 100  # the first reading stands
    assert isinstance(s.handle(Realize(start + 20, "b", U, 300))[0], Realized)  # other agents unaffected


def test_realization_for_settled_unit_is_rejected(spec):
    s = Settlement(spec)
    start, end = spec.delivery_start_ms(U), spec.delivery_end_ms(U)
    s.handle(Realize(start, "a", U, 100))
    assert [r.agent for r in s.advance(end)] == ["a", "system"]
    assert s.is_settled(U)
    (ev,) = s.decide_realize(Realize(end - 1, "b", U, 100))
    assert ev.reason == Reason.ALREADY_SETTLED
    (ev,) = s.decide_realize(Realize(end, "b", U, 100))  # late *and* settled: the time rule speaks
    assert ev.reason == Reason.OUTSIDE_DELIVERY


# -- the clock ------------------------------------------------------------------------------------
def test_due_units_and_next_due(spec):
    s = Settlement(spec)
    assert s.next_due_ms() is None and s.advance(10**9) == []
    for unit in (7, 5, 6):
        s.handle(Realize(spec.delivery_start_ms(unit), "a", unit, 1))
    assert s.next_due_ms() == spec.delivery_end_ms(5)
    assert s.due_units(spec.delivery_end_ms(5) - 1) == []
    assert s.due_units(spec.delivery_end_ms(6)) == [5, 6]
    out = s.advance(spec.delivery_end_ms(6))
    assert [(r.unit, r.agent) for r in out] == [(5, "a"), (5, "system"), (6, "a"), (6, "system")]
    assert all(r.t == spec.delivery_end_ms(6) for r in out)
    assert s.next_due_ms() == spec.delivery_end_ms(7)


def test_settle_is_pure_and_guards_its_unit(spec):
    s = Settlement(spec)
    s.handle(Realize(spec.delivery_start_ms(U), "a", U, -5))
    end = spec.delivery_end_ms(U)
    with pytest.raises(ValueError, match="delivery not ended"):
        s.settle(U, end - 1)
    rows = s.settle(U, end)
    assert s.settle(U, end) == rows and s.due_units(end) == [U]  # nothing changed
    for row in rows:
        s.apply(row)
    with pytest.raises(ValueError, match="already settled"):
        s.settle(U, end)


def test_ignores_unrelated_events_and_events_after_settlement(spec):
    s = Settlement(spec)
    s.apply(UnitOpened(0, U))
    assert s.next_due_ms() is None
    s.handle(Realize(spec.delivery_start_ms(U), "a", U, 5))
    s.advance(spec.delivery_end_ms(U))
    s.apply(Realized(spec.delivery_start_ms(U), "b", U, 5))  # impossible in a valid log
    assert s.next_due_ms() is None


def test_agent_named_like_the_system_account_is_refused(spec):
    s = Settlement(spec)
    s.handle(Realize(spec.delivery_start_ms(U), "system", U, 5))
    with pytest.raises(ValueError, match="reserved for the system account"):
        s.advance(spec.delivery_end_ms(U))


def test_replay_rebuilds_the_live_state(spec, ledger_for):
    ledger = ledger_for(spec)
    sell_15_at_40(ledger)
    ledger.realize(U, "a", 1400)
    live = ledger.settle_through(U)
    replayed = Settlement(spec)
    for ev in ledger.log:
        if not isinstance(ev, Settled):
            replayed.apply(ev)
    assert replayed.advance(spec.delivery_end_ms(U)) == live

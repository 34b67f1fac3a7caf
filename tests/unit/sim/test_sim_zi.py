"""ZI-C, ZI-U and adaptive traders: small deterministic cases."""

from __future__ import annotations

import numpy as np
from simfake import FakeMarket

from rexnet.domain.commands import PlaceLimit, PlaceMarket
from rexnet.domain.market import MarketSpec
from rexnet.sim.broker import PriceBoard, Reservations
from rexnet.sim.device import CostSeller, ValueBuyer
from rexnet.sim.kernel import Kernel
from rexnet.sim.zi import AdaptiveBroker, ZIBroker

SPEC = MarketSpec()


def _broker(client, cls=ZIBroker, **kw):
    market = FakeMarket(SPEC)
    market.advance(0)
    broker = cls(
        client,
        market,
        np.random.default_rng(0),
        PriceBoard(market, 5000),
        Reservations(market),
        units=(1, 50),
        wake_per_hour=4,
        shouts=40,
        max_price=20_000,
        **kw,
    )
    broker.start(Kernel(), market.submit)
    return broker, market


def _placed(market):
    """The ZI traders' orders (not the test's own)."""
    return [c for c in market.commands if isinstance(c, PlaceLimit) and c.agent.startswith("zi_")]


def test_a_shout_covers_every_open_unit_until_its_quantity_is_traded():
    broker, market = _broker(ValueBuyer("zi_buyer-001", SPEC, max_power=1000, value=8000))
    broker.act(1000, 2000)
    units = sorted(c.unit for c in _placed(market))
    assert units == sorted(broker.eligible_units())  # one order in each open unit
    assert all(c.qty == 1000 and 1 <= c.price <= 8000 for c in _placed(market))  # ZI-C: budget
    first = _placed(market)[0]
    market.submit(PlaceLimit(1500, "s", "s1", "sell", first.unit, 1, 1000))  # fills unit's whole need
    before = {c.unit: c.price for c in _placed(market)}
    n = len(_placed(market))
    broker.act(2000, 3000)
    again = _placed(market)[n:]
    assert first.unit not in {c.unit for c in again}  # silent once traded
    assert again and all(c.price > before[c.unit] for c in again)  # each one improves its bid


def test_a_shout_that_does_not_improve_the_standing_quote_is_discarded():
    broker, market = _broker(ValueBuyer("zi_buyer-001", SPEC, max_power=1000, value=8000))
    unit = broker.eligible_units()[0]
    market.submit(PlaceLimit(500, "b", "b1", "buy", unit, 8000, 1000))  # a bid ZI-C cannot beat
    broker.act(1000, 2000)
    assert unit not in {c.unit for c in _placed(market)}
    market.submit(PlaceLimit(1500, "b", "b2", "buy", unit + 1, 1, 1000))  # a bid any draw beats
    n = len(_placed(market))
    broker.act(2000, 3000)
    assert unit + 1 in {c.unit for c in _placed(market)[n:]}


def test_a_seller_with_a_stepped_schedule_sells_its_steps_in_order_at_their_own_costs():
    seller = CostSeller("zi_seller-001", SPEC, capacity=0, cost=1, steps=((3000, 1000), (6000, 1000)))
    broker, market = _broker(seller)
    unit = broker.eligible_units()[0]
    broker.act(1000, 2000)
    first = [c for c in _placed(market) if c.unit == unit]
    assert len(first) == 1 and first[0].qty == 1000 and first[0].price >= 3000  # first step only
    market.submit(PlaceLimit(1500, "b", "b1", "buy", unit, 20_000, 1000))  # buys the first step
    for t in range(2000, 40_000, 1000):
        broker.act(t, t + 1000)
    later = [c for c in _placed(market) if c.unit == unit and c.t >= 2000]
    assert later and all(c.qty == 1000 and c.price >= 6000 for c in later)  # the dearer step next
    assert seller.schedule() == ((3000, 1000), (6000, 1000)) and seller.hi == 2000


def test_in_call_markets_a_zi_trader_shouts_once_just_before_every_clearing():
    spec = MarketSpec(auction_mode="periodic", auction_period_seconds=300, auction_align_gate=True)
    market = FakeMarket(spec)
    broker = ZIBroker(
        ValueBuyer("zi_buyer-001", spec, max_power=1000, value=8000),
        market,
        np.random.default_rng(0),
        PriceBoard(market, 5000),
        Reservations(market),
        units=(1, 50),
        wake_per_hour=4,
        shouts=40,
        max_price=20_000,
    )
    assert broker.next_call_ms(0) == 300_000 and broker.next_call_ms(300_000) == 600_000
    gate = spec.gate_ms(3)
    assert broker.next_call_ms(gate - 300_000) == gate - 1  # the last clearing, aligned
    assert broker._draw_next(299_998) == 299_999  # 1 ms before the next call
    assert broker._draw_next(299_999) == 599_999  # (a shout at 299_999: the next one)
    assert broker.improves(1, False, 1)  # no standing quote to improve in a batch


def test_shouts_per_unit_not_per_hour_set_the_pace():
    broker, _ = _broker(ValueBuyer("zi_buyer-001", SPEC, max_power=1000, value=8000))
    assert broker.mean_gap_ms == SPEC.horizon * SPEC.unit_ms / 40


def test_zi_u_ignores_the_budget_constraint():
    seller, market = _broker(CostSeller("zi_seller-001", SPEC, capacity=1000, cost=9000), constrained=False)
    for t in range(1000, 60_000, 1000):
        seller.act(t, t + 1000)
    prices = [c.price for c in _placed(market)]
    assert min(prices) < 9000 and max(prices) <= 20_000  # asks below cost: unconstrained
    assert not any(isinstance(c, PlaceMarket) for c in market.commands)


def test_adaptive_seller_raises_its_margin_when_trades_happen_above_its_price():
    broker, market = _broker(CostSeller("zi_seller-001", SPEC, capacity=1000, cost=4000), cls=AdaptiveBroker)
    unit = broker.eligible_units()[0]
    broker.mu = 0.1  # asks 4400
    broker.board._last[unit] = 6000  # the last trade in the unit
    before = broker.limit(True, 4000, 4000)
    broker.learn(unit, True, 4000, 4000, resting=True)
    assert broker.limit(True, 4000, 4000) > before
    broker.board._last[unit] = 4100  # now trades happen below its ask: it lowers the ask
    high = broker.limit(True, 4000, 4000)
    for _ in range(5):
        broker.learn(unit, True, 4000, 4000, resting=True)
    assert broker.limit(True, 4000, 4000) < high
    assert broker.limit(True, 4000, 4000) >= 4000  # never below cost


def test_a_trade_withdraws_every_zi_quote_standing_in_its_unit_at_once():
    # Gode and Sunder: a transaction cancels all unaccepted bids and asks
    from rexnet.domain.events import OrderAccepted, OrderCancelled, OrderExpired, TradeExecuted
    from rexnet.sim.measure import simulate
    from rexnet.sim.validation import gs_market

    _, events = simulate(gs_market("zi", units=2, shouts=20), 3)
    live: dict[int, tuple[int, int]] = {}  # order id -> (unit, remaining)
    must_go: set[int] = set()
    deadline = None
    trades = withdrawn = 0
    for ev in events:
        if deadline is not None and ev.t > deadline:
            assert not must_go & set(live)  # gone by the end of the trade's instant
            must_go, deadline = set(), None
        kind = type(ev)
        if kind is OrderAccepted:
            live[ev.order_id] = (ev.unit, ev.qty)
        elif kind is TradeExecuted:
            trades += 1
            for oid in (ev.buy_order_id, ev.sell_order_id):
                unit, left = live.pop(oid)
                if left > ev.qty:
                    live[oid] = (unit, left - ev.qty)
            must_go |= {oid for oid, (unit, _) in live.items() if unit == ev.unit}
            deadline = ev.t
        elif kind in (OrderCancelled, OrderExpired):
            withdrawn += kind is OrderCancelled and ev.order_id in must_go
            live.pop(ev.order_id, None)
    assert trades >= 8 and withdrawn > 0


def test_stepped_schedules_from_a_scenario_and_their_surplus():
    import pytest

    from rexnet.errors import InputError
    from rexnet.sim.measure import along, efficiency, simulate
    from rexnet.sim.scenario import parse_scenario

    pop = [
        {"kind": "zi_buyer", "max_kw": 2.0, "values": [120, 90]},
        {"kind": "zi_seller", "capacity_kw": 2.0, "costs": [30, 100]},
    ]
    sc = parse_scenario({"run": {"units": 2}, "population": pop}, source="t")
    assert sc.population[0].value == 120 and sc.population[1].cost == 30  # the first step's
    sim, events = simulate(sc, 1)
    buyer = sim.clients["zi_buyer-001"]
    assert buyer.schedule() == ((12_000, 1000), (9000, 1000))  # ticks, meter units
    assert along(buyer.schedule(), 1500) == 12_000 * 1000 + 9000 * 500
    # the competitive allocation trades the first steps only (90 < 100): 1 kW, surplus 90
    assert 0 < efficiency(sim, events) <= 1.0
    for bad, why in (
        ({"kind": "zi_buyer", "values": [90, 120]}, "non-increasing"),
        ({"kind": "zi_seller", "costs": [50, 40]}, "non-decreasing"),
        ({"kind": "zi_buyer", "values": [120, 90], "value": 100}, "not both"),
        ({"kind": "zi_seller", "costs": []}, "costs"),
    ):
        with pytest.raises(InputError, match=why):
            parse_scenario({"population": [bad]}, source="t")

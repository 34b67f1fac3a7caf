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
    return [c for c in market.commands if isinstance(c, PlaceLimit)]


def test_a_shout_covers_every_open_unit_until_its_quantity_is_traded():
    broker, market = _broker(ValueBuyer("zi_buyer-001", SPEC, max_power=1000, value=8000))
    broker.act(1000, 2000)
    units = sorted(c.unit for c in _placed(market))
    assert units == sorted(broker.eligible_units())  # one order in each open unit
    assert all(c.qty == 1000 and 1 <= c.price <= 8000 for c in _placed(market))  # ZI-C: budget
    first = _placed(market)[0]
    market.submit(PlaceLimit(1500, "s", "s1", "sell", first.unit, 1, 1000))  # fills unit's whole need
    n = len(_placed(market))
    broker.act(2000, 3000)
    again = _placed(market)[n:]
    assert first.unit not in {c.unit for c in again}  # silent once traded
    assert len(again) == len(units) - 1


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

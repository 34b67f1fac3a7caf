"""Brokers: newsvendor fractile, escalation to market orders, ZI budget constraints, rejections."""

from __future__ import annotations

import numpy as np
import pytest
from simfake import FakeMarket

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, Shrink
from rexnet.domain.market import MarketSpec
from rexnet.sim.broker import PriceBoard, Reservations, TargetBroker, critical_fractile
from rexnet.sim.client import Household, Wind
from rexnet.sim.device import CostSeller, Dispatchable, ValueBuyer
from rexnet.sim.dispatch import DispatchBroker
from rexnet.sim.kernel import Kernel
from rexnet.sim.scenario import parse_scenario
from rexnet.sim.simulation import Simulation
from rexnet.sim.zi import ZIBroker

SPEC = MarketSpec()
U = SPEC.unit_ms


def test_critical_fractile():
    assert critical_fractile(5000, 300_000, 0) == pytest.approx(5000 / 300_000)
    assert critical_fractile(5000, 10_000, 2000) == pytest.approx(3000 / 8000)
    assert critical_fractile(1, 100, 50) == pytest.approx(1e-6)  # price below the surplus credit


def _broker(client, cls=TargetBroker, **kw):
    market = FakeMarket(SPEC)
    market.advance(0)
    board = PriceBoard(market, 5000)
    broker = cls(
        client,
        market,
        np.random.default_rng(0),
        board,
        Reservations(market),
        units=(1, 50),
        wake_per_hour=4,
        **kw,
    )
    broker.start(Kernel(), market.submit)
    return broker, market


def _wind():
    return Wind(
        "wind-001", SPEC, 1, capacity=10_000.0, mean_cf=0.5, sigma=0.05, rho=0.5, lead=8, final_share=0.1
    )


def test_limit_orders_far_from_the_gate_and_market_order_in_the_last_wake():
    broker, market = _broker(_wind(), extra_units=0)
    t = 1000
    broker.act(t, next_ms=t + 60_000)  # the next wake-up is still before unit 1's gate (900 s)
    assert isinstance(market.commands[-1], PlaceLimit) and market.commands[-1].unit == 1
    first = market.commands[-1]
    assert first.side == "sell" and first.qty % SPEC.lot_units == 0
    market.submit(PlaceLimit(2000, "buyer", "b1", "buy", 1, 4500, SPEC.lot_units))
    t2 = SPEC.gate_ms(1) - 30_000
    broker.act(t2, next_ms=SPEC.gate_ms(1) + 5)  # the next wake-up comes after the gate: last chance
    tail = market.commands[-2:]
    assert isinstance(tail[0], Cancel) and tail[0].ref == first.ref
    assert isinstance(tail[1], PlaceMarket) and tail[1].unit == 1 and tail[1].side == "sell"


def test_last_wake_on_an_empty_opposite_side_leaves_a_limit_instead_of_a_rejected_market_order():
    broker, market = _broker(_wind(), extra_units=0)
    broker.act(SPEC.gate_ms(1) - 30_000, next_ms=SPEC.gate_ms(1) + 5)
    last = market.commands[-1]
    assert isinstance(last, PlaceLimit) and last.side == "sell"
    assert last.price == round(5000 * (1 - broker.markup))  # the reference less the markup
    assert broker.rejections == 0


def test_quotes_sit_around_the_reference_and_every_trader_has_its_own_offset():
    spreads = set()
    for seed in range(5):
        broker, _ = _broker(_wind(), extra_units=0)
        broker.rng = np.random.default_rng(seed)
        broker.bias = float(broker.rng.uniform(-0.5, 0.5))
        ctx = broker.context(8, 0)
        plan = broker.client.plan(8, ctx)
        far = broker.limit_price(8, 0, True, plan, ctx)
        assert 5000 * (1 - broker.markup) <= far <= 5000 * (1 + broker.markup)
        spreads.add(far)
    assert len(spreads) > 1


def test_periodic_broker_bids_around_its_reference_not_the_penalty():
    spec = MarketSpec(auction_mode="periodic", auction_align_gate=True)
    market = FakeMarket(spec)
    market.advance(0)
    household = Household("household-001", spec, 1, mean=500.0, sigma=0.2, rho=0.3, lead=8, final_share=0.3)
    broker = TargetBroker(
        household,
        market,
        np.random.default_rng(0),
        PriceBoard(market, 5000),
        Reservations(market),
        units=(1, 50),
        wake_per_hour=4,
        extra_units=0,
    )
    broker.start(Kernel(), market.submit)
    assert broker.deadline_ms(1) == spec.gate_ms(1) - 1  # aligned: the last clearing is at the gate
    broker.act(spec.gate_ms(1) - 30_000, next_ms=spec.gate_ms(1) + 5)
    last = market.commands[-1]
    assert isinstance(last, PlaceLimit) and last.side == "buy"
    assert last.price <= 5000 * (1 + 4 * broker.markup) < spec.penalty_ticks


def test_quotes_grow_more_aggressive_as_the_gate_nears():
    broker, market = _broker(_wind(), extra_units=0)
    unit = 8
    plan_far = broker.client.plan(unit, broker.context(unit, 0))
    far = broker.limit_price(unit, 0, True, plan_far, broker.context(unit, 0))
    near_t = SPEC.gate_ms(unit) - 1 * U
    near = broker.limit_price(unit, near_t, True, plan_far, broker.context(unit, near_t))
    assert far > near >= plan_far.floor


def test_cost_bound_client_keeps_its_limit_in_the_last_wake():
    broker, market = _broker(CostSeller("zi_seller-001", SPEC, capacity=5000, cost=6000), extra_units=0)
    broker.act(SPEC.gate_ms(1) - 10, next_ms=SPEC.gate_ms(1) + 10)
    last = market.commands[-1]
    assert isinstance(last, PlaceLimit) and last.price == 6000 and last.side == "sell"


def test_dispatchable_offers_at_cost_and_bids_to_buy_back_below_it():
    client = Dispatchable("dispatchable-001", SPEC, capacity=5000, cost=6000, ramp=5000)
    broker, market = _broker(client, cls=DispatchBroker)
    broker.act(1000, next_ms=2000)
    offers = {(o.side, o.price, o.remaining) for o in market.live_orders("dispatchable-001") if o.unit == 1}
    assert offers == {("sell", 6000, 5000)}  # all its capacity, at marginal cost; nothing to buy back
    market.submit(PlaceMarket(1500, "buyer", "b1", "buy", 1, 3000))  # someone buys 3 kW
    broker.act(2000, next_ms=3000)
    offers = {(o.side, o.price, o.remaining) for o in market.live_orders("dispatchable-001") if o.unit == 1}
    assert offers == {("sell", 6000, 2000), ("buy", 5999, 3000)}
    n = len(market.commands)
    market.submit(PlaceLimit(2500, "wind", "w1", "sell", 1, 1000, 2000))  # cheaper energy arrives
    assert market.position("dispatchable-001", 1) == 1000  # bought back: produces its net position
    broker.act(3000, next_ms=4000)
    offers = {(o.side, o.price, o.remaining) for o in market.live_orders("dispatchable-001") if o.unit == 1}
    assert offers == {("sell", 6000, 4000), ("buy", 5999, 1000)}
    broker.act(3500, next_ms=4000)
    assert len(market.commands) == n + 1 + 2  # the wind order, then one replace; quiet after


def test_rejections_are_counted_not_raised():
    broker, market = _broker(_wind())
    broker.submit(PlaceLimit(2000, "wind-001", broker.next_ref(), "sell", 40, 5000, 100))  # unit not open
    broker.submit(Cancel(2000, "wind-001", "nope"))
    assert broker.rejections == 2
    broker.act(3000, next_ms=4000)  # and it goes on trading
    assert isinstance(market.commands[-1], PlaceLimit)


def test_refs_are_unique_per_agent():
    broker, _ = _broker(_wind())
    refs = [broker.next_ref() for _ in range(100)]
    assert len(set(refs)) == 100 and refs[0] == "wind-001-1"


def test_zi_traders_never_trade_at_a_loss():
    sc = parse_scenario(
        {
            "run": {"units": 12, "seed": 3},
            "population": [
                {"kind": "zi_buyer", "count": 6, "value": 80.0, "max_kw": 1.0, "wake_per_hour": 20},
                {"kind": "zi_buyer", "count": 4, "value": 50.0, "max_kw": 1.0, "wake_per_hour": 20},
                {"kind": "zi_seller", "count": 6, "cost": 30.0, "wake_per_hour": 20},
                {"kind": "zi_seller", "count": 4, "cost": 60.0, "wake_per_hour": 20},
            ],
        },
        source="test",
    )
    market = FakeMarket(sc.to_spec())
    sim = Simulation(sc, None, market)
    sim.run(lambda events: None)
    bounds = {a: (c.cost if isinstance(c, CostSeller) else c.value) for a, c in sim.clients.items()}
    assert all(isinstance(c, (CostSeller, ValueBuyer)) for c in sim.clients.values())
    assert len(market.trades) > 50
    for trade in market.trades:
        assert trade.price >= bounds[trade.seller] and trade.price <= bounds[trade.buyer]
    for cmd in market.commands:
        if isinstance(cmd, PlaceLimit):
            ok = cmd.price >= bounds[cmd.agent] if cmd.side == "sell" else 1 <= cmd.price <= bounds[cmd.agent]
            assert ok, cmd
    assert not any(isinstance(cmd, PlaceMarket) for cmd in market.commands)


def test_zi_broker_replaces_its_shout():
    broker, market = _broker(
        ValueBuyer("zi_buyer-001", SPEC, max_power=1000, value=8000),
        cls=ZIBroker,
        max_price=20_000,
        shouts=40,
    )
    broker.act(1000, 2000)
    broker.act(1500, 2000)
    placed = [c for c in market.commands if isinstance(c, PlaceLimit)]
    assert all(c.side == "buy" and c.price <= 8000 for c in placed)
    live = market.live_orders("zi_buyer-001")
    assert len({o.unit for o in live}) == len(live)  # at most one shout per unit


def test_live_orders_read_within_a_wake_up_follow_the_agents_own_commands():
    seen: list[list[tuple[int, int]]] = []

    class Probe(TargetBroker):
        def act(self, t_ms: int, next_ms: int) -> None:
            def snap() -> list[tuple[int, int]]:
                return [(o.unit, o.remaining) for u in (1, 2) for o in self.live_in(u)]

            seen.append(snap())
            self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), "sell", 1, 9000, 2 * SPEC.lot_units))
            self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), "sell", 2, 9000, 2 * SPEC.lot_units))
            seen.append(snap())
            self.submit(Shrink(t_ms, self.agent, self.live_in(1)[0].ref, SPEC.lot_units))
            self.submit(Cancel(t_ms, self.agent, self.live_in(2)[0].ref))
            seen.append(snap())

    broker, market = _broker(_wind(), cls=Probe)
    broker.wake(1000)
    lot = SPEC.lot_units
    assert seen == [[], [(1, 2 * lot), (2, 2 * lot)], [(1, lot)]]
    assert [(o.unit, o.remaining) for o in broker.live_in(1)] == [(1, lot)]  # outside a wake-up too

"""The default day with the market-following brokers: liquidity until the gate, the merit order,
and shocks that are sudden or announced (figures before and after in docs/agents.md)."""

from __future__ import annotations

import pytest

from rexnet.sim.measure import figures, simulate
from rexnet.sim.scenario import load_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def days():
    return {seed: simulate(load_scenario("default"), seed) for seed in (1, 2)}


def test_renewables_come_before_dearer_dispatch_and_the_book_keeps_liquidity(days):
    for seed, (sim, events) in days.items():
        f = figures(sim, events)
        # no cost-65/90 output while renewables had lots unsold, but for a remainder: a renewable's
        # last market order can find the bid side short (seed 1, unit 55: 4 lots of a solar order
        # found no bid at its last wake while the cost-65 unit had sold 7; 4.8 kWh a day before
        # the market-following brokers)
        assert f["merit_violation_kwh"] <= 0.25, seed
        assert f["no_liquidity"] == 0, seed  # an empty side gets a limit order, not a rejected market order
        assert f["late_share"] < 0.5, seed  # most volume trades before the last 30 minutes
        assert f["renewable_fill"] > 0.85, seed


def test_dispatchable_units_produce_their_net_position_not_their_capacity(days):
    sim, events = days[1]
    output = {
        (e.agent, e.unit): e.realized
        for e in events
        if type(e).__name__ == "Settled" and "dispatch" in e.agent
    }
    caps = {a: c.hi for a, c in sim.clients.items() if sim.agent_types()[a] == "dispatchable"}
    dear = max(caps, key=lambda a: sim.clients[a].cost)
    assert 0 < sum(v for (a, _), v in output.items() if a == dear) < 0.5 * caps[dear] * 96


def test_call_auction_prices_stay_in_the_bounds_and_near_continuous_costs():
    sim, events = simulate(load_scenario("call_auction"), 1)
    f = figures(sim, events)
    assert 0.01 <= f["price_min"] and f["price_max"] <= 3000
    assert f["price_max"] < 500  # nobody bids the penalty price as a reflex
    assert f["household_cost_mwh"] < 120


def test_a_sudden_shock_is_invisible_until_delivery_and_an_announced_one_is_not():
    units = 40  # units 8..47: the drop hits units 40..47
    runs = {}
    for name in ("default", "wind_drop", "wind_drop_announced"):
        sc = load_scenario(name)
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"units": units})})
        runs[name] = simulate(sc, 3)[1]
    start = sc.to_spec().delivery_start_ms(40)

    def before(events, t):
        return [e for e in events if e.t < t]

    # sudden: the same history as the unshocked day until the first shocked unit is delivered
    assert before(runs["wind_drop"], start) == before(runs["default"], start)
    assert runs["wind_drop"] != runs["default"]
    # announced at 31500 s: the histories part from then on, before delivery
    assert before(runs["wind_drop_announced"], 31_500_000) == before(runs["default"], 31_500_000)
    assert before(runs["wind_drop_announced"], start) != before(runs["default"], start)

"""Fork changes applied to a paused simulation keep members' state and others' random streams."""

from __future__ import annotations

import pytest

from rexnet.app.simulate import with_overrides
from rexnet.market_engine import MarketEngine
from rexnet.sim.change import ChangeError, set_group, set_price_prior
from rexnet.sim.scenario import load_scenario
from rexnet.sim.simulation import Simulation


@pytest.fixture
def paused():
    scenario = with_overrides(load_scenario("default"), seed=1, units=4)
    sim = Simulation(scenario, 1, MarketEngine(scenario.to_spec()), emit_shocks=True)
    assert sim.run(lambda events: None, until_ms=9_000_000) is False
    return sim


def wind_index(sim):
    return next(i for i, g in enumerate(sim.groups) if g.kind == "wind")


def test_parameters_change_state_stays(paused):
    sim = paused
    i = wind_index(sim)
    agent = sim.members[i][0]
    client = sim.clients[agent]
    realized = dict(client._realized)
    assert realized  # some units were realized before the pause
    set_group(sim, i, sim.groups[i].model_copy(update={"capacity_kw": 1.0, "wake_per_hour": 8.0}))
    assert client.capacity == float(1 / sim.spec.meter_kw) and sim.clients[agent] is client
    assert client._realized == realized
    assert sim.brokers[agent].mean_gap_ms == 450_000.0
    set_price_prior(sim, 70.0)
    assert sim.board.ref_price == 7000.0


def test_new_members_do_not_perturb_others(paused):
    sim = paused
    i = wind_index(sim)
    states = {a: b.rng.bit_generator.state for a, b in sim.brokers.items()}
    n = sim.groups[i].count
    added = set_group(sim, i, sim.groups[i].model_copy(update={"count": n + 2}))
    assert added == [f"wind-{n + 1:03d}", f"wind-{n + 2:03d}"]
    assert list(sim.clients) == sorted(sim.clients)
    assert {a: sim.brokers[a].rng.bit_generator.state for a in states} == states
    assert sim.run(lambda events: None) is True


def test_refused_changes(paused):
    sim = paused
    i = wind_index(sim)
    with pytest.raises(ChangeError, match="count can only grow"):
        set_group(sim, i, sim.groups[i].model_copy(update={"count": 1}))
    with pytest.raises(ChangeError, match="strategy"):
        set_group(sim, i, sim.groups[i].model_copy(update={"strategy": "zi"}))

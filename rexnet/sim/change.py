"""Changes to a running simulation, from a time on: what a fork applies at its fork point.

A fork pauses the simulation at time ``T`` (:meth:`Simulation.run` with ``until_ms``), applies
its changes here and continues. What can change mid-run:

* a population group's parameters (:func:`set_group`): every member keeps its state (realized
  units, state of charge, queue of wake-ups, RNG streams) and takes the new parameters for
  everything it decides or realizes after ``T``;
* a group's ``count``, upwards only: new members join at ``T`` (:meth:`Simulation.add_agent`);
* the traders' price prior ``run.price_prior``: the shared price level estimate restarts from it;
* shocks (:meth:`Simulation.add_shock`).

What cannot: a group's ``kind``, ``strategy`` or ``initial_soc`` (a member's identity or its
state at the start), a smaller ``count`` (members cannot leave a run they hold positions in),
and the market rules, which the history already recorded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rexnet.sim.simulation import Simulation, build_client

#: group fields that fix what a member *is* or where it started: not changeable mid-run
FIXED_FIELDS = frozenset({"kind", "strategy", "initial_soc"})


#: client attributes that hold a member's state (kept as they are; e.g. a battery's charge stays
#: where it is when its capacity changes)
STATE_ATTRS = frozenset({"agent", "spec", "shocks", "soc", "_reserved", "_realized", "_output", "_next_unit"})


class ChangeError(ValueError):
    """A change that cannot be applied mid-run (the message says why)."""


def set_group(sim: Simulation, index: int, group: Any) -> list[str]:
    """Give population group ``index`` the parameters of ``group`` from now on.

    Returns:
        The ids of members added because ``group.count`` grew.

    Raises:
        ChangeError: a fixed field changed or the count shrank.
    """
    old = sim.groups[index]
    for name in FIXED_FIELDS:
        if getattr(old, name, None) != getattr(group, name, None):
            raise ChangeError(f"population[{index}].{name} cannot change during a run")
    if group.count < old.count:
        raise ChangeError(
            f"population[{index}].count can only grow during a run ({old.count} -> {group.count})"
        )
    sim.groups[index] = group
    for agent in sim.members[index]:
        _graft_client(sim, agent, old, group)
        _set_broker(sim, agent, group)
    sim.register(list(sim.members[index]))  # the ledger records the new parameters
    return [sim.add_agent(index) for _ in range(group.count - old.count)]


def _graft_client(sim: Simulation, agent: str, old: Any, new: Any) -> None:
    """Copy onto the live client exactly the attributes that the parameters determine.

    Two fresh clients, one built from the old and one from the new parameters, differ only in
    parameter-derived attributes; state (empty at construction) compares equal and is kept.
    """
    client = sim.clients[agent]
    site = sim.scenario.site
    before = build_client(old, agent, sim.spec, sim.seed, sim.shocks, site=site).__dict__
    after = build_client(new, agent, sim.spec, sim.seed, sim.shocks, site=site).__dict__
    for name, value in after.items():
        if name in STATE_ATTRS:
            continue
        if name not in before or before[name] != value or type(value).__eq__ is object.__eq__:
            # (helpers without value equality, e.g. noise models, are stateless: rebuilt)
            setattr(client, name, value)


def _set_broker(sim: Simulation, agent: str, group: Any) -> None:
    broker: Any = sim.brokers[agent]
    broker.mean_gap_ms = 3_600_000.0 / group.wake_per_hour
    if hasattr(broker, "markup"):
        broker.markup = group.markup
    if hasattr(broker, "max_price"):
        broker.max_price = min(
            round(Decimal(repr(group.max_price)) / sim.spec.tick), sim.spec.max_price_ticks
        )
    if hasattr(broker, "set_shouts"):
        broker.set_shouts(group.shouts)


def set_price_prior(sim: Simulation, price: float) -> None:
    """Restart the brokers' shared price level estimate from ``price`` (currency/MWh)."""
    sim.board.ref_price = float(Decimal(repr(price)) / sim.spec.tick)

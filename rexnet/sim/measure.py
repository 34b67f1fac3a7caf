"""Figures of a simulated day, computed in memory: what the agents did to the market.

Runs a scenario against a live :class:`~rexnet.market_engine.MarketEngine` without a ledger and folds
the events into the figures a market designer asks first (the validation suite and
``docs/validation.md`` use them; the ledger's views compute the same from a stored run):

* ``late_share``: share of traded volume in the last 30 minutes before each unit's gate;
* ``renewable_fill``: wind and solar reservations against their brokers' last newsvendor targets
  (sum of ``min(reserved, target)`` over sum of ``target``);
* ``no_liquidity``: market orders rejected for an empty opposite side;
* ``avoidable_kwh`` / ``avoidable_cost``: per unit, dispatchable output not needed ex post while
  renewable output was dumped, ``min(dispatched, dumped)``, charged at the dispatchable units'
  marginal costs (dearest first);
* ``dumped_kwh``: renewable output above its reservation (sold at the surplus price);
* ``household_cost_mwh``: what households paid (trades, penalties, less surplus credit) per MWh
  they consumed; ``penalties``: every penalty paid (currency);
* ``price_min`` / ``price_max``: trade price range; ``vwap_std``: standard deviation of the unit
  VWAPs; ``volatility``: volume-weighted standard deviation of trade prices within a unit,
  averaged over units (currency/MWh);
* ``merit_violation_kwh``: per unit, output of dispatchable units dearer than the cheapest one
  while wind and solar left whole lots of their own targets unsold, ``min(dear output,
  unsold)``;
* ``efficiency``: realized over maximal surplus, in a market of value buyers and cost sellers
  only (a Gode-Sunder market).

    python -m rexnet.sim.measure default --seeds 1 2
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from rexnet.domain.events import SYSTEM_AGENT, GateClosed, OrderRejected, Settled, TradeExecuted
from rexnet.market_engine import MarketEngine
from rexnet.sim.device import CostSeller, Dispatchable, ValueBuyer
from rexnet.sim.scenario import Scenario, load_scenario
from rexnet.sim.simulation import Simulation

LATE_MS = 30 * 60 * 1000
RENEWABLE = ("wind", "solar")


def simulate(scenario: Scenario, seed: int) -> tuple[Simulation, list[Any]]:
    """Run ``scenario`` with ``seed`` in memory; returns the simulation and every event."""
    spec = scenario.to_spec()
    engine = MarketEngine(spec)
    sim = Simulation(scenario, seed, engine)
    events: list[Any] = []
    sim.run(events.extend)
    events.extend(engine.finish())
    return sim, events


def figures(sim: Simulation, events: list[Any]) -> dict[str, float]:
    """The figures of one run (see the module docstring)."""
    spec = sim.spec
    kinds = sim.agent_types()
    kwh = float(spec.meter_kw) * spec.unit_seconds / 3600.0  # one meter unit over one unit
    tick = float(spec.tick)
    money = float(spec.money_scale)
    volume = late = 0
    no_liq = 0
    prices: dict[int, list[tuple[int, int]]] = defaultdict(list)
    vwaps: list[float] = []
    settled: list[Settled] = []
    for ev in events:
        kind = type(ev)
        if kind is TradeExecuted:
            volume += ev.qty
            if spec.gate_ms(ev.unit) - ev.t <= LATE_MS:
                late += ev.qty
            prices[ev.unit].append((ev.price, ev.qty))
        elif kind is OrderRejected and ev.reason == "no_liquidity":
            no_liq += 1
        elif kind is GateClosed and ev.vwap is not None:
            vwaps.append(ev.vwap * tick)
        elif kind is Settled and ev.agent != SYSTEM_AGENT:
            settled.append(ev)
    # per unit: dispatch and dumped renewables
    dispatched: dict[int, list[tuple[float, int]]] = defaultdict(list)
    dumped: dict[int, int] = defaultdict(int)
    hh_cash = hh_use = penalties = 0
    reserved: dict[tuple[str, int], int] = {}
    for s in settled:
        k = kinds.get(s.agent, "")
        reserved[(s.agent, s.unit)] = s.reserved
        penalties += s.penalty
        if k == "dispatchable" and s.realized > 0:
            client: Any = sim.clients[s.agent]
            dispatched[s.unit].append((client.cost * tick, s.realized))
        elif k in RENEWABLE and s.realized > s.reserved:
            dumped[s.unit] += s.realized - s.reserved
        elif k == "household":
            hh_cash += s.net_cash
            hh_use += -s.realized
    avoid_units = avoid_cost = 0.0
    for unit, gens in dispatched.items():
        spare = min(sum(q for _, q in gens), dumped.get(unit, 0))
        avoid_units += spare
        for cost, q in sorted(gens, reverse=True):
            take = min(q, spare)
            avoid_cost += take * kwh * cost / 1000.0
            spare -= take
    hit = want = 0
    lot = spec.lot_units
    unmet: dict[int, int] = defaultdict(int)
    for agent, broker in sim.brokers.items():
        if kinds[agent] not in RENEWABLE:
            continue
        for unit, target in getattr(broker, "last_target", {}).items():
            if target > 0:
                got = min(max(reserved.get((agent, unit), 0), 0), target)
                want += target
                hit += got
                unmet[unit] += (target - got) // lot * lot  # whole lots: what could have traded
    # merit order: energy of dispatchable units dearer than the cheapest one produced while
    # renewables had offers they wanted to sell (their targets) left unsold
    violation = 0
    cheapest = _cheapest_dispatch(sim) * tick
    for unit, gens in dispatched.items():
        dear = sum(q for c, q in gens if c > cheapest)
        violation += min(dear, unmet.get(unit, 0))
    all_prices = [p for lst in prices.values() for p, _ in lst]
    vol_terms = []
    for lst in prices.values():
        q = sum(x for _, x in lst)
        mean = sum(p * x for p, x in lst) / q
        vol_terms.append(math.sqrt(sum(x * (p - mean) ** 2 for p, x in lst) / q) * tick)
    out = {
        "volume_kwh": volume * kwh,
        "late_share": late / volume if volume else 0.0,
        "renewable_fill": hit / want if want else 0.0,
        "no_liquidity": float(no_liq),
        "avoidable_kwh": avoid_units * kwh,
        "avoidable_cost": avoid_cost,
        "dumped_kwh": sum(dumped.values()) * kwh,
        "merit_violation_kwh": violation * kwh,
        "household_cost_mwh": (-hh_cash * money) / (hh_use * kwh / 1000.0) if hh_use else 0.0,
        "penalties": penalties * money,
        "price_min": min(all_prices) * tick if all_prices else 0.0,
        "price_max": max(all_prices) * tick if all_prices else 0.0,
        "vwap_std": _std(vwaps),
        "volatility": sum(vol_terms) / len(vol_terms) if vol_terms else 0.0,
    }
    eff = efficiency(sim, events)
    if eff is not None:
        out["efficiency"] = eff
    return out


def _cheapest_dispatch(sim: Simulation) -> float:
    costs = [c.cost for c in sim.clients.values() if isinstance(c, Dispatchable)]
    return float(min(costs)) if costs else 0.0


def efficiency(sim: Simulation, events: list[Any]) -> float | None:
    """Allocative efficiency of the agents with values or costs (ZI endowments).

    Per unit, the maximal surplus is that of the competitive allocation of the units the value
    buyers and cost sellers could trade (every step of their schedules, lot by lot, dearest value
    against cheapest cost); the realized surplus is what each buyer's traded quantity is worth
    along its schedule (steps in order) less what each seller's costs. ``None`` unless every
    agent is such an endowment (a Gode-Sunder market).
    """
    schedules: dict[str, tuple[tuple[int, int], ...]] = {}
    buyers: set[str] = set()
    for agent, client in sim.clients.items():
        if type(client) is ValueBuyer:
            buyers.add(agent)
        elif type(client) is not CostSeller:
            return None  # other agents' surplus is not a constant value or cost
        schedules[agent] = client.schedule()
    lot = sim.spec.lot_units
    best = max_surplus(
        [p for a in buyers for p, q in schedules[a] for _ in range(q // lot)],
        [p for a in schedules if a not in buyers for p, q in schedules[a] for _ in range(q // lot)],
        lot,
    )
    if best <= 0:
        return None
    traded: dict[tuple[str, int], int] = defaultdict(int)
    for ev in events:
        if type(ev) is TradeExecuted:
            traded[(ev.buyer, ev.unit)] += ev.qty
            traded[(ev.seller, ev.unit)] += ev.qty
    realized = 0
    for (agent, _), qty in traded.items():
        worth = along(schedules[agent], qty)
        realized += worth if agent in buyers else -worth
    n_units = sim.last_unit - sim.first_unit + 1
    return realized / (best * n_units)


def along(steps: tuple[tuple[int, int], ...], qty: int) -> int:
    """Value (or cost) of the first ``qty`` meter units of a schedule ``((price, qty), ...)``."""
    total = 0
    for price, step in steps:
        take = min(step, qty)
        total += price * take
        qty -= take
        if qty <= 0:
            break
    return total


def max_surplus(values: list[int], costs: list[int], lot: int) -> int:
    """Competitive-equilibrium surplus of one unit: lot values (dearest first) against lot costs
    (cheapest first), while a value exceeds a cost."""
    demand = sorted(values, reverse=True)
    supply = sorted(costs)
    return sum((v - c) * lot for v, c in zip(demand, supply, strict=False) if v > c)


def _std(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--summary", action="store_true", help="one line per figure: mean and 95%% CI")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    rows = []
    for seed in args.seeds:
        sim, events = simulate(scenario, seed)
        rows.append(figures(sim, events))
        if not args.summary:
            print(json.dumps({"scenario": args.scenario, "seed": seed, **rows[-1]}))
    if args.summary:
        from rexnet.sim.validation import mean_ci  # (validation builds on this module)

        for key in rows[0]:
            m, lo, hi = mean_ci([r[key] for r in rows])
            print(f"{key:20s} {m:10.3f}  [{lo:.3f}, {hi:.3f}]  n={len(rows)}")


if __name__ == "__main__":
    main()

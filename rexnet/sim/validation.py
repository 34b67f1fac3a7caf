"""Published results the simulator should reproduce, as experiments with seeds and intervals.

Each experiment runs small scenarios in memory (:mod:`rexnet.sim.measure`) over several seeds
and reports means with 95% confidence intervals (Student t); ``docs/validation.md`` lists the
published figure next to RexNet's, and ``tests/validation/`` pins the targets.

* :func:`gode_sunder`: Gode & Sunder (1993), ZI-C against ZI-U traders in a double auction;
* :func:`smith`: Smith (1962), convergence of prices to the competitive equilibrium over
  repeated periods (here: repeated delivery units) with adaptive (ZIP-style) traders;
* :func:`newsvendor`: the newsvendor fractile the brokers target against the shortfall
  frequency observed;
* :func:`mechanisms`: continuous double auction against periodic call auctions on the same
  population and seeds (Cason & Friedman 1997).

    python -m rexnet.sim.validation [gode-sunder|smith|newsvendor|mechanisms] [--seeds N]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from statistics import mean, stdev
from typing import Any

from rexnet.domain.events import Settled, TradeExecuted
from rexnet.domain.strict import RECORD
from rexnet.sim.measure import efficiency, figures, simulate
from rexnet.sim.scenario import Scenario, load_scenario, parse_scenario

#: Gode and Sunder's symmetric market: 6 buyers valued 120..70, 6 sellers costing 30..80, 1 kW
#: each per unit; competitive price range [70, 80], 5 kW traded, surplus 250 per unit.
GS_VALUES = (120, 110, 100, 90, 80, 70)
GS_COSTS = (30, 40, 50, 60, 70, 80)
GS_CE_RANGE = (70.0, 80.0)
#: the same market with two extra-marginal traders on each side (values 60, 50; costs 90, 100),
#: closer to Gode and Sunder's own markets, where extra-marginal units are many
GS_EXTRA_VALUES = (*GS_VALUES, 60, 50)
GS_EXTRA_COSTS = (*GS_COSTS, 90, 100)
#: G&S-style markets with several units per trader at stepped values and costs, traded in order
#: (constructed in the manner of their markets 1-5, not their exact schedules): "stepped", 4
#: buyers and 4 sellers with 3 one-kW units each, 8 of 12 units intra-marginal, CE range [80, 90];
#: "excess_supply", 3 buyers with 3 units against 6 sellers with 2, a flat tail of extra-marginal
#: supply, 6 of 9 demanded units intra-marginal, CE range [100, 105]
GS_MARKETS: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    "symmetric": (GS_VALUES, GS_COSTS),
    "extra_marginal": (GS_EXTRA_VALUES, GS_EXTRA_COSTS),
    "stepped": (
        ((130, 110, 90), (120, 100, 80), (110, 90, 70), (100, 80, 60)),
        ((40, 60, 80), (50, 70, 90), (60, 80, 100), (70, 90, 110)),
    ),
    "excess_supply": (
        ((140, 120, 100), (130, 110, 90), (125, 105, 85)),
        ((50, 95), (60, 105), (70, 115), (80, 125), (90, 135), (105, 145)),
    ),
}
#: delivery units each market is repeated over (the single-unit markets: 16, as before)
GS_UNITS = {"symmetric": 16, "extra_marginal": 16, "stepped": 8, "excess_supply": 8}


def mean_ci(xs: Sequence[float]) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its two-sided 95% confidence interval (Student t, the
    same interval as :func:`rexnet.experiment.stats.interval`)."""
    from scipy.stats import t  # (imported when needed: SciPy is slow to import)

    m = mean(xs)
    if len(xs) < 2:
        return m, m, m
    half = float(t.ppf(0.975, len(xs) - 1)) * stdev(xs) / math.sqrt(len(xs))
    return m, m - half, m + half


Schedule = int | Sequence[int]


def _entry(kind: str, prices: Schedule, common: dict[str, Any]) -> dict[str, Any]:
    """One trader: one kW at a price, or one kW per step of a schedule (traded in order)."""
    size, single, many = (
        ("max_kw", "value", "values") if kind == "zi_buyer" else ("capacity_kw", "cost", "costs")
    )
    if isinstance(prices, int):
        return {"kind": kind, "count": 1, size: 1.0, single: float(prices), **common}
    return {"kind": kind, "count": 1, size: float(len(prices)), many: [float(p) for p in prices], **common}


def gs_market(
    strategy: str = "zi",
    *,
    shouts: float = 40.0,
    units: int = 16,
    values: Sequence[Schedule] = GS_VALUES,
    costs: Sequence[Schedule] = GS_COSTS,
    mode: str = "continuous",
    period_s: int = 300,
) -> Scenario:
    """A Gode-Sunder market repeated over ``units`` delivery units: one trader per entry of
    ``values`` (buyers) and ``costs`` (sellers), each holding one kW per price (an int: one
    step; a sequence: G&S's several units at a stepped schedule, traded in order)."""
    common = {"strategy": strategy, "shouts": shouts, "max_price": 200.0}
    pop = [_entry("zi_buyer", v, common) for v in values] + [_entry("zi_seller", c, common) for c in costs]
    data = {
        "name": f"gode_sunder_{strategy}",
        "run": {"units": units},
        "auction": {"mode": mode, "period_seconds": period_s, "align_gate": mode == "periodic"},
        "population": pop,
    }
    return parse_scenario(data, source="gode_sunder")


def trade_prices(events: list[Any], tick: float) -> dict[int, list[tuple[float, int]]]:
    """Unit -> its trades' ``(price, qty)`` (currency/MWh, meter units), in time order."""
    out: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for ev in events:
        if type(ev) is TradeExecuted:
            out[ev.unit].append((ev.price * tick, ev.qty))
    return out


def in_range_share(prices: dict[int, list[tuple[float, int]]], lo: float, hi: float) -> float:
    """Share of traded volume at prices within ``[lo, hi]``."""
    total = sum(q for lst in prices.values() for _, q in lst)
    inside = sum(q for lst in prices.values() for p, q in lst if lo <= p <= hi)
    return inside / total if total else 0.0


def _flat(schedules: Sequence[Schedule]) -> list[int]:
    return [p for x in schedules for p in ((x,) if isinstance(x, int) else x)]


def ce_range(values: Sequence[Schedule], costs: Sequence[Schedule]) -> tuple[float, float]:
    """The competitive price range of one-kW units: with ``k`` units traded in equilibrium,
    ``[max(c_k, v_k+1), min(v_k, c_k+1)]`` (``v`` values dearest first, ``c`` costs cheapest
    first, 1-based; a missing ``k+1``-th unit does not bind)."""
    v = sorted(_flat(values), reverse=True)
    c = sorted(_flat(costs))
    k = sum(1 for a, b in zip(v, c, strict=False) if a > b)
    lo = max(c[k - 1], v[k] if k < len(v) else c[k - 1])
    hi = min(v[k - 1], c[k] if k < len(c) else v[k - 1])
    return float(lo), float(hi)


def gode_sunder(
    seeds: int = 10, *, shouts: float = 40.0, markets: Sequence[str] = tuple(GS_MARKETS)
) -> dict[str, Any]:
    """ZI-C and ZI-U: efficiency and share of volume in the competitive range, per seed, in each
    market of :data:`GS_MARKETS`."""
    out: dict[str, Any] = {}
    for label in markets:
        values, costs = GS_MARKETS[label]
        lo, hi = ce_range(values, costs)
        for strategy in ("zi", "zi_u"):
            effs, shares = [], []
            for seed in range(seeds):
                sc = gs_market(strategy, shouts=shouts, values=values, costs=costs, units=GS_UNITS[label])
                sim, events = simulate(sc, seed)
                eff = efficiency(sim, events)
                assert eff is not None
                effs.append(eff)
                shares.append(in_range_share(trade_prices(events, float(sim.spec.tick)), lo, hi))
            out[f"{label}/{strategy}"] = {"efficiency": effs, "in_ce_range": shares}
    return out


def price_dispersion(prices: list[tuple[float, int]], ce: float) -> float:
    """Root mean square deviation of trade prices from ``ce`` (volume weighted)."""
    q = sum(x for _, x in prices)
    return math.sqrt(sum(x * (p - ce) ** 2 for p, x in prices) / q) if q else float("nan")


def smith(seeds: int = 5, *, units: int = 24, window: int = 4) -> dict[str, Any]:
    """Dispersion of prices around the CE price in the first and last ``window`` units."""
    ce = sum(GS_CE_RANGE) / 2
    out: dict[str, Any] = {}
    for strategy in ("adaptive", "zi"):
        early, late = [], []
        for seed in range(seeds):
            sc = gs_market(strategy, units=units)
            sim, events = simulate(sc, seed)
            by_unit = trade_prices(events, float(sim.spec.tick))
            order = sorted(by_unit)
            early.append(price_dispersion([t for u in order[:window] for t in by_unit[u]], ce))
            late.append(price_dispersion([t for u in order[-window:] for t in by_unit[u]], ce))
        out[strategy] = {"early": early, "late": late}
    return out


def newsvendor_scenario(penalty: float = 100.0) -> Scenario:
    """The default population with a penalty close to prices, so the fractiles are mid-range
    (a 3000/MWh penalty makes them about 0.02: too rare to test in a day), and without a shared
    weather or load driver (``rho = 0``), so that shortfalls are independent and the binomial
    band applies (with a shared driver they move together and the band is far wider)."""
    base = load_scenario("default")
    data = base.model_dump(mode="json")
    data["settlement"]["penalty_price"] = penalty
    data["settlement"]["penalty_vwap_multiple"] = 0
    data["run"]["units"] = 48
    for group in data["population"]:
        if "rho" in group:
            group["rho"] = 0.0
    return parse_scenario(data, source="newsvendor", context=RECORD)  # (a json dump)


def newsvendor(seeds: int = 3) -> dict[str, Any]:
    """Per seed: targeted shortfall probability (mean fractile), observed frequency against the
    last target, its 95% band (Poisson-binomial), and the frequency against the reservation."""
    rows = []
    for seed in range(seeds):
        sim, events = simulate(newsvendor_scenario(), seed)
        kinds = sim.agent_types()
        realized = {
            (e.agent, e.unit): (e.realized, e.reserved)
            for e in events
            if type(e) is Settled and kinds.get(e.agent) in ("wind", "solar", "household")
        }
        n = short_target = short_reserved = 0
        expected = var = 0.0
        for agent, broker in sim.brokers.items():
            if kinds[agent] not in ("wind", "solar", "household"):
                continue
            for unit, target in broker.last_target.items():
                got = realized.get((agent, unit))
                q = broker.last_q.get(unit)
                if got is None or q is None or target == 0:
                    continue
                x, e = got
                n += 1
                short_target += x < target
                short_reserved += x < e
                expected += q
                var += q * (1 - q)
        half = 1.96 * math.sqrt(var)
        rows.append(
            {
                "seed": seed,
                "n": n,
                "targeted": expected / n,
                "observed_vs_target": short_target / n,
                "band": ((expected - half) / n, (expected + half) / n),
                "observed_vs_reservation": short_reserved / n,
            }
        )
    return {"rows": rows}


#: call periods compared with continuous trading, and the continuous shouts per unit that give
#: each trader as many chances to trade as those calls (a unit trades for 2 h: 8 units of 15 min)
CALL_PERIODS = {300: 24.0, 60: 120.0, 900: 8.0}


def mechanisms(seeds: int = 10, *, periods: Sequence[int] = (300,)) -> dict[str, Any]:
    """CDA against periodic call auctions: the ZI-C Gode-Sunder market and the default day.

    For each call period: the call market (each trader submits a fresh ZI-C order for every call)
    against continuous trading with 40 shouts per unit (the G&S validation's) and with as many
    shouts as there are calls (the same number of chances to trade)."""
    out: dict[str, Any] = {}

    def run(key: str, **kw: Any) -> None:
        effs, vols = [], []
        for seed in range(seeds):
            sim, events = simulate(gs_market("zi", **kw), seed)
            eff = efficiency(sim, events)
            assert eff is not None
            effs.append(eff)
            vols.append(figures(sim, events)["volatility"])
        out[key] = {"efficiency": effs, "volatility": vols}

    run("gode_sunder/continuous")
    for period in periods:
        run(f"gode_sunder/periodic_{period}s", mode="periodic", period_s=period)
        run(f"gode_sunder/continuous_{CALL_PERIODS[period]:g}_shouts", shouts=CALL_PERIODS[period])
    for name in ("default", "call_auction"):
        rows = [figures(*simulate(load_scenario(name), seed)) for seed in range(1, 1 + max(2, seeds // 2))]
        out[f"day/{name}"] = {
            k: [r[k] for r in rows] for k in ("volatility", "penalties", "household_cost_mwh")
        }
    return out


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v):
            m, lo, hi = mean_ci(v)
            return {"mean": round(m, 4), "ci95": [round(lo, 4), round(hi, 4)], "n": len(v)}
        return v

    return walk(result)


EXPERIMENTS = {"gode-sunder": gode_sunder, "smith": smith, "newsvendor": newsvendor, "mechanisms": mechanisms}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument(
        "--periods",
        type=int,
        nargs="+",
        choices=sorted(CALL_PERIODS),
        default=None,
        help="mechanisms: call periods in seconds (default 300)",
    )
    args = parser.parse_args(argv)
    fn: Any = EXPERIMENTS[args.experiment]
    kw: dict[str, Any] = (
        {} if args.periods is None or args.experiment != "mechanisms" else {"periods": args.periods}
    )
    result = fn(**kw) if args.seeds is None else fn(args.seeds, **kw)
    for key, value in _summary(result).items():
        print(key, json.dumps(value))


if __name__ == "__main__":
    main()

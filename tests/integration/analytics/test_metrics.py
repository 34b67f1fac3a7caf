"""The metrics of docs/metrics.md on two tiny hand-built runs, with answers worked by hand.

Both runs have 15-minute units 1 and 2 (``start_unit = 1``, ``units = 2``; unit hours 0.25, so
a cash of price x kW is price x kW x 0.25 / 1000 currency) and the default settlement (penalty
max(3000, 2 x VWAP), surplus price 0). Their events come from the real engine fed with
commands, after ``run_started`` and hand-written ``agent_registered`` records.

**Run A (a Gode-Sunder market).** Buyers b1 (value 100, 1 kW), b2 (value 60, 1 kW); sellers s1
(cost 20, 1 kW), s2 (cost 80, 1 kW). Competitive surplus of a unit: only b1-s1 trade, 1 kW x
(100 - 20) = 80 kW.currency/MWh = 0.02 currency; the run's maximum is 0.04.
Unit 1: s1 sells b1 0.5 kW at 50, then 0.5 kW at 54 (surplus 1 x (100 - 20) = 80 -> 0.02).
Unit 2: s1 sells b1 0.5 at 40, s2 sells b2 0.5 at 70 (an extramarginal pair): 0.5 x 80 +
0.5 x (60 - 80) = 30 -> 0.0075. Efficiency (0.02 + 0.0075) / 0.04 = 0.6875.
Price changes within units: 54 - 50 = 4 and 70 - 40 = 30, sample std 26 / sqrt(2); unit VWAPs
52 and 55, mean 53.5, sample std 3 / sqrt(2).

**Run B (households, wind, two dispatchables, a tariff).** Tariff flat 200, time-of-use 100
for units starting before 0.5 h and 300 after (unit 1 starts at 0.25 h, unit 2 at 0.5 h).
Unit 1: w1 asks 1 kW at 30, d1 asks 1 kW at 50; h1 buys 0.5 at market, h2 0.2 (both at 30).
Resting at the gate: asks 0.3 (w1) + 1.0 (d1). Realized: h1 -0.6 (shortfall 0.1, penalty
0.1 x 3000 x 0.25 / 1000 = 0.075), h2 -0.2, w1 +1.5 (surplus 0.8 dumped).
Unit 2: h1's market buy of 0.1 finds no asks (``no_liquidity``); then d2 asks 1 at 90, d1
1 at 50; h1 buys 1.0 (from d1 at 50), h2 0.5 (from d2 at 90). Resting at the gate: 0.5 (d2).
Realized: h1 -0.9 (0.1 over-reserved), h2 -0.5, d1 +1.0, d2 +0.5, w1 +0.4 with no
reservation (all dumped); the system's spare energy in unit 2 is 0.5 kW.
"""

from __future__ import annotations

import math

import pytest

from rexnet.analytics import Analytics
from rexnet.domain.commands import PlaceLimit, PlaceMarket, Realize
from rexnet.domain.events import AgentRegistered
from rexnet.domain.market import MarketConfig
from rexnet.replay.recording import RunRecorder
from rexnet.store import open_store

KW, PRICE = 1000, 100  # meter units per kW, ticks per currency/MWh (defaults: 0.001 kW, 0.01)
SCENARIO = {"name": "tiny", "run": {"start_unit": 1, "units": 2}}
TARIFF = {
    "flat": 200.0,
    "tou": [{"from_h": 0, "to_h": 0.5, "price": 100.0}, {"from_h": 0.5, "to_h": 24, "price": 300.0}],
}


def agent(name, kind, *, group=None, attributes=None, capacity=None, demand=None, cost=None, value=None):
    return AgentRegistered(
        0,
        name,
        kind,
        group or kind,
        attributes or {},
        "zi" if kind.startswith("zi") else "target",
        capacity,
        demand,
        None,
        cost,
        value,
        None,
        None,
    )


def record(url, scenario, agents, commands):
    store = open_store(url)
    try:
        rec = RunRecorder(
            store, name=scenario["name"], scenario=scenario, seed=0, spec=MarketConfig().to_spec()
        )
        rec.record(agents)
        rec.record(rec.engine.advance(0))
        for command in commands:
            rec.submit(command)
        rec.record(rec.engine.finish())
        rec.complete()
        return rec.run_id
    finally:
        store.close()


def s(t):
    return round(t * 1000)


RUN_A_AGENTS = [
    agent("b1", "zi_buyer", demand=1 * KW, value=100 * PRICE),
    agent("b2", "zi_buyer", demand=1 * KW, value=60 * PRICE),
    agent("s1", "zi_seller", capacity=1 * KW, cost=20 * PRICE),
    agent("s2", "zi_seller", capacity=1 * KW, cost=80 * PRICE),
]
RUN_A = [
    PlaceLimit(s(10), "s1", "a1", "sell", 1, 50 * PRICE, 500),
    PlaceMarket(s(11), "b1", "m1", "buy", 1, 500),
    PlaceLimit(s(12), "s1", "a2", "sell", 1, 54 * PRICE, 500),
    PlaceMarket(s(13), "b1", "m2", "buy", 1, 500),
    PlaceLimit(s(20), "s1", "a3", "sell", 2, 40 * PRICE, 500),
    PlaceMarket(s(21), "b1", "m3", "buy", 2, 500),
    PlaceLimit(s(22), "s2", "a4", "sell", 2, 70 * PRICE, 500),
    PlaceMarket(s(23), "b2", "m4", "buy", 2, 500),
    Realize(s(1700), "b1", 1, -1000),
    Realize(s(1700), "s1", 1, 1000),
    Realize(s(2600), "b1", 2, -500),
    Realize(s(2600), "b2", 2, -500),
    Realize(s(2600), "s1", 2, 500),
    Realize(s(2600), "s2", 2, 500),
]

RUN_B_AGENTS = [
    agent("h1", "household"),
    agent("h2", "household", group="poor", attributes={"income": "low"}),
    agent("w1", "wind", capacity=4 * KW),
    agent("d1", "dispatchable", capacity=2 * KW, cost=50 * PRICE),
    agent("d2", "dispatchable", capacity=2 * KW, cost=90 * PRICE),
]
RUN_B = [
    PlaceLimit(s(10), "w1", "w-1", "sell", 1, 30 * PRICE, 1000),
    PlaceLimit(s(11), "d1", "d-1", "sell", 1, 50 * PRICE, 1000),
    PlaceMarket(s(12), "h1", "h-1", "buy", 1, 500),
    PlaceMarket(s(13), "h2", "g-1", "buy", 1, 200),
    PlaceMarket(s(30), "h1", "h-2", "buy", 2, 100),  # no asks yet: no_liquidity
    PlaceLimit(s(31), "d2", "d-2", "sell", 2, 90 * PRICE, 1000),
    PlaceLimit(s(32), "d1", "d-3", "sell", 2, 50 * PRICE, 1000),
    PlaceMarket(s(33), "h1", "h-3", "buy", 2, 1000),
    PlaceMarket(s(34), "h2", "g-2", "buy", 2, 500),
    Realize(s(1700), "h1", 1, -600),
    Realize(s(1700), "h2", 1, -200),
    Realize(s(1700), "w1", 1, 1500),
    Realize(s(2600), "h1", 2, -900),
    Realize(s(2600), "h2", 2, -500),
    Realize(s(2600), "d1", 2, 1000),
    Realize(s(2600), "d2", 2, 500),
    Realize(s(2600), "w1", 2, 400),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'ledger.db'}"
    run_a = record(url, SCENARIO, RUN_A_AGENTS, RUN_A)
    run_b = record(url, {**SCENARIO, "name": "tiny-b", "tariff": TARIFF}, RUN_B_AGENTS, RUN_B)
    with Analytics(url) as ax:  # one session for the module (``named`` reads through it)
        _SESSION[url] = ax
        yield url, run_a, run_b
        del _SESSION[url]


_SESSION: dict = {}


def named(url, name, run, **params):
    if url in _SESSION:
        columns, rows = _SESSION[url].named_rows(name, run, **params)
    else:
        with Analytics(url) as ax:
            columns, rows = ax.named_rows(name, run, **params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def close(got, want):
    """Equal, floats to 1e-9 (the views round to 10 decimals)."""
    assert set(got) == set(want), (got, want)
    for key, value in want.items():
        if isinstance(value, float) and got[key] is not None:
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got[key] == value, key


def test_agents_view_shows_registrations(runs):
    url, _, run_b = runs
    with Analytics(url) as ax:
        _, rows = ax.rows(
            "SELECT agent, kind, group_name, attributes, capacity_kw, cost FROM agents WHERE run_id = $r "
            "ORDER BY agent",
            {"r": run_b},
        )
    assert rows == [
        ("d1", "dispatchable", "dispatchable", "{}", 2.0, 50.0),
        ("d2", "dispatchable", "dispatchable", "{}", 2.0, 90.0),
        ("h1", "household", "household", "{}", None, None),
        ("h2", "household", "poor", '{"income":"low"}', None, None),
        ("w1", "wind", "wind", "{}", 4.0, None),
    ]


def test_allocative_efficiency(runs):
    url, run_a, _ = runs
    [row] = named(url, "allocative_efficiency", run_a)
    close(
        row,
        {
            "units": 2,
            "buyers": 2,
            "sellers": 2,
            "realized_surplus": 0.0275,
            "max_surplus": 0.04,
            "efficiency": 0.6875,
            "volume_kwh": 0.5,
            "outside_volume_kwh": 0.0,
        },
    )
    by_unit = named(url, "efficiency_by_unit", run_a)
    assert [(r["unit"], r["efficiency"]) for r in by_unit] == [(1, 1.0), (2, 0.375)]


def test_price_volatility(runs):
    url, run_a, _ = runs
    [row] = named(url, "price_volatility", run_a)
    close(
        row,
        {
            "trades": 4,
            "trade_change_std": 26 / math.sqrt(2),
            "units": 2,
            "vwap_mean": 53.5,
            "vwap_std": 3 / math.sqrt(2),
            "vwap_change_std": None,
        },
    )


def test_gate_liquidity(runs):
    url, _, run_b = runs
    [row] = named(url, "gate_liquidity", run_b, window=1000.0)
    # leads: unit 1's trades ~888 s before its gate (late), unit 2's ~1767 s (not late)
    close(
        row,
        {
            "market_orders": 5,
            "no_liquidity": 1,
            "no_liquidity_rate": 0.2,
            "volume_kwh": 0.55,
            "late_share": 0.7 / 2.2,
            "units": 2,
            "gate_bid_depth_kw": 0.0,
            "gate_ask_depth_kw": 0.9,
            "units_without_bids": 1.0,
            "units_without_asks": 0.0,
        },
    )
    assert named(url, "gate_liquidity", run_b)[0]["late_share"] == 1.0  # default window 1800 s


def test_fill_rate(runs):
    url, _, run_b = runs
    rows = {(r["kind"], r["group_name"]): r for r in named(url, "fill_rate", run_b)}
    close(
        rows[("household", "household")],
        {
            "kind": "household",
            "group_name": "household",
            "agents": 1,
            "consumed_kwh": 0.375,
            "consumption_fill": 1.4 / 1.5,
            "produced_kwh": 0.0,
            "production_fill": None,
            "sold_share": None,
        },
    )
    close(
        rows[("wind", "wind")],
        {
            "kind": "wind",
            "group_name": "wind",
            "agents": 1,
            "consumed_kwh": 0.0,
            "consumption_fill": None,
            "produced_kwh": 0.475,
            "production_fill": 0.7 / 1.9,
            "sold_share": 0.7 / 1.9,
        },
    )


def test_uncertainty_premium(runs):
    url, _, run_b = runs
    by_unit = named(url, "uncertainty_premium_by_unit", run_b)
    assert [(r["unit"], r["foresight_price"]) for r in by_unit] == [(1, 0.0), (2, 50.0)]
    assert by_unit[0]["premium"] == pytest.approx(30.0)
    assert by_unit[1]["premium"] == pytest.approx(95 / 1.5 - 50)
    [row] = named(url, "uncertainty_premium", run_b)
    close(
        row,
        {
            "units": 2,
            "scarce_units": 0,
            "consumer_vwap": 116 / 2.2,
            "foresight_price": 75 / 2.2,
            "premium": 41 / 2.2,
        },
    )


def test_avoidable_dispatch(runs):
    url, _, run_b = runs
    [row] = named(url, "avoidable_dispatch", run_b)
    # unit 2: 0.4 kW of wind dumped (0.5 kW spare in all) while d2 (cost 90) made 0.5 and d1
    # (cost 50) 1.0: d2's output is avoided first
    close(
        row,
        {
            "dumped_renewable_kwh": 0.3,
            "dispatch_kwh": 0.375,
            "avoidable_kwh": 0.1,
            "avoidable_cost": 0.4 * 90 * 0.25 / 1000,
            "units_with_avoidable": 1,
            "unneeded_kwh": 0.125,
            "unneeded_cost": 0.5 * 90 * 0.25 / 1000,
        },
    )


def test_newsvendor_calibration(runs):
    url, _, run_b = runs
    rows = {(r["kind"], r["group_name"]): r for r in named(url, "newsvendor_calibration", run_b)}
    target = (30 / 3000 + (95 / 1.5) / 3000) / 2  # q = VWAP / 3000 in units 1 and 2
    half = 1.96 * math.sqrt(target * (1 - target) / 2)
    close(
        rows[("household", "household")],
        {
            "kind": "household",
            "group_name": "household",
            "agent_units": 2,
            "shortfall_units": 1,
            "shortfall_freq": 0.5,
            "reserved_units": 2,
            "reserved_shortfall_freq": 0.5,
            "target_q": target,
            "target_low": 0.0,
            "target_high": target + half,
            "within_95": False,
        },
    )
    assert rows[("household", "poor")]["shortfall_freq"] == 0.0
    assert rows[("wind", "wind")]["reserved_units"] == 1


def test_tariff_comparison(runs):
    url, _, run_b = runs
    rows = {r["agent"]: r for r in named(url, "tariff_comparison", run_b)}
    assert set(rows) == {"h1", "h2"}
    # h1: cash 0.5 x 30 + 1.0 x 50 (x 0.25 / 1000) and the 0.075 penalty; 0.375 kWh consumed
    # (flat 0.375 x 200 / 1000; time of use (0.6 x 100 + 0.9 x 300) x 0.25 / 1000)
    close(
        rows["h1"],
        {
            "agent": "h1",
            "kind": "household",
            "group_name": "household",
            "consumed_kwh": 0.375,
            "produced_kwh": 0.0,
            "cost": 0.09125,
            "cost_per_kwh": 0.09125 / 0.375,
            "flat_bill": 0.075,
            "tou_bill": 0.0825,
            "flat_per_kwh": 0.2,
            "tou_per_kwh": 0.0825 / 0.375,
            "vs_flat": 0.01625,
            "vs_tou": 0.00875,
        },
    )
    close(
        rows["h2"],
        {
            "agent": "h2",
            "kind": "household",
            "group_name": "poor",
            "consumed_kwh": 0.175,
            "produced_kwh": 0.0,
            "cost": 0.01275,
            "cost_per_kwh": 0.01275 / 0.175,
            "flat_bill": 0.035,
            "tou_bill": 0.0425,
            "flat_per_kwh": 0.2,
            "tou_per_kwh": 0.0425 / 0.175,
            "vs_flat": -0.02225,
            "vs_tou": -0.02975,
        },
    )


def test_costs_by_group(runs):
    url, _, run_b = runs
    rows = {(r["kind"], r["group_name"]): r for r in named(url, "costs_by_group", run_b)}
    assert set(rows) == {
        ("household", "household"),
        ("household", "poor"),
        ("wind", "wind"),
        ("dispatchable", "dispatchable"),
    }
    close(
        rows[("household", "poor")],
        {
            "kind": "household",
            "group_name": "poor",
            "agents": 1,
            "consumed_kwh": 0.175,
            "produced_kwh": 0.0,
            "penalties": 0.0,
            "cost": 0.01275,
            "cost_per_kwh": 0.01275 / 0.175,
            "consumers": 1,
            "consumer_cost_per_kwh": 0.01275 / 0.175,
            "flat_per_kwh": 0.2,
            "tou_per_kwh": 0.0425 / 0.175,
        },
    )
    dispatch = rows[("dispatchable", "dispatchable")]
    # d1 sold 1.0 at 50, d2 0.5 at 90: revenue 0.0125 + 0.01125; no consumption, no tariff
    assert dispatch["cost"] == pytest.approx(-0.02375)
    assert dispatch["consumers"] == 0 and dispatch["flat_per_kwh"] is None


def test_a_run_without_registrations_or_tariff(runs, tmp_path):
    """An ingested run: agents from its orders (kind NULL in the view, the id's type in metrics),
    no values or costs (efficiency NULL), no tariff (bills NULL)."""
    from analytics_helpers import ingest

    url, _, _ = runs
    run = ingest(url, tmp_path, name="plain")
    with Analytics(url) as ax:
        _, rows = ax.rows(
            "SELECT agent, kind, group_name FROM agents WHERE run_id = $r ORDER BY agent", {"r": run}
        )
    assert rows == [
        ("a", None, None),
        ("b", None, None),
        ("c", None, None),
        ("d", None, None),
        ("e", None, None),
    ]
    assert named(url, "allocative_efficiency", run)[0]["efficiency"] is None
    [b] = [r for r in named(url, "tariff_comparison", run) if r["agent"] == "b"]
    assert b["consumed_kwh"] == 0.125 and b["flat_bill"] is None and b["tou_bill"] is None

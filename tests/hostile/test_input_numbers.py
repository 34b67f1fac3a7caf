"""Hostile numbers at the edge: every number is finite and in bounds before anything is written.

Issue 13: ``"price": 1e308``, ``2**80``, a price x qty whose cash exceeds 64 bits, ``tick = 1e-30``,
``surplus_price = 1e20``, ``penalty_price = 1e300`` gave tracebacks and runs stuck ``running``;
``--time nan``/``inf`` tracebacked; ``fork --set run.price_prior=1e308`` left a ``failed`` fork.
Each is now exit 2 naming the field (and the line), with the ledger unchanged, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import pytest
from input_helpers import GOOD_LINE, assert_refused, invoke, jsonl, ledger


def line(**changes):
    return {**GOOD_LINE, **changes}


BAD_LINES = [
    (
        "1e308",
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 1e308, "qty": 1}',
        "'price'",
    ),
    ("2**80", line(price=2**80), "'price'"),
    ("qty 2**80", line(qty=2**80), "'qty'"),
    ("unit 2**80", line(unit=2**80), "'unit'"),
    ("t 2**80", line(t=2**80), "'t'"),
    ("negative t", line(t=-1), "'t'"),
    ("huge digits", '{"t": 0, "op": "cancel", "agent": "a", "ref": "o", "x": ' + "9" * 5000 + "}", "line 2"),
    ("NaN", '{"t": NaN, "op": "cancel", "agent": "a", "ref": "o"}', "NaN"),
    (
        "Infinity",
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o", "side": "buy", "unit": 2, "price": Infinity, "qty": 1}',
        "Infinity",
    ),
    ("-1e400", line(qty=-1e300), "'qty'"),
    ("tiny exponent", '{"t": 1e-999999, "op": "cancel", "agent": "a", "ref": "o"}', "line 2"),
    ("huge exponent", '{"t": 0, "op": "realize", "agent": "a", "unit": 2, "qty": 1e999999}', "'qty'"),
]


@pytest.mark.parametrize("name, bad, field", BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_numbers_in_lines_are_refused_naming_field_and_line(sqlite_url, tmp_path, name, bad, field):
    path = jsonl(tmp_path / "bad.jsonl", GOOD_LINE | {"ref": "first"}, bad)
    before = ledger(sqlite_url)
    result = invoke(sqlite_url, "ingest", str(path))
    assert_refused(result, "bad.jsonl", "line 2", field)
    assert ledger(sqlite_url) == before


def test_cash_of_one_fill_beyond_64_bits_is_refused_before_any_write(db_url, tmp_path):
    # 0.01 tick, 1e-6 kW meter: 1e6/MWh x 1e6 kW = 1e8 ticks x 1e12 units = 1e20 money units
    market = tmp_path / "m.toml"
    market.write_text("[market]\ntick = 0.01\nmeter_kw = 0.000001\nlot_kw = 0.000001\n")
    path = jsonl(
        tmp_path / "cash.jsonl",
        line(price=1_000_000, qty=1_000_000),
        line(t=1, agent="b", side="buy", price=1_000_000, qty=1_000_000),
    )
    before = ledger(db_url)
    result = invoke(db_url, "ingest", str(path), "--market", str(market))
    assert_refused(result, "line 1", "64 bits")
    assert ledger(db_url) == before


def test_a_stream_whose_total_money_could_overflow_is_refused_at_the_line_that_crosses(sqlite_url, tmp_path):
    # each fill alone fits in 64 bits; their settlement sums would not
    market = tmp_path / "m.toml"
    market.write_text("[market]\nmeter_kw = 0.000001\nlot_kw = 0.000001\n")
    # 9e7 ticks x 1e9 units per line; the penalty may reach 2 x VWAP: the 7th line crosses
    sides = ("sell", "buy")
    lines = [line(t=i, ref=f"o{i}", price=900_000, qty=1_000, side=sides[i % 2]) for i in range(40)]
    path = jsonl(tmp_path / "many.jsonl", *lines)
    result = invoke(sqlite_url, "ingest", str(path), "--market", str(market))
    assert_refused(result, "line 7", "'qty'", "64-bit money range")
    assert ledger(sqlite_url) == ((), 0)


def test_largest_accepted_figures_run_to_completion(sqlite_url, tmp_path):
    # at the bounds (1e6 currency/MWh, 1e6 kW) on the default grid, the run settles exactly
    lines = [
        line(price=1_000_000, qty=1_000_000),
        line(t=1, agent="b", ref="o2", side="buy", price=1_000_000, qty=1_000_000),
        {"t": 1900, "op": "realize", "agent": "b", "unit": 2, "qty": -1_000_000},
    ]
    result = invoke(sqlite_url, "ingest", str(jsonl(tmp_path / "max.jsonl", *lines)), "--format", "json")
    assert result.exit_code == 0, result.output
    runs, _ = ledger(sqlite_url)
    assert [status for _, status, _ in runs] == ["completed"]
    assert invoke(sqlite_url, "audit", runs[0][0]).exit_code == 0


BAD_MARKETS = [
    ("[market]\ntick = 1e-30\n", "market.tick"),
    ("[market]\ntick = 1e30\n", "market.tick"),
    ("[market]\nmeter_kw = 1e-30\n", "market.meter_kw"),
    ("[market]\nlot_kw = 1e300\n", "market.lot_kw"),
    ("[settlement]\nsurplus_price = 1e20\n", "settlement.surplus_price"),
    ("[settlement]\npenalty_price = 1e300\n", "settlement.penalty_price"),
    ("[settlement]\npenalty_price = nan\n", "settlement.penalty_price"),
    ("[settlement]\npenalty_price = inf\n", "settlement.penalty_price"),
    ("[settlement]\npenalty_vwap_multiple = 1e300\n", "settlement.penalty_vwap_multiple"),
    ("[market]\nhorizon = 99999999999999999999\n", "market.horizon"),
    ("[market]\ngate_lead_seconds = 9223372036854775808\n", "market.gate_lead_seconds"),
    ("[auction]\nperiod_seconds = -5\n", "auction.period_seconds"),
]


@pytest.mark.parametrize(
    "text, key", BAD_MARKETS, ids=[b[1] + ":" + b[0].split("=")[1].strip() for b in BAD_MARKETS]
)
def test_bad_numbers_in_market_toml_are_refused_naming_the_key(sqlite_url, tmp_path, text, key):
    market = tmp_path / "m.toml"
    market.write_text(text)
    result = invoke(
        sqlite_url, "ingest", str(jsonl(tmp_path / "ok.jsonl", GOOD_LINE)), "--market", str(market)
    )
    assert_refused(result, "m.toml", key)
    assert ledger(sqlite_url) == ((), 0)


@pytest.mark.parametrize(
    "text, key",
    [
        ("[market]\ntick = 1e-30\n", "market.tick"),
        ("[settlement]\nsurplus_price = 1e20\n", "settlement.surplus_price"),
        ("[run]\nprice_prior = 1e308\n", "run.price_prior"),
        ("[run]\nseed = 99999999999999999999\n", "run.seed"),
        ('[[population]]\nkind = "wind"\ncapacity_kw = 1e300\n', "population[0].capacity_kw"),
        ('[[population]]\nkind = "zi_seller"\ncost = inf\n', "population[0].cost"),
        ('[[population]]\nkind = "wind"\nsigma = 1e300\n', "population[0].sigma"),
        ('[[population]]\nkind = "wind"\nlead_units = 1000000000\n', "population[0].lead_units"),
        (
            '[[shocks]]\ndriver = "wind"\nfirst_unit = 0\nlast_unit = 99999999999\nfactor = 0.5\n',
            "shocks[0].last_unit",
        ),
        ('[[shocks]]\ndriver = "wind"\nfirst_unit = 0\nlast_unit = 1\nfactor = 1e300\n', "shocks[0].factor"),
    ],
)
def test_bad_numbers_in_scenario_toml_are_refused_naming_the_key(db_url, tmp_path, text, key):
    scenario = tmp_path / "s.toml"
    scenario.write_text('extends = "default"\n' + text)
    before = ledger(db_url)
    result = invoke(db_url, "run", str(scenario), "--units", "1")
    assert_refused(result, "s.toml", key)
    assert ledger(db_url) == before


@pytest.fixture
def small_run(sqlite_url, tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(
        'extends = "default"\n[run]\nunits = 2\n[[population]]\nkind = "zi_seller"\ncount = 2\n'
        '[[population]]\nkind = "zi_buyer"\ncount = 2\n'
    )
    result = invoke(sqlite_url, "run", str(scenario), "--name", "small")
    assert result.exit_code == 0, result.output
    return sqlite_url


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e400", "1e300", "x"])
@pytest.mark.parametrize(
    "command", [["book", "small", "--unit", "9"], ["accounts", "small"], ["fork", "small"]]
)
def test_time_must_be_a_finite_number(small_run, command, value):
    before = ledger(small_run)
    result = invoke(small_run, *command, "--time", value)
    assert_refused(result, "--time")
    assert ledger(small_run) == before


@pytest.mark.parametrize("option", [["--at", str(2**80)], ["--unit", str(2**80)]])
def test_seq_and_unit_options_are_bounded(small_run, option):
    args = ["book", "small", *option] if option[0] == "--at" else ["book", "small", *option]
    if option[0] == "--at":
        args += ["--unit", "9"]
    result = invoke(small_run, *args)
    assert_refused(result, option[0])


@pytest.mark.parametrize(
    "pair, key",
    [
        ("run.price_prior=1e308", "run.price_prior"),
        ("run.price_prior=nan", "run.price_prior"),
        ("run.price_prior=true", "run.price_prior"),
        ("run.price_prior='60'", "run.price_prior"),
        ("population[0].max_price=1e300", "population[0].max_price"),
        ("population[0].count=99999999999999999999999", "population[0].count"),
        ("population[0].wake_per_hour=inf", "population[0].wake_per_hour"),
    ],
)
def test_fork_set_values_are_checked_and_no_fork_is_left_behind(small_run, pair, key):
    before = ledger(small_run)
    result = invoke(small_run, "fork", "small", "--at", "30", "--set", pair)
    assert_refused(result, key)
    assert ledger(small_run) == before


def test_run_options_are_bounded(sqlite_url):
    for args in (["--seed", str(2**64)], ["--units", str(2**80)], ["--seed", "-1"]):
        result = invoke(sqlite_url, "run", *args)
        assert_refused(result, args[0])
    assert ledger(sqlite_url) == ((), 0)

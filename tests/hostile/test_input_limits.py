"""Bounded work: a few bytes of input cannot ask for millions of events or hours of simulation.

Issue 13: a 61-byte JSONL with ``"t": 1000000000`` wrote millions of clock events, ``horizon =
100000000`` or a huge ``unit_seconds`` hung, ``fork --set 'population[0].count=100000000'`` hung.
Each is now exit 2 before any write, naming the limit and how to raise it (``--limit KEY=N``);
raising it on purpose lets the same input through.
"""

from __future__ import annotations

import pytest
from input_helpers import GOOD_LINE, assert_refused, invoke, jsonl, ledger

from rexnet.domain import limits

TINY = '{"t": 1000000000, "op": "cancel", "agent": "ab", "ref": "x"}'


def test_a_61_byte_stream_far_in_the_future_is_refused(db_url, tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text(TINY + "\n")
    assert path.stat().st_size == 61
    result = invoke(db_url, "ingest", str(path))
    assert_refused(result, "line 1", "'t'", "max_units", "--limit max_units=N")
    assert ledger(db_url) == ((), 0)


def test_raising_the_limit_on_purpose_lets_the_stream_through(sqlite_url, tmp_path):
    # 40 units at 900 s: 36 000 s; the default limit refuses it once lowered, --limit lets it pass
    path = jsonl(tmp_path / "far.jsonl", {"t": 36_000, "op": "cancel", "agent": "a", "ref": "x"})
    assert_refused(invoke(sqlite_url, "--limit", "max_units=20", "ingest", str(path)), "max_units = 20")
    result = invoke(sqlite_url, "--limit", "max_units=100", "ingest", str(path), "--format", "json")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "bad, words",
    [
        (["--limit", "max_units"], ("--limit", "KEY=VALUE")),
        (["--limit", "nonsense=3"], ("--limit", "max_units")),
        (["--limit", "max_units=-3"], ("--limit", "positive whole number")),
        (["--limit", "max_units=1e9"], ("--limit", "positive whole number")),
        (["--limit", f"max_units={2**70}"], ("--limit", "positive whole number")),
    ],
)
def test_bad_limit_options_are_refused(sqlite_url, bad, words):
    assert_refused(invoke(sqlite_url, *bad, "runs"), *words)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[market]\nhorizon = 100000000\n", ("market.horizon", "max_horizon")),
        ("[market]\nunit_seconds = 100000000000\n", ("market.unit_seconds",)),
        (
            '[auction]\nmode = "periodic"\nperiod_seconds = 1\n[market]\nhorizon = 100\n',
            ("max_auctions_per_unit",),
        ),
    ],
)
def test_markets_that_ask_for_huge_clock_work_are_refused(db_url, tmp_path, text, words):
    market = tmp_path / "m.toml"
    market.write_text(text)
    result = invoke(db_url, "ingest", str(jsonl(tmp_path / "ok.jsonl", GOOD_LINE)), "--market", str(market))
    assert_refused(result, "m.toml", *words)
    assert ledger(db_url) == ((), 0)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[run]\nunits = 100000000\n", ("max_units",)),
        ("[market]\nhorizon = 100000000\n", ("max_horizon",)),
        ("[market]\nunit_seconds = 100000000\n", ("market.unit_seconds",)),
        ('[[population]]\nkind = "wind"\ncount = 100000000\n', ("max_agents",)),
        ('[[population]]\nkind = "wind"\ncount = 5000\nwake_per_hour = 3600\n', ("max_wakeups",)),
        ('[[population]]\nkind = "wind"\nwake_per_hour = 1e12\n', ("population[0].wake_per_hour",)),
        ('[[population]]\nkind = "wind"\nlead_units = 100000000\n', ("population[0].lead_units",)),
    ],
)
def test_scenarios_that_ask_for_huge_work_are_refused(db_url, tmp_path, text, words):
    scenario = tmp_path / "s.toml"
    scenario.write_text('extends = "default"\n' + text)
    result = invoke(db_url, "run", str(scenario))
    assert_refused(result, "s.toml", *words)
    assert ledger(db_url) == ((), 0)


def test_units_option_is_checked_against_the_limit(sqlite_url):
    result = invoke(sqlite_url, "run", "--units", "1000000")
    assert_refused(result, "max_units")
    assert ledger(sqlite_url) == ((), 0)


def test_many_shocks_are_refused(sqlite_url, tmp_path):
    shocks = "".join(
        f'[[shocks]]\ndriver = "wind"\nfirst_unit = {i}\nlast_unit = {i}\nfactor = 0.5\n' for i in range(1001)
    )
    scenario = tmp_path / "s.toml"
    scenario.write_text('extends = "default"\n' + shocks)
    assert_refused(invoke(sqlite_url, "run", str(scenario)), "max_shocks")


@pytest.fixture
def base_run(sqlite_url):
    result = invoke(sqlite_url, "run", "--units", "2", "--name", "base")
    assert result.exit_code == 0, result.output
    return sqlite_url


@pytest.mark.parametrize(
    "pair, words",
    [
        ("population[0].count=100000000", ("max_agents",)),
        ("population.wind.wake_per_hour=3600", ()),  # allowed alone (a few agents)
    ],
)
def test_fork_set_cannot_ask_for_huge_work(base_run, pair, words):
    before = ledger(base_run)
    result = invoke(base_run, "fork", "base", "--at", "30", "--set", pair)
    if words:
        assert_refused(result, *words)
        assert ledger(base_run) == before
    else:
        assert result.exit_code == 0, result.output


def test_fork_set_wakeups_past_the_limit_are_refused(base_run):
    result = invoke(
        base_run,
        "--limit",
        "max_wakeups=10000",
        "fork",
        "base",
        "--at",
        "30",
        "--set",
        "population.wind.wake_per_hour=3600",
    )
    assert_refused(result, "max_wakeups")


def test_set_orders_with_many_units_are_refused(sqlite_url, tmp_path):
    line = {
        "t": 0,
        "op": "set",
        "agent": "c",
        "ref": "s1",
        "side": "buy",
        "units": list(range(1001)),
        "price": 55,
        "qty": 1,
    }
    result = invoke(sqlite_url, "ingest", str(jsonl(tmp_path / "set.jsonl", line)))
    assert_refused(result, "'units'", "max_set_units")
    assert ledger(sqlite_url) == ((), 0)


def test_far_units_and_huge_lots_cost_one_rejection_not_work(sqlite_url, tmp_path):
    # a realization of unit 1e9 or an order for it is a rejection event, not a clock running to it
    lines = [
        {"t": 0, "op": "realize", "agent": "a", "unit": 10**9, "qty": 1},
        {**GOOD_LINE, "t": 1, "unit": 10**9, "ref": "far"},
        {**GOOD_LINE, "t": 2, "qty": 1_000_000, "ref": "big"},
    ]
    result = invoke(sqlite_url, "ingest", str(jsonl(tmp_path / "far.jsonl", *lines)), "--format", "json")
    assert result.exit_code == 0, result.output
    ((_, status, events),), _ = ledger(sqlite_url)
    assert status == "completed" and events < 50


def test_limits_module_names_every_limit_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for field in limits.Limits.__dataclass_fields__:
        assert f"`{field}`" in readme, field

"""Consistent market rules, checked at load with the key named.

Issue 13: a gate lead longer than the window (the market never opens), ``unit_seconds = 7``, an
auction period unrelated to the unit and ``penalty_price = 1e300`` were accepted.
"""

from __future__ import annotations

import pytest
from input_helpers import GOOD_LINE, assert_refused, invoke, jsonl, ledger

from rexnet.domain.market import MarketConfig


@pytest.mark.parametrize(
    "text, words",
    [
        ("[market]\ngate_lead_seconds = 7200\n", ("market.gate_lead_seconds", "forward window", "ever open")),
        ("[market]\ngate_lead_seconds = 100000\n", ("market.gate_lead_seconds",)),
        (
            "[market]\nhorizon = 2\nunit_seconds = 60\ngate_lead_seconds = 120\n",
            ("market.gate_lead_seconds",),
        ),
        ("[market]\nunit_seconds = 7\n", ("market.unit_seconds", "does not divide a day")),
        ("[market]\nunit_seconds = 1000\n", ("market.unit_seconds", "does not divide a day")),
        ("[market]\nunit_seconds = 172800\n", ("market.unit_seconds",)),
        (
            '[auction]\nmode = "periodic"\nperiod_seconds = 7\n',
            ("auction.period_seconds", "market.unit_seconds"),
        ),
        ("[auction]\nopening = true\nperiod_seconds = 1000\n", ("auction.period_seconds",)),
        (
            '[auction]\nmode = "periodic"\nperiod_seconds = 9000\n',
            ("auction.period_seconds", "window"),
        ),  # 10 units
        ("[auction]\nopening = true\n[market]\nunit_seconds = 60\n", ("auction.period_seconds",)),
        ("[settlement]\npenalty_price = 1e300\n", ("settlement.penalty_price",)),
        ("[settlement]\npenalty_price = 0.001\n", ("penalty_price", "tick")),
        ("[market]\nlot_kw = 0.0015\n", ("lot_kw", "meter_kw")),
    ],
)
def test_inconsistent_rules_are_refused_naming_the_key(db_url, tmp_path, text, words):
    market = tmp_path / "m.toml"
    market.write_text(text)
    result = invoke(db_url, "ingest", str(jsonl(tmp_path / "ok.jsonl", GOOD_LINE)), "--market", str(market))
    assert_refused(result, "m.toml", *words)
    assert ledger(db_url) == ((), 0)


@pytest.mark.parametrize(
    "text",
    [
        "[market]\nunit_seconds = 60\n",
        "[market]\nunit_seconds = 3600\n",
        "[market]\nunit_seconds = 86400\n",
        "[market]\nunit_seconds = 1\n",
        "[market]\ngate_lead_seconds = 7199\n",
        '[auction]\nmode = "periodic"\nperiod_seconds = 300\n',
        '[auction]\nmode = "periodic"\nperiod_seconds = 1800\n',  # two units, inside the window
        "[settlement]\npenalty_price = 1000000\nsurplus_price = 1000000\n",
        "[auction]\nperiod_seconds = 7\n",  # continuous trading: the period is not used
    ],
)
def test_consistent_rules_are_accepted(sqlite_url, tmp_path, text):
    market = tmp_path / "m.toml"
    market.write_text(text)
    result = invoke(
        sqlite_url, "ingest", str(jsonl(tmp_path / "ok.jsonl", GOOD_LINE)), "--market", str(market)
    )
    assert result.exit_code == 0, result.output


def test_money_units_are_exact_for_every_accepted_unit_length():
    # unit_seconds divides a day, so a day holds whole units and a unit's hours are exact
    for unit_seconds in (1, 60, 300, 900, 1800, 3600, 14400, 86400):
        spec = MarketConfig.model_validate({"market": {"unit_seconds": unit_seconds}}).to_spec()
        assert spec.money_scale * 3_600_000 == spec.tick * spec.meter_kw * unit_seconds
        assert 86400 % unit_seconds == 0


def test_scenario_rules_are_checked_too(sqlite_url, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('extends = "default"\n[market]\nunit_seconds = 7\n')
    assert_refused(invoke(sqlite_url, "run", str(scenario)), "s.toml", "unit_seconds")

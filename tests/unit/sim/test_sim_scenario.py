"""Scenario files: validation messages name the key; built-ins load; records round-trip."""

from __future__ import annotations

import json

import pytest

from rexnet.errors import InputError
from rexnet.sim.scenario import Scenario, builtin_names, load_scenario


def test_builtins_load():
    assert {"default", "high_renewables", "wind_drop", "call_auction"} <= set(builtin_names())
    default = load_scenario()
    assert default.name == "default"
    assert 50 <= sum(g.count for g in default.population) <= 70
    assert default.run.units == 96
    assert load_scenario("call_auction").auction.mode == "periodic"
    assert load_scenario("call_auction").population == default.population
    drop = load_scenario("wind_drop")
    assert [(s.driver, s.first_unit, s.last_unit, s.factor) for s in drop.shocks] == [("wind", 40, 50, 0.4)]
    assert load_scenario("high_renewables").to_spec().unit_seconds == 900


def test_record_round_trip_is_canonical():
    for name in builtin_names():
        sc = load_scenario(name)
        rec = sc.to_record()
        assert Scenario.from_record(rec) == sc
        assert json.loads(json.dumps(rec)) == rec
        assert list(rec) == sorted(rec)
        assert list(rec["population"][0]) == sorted(rec["population"][0])
        assert Scenario.from_record(json.loads(json.dumps(rec))).to_record() == rec


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[population]]\nkind="wind"\n[[population]]\nkind="solar"\n[[population]]\nkind="wind"\ncapacity_kw=-1\n',
            "scenario.toml: population[2].capacity_kw: Input should be greater than 0",
        ),
        (
            '[[population]]\nkind="wind"\nbogus=1\n',
            "scenario.toml: population[0].bogus: Extra inputs are not permitted",
        ),
        ('[[population]]\nkind="nuclear"\n', "scenario.toml: population[0].kind: "),
        ("[[population]]\ncount=2\n", "scenario.toml: population[0].kind: "),
        ("[market]\nhorizon=0\n", "scenario.toml: market.horizon: Input should be greater than 0"),
        ("[run]\nunits='many'\n", "scenario.toml: run.units: Input should be a valid integer"),
        ("[run]\nspeed=3\n", "scenario.toml: run.speed: Extra inputs are not permitted"),
        ("oops=1\n", "scenario.toml: oops: Extra inputs are not permitted"),
        (
            '[[shocks]]\ndriver="wind"\nfirst_unit=5\nlast_unit=3\nfactor=0.5\n',
            "scenario.toml: shocks[0]: last_unit must not be below first_unit",
        ),
        ("[run\n", "scenario.toml: invalid TOML"),
        ("[market]\nlot_kw=0.0015\n", "scenario.toml: market: lot_kw 0.0015 is not a positive multiple"),
        ("[[population]]\ncount=2\n", "scenario.toml: population[0].kind: Field required (one of wind,"),
    ],
)
def test_bad_input_names_the_key(tmp_path, text, message):
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, text))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unknown_name_and_missing_file():
    with pytest.raises(InputError, match="no built-in scenario 'nope'"):
        load_scenario("nope")
    with pytest.raises(InputError, match="cannot read"):
        load_scenario("/nonexistent/x.toml")


def test_extends_overrides_tables_and_replaces_arrays(tmp_path):
    sc = load_scenario(
        _write(tmp_path, 'extends = "default"\n[run]\nunits = 10\n[[population]]\nkind="wind"\ncount=2\n')
    )
    assert sc.run.units == 10 and sc.run.price_prior == 50.0
    assert [(g.kind, g.count) for g in sc.population] == [("wind", 2)]
    assert sc.market == load_scenario("default").market

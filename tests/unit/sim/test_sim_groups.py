"""Groups, attributes and tariffs in scenarios, and the agent_registered records built from them."""

from __future__ import annotations

import pytest

from rexnet.domain.events import AgentRegistered
from rexnet.domain.strict import RECORD
from rexnet.errors import InputError
from rexnet.sim.registration import registration
from rexnet.sim.scenario import load_scenario, parse_scenario


def _write(tmp_path, text):
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return str(path)


def test_labels_and_tariff_are_read_and_recorded(tmp_path):
    text = (
        '[[population]]\nkind = "household"\ngroup = "estate"\n'
        'attributes = {income = "low", rooms = 3, share = 0.5, renter = true}\n'
        '[[population]]\nkind = "wind"\n'
        "[tariff]\nflat = 250.0\ntou = [{from_h = 0, to_h = 7, price = 180.0}, {from_h = 7, to_h = 24, price = 280.0}]\n"
    )
    scenario = load_scenario(_write(tmp_path, text))
    estate, wind = scenario.population
    assert (estate.group, estate.attributes) == (
        "estate",
        {"income": "low", "rooms": 3, "share": 0.5, "renter": True},
    )
    assert (wind.group, wind.attributes) == (None, {})
    record = scenario.to_record()
    assert record["population"][0]["attributes"]["renter"] is True
    assert record["tariff"]["tou"][1] == {"from_h": 7.0, "to_h": 24.0, "price": 280.0}
    assert (
        parse_scenario(record, source="record", context=RECORD) == scenario
    )  # what run_started stores reads back


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[population]]\nkind="household"\nattributes = {"bad key" = 1}\n',
            "scenario.toml: population[0].attributes: attribute name 'bad key' must be an identifier",
        ),
        (
            '[[population]]\nkind="household"\nattributes = {x = [1, 2]}\n',
            "scenario.toml: population[0].attributes: attribute x must be a string, a number or a boolean",
        ),
        (
            '[[population]]\nkind="household"\nattributes = {x = "' + "y" * 65 + '"}\n',
            "scenario.toml: population[0].attributes: attribute x is longer than 64 characters",
        ),
        (
            '[[population]]\nkind="household"\nattributes = {'
            + ", ".join(f"k{i} = {i}" for i in range(17))
            + "}\n",
            "scenario.toml: population[0].attributes: Dictionary should have at most 16 items",
        ),
        (
            '[[population]]\nkind="household"\ngroup = ""\n',
            "scenario.toml: population[0].group: String should have at least 1",
        ),
        ("[tariff]\n", "scenario.toml: tariff: give flat, tou or both"),
        ("[tariff]\nflat = -1.0\n", "scenario.toml: tariff.flat: Input should be greater than or equal to 0"),
        (
            "[tariff]\ntou = [{from_h = 0, to_h = 7, price = 1.0}, {from_h = 8, to_h = 24, price = 2.0}]\n",
            "scenario.toml: tariff: tou[1] must start at 7 h and end after it",
        ),
        (
            "[tariff]\ntou = [{from_h = 0, to_h = 20, price = 1.0}]\n",
            "scenario.toml: tariff: tou periods must cover the day up to 24 h",
        ),
        ("[tariff]\nhourly = 3\n", "scenario.toml: tariff.hourly: Extra inputs are not permitted"),
    ],
)
def test_bad_labels_and_tariffs_name_the_key(tmp_path, text, message):
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, text))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_registration_carries_exact_parameters():
    scenario = load_scenario("default")
    spec = scenario.to_spec()
    kinds = {
        g.kind + (f"@{g.marginal_cost}" if g.kind == "dispatchable" else ""): g for g in scenario.population
    }
    assert registration(kinds["dispatchable@65.0"], "dispatchable-002", spec, 0) == AgentRegistered(
        0,
        "dispatchable-002",
        "dispatchable",
        "dispatchable",
        {},
        "target",
        10_000,
        None,
        None,
        6500,
        None,
        None,
        None,
    )
    assert registration(kinds["flexible"], "flexible-001", spec, 5) == AgentRegistered(
        5, "flexible-001", "flexible", "flexible", {}, "target", None, 3000, None, None, 12_000, None, 6000
    )
    # storage: 3 kW both ways, 10 kWh = 10_000 meter-unit hours
    storage = registration(kinds["storage"], "storage-001", spec, 0)
    assert (storage.capacity, storage.demand, storage.storage) == (3000, 3000, 10_000)
    zi = registration(kinds["zi_seller"], "zi_seller-001", spec, 0)
    assert (zi.strategy, zi.capacity, zi.cost) == ("zi", 2000, 4000)


def test_out_of_range_parameters_are_refused_when_the_scenario_is_read():
    with pytest.raises(
        InputError, match=r"^s: population\[1\]\.capacity_kw: Input should be less than or equal to 1000000$"
    ):
        parse_scenario({"population": [{"kind": "solar"}, {"kind": "wind", "capacity_kw": 1e30}]}, source="s")

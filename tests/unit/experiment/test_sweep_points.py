"""Sweeps that list their points one by one (``[[points]]``), as experiments build them."""

from __future__ import annotations

import pytest

from rexnet.errors import InputError
from rexnet.sweep.spec import parse_sweep


def test_listed_points_vary_one_factor_at_a_time():
    spec = parse_sweep(
        {
            "seeds": [1, 2],
            "units": 4,
            "points": [
                {"settlement.penalty_price": 1000.0},
                {"settlement.penalty_price": 6000.0},
                {"population.household.count": 12},
            ],
        },
        source="t",
    )
    assert [p.params for p in spec.points] == [
        {"settlement.penalty_price": 1000.0},
        {"settlement.penalty_price": 6000.0},
        {"population.household.count": 12},
    ]
    first, _, third = spec.points
    assert first.scenarios[1].settlement.penalty_price == 1000.0
    # the other factor stays at the base scenario's value
    households = [g for g in third.scenarios[2].population if g.kind == "household"]
    assert households[0].count == 12
    assert third.scenarios[2].settlement.penalty_price == spec.base.settlement.penalty_price
    assert spec.runs == 6
    assert spec.record()["points"] == spec.listed


def test_grid_records_are_unchanged_by_the_points_option():
    spec = parse_sweep({"seeds": [1], "grid": {"settlement.penalty_price": [1.0, 2.0]}}, source="t")
    assert "points" not in spec.record()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"points": [], "seeds": [1]}, "points: expected a non-empty list"),
        ({"points": [{"a.b": 1}], "seeds": [1]}, "a.b"),
        ({"points": [{"run.seed": 3}], "seeds": [1]}, "run.seed"),
        (
            {"points": [{"settlement.penalty_price": 1.0}], "grid": {"settlement.surplus_price": [1.0]}},
            "not both",
        ),
        ({"points": [{"settlement.penalty_price": 1.0}] * 2, "seeds": [1]}, "listed twice"),
    ],
)
def test_bad_points_are_input_errors(raw, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        parse_sweep(raw, source="t")

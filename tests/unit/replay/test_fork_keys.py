"""--set keys: parsed, normalized to group indices, refused when they cannot change mid-run."""

from __future__ import annotations

import pytest

from rexnet.errors import InputError
from rexnet.replay.fork import current_groups, normalize_sets, parse_value, with_change
from rexnet.sim.scenario import load_scenario

RECORD = load_scenario("default").to_record()


def test_values_are_toml_literals():
    assert parse_value("2.0") == 2.0 and parse_value("8") == 8 and parse_value('"x"') == "x"
    assert parse_value("true") is True and parse_value("abc") == "abc"


def test_keys_by_kind_expand_to_every_group_of_that_kind():
    kinds = [g.kind for g in current_groups(RECORD)]
    out = normalize_sets(RECORD, ["population.dispatchable.marginal_cost=70", "run.price_prior=55"])
    assert out == {
        **{f"population[{i}].marginal_cost": 70 for i, k in enumerate(kinds) if k == "dispatchable"},
        "run.price_prior": 55,
    }
    with pytest.raises(InputError, match="name one as population"):
        normalize_sets(RECORD, ["population.dispatchable.count=9"])


def test_earlier_fork_changes_are_the_new_baseline():
    record = with_change(RECORD, {"at_ms": 1000, "set": {"population[0].count": 30}, "shocks": []})
    assert current_groups(record)[0].count == 30
    with pytest.raises(InputError, match="count can only grow"):
        normalize_sets(record, ["population[0].count=29"], at_ms=2000)
    assert normalize_sets(record, ["population[0].count=31"], at_ms=2000) == {"population[0].count": 31}
    # changes apply in time order: before the parent's change, 29 is growth (24 -> 29 -> 30) ...
    assert normalize_sets(record, ["population[0].count=29"], at_ms=500) == {"population[0].count": 29}
    # ... but 31 then would make the later change a shrink
    with pytest.raises(InputError, match="count can only grow"):
        normalize_sets(record, ["population[0].count=31"], at_ms=500)

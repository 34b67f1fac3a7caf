"""Arbitrary JSON and TOML values in every ingest field and every market/scenario key.

Whatever a field holds (NaN and infinity, huge integers, booleans, strings that look like numbers,
nested objects and lists, unicode and control characters), the CLI answers with exit 0 or exit 2
and a message: never a traceback, never a run left ``running``, and nothing written when it says
exit 2.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from input_helpers import invoke, ledger

TRICKY_STRINGS = [
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e308",
    "40",
    "2",
    "true",
    "system",
    "SYSTEM",
    " system",
    "\x1b[31m",
    "\u202e",
    "ｓｙｓｔｅｍ",
    "",
    "x" * 100,
]
TRICKY_NUMBERS = [
    0,
    -1,
    1,
    2**63,
    -(2**63) - 1,
    2**80,
    10**400,
    1e308,
    -1e308,
    1e-30,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    0.1,
    86400,
    7,
    10**9,
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(TRICKY_NUMBERS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(TRICKY_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)

BASE_LINES = {
    "limit": {
        "op": "limit",
        "agent": "a",
        "ref": "o1",
        "side": "sell",
        "unit": 2,
        "price": 40,
        "qty": 1,
        "tif": "gtc",
    },
    "market": {"op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5},
    "cancel": {"op": "cancel", "agent": "a", "ref": "o1"},
    "shrink": {"op": "shrink", "agent": "a", "ref": "o1", "qty": 0.5},
    "set": {"op": "set", "agent": "c", "ref": "s1", "side": "buy", "units": [3, 4], "price": 55, "qty": 1},
    "realize": {"op": "realize", "agent": "a", "unit": 2, "qty": 1.1},
}
FIELDS = sorted({(op, key) for op, line in BASE_LINES.items() for key in [*line, "t"]})

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(db: str, before: Any, result: Any) -> None:
    """Exit 0 or 2, no traceback, no run left running, no write on exit 2."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    after = ledger(db)
    assert all(status != "running" for _, status, _ in after[0]), after
    if result.exit_code == 2:
        assert after == before
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    else:
        assert len(after[0]) == len(before[0]) + 1 and after[0][-1][1] == "completed"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'ledger.db'}"


@pytest.mark.slow
@FUZZ
@given(field=st.sampled_from(FIELDS), value=json_values, extra=st.booleans())
def test_any_value_in_any_ingest_field(db, tmp_path, field, value, extra):
    op, key = field
    line = {"t": 1, **BASE_LINES[op]}
    if extra:
        line[f"x{key}"] = value  # an unknown field holding the value
    else:
        line[key] = value
    path = tmp_path / "fuzz.jsonl"
    first = {"t": 0, **BASE_LINES["limit"]}
    path.write_text(json.dumps(first) + "\n" + json.dumps(line, allow_nan=True) + "\n", encoding="utf-8")
    before = ledger(db)
    check(db, before, invoke(db, "ingest", str(path)))


# -- TOML ---------------------------------------------------------------------------------------


def toml_value(value: Any) -> str | None:
    """``value`` as a TOML literal (None when TOML cannot express it, e.g. null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is JSON-escaped text
    if isinstance(value, list):
        items = [toml_value(v) for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        items = [(json.dumps(k), toml_value(v)) for k, v in value.items()]
        return (
            None
            if any(v is None for _, v in items)
            else "{" + ", ".join(f"{k} = {v}" for k, v in items) + "}"
        )
    return None


MARKET_KEYS = (
    [
        ("market", k)
        for k in ("unit_seconds", "horizon", "gate_lead_seconds", "lot_kw", "tick", "meter_kw", "self_trade")
    ]
    + [("settlement", k) for k in ("penalty_price", "penalty_vwap_multiple", "surplus_price")]
    + [("auction", k) for k in ("mode", "opening", "period_seconds")]
)
GROUP_KEYS = {
    "wind": (
        "count",
        "wake_per_hour",
        "markup",
        "max_price",
        "sigma",
        "rho",
        "lead_units",
        "final_share",
        "capacity_kw",
        "mean_cf",
        "strategy",
    ),
    "flexible": ("need_kwh", "start_hour", "end_hour", "max_kw", "value"),
    "dispatchable": ("capacity_kw", "marginal_cost", "ramp_kw"),
    "storage": ("energy_kwh", "power_kw", "efficiency", "initial_soc", "band"),
    "zi_buyer": ("max_kw", "value", "values"),
    "zi_seller": ("capacity_kw", "cost", "costs"),
}
SCENARIO_KEYS = (
    MARKET_KEYS
    + [("run", k) for k in ("units", "seed", "start_unit", "price_prior")]
    + [(f"population.{kind}", k) for kind, keys in GROUP_KEYS.items() for k in keys]
    + [("shocks", k) for k in ("name", "driver", "first_unit", "last_unit", "factor", "at_s")]
    + [("", "name"), ("", "description")]
)
toml_values = json_values.map(toml_value).filter(lambda text: text is not None)


@pytest.mark.slow
@FUZZ
@given(key=st.sampled_from(MARKET_KEYS), literal=toml_values)
def test_any_value_in_any_market_key(db, tmp_path, key, literal):
    section, name = key
    market = tmp_path / "m.toml"
    market.write_text(f"[{section}]\n{name} = {literal}\n", encoding="utf-8")
    stream = tmp_path / "ok.jsonl"
    stream.write_text(
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o", "side": "sell", "unit": 9, "price": 40, "qty": 1}\n'
    )
    before = ledger(db)
    check(db, before, invoke(db, "ingest", str(stream), "--market", str(market)))


def scenario_text(section: str, name: str, literal: str) -> str:
    """A one-unit scenario with two traders, and ``name = literal`` in ``section``."""
    run = {"units": "1"}
    groups = ['kind = "zi_seller"\ncount = 1', 'kind = "zi_buyer"\ncount = 1']
    tables = {"market": [], "settlement": [], "auction": []}
    top, shocks = [], []
    if section == "run":
        run[name] = literal
    elif section.startswith("population."):
        kind = section.split(".", 1)[1]
        groups.append(f'kind = "{kind}"\n{name} = {literal}' + ("" if name == "count" else "\ncount = 1"))
    elif section == "shocks":
        shock = {"driver": '"wind"', "first_unit": "1", "last_unit": "2", "factor": "0.5", name: literal}
        shocks.append("\n".join(f"{k} = {v}" for k, v in shock.items()))
    elif section:
        tables[section].append(f"{name} = {literal}")
    else:
        top.append(f"{name} = {literal}")
    parts = [*top, "[run]", *(f"{k} = {v}" for k, v in run.items())]
    for table, lines in tables.items():
        if lines:
            parts += [f"[{table}]", *lines]
    parts += [f"[[population]]\n{g}" for g in groups] + [f"[[shocks]]\n{s}" for s in shocks]
    return "\n".join(parts) + "\n"


@pytest.mark.slow
@FUZZ
@given(key=st.sampled_from(SCENARIO_KEYS), literal=toml_values)
def test_any_value_in_any_scenario_key(db, tmp_path, key, literal):
    scenario = tmp_path / "s.toml"
    scenario.write_text(scenario_text(*key, literal), encoding="utf-8")
    before = ledger(db)
    check(db, before, invoke(db, "run", str(scenario)))

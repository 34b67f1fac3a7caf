"""The JSONL command format: valid lines become commands, bad lines name their line number."""

import json

import pytest

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Realize, RefuseAtEdge, Shrink
from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError, LineError
from rexnet.ingest.parser import load_market
from rexnet.ingest.stream import parse_commands

SPEC = MarketSpec()

DESIGN_EXAMPLE = """\
{"t": 0.0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.5, "tif": "gtc"}
{"t": 1.0, "op": "market", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "qty": 0.5}
{"t": 2.0, "op": "cancel", "agent": "a", "ref": "o1"}
{"t": 3.0, "op": "shrink", "agent": "a", "ref": "o3", "qty": 0.2}
{"t": 4.0, "op": "set", "agent": "c", "ref": "s1", "side": "buy", "units": [3, 4], "price": 55.0, "qty": 1.0}
{"t": 1900.0, "op": "realize", "agent": "a", "unit": 2, "qty": 1.1}
"""


def write(tmp_path, text):
    path = tmp_path / "cmds.jsonl"
    path.write_text(text)
    return path


def test_design_example_parses_to_integer_commands(tmp_path):
    parsed = parse_commands(write(tmp_path, DESIGN_EXAMPLE), SPEC)
    assert parsed.commands == [
        PlaceLimit(0, "a", "o1", "sell", 2, 4000, 1500, "gtc"),
        PlaceMarket(1000, "b", "o2", "buy", 2, 500),
        Cancel(2000, "a", "o1"),
        Shrink(3000, "a", "o3", 200),
        PlaceSet(4000, "c", "s1", "buy", (3, 4), 5500, 1000),
        Realize(1_900_000, "a", 2, 1100),
    ]


def test_off_grid_numbers_become_rejections_not_errors(tmp_path):
    text = (
        '{"t": 0, "op": "limit", "agent": "a", "ref": "x", "side": "sell", "unit": 2, "price": 40.001, "qty": 1}\n'
        '{"t": 0, "op": "limit", "agent": "a", "ref": "y", "side": "sell", "unit": 2, "price": 40, "qty": 0.0005}\n'
    )
    cmds = parse_commands(write(tmp_path, text), SPEC).commands
    assert [type(c) for c in cmds] == [RefuseAtEdge, RefuseAtEdge]
    assert [c.reason for c in cmds] == ["off_tick", "off_lot"]


@pytest.mark.parametrize(
    "line,message",
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"t": 0, "op": "teleport", "agent": "a"}', "unknown op 'teleport'"),
        ('{"t": 0, "agent": "a"}', "missing field 'op'"),
        ('{"t": 0, "op": "cancel", "agent": "a"}', "missing field 'ref'"),
        ('{"t": 0, "op": "cancel", "agent": "a", "ref": "r", "colour": 1}', "unknown field 'colour'"),
        (
            '{"t": 0, "op": "market", "agent": "a", "ref": "r", "side": "up", "unit": 1, "qty": 1}',
            "field 'side'",
        ),
        ('{"t": 0.0001, "op": "cancel", "agent": "a", "ref": "r"}', "finer than a millisecond"),
    ],
)
def test_malformed_line_names_its_number(tmp_path, line, message):
    good = json.dumps({"t": 0, "op": "cancel", "agent": "a", "ref": "r"})
    with pytest.raises(LineError) as err:
        parse_commands(write(tmp_path, f"{good}\n\n{line}\n"), SPEC)
    assert err.value.line == 3
    assert "line 3" in str(err.value) and message in str(err.value)


def test_time_going_backwards_is_malformed(tmp_path):
    text = '{"t": 5, "op": "cancel", "agent": "a", "ref": "r"}\n{"t": 4, "op": "cancel", "agent": "a", "ref": "r"}\n'
    with pytest.raises(LineError, match="line 2.*time order"):
        parse_commands(write(tmp_path, text), SPEC)


def test_market_file_keys_and_errors(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text("[market]\nhorizon = 4\n[settlement]\npenalty_price = 500.0\n")
    spec, record = load_market(path)
    assert spec.horizon == 4 and spec.penalty_ticks == 50_000 and record["horizon"] == 4
    path.write_text("[market]\nhorizn = 4\n")
    with pytest.raises(InputError, match="market.horizn: unknown key"):
        load_market(path)
    path.write_text("[market]\nhorizon = 0\n")
    with pytest.raises(InputError, match="market.horizon"):
        load_market(path)
    path.write_text("[market\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_market(path)

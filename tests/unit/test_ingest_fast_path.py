"""The fast path of ingest (orjson + plain checks) only accepts what the strict path accepts, and
gives the same command; anything unusual is left to the strict path (which names the problem)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rexnet.domain.market import MarketSpec
from rexnet.errors import LineError
from rexnet.ingest.parser import LineParser
from rexnet.ingest.stream import FastLines

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from streams import iter_stream  # noqa: E402

SPEC = MarketSpec()


def strict(raw: str):
    """The strict path's command for a line, or the LineError it raises."""
    try:
        return LineParser("x", SPEC).parse(raw, 1)
    except LineError as error:
        return error


def agrees(raw: str) -> bool:
    """Whether the fast path took the line (then it must equal the strict path's command)."""
    fast = FastLines(SPEC).command(raw.encode(), 0)
    if fast is None:
        return False
    expected = strict(raw)
    try:
        LineParser("x", SPEC).accept(fast, 1)  # the stream-wide bounds, as the reader checks them
    except LineError as error:
        assert isinstance(expected, LineError) and str(error) == str(expected), (raw, error, expected)
        return True
    assert not isinstance(expected, LineError), (raw, expected)
    assert fast == expected and [type(v) for v in fast] == [type(v) for v in expected], raw
    return True


def test_generated_streams_take_the_fast_path_with_the_strict_commands():
    lines = list(iter_stream(3000, seed=9))
    assert all(agrees(line) for line in lines)


LIMIT = (
    '{"t": %s, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": %s, "qty": %s}'
)


@pytest.mark.parametrize(
    ("line", "fast"),
    [
        (LIMIT % ("0", "40", "1"), True),
        (LIMIT % ("1.250", "40.10", "1.50"), True),  # trailing zeros: the same decimals
        (LIMIT % ("1e3", "40", "1"), False),  # exponents go the strict way
        (LIMIT % ("1e-999999", "40", "1"), False),  # (a float would underflow to 0)
        (LIMIT % ("0", "40.0000000000000000001", "1"), False),  # more than 15 digits
        (LIMIT % ("0", "40.005", "1"), False),  # off the tick: a refusal quoting the text
        (LIMIT % ("0.0005", "40", "1"), False),  # finer than a millisecond: an error
        (LIMIT % ("0", "true", "1"), False),
        (LIMIT % ("0", '"40"', "1"), False),
        (LIMIT % ("0", "-1", "1"), True),  # (refused by the exchange, not the edge)
        (LIMIT % ("0", "1000001", "1"), False),  # past MAX_PRICE
        (LIMIT.replace('"a"', '"System"') % ("0", "40", "1"), False),  # reserved: a refusal
        (LIMIT.replace('"a"', '"\\u0061"') % ("0", "40", "1"), False),  # escapes
        # (the reader sends lines that are not ASCII the strict way; the agent check is full anyway)
        (LIMIT.replace('"a"', '"é"') % ("0", "40", "1"), True),
        (LIMIT.replace('"o1"', '"o 1"') % ("0", "40", "1"), False),  # a space in a name
        (LIMIT.replace('"unit": 2', '"unit": 2, "unit": 3') % ("0", "40", "1"), False),  # repeated key
        (LIMIT.replace("}", ', "tif": "ioc"}') % ("0", "40", "1"), True),
        (LIMIT.replace("}", ', "tif": "day"}') % ("0", "40", "1"), False),
        (LIMIT.replace("}", ', "tif": null}') % ("0", "40", "1"), False),
        (LIMIT.replace("}", ', "x": 1}') % ("0", "40", "1"), False),
        (
            '{"t": 1, "op": "set", "agent": "c", "ref": "s", "side": "buy", "units": [3, 4], "price": 5, "qty": 1}',
            True,
        ),
        (
            '{"t": 1, "op": "set", "agent": "c", "ref": "s", "side": "buy", "units": [3, 4.0], "price": 5, "qty": 1}',
            False,
        ),
        ('{"t": 1, "op": "realize", "agent": "a", "unit": 2, "qty": -0.001}', True),
        ('{"t": 1, "op": "realize", "agent": "a", "unit": 2, "qty": 0.0001}', False),
        ('{"t": 1, "op": "cancel", "agent": "a", "ref": "o1"}', True),
        ('{"t": 1, "op": "shrink", "agent": "a", "ref": "o1", "qty": 0.2}', True),
        ('{"t": 1, "op": "market", "agent": "a", "ref": "o1", "side": "buy", "unit": 2, "qty": 0.2}', True),
        ('{"t": 1, "op": "market", "agent": "a", "ref": "o1", "side": "BUY", "unit": 2, "qty": 0.2}', False),
        ("[1, 2]", False),
        ('{"t": NaN, "op": "cancel", "agent": "a", "ref": "o1"}', False),
    ],
)
def test_unusual_lines_are_left_to_the_strict_path(line, fast):
    assert agrees(line) is fast


_DIGITS = st.text("0123456789", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    whole=_DIGITS,
    frac=st.one_of(st.just(""), _DIGITS),
    sign=st.sampled_from(["", "-"]),
    field=st.sampled_from(["t", "price", "qty"]),
)
def test_numbers_either_agree_or_go_the_strict_way(whole, frac, sign, field):
    text = f"{sign}{whole.lstrip('0') or '0'}{'.' + frac if frac else ''}"
    values = {"t": "1", "price": "40", "qty": "1"}
    values[field] = text
    line = LIMIT % (values["t"], values["price"], values["qty"])
    json.loads(line)  # (a valid JSON line)
    agrees(line)

"""The pure arithmetic of the floor rule: rounding, penalty rate, one participant."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from rexnet.domain.market import MarketSpec
from rexnet.settlement import penalty_rate, round_half_up, settle_participant, settle_unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(0), 0),
        (Fraction(5, 2), 3),
        (Fraction(7, 2), 4),
        (Fraction(182000, 3), 60667),
        (Fraction(181999, 3), 60666),
        (Fraction(-5, 2), -2),  # towards +infinity (penalties are never negative anyway)
        (Fraction(12), 12),
    ],
)
def test_round_half_up(value, expected):
    assert round_half_up(value) == expected


def test_penalty_rate_fixed_without_trades_or_when_higher():
    spec = MarketSpec()
    assert penalty_rate(spec, 0, 0) == 300_000
    assert penalty_rate(spec, 1500, 6_000_000) == 300_000  # 2 x 40 < 3000


def test_penalty_rate_vwap_multiple_when_higher():
    spec = MarketSpec(penalty_price=Decimal("10"))
    assert penalty_rate(spec, 1500, 6_500_000) == Fraction(26000, 3)
    assert (
        penalty_rate(MarketSpec(penalty_price=Decimal("10"), penalty_vwap_multiple=Decimal("0")), 1, 10**9)
        == 1000
    )


def test_participant_terms():
    t = settle_participant(
        reserved=1500, realized=1200, trade_cash=6_000_000, rate=Fraction(300_000), surplus_ticks=0
    )
    assert t == (300, 90_000_000, 0, 0, -84_000_000)
    t = settle_participant(
        reserved=-1500, realized=-1000, trade_cash=-6_000_000, rate=Fraction(1), surplus_ticks=1000
    )
    assert t == (0, 0, 500, 500_000, -5_500_000)
    assert (
        settle_participant(reserved=7, realized=7, trade_cash=3, rate=Fraction(9), surplus_ticks=9).net_cash
        == 3
    )


def test_settle_unit_orders_rows_and_conserves_money():
    rows = settle_unit(
        MarketSpec(surplus_price=Decimal("1")),
        3,
        2_700_000,
        reserved={"b": -10, "a": 10},
        realized={"c": -4, "a": 2},
        trade_cash={"a": 500, "b": -500},
        volume=10,
        notional=500,
    )
    assert [r.agent for r in rows] == ["a", "b", "c", "system"]
    assert sum(r.net_cash for r in rows) == 0
    assert rows[-1].realized == -2 and rows[-1].reserved == 0

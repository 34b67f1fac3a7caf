"""Exact unit conversions of the market rules."""

from decimal import Decimal

import pytest

from rexnet.domain.market import MarketConfig, MarketSpec


def test_default_grid_and_money_unit():
    spec = MarketSpec()
    assert spec.lot_units == 100 and spec.penalty_ticks == 300_000 and spec.surplus_ticks == 0
    # selling 1.5 kW at 40/MWh for 15 minutes is worth 0.015 currency
    assert spec.money_display(spec.price_ticks("40") * spec.qty_units("1.5")) == Decimal("0.015000")


@pytest.mark.parametrize(
    "value,expected", [("40.00", 4000), (40.005, None), ("0.01", 1), (-1, -100), ("x", None)]
)
def test_price_grid(value, expected):
    assert MarketSpec().price_ticks(value) == expected


def test_window_and_gates():
    spec = MarketSpec()
    assert [u for u in range(12) if spec.is_open(u, 0)] == list(range(1, 9))
    assert not spec.is_open(1, 900_000) and spec.is_open(9, 900_000)
    lead = MarketSpec(gate_lead_seconds=300)
    assert lead.gate_ms(2) == 1_500_000 and not lead.is_open(2, 1_500_000)


def test_record_round_trip_and_config_defaults():
    spec = MarketSpec(tick=Decimal("0.5"), penalty_price=Decimal("1000"))
    assert MarketSpec.from_record(spec.to_record()) == spec
    assert MarketConfig().to_spec() == MarketSpec()


def test_inconsistent_grids_refused():
    with pytest.raises(ValueError, match="lot_kw"):
        MarketSpec(lot_kw=Decimal("0.0005"))
    with pytest.raises(ValueError, match="penalty_price"):
        MarketSpec(penalty_price=Decimal("0.005"))

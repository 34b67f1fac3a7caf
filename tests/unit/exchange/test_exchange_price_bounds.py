"""Market price bounds (``min_price`` / ``max_price``) and the call auction aligned with the gate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from exchange_helpers import LOT, Recorder, U, limit, market, place_set

from rexnet.domain.commands import Reason
from rexnet.domain.events import AuctionCleared, GateClosed, TradeExecuted
from rexnet.domain.market import MarketConfig, MarketSpec

# tick 0.01: 10.00 .. 500.00 currency/MWh
BOUNDS = dict(min_price=Decimal("10"), max_price=Decimal("500"))


@pytest.mark.parametrize("mode", ["continuous", "periodic"])
@pytest.mark.parametrize("price", [999, 50_001])
def test_an_order_outside_the_bounds_is_rejected_with_its_reason(mode, price):
    r = Recorder(auction_mode=mode, **BOUNDS)
    (e,) = r(limit("a", "a1", "buy", price, 1))
    assert e.TYPE == "order_rejected" and e.reason == Reason.PRICE_OUT_OF_BOUNDS
    assert "outside the market's bounds [1000, 50000]" in e.message
    (e,) = r(place_set("a", "s1", "sell", [U], price, 1))
    assert e.reason == Reason.PRICE_OUT_OF_BOUNDS


@pytest.mark.parametrize("mode", ["continuous", "periodic"])
def test_the_bounds_themselves_are_accepted_and_trades_stay_inside(mode):
    r = Recorder(auction_mode=mode, auction_period_seconds=300, **BOUNDS)
    r(limit("s", "s1", "sell", 1000, 2))
    r(limit("b", "b1", "buy", 50_000, 1))
    if mode == "continuous":
        r(market("c", "c1", "buy", 1))
    r.advance(1_800_000)
    prices = [e.price for e in r.log if isinstance(e, TradeExecuted)]
    assert prices and all(1000 <= p <= 50_000 for p in prices)
    r.check_replay()


def test_non_positive_prices_keep_their_own_reason():
    r = Recorder(**BOUNDS)
    (e,) = r(limit("a", "a1", "buy", 0, 1))
    assert e.reason == Reason.NON_POSITIVE_PRICE


def test_bounds_come_from_the_market_file_and_are_checked():
    spec = MarketConfig.model_validate({"market": {"min_price": 1, "max_price": 4000}}).to_spec()
    assert (spec.min_price_ticks, spec.max_price_ticks) == (100, 400_000)
    assert MarketSpec.from_record(spec.to_record()) == spec
    with pytest.raises(ValueError, match="max_price"):
        MarketSpec(min_price=Decimal("10"), max_price=Decimal("5"))
    with pytest.raises(ValueError, match="min_price"):
        MarketSpec(min_price=Decimal("0.001"))
    # a market without bounds records no bound keys (earlier runs' records are unchanged)
    assert "min_price" not in MarketSpec().to_record()


def test_aligned_auction_clears_a_last_time_just_before_the_gate():
    gate = U * 900_000
    plain = Recorder(auction_mode="periodic")
    aligned = Recorder(auction_mode="periodic", auction_align_gate=True)
    for r in (plain, aligned):
        r.advance(900_000)  # the period clearing before the gate
        r(limit("s", "s1", "sell", 100, 1, t=900_001))
        r(limit("b", "b1", "buy", 120, 1, t=900_002))
        r.advance(gate)
    assert not [e for e in plain.log if isinstance(e, TradeExecuted)]  # expired at the gate
    cleared = [e for e in aligned.log if isinstance(e, AuctionCleared) and e.unit == U]
    assert (cleared[-1].t, cleared[-1].volume) == (gate - 1, LOT)
    (trade,) = [e for e in aligned.log if isinstance(e, TradeExecuted)]
    assert trade.t == gate - 1
    closed = [e for e in aligned.log if isinstance(e, GateClosed) and e.unit == U]
    assert closed and closed[0].volume == LOT
    aligned.check_replay()

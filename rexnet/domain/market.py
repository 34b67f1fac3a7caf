"""Market rules and the exact units everything inside RexNet is counted in.

Inside RexNet every number is an integer:

* time ``t`` in milliseconds of simulated time;
* price in *ticks* (``tick`` currency/MWh each);
* quantity (order size, reservation, realization) in *meter units* of ``meter_kw`` kW each; an
  order's quantity must also be a whole number of lots (``lot_kw``), while a realization may be
  any number of meter units (it is measured at a finer resolution than a lot);
* money in *money units*: the cash of 1 tick x 1 meter unit held for one delivery unit, that is
  ``tick * meter_kw * unit_seconds / 3.6e6`` currency. With it, the cash of a fill is exactly
  ``price * qty`` and no rounding ever happens in trading.

Display values (kW, currency/MWh, currency) are :class:`~decimal.Decimal` and only appear at the
edges (CLI, ingest, views). :class:`MarketSpec` holds the rules of one run and does the
conversions; :class:`MarketConfig` is its validated file form (the market TOML of DESIGN.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rexnet.domain.limits import (
    DAY_SECONDS,
    INT64_MAX,
    MAX_KW,
    MAX_METER_KW,
    MAX_PRICE,
    MAX_TICK,
    MAX_VWAP_MULTIPLE,
    MIN_METER_KW,
    MIN_TICK,
    check_work,
)
from rexnet.domain.strict import Dec, Flag, Int

SelfTradePolicy = Literal["cancel_resting", "cancel_incoming", "cancel_both", "allow"]
AuctionMode = Literal["continuous", "periodic"]


def _as_decimal(value: Any) -> Decimal | None:
    """Exact decimal of a user-given number; floats go through their shortest repr."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return None


def to_grid(value: Any, step: Decimal) -> int | None:
    """``value / step`` if it is a whole number (a point of the grid), else ``None``."""
    d = _as_decimal(value)
    if d is None or not d.is_finite():
        return None
    n = d / step
    if n != n.to_integral_value():
        return None
    return int(n)


@dataclass(frozen=True)
class MarketSpec:
    """The rules of one market, in display form, with exact integer conversions.

    Attributes mirror the market TOML keys (DESIGN.md section 5). Derived integer figures
    (``lot_units``, ``penalty_ticks``, ...) are computed once at construction.
    """

    unit_seconds: int = 900
    horizon: int = 8
    gate_lead_seconds: int = 0
    lot_kw: Decimal = Decimal("0.1")
    tick: Decimal = Decimal("0.01")
    meter_kw: Decimal = Decimal("0.001")
    penalty_price: Decimal = Decimal("3000")
    penalty_vwap_multiple: Decimal = Decimal("2")
    surplus_price: Decimal = Decimal("0")
    self_trade: SelfTradePolicy = "cancel_resting"
    auction_mode: AuctionMode = "continuous"
    opening_auction: bool = False
    auction_period_seconds: int = 900
    #: price bounds of every order (currency/MWh, inclusive; ``None``: none but the positive tick)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    #: periodic auctions: a unit's last clearing at its gate (1 ms before it closes) instead of at
    #: the last period boundary before it
    auction_align_gate: bool = False

    unit_ms: int = field(init=False)
    gate_lead_ms: int = field(init=False)
    lot_units: int = field(init=False)
    penalty_ticks: int = field(init=False)
    surplus_ticks: int = field(init=False)
    vwap_multiple: Fraction = field(init=False)
    #: the price bounds in ticks (``1`` and :data:`NO_MAX_PRICE` when unbounded)
    min_price_ticks: int = field(init=False)
    max_price_ticks: int = field(init=False)

    def __post_init__(self) -> None:
        lot_units = to_grid(self.lot_kw, self.meter_kw)
        if lot_units is None or lot_units <= 0:
            raise ValueError(f"lot_kw {self.lot_kw} is not a positive multiple of meter_kw {self.meter_kw}")
        penalty = to_grid(self.penalty_price, self.tick)
        surplus = to_grid(self.surplus_price, self.tick)
        if penalty is None or penalty < 0:
            raise ValueError(
                f"penalty_price {self.penalty_price} is not a non-negative multiple of tick {self.tick}"
            )
        if surplus is None or surplus < 0:
            raise ValueError(
                f"surplus_price {self.surplus_price} is not a non-negative multiple of tick {self.tick}"
            )
        if self.unit_seconds <= 0 or self.horizon <= 0 or self.gate_lead_seconds < 0:
            raise ValueError("unit_seconds and horizon must be positive, gate_lead_seconds non-negative")
        if self.penalty_vwap_multiple < 0:
            raise ValueError("penalty_vwap_multiple must be non-negative")
        lo = 1 if self.min_price is None else to_grid(self.min_price, self.tick)
        hi = NO_MAX_PRICE if self.max_price is None else to_grid(self.max_price, self.tick)
        if lo is None or lo <= 0:
            raise ValueError(f"min_price {self.min_price} is not a positive multiple of tick {self.tick}")
        if hi is None or not lo <= hi <= NO_MAX_PRICE:
            raise ValueError(
                f"max_price {self.max_price} is not a multiple of tick {self.tick} at or above min_price"
            )
        object.__setattr__(self, "min_price_ticks", lo)
        object.__setattr__(self, "max_price_ticks", hi)
        object.__setattr__(self, "unit_ms", self.unit_seconds * 1000)
        object.__setattr__(self, "gate_lead_ms", self.gate_lead_seconds * 1000)
        object.__setattr__(self, "lot_units", lot_units)
        object.__setattr__(self, "penalty_ticks", penalty)
        object.__setattr__(self, "surplus_ticks", surplus)
        object.__setattr__(self, "vwap_multiple", Fraction(self.penalty_vwap_multiple))

    # -- time -------------------------------------------------------------------------------
    def delivery_start_ms(self, unit: int) -> int:
        return unit * self.unit_ms

    def delivery_end_ms(self, unit: int) -> int:
        return (unit + 1) * self.unit_ms

    def gate_ms(self, unit: int) -> int:
        """Gate closure of ``unit``: trading in it ends at this instant (exclusive)."""
        return unit * self.unit_ms - self.gate_lead_ms

    def opens_at_ms(self, unit: int) -> int:
        """First instant at which ``unit`` is inside the forward window."""
        return max(0, (unit - self.horizon) * self.unit_ms)

    def is_open(self, unit: int, t_ms: int) -> bool:
        """DESIGN.md: open when ``t < gate`` and ``unit <= floor(t / unit_seconds) + horizon``."""
        return unit >= 0 and t_ms < self.gate_ms(unit) and unit <= t_ms // self.unit_ms + self.horizon

    def unit_of(self, t_ms: int) -> int:
        """The delivery unit whose delivery period contains ``t_ms``."""
        return t_ms // self.unit_ms

    # -- conversions from display units (None when off the grid) ------------------------------
    def price_ticks(self, price: Any) -> int | None:
        return to_grid(price, self.tick)

    def qty_units(self, kw: Any) -> int | None:
        return to_grid(kw, self.meter_kw)

    # -- conversions to display units ---------------------------------------------------------
    def price_display(self, ticks: int) -> Decimal:
        return ticks * self.tick

    def kw_display(self, units: int) -> Decimal:
        return units * self.meter_kw

    @property
    def money_scale(self) -> Fraction:
        """Currency per money unit (exact)."""
        return Fraction(self.tick) * Fraction(self.meter_kw) * self.unit_seconds / 3_600_000

    def money_display(self, money: int, *, places: int = 6) -> Decimal:
        """Currency of ``money`` money units, rounded half-even to ``places`` decimals for display."""
        exact = money * self.money_scale
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal(1).scaleb(-places))

    # -- record form ----------------------------------------------------------------------------
    def to_record(self) -> dict[str, Any]:
        """JSON-ready form (decimals as strings) recorded in ``run_started`` so a run is self-describing."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key in _DERIVED or (key in _OMITTED_AT_DEFAULT and value == _OMITTED_AT_DEFAULT[key]):
                continue
            out[key] = str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MarketSpec:
        kwargs: dict[str, Any] = {
            k: (Decimal(v) if k in _DECIMALS and v is not None else v) for k, v in record.items()
        }
        return cls(**kwargs)


#: the largest price an order may carry without a ``max_price`` (ticks; fits a signed 64-bit
#: notional with any sane quantity)
NO_MAX_PRICE = 10**12

_DERIVED = {
    "unit_ms",
    "gate_lead_ms",
    "lot_units",
    "penalty_ticks",
    "surplus_ticks",
    "vwap_multiple",
    "min_price_ticks",
    "max_price_ticks",
}
_DECIMALS = {
    "lot_kw",
    "tick",
    "meter_kw",
    "penalty_price",
    "penalty_vwap_multiple",
    "surplus_price",
    "min_price",
    "max_price",
}
#: keys added after the first recorded runs, left out of the record at their default so that
#: earlier runs' records (and their hashes) stay what they were
_OMITTED_AT_DEFAULT: dict[str, Any] = {"min_price": None, "max_price": None, "auction_align_gate": False}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarketSection(_Section):
    unit_seconds: Int = Field(900, gt=0, le=DAY_SECONDS)
    horizon: Int = Field(8, gt=0, le=INT64_MAX)
    gate_lead_seconds: Int = Field(0, ge=0, le=INT64_MAX)
    lot_kw: Dec = Field(Decimal("0.1"), gt=0, le=MAX_KW)
    tick: Dec = Field(Decimal("0.01"), ge=MIN_TICK, le=MAX_TICK)
    meter_kw: Dec = Field(Decimal("0.001"), ge=MIN_METER_KW, le=MAX_METER_KW)
    self_trade: SelfTradePolicy = "cancel_resting"
    #: price bounds of every order (currency/MWh, inclusive), as exchanges have; unset: none
    min_price: Dec | None = Field(None, gt=0, le=MAX_PRICE)
    max_price: Dec | None = Field(None, gt=0, le=MAX_PRICE)

    @field_validator("unit_seconds")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        # whole units per day: daily profiles, hours and days line up with unit boundaries
        if DAY_SECONDS % value:
            raise ValueError(f"{value} does not divide a day ({DAY_SECONDS} s), e.g. 60, 300, 900, 3600")
        return value


class SettlementSection(_Section):
    penalty_price: Dec = Field(Decimal("3000"), ge=0, le=MAX_PRICE)
    penalty_vwap_multiple: Dec = Field(Decimal("2"), ge=0, le=MAX_VWAP_MULTIPLE)
    surplus_price: Dec = Field(Decimal("0"), ge=0, le=MAX_PRICE)


class AuctionSection(_Section):
    mode: AuctionMode = "continuous"
    opening: Flag = False
    period_seconds: Int = Field(900, gt=0, le=INT64_MAX)
    #: periodic mode: clear each unit a last time at its gate (1 ms before it closes)
    align_gate: Flag = False


class MarketConfig(_Section):
    """The market TOML file (DESIGN.md section 5), validated; a missing key takes its default."""

    market: MarketSection = MarketSection()
    settlement: SettlementSection = SettlementSection()
    auction: AuctionSection = AuctionSection()

    def to_spec(self) -> MarketSpec:
        """The :class:`MarketSpec`; raises ``ValueError`` naming the inconsistent keys."""
        check_rules(self)
        m, s, a = self.market, self.settlement, self.auction
        return MarketSpec(
            unit_seconds=m.unit_seconds,
            horizon=m.horizon,
            gate_lead_seconds=m.gate_lead_seconds,
            lot_kw=m.lot_kw,
            tick=m.tick,
            meter_kw=m.meter_kw,
            self_trade=m.self_trade,
            penalty_price=s.penalty_price,
            penalty_vwap_multiple=s.penalty_vwap_multiple,
            surplus_price=s.surplus_price,
            auction_mode=a.mode,
            opening_auction=a.opening,
            auction_period_seconds=a.period_seconds,
            min_price=m.min_price,
            max_price=m.max_price,
            auction_align_gate=a.align_gate,
        )


def check_rules(config: MarketConfig) -> None:
    """Rules that involve several keys, and the work bounds; ``ValueError`` naming the keys.

    * the gate lead is shorter than the forward window, else no unit would ever open;
    * penalties and surplus credits are on the tick grid (checked by :class:`MarketSpec`);
    * with call auctions, their period divides the unit, or is a whole number of units no longer
      than the window, so clearings line up with unit boundaries;
    * the horizon and the clearings one unit sees while open are within the active
      :mod:`~rexnet.domain.limits`.
    """
    m, a = config.market, config.auction
    window = m.horizon * m.unit_seconds
    if m.gate_lead_seconds >= window:
        raise ValueError(
            f"market.gate_lead_seconds {m.gate_lead_seconds} is not shorter than the forward window "
            f"market.horizon x market.unit_seconds = {window} s (no unit would ever open)"
        )
    check_work("market.horizon", "max_horizon", m.horizon)
    if a.mode != "periodic" and not a.opening:
        return  # no call auctions: the period is not used
    period = a.period_seconds
    if m.unit_seconds % period and (period % m.unit_seconds or period > window):
        raise ValueError(
            f"auction.period_seconds {period} must divide market.unit_seconds {m.unit_seconds}, or be a "
            f"whole number of units no longer than the window ({window} s)"
        )
    check_work(
        "auction clearings per unit (market.horizon x market.unit_seconds / auction.period_seconds)",
        "max_auctions_per_unit",
        -(-window // period),
    )

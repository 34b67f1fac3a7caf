"""Display units of event fields: which integer fields are prices, powers, energies or money.

The ledger stores integers (ticks, meter units, money units, ms); users read currency/MWh, kW and
currency. This table is the one place that says which field is which, used by the CLI's event
listings and by the SQL views, so both convert the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rexnet.domain.market import MarketSpec

PRICE_FIELDS = frozenset({"price", "vwap"})
QTY_FIELDS = frozenset({"qty", "remaining", "volume", "reserved", "realized", "shortfall", "surplus"})
MONEY_FIELDS = frozenset({"trade_cash", "penalty", "surplus_credit", "net_cash", "notional"})


def field_kind(name: str) -> str | None:
    """``"price"``, ``"qty"``, ``"money"`` or ``None`` for a field stored as-is."""
    if name in PRICE_FIELDS:
        return "price"
    if name in QTY_FIELDS:
        return "qty"
    if name in MONEY_FIELDS:
        return "money"
    return None


def display_value(name: str, value: Any, spec: MarketSpec) -> Any:
    """One field in display units (exact :class:`Decimal`); non-numeric fields unchanged."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return value
    kind = field_kind(name)
    if kind == "price":
        return spec.price_display(value)
    if kind == "qty":
        return spec.kw_display(value)
    if kind == "money":
        return spec.money_display(value)
    return value


def seconds(t_ms: int) -> Decimal:
    return Decimal(t_ms).scaleb(-3).normalize() if t_ms % 1000 else Decimal(t_ms // 1000)


def event_display(event: Any, spec: MarketSpec) -> dict[str, Any]:
    """``{"t": seconds, "type": ..., field: display value, ...}`` for one event record."""
    out: dict[str, Any] = {"t": seconds(event.t), "type": event.TYPE}
    for name, value in zip(event._fields[1:], event[1:], strict=True):
        out[name] = display_value(name, value, spec)
    return out

"""The event catalogue (DESIGN.md section 8): every fact a run can record.

Events are immutable ``NamedTuple`` records: cheap enough for the matching hot path, equal by
value (so "replay == live" is a plain ``==``), and frozen. Each class carries its snake_case
``TYPE`` name and schema ``VERSION``. All numbers are integers in the units of
:mod:`rexnet.domain.market` (ms, ticks, meter units, money units).

For the edges (decoding stored rows, schemas for users) :func:`pydantic_model` derives a frozen,
``extra="forbid"`` pydantic model from each record's annotations, so there is one definition.
Old stored versions are upgraded by the upcasters registered in :mod:`rexnet.domain.codec`.

Additions to DESIGN.md's catalogue, made deliberately:
  * ``gate_closed`` v2 carries ``notional`` (sum of price x qty, exact) besides the rounded
    ``vwap``, because the VWAP-based penalty must be computed exactly; v1 rows are upcast.
  * ``auction_cleared`` records a call auction's uniform price and volume.
"""

from __future__ import annotations

from typing import Any, NamedTuple, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

SYSTEM_AGENT = "system"


class RunStarted(NamedTuple):
    t: int
    scenario: dict[str, Any]
    seed: int
    code_version: str
    market: dict[str, Any]
    TYPE = "run_started"
    VERSION = 1


class UnitOpened(NamedTuple):
    t: int
    unit: int
    TYPE = "unit_opened"
    VERSION = 1


class OrderAccepted(NamedTuple):
    t: int
    order_id: int
    ref: str
    agent: str
    side: str  # "buy" | "sell"
    unit: int
    price: int | None  # None for a market order
    qty: int
    tif: str  # "gtc" (good till gate) | "ioc" | "fok"
    set_ref: str | None
    TYPE = "order_accepted"
    VERSION = 1


class OrderRejected(NamedTuple):
    t: int
    ref: str
    agent: str
    reason: str  # a code from rexnet.domain.commands.Reason
    message: str
    TYPE = "order_rejected"
    VERSION = 1


class TradeExecuted(NamedTuple):
    t: int
    trade_id: int
    unit: int
    price: int
    qty: int
    buy_order_id: int
    sell_order_id: int
    buyer: str
    seller: str
    aggressor: str | None  # side of the incoming order; None for a call-auction fill
    TYPE = "trade"
    VERSION = 1


class OrderCancelled(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int
    reason: str  # "requested" | "ioc_remainder" | "self_trade" | "fok_unfilled" | "no_liquidity" ...
    TYPE = "order_cancelled"
    VERSION = 1


class OrderShrunk(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int
    TYPE = "order_shrunk"
    VERSION = 1


class OrderExpired(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int
    TYPE = "order_expired"
    VERSION = 1


class GateClosed(NamedTuple):
    t: int
    unit: int
    volume: int
    vwap: int | None  # notional / volume rounded half-up to a tick; None without trades
    notional: int  # sum of price x qty over the unit's trades (exact)
    TYPE = "gate_closed"
    VERSION = 2


class AuctionCleared(NamedTuple):
    t: int
    unit: int
    price: int | None  # None when nothing crossed
    volume: int
    TYPE = "auction_cleared"
    VERSION = 1


class ReservationFixed(NamedTuple):
    t: int
    agent: str
    unit: int
    qty: int  # e = sold - bought (meter units)
    TYPE = "reservation_fixed"
    VERSION = 1


class Realized(NamedTuple):
    t: int
    agent: str
    unit: int
    qty: int  # x, net injection (meter units)
    TYPE = "realized"
    VERSION = 1


class Settled(NamedTuple):
    t: int
    agent: str
    unit: int
    reserved: int
    realized: int
    trade_cash: int
    shortfall: int
    penalty: int
    surplus: int
    surplus_credit: int
    net_cash: int
    TYPE = "settled"
    VERSION = 1


class ShockApplied(NamedTuple):
    t: int
    name: str
    driver: str
    first_unit: int
    last_unit: int
    factor: str  # exact decimal, e.g. "0.4" for a 60% drop
    TYPE = "shock_applied"
    VERSION = 1


class RunCompleted(NamedTuple):
    t: int
    head_hash: str  # hex hash of the chain up to the event before this one
    events: int  # number of events before this one
    TYPE = "run_completed"
    VERSION = 1


Event = (
    RunStarted
    | UnitOpened
    | OrderAccepted
    | OrderRejected
    | TradeExecuted
    | OrderCancelled
    | OrderShrunk
    | OrderExpired
    | GateClosed
    | AuctionCleared
    | ReservationFixed
    | Realized
    | Settled
    | ShockApplied
    | RunCompleted
)

EVENT_CLASSES: tuple[type, ...] = (
    RunStarted,
    UnitOpened,
    OrderAccepted,
    OrderRejected,
    TradeExecuted,
    OrderCancelled,
    OrderShrunk,
    OrderExpired,
    GateClosed,
    AuctionCleared,
    ReservationFixed,
    Realized,
    Settled,
    ShockApplied,
    RunCompleted,
)

#: type name -> record class
EVENT_TYPES: dict[str, type] = {cls.TYPE: cls for cls in EVENT_CLASSES}  # type: ignore[attr-defined]

_MODELS: dict[str, type[BaseModel]] = {}


def pydantic_model(cls: type) -> type[BaseModel]:
    """A frozen, ``extra="forbid"`` pydantic model with the fields of event record ``cls``."""
    name = cls.TYPE  # type: ignore[attr-defined]
    model = _MODELS.get(name)
    if model is None:
        fields: dict[str, Any] = {k: (v, ...) for k, v in get_type_hints(cls).items()}
        model = create_model(
            cls.__name__ + "Model",
            __config__=ConfigDict(extra="forbid", frozen=True, strict=True),
            **fields,
        )
        _MODELS[name] = model
    return model

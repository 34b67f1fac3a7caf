"""The event catalogue (DESIGN.md section 8): every fact a run can record.

Events are immutable ``NamedTuple`` records: cheap enough for the matching hot path, equal by
value (so "replay == live" is a plain ``==``), and frozen. Each class carries its snake_case
``TYPE`` name and schema ``VERSION``. All numbers are integers in the units of
:mod:`rexnet.domain.market` (ms, ticks, meter units, money units).

Each record is declared in two steps: ``_Name(NamedTuple)`` holds the fields only, and ``Name``
subclasses it to add ``TYPE`` and ``VERSION`` as plain class attributes. In a ``NamedTuple`` body a
class attribute would be read by type checkers as one more field (and mypyc compiles the exchange
against these types), so they live one class down; at run time the subclass is still a tuple with
the same fields, ``repr``, equality and ``_replace``.

For the edges (decoding stored rows, schemas for users) :func:`pydantic_model` derives a frozen,
``extra="forbid"`` pydantic model from each record's annotations, so there is one definition.
Old stored versions are upgraded by the upcasters registered in :mod:`rexnet.domain.codec`.

Additions to DESIGN.md's catalogue, made deliberately:
  * ``gate_closed`` v2 carries ``notional`` (sum of price x qty, exact) besides the rounded
    ``vwap``, because the VWAP-based penalty must be computed exactly; v1 rows are upcast.
  * ``auction_cleared`` records a call auction's uniform price and volume.
  * ``agent_registered`` records, at the start of a simulated run (and when a fork adds or
    changes members), who each agent is: its population kind, group label and attributes, its
    strategy and the economic parameters analysts need (values, costs, capacities), so metrics
    such as allocative efficiency and costs by group are SQL over the ledger alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

SYSTEM_AGENT = "system"


class _RunStarted(NamedTuple):
    t: int
    scenario: dict[str, Any]
    seed: int
    code_version: str
    market: dict[str, Any]


class RunStarted(_RunStarted):
    __slots__ = ()
    TYPE = "run_started"
    VERSION = 1


class _AgentRegistered(NamedTuple):
    t: int
    agent: str
    kind: str  # population kind ("wind", "household", "zi_buyer", ...)
    group: str  # the population entry's label (default: its kind)
    attributes: dict[str, Any]  # the entry's attributes: str, int, float or bool values
    strategy: str
    capacity: int | None  # most injection (meter units): generation capacity, storage power
    demand: int | None  # most consumption (meter units): a buyer's or flexible load's max power
    mean_load: int | None  # a household's mean load (meter units)
    cost: int | None  # marginal cost (ticks): dispatchable generators, ZI sellers
    value: int | None  # willingness to pay (ticks): flexible loads, ZI buyers
    storage: int | None  # storage energy capacity (meter units x hours, i.e. kWh / meter_kw)
    need: int | None  # a flexible load's daily energy need (meter units x hours)


class AgentRegistered(_AgentRegistered):
    __slots__ = ()
    TYPE = "agent_registered"
    VERSION = 1


class _UnitOpened(NamedTuple):
    t: int
    unit: int


class UnitOpened(_UnitOpened):
    __slots__ = ()
    TYPE = "unit_opened"
    VERSION = 1


class _OrderAccepted(NamedTuple):
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


class OrderAccepted(_OrderAccepted):
    __slots__ = ()
    TYPE = "order_accepted"
    VERSION = 1


class _OrderRejected(NamedTuple):
    t: int
    ref: str
    agent: str
    reason: str  # a code from rexnet.domain.commands.Reason
    message: str


class OrderRejected(_OrderRejected):
    __slots__ = ()
    TYPE = "order_rejected"
    VERSION = 1


class _TradeExecuted(NamedTuple):
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


class TradeExecuted(_TradeExecuted):
    __slots__ = ()
    TYPE = "trade"
    VERSION = 1


class _OrderCancelled(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int
    reason: str  # "requested" | "ioc_remainder" | "self_trade" | "fok_unfilled" | "no_liquidity" ...


class OrderCancelled(_OrderCancelled):
    __slots__ = ()
    TYPE = "order_cancelled"
    VERSION = 1


class _OrderShrunk(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int


class OrderShrunk(_OrderShrunk):
    __slots__ = ()
    TYPE = "order_shrunk"
    VERSION = 1


class _OrderExpired(NamedTuple):
    t: int
    order_id: int
    agent: str
    unit: int
    remaining: int


class OrderExpired(_OrderExpired):
    __slots__ = ()
    TYPE = "order_expired"
    VERSION = 1


class _GateClosed(NamedTuple):
    t: int
    unit: int
    volume: int
    vwap: int | None  # notional / volume rounded half-up to a tick; None without trades
    notional: int  # sum of price x qty over the unit's trades (exact)


class GateClosed(_GateClosed):
    __slots__ = ()
    TYPE = "gate_closed"
    VERSION = 2


class _AuctionCleared(NamedTuple):
    t: int
    unit: int
    price: int | None  # None when nothing crossed
    volume: int


class AuctionCleared(_AuctionCleared):
    __slots__ = ()
    TYPE = "auction_cleared"
    VERSION = 1


class _ReservationFixed(NamedTuple):
    t: int
    agent: str
    unit: int
    qty: int  # e = sold - bought (meter units)


class ReservationFixed(_ReservationFixed):
    __slots__ = ()
    TYPE = "reservation_fixed"
    VERSION = 1


class _Realized(NamedTuple):
    t: int
    agent: str
    unit: int
    qty: int  # x, net injection (meter units)


class Realized(_Realized):
    __slots__ = ()
    TYPE = "realized"
    VERSION = 1


class _Settled(NamedTuple):
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


class Settled(_Settled):
    __slots__ = ()
    TYPE = "settled"
    VERSION = 1


class _ShockApplied(NamedTuple):
    t: int
    name: str
    driver: str
    first_unit: int
    last_unit: int
    factor: str  # exact decimal, e.g. "0.4" for a 60% drop


class ShockApplied(_ShockApplied):
    __slots__ = ()
    TYPE = "shock_applied"
    VERSION = 1


class _RunCompleted(NamedTuple):
    t: int
    head_hash: str  # hex hash of the chain up to the event before this one
    events: int  # number of events before this one


class RunCompleted(_RunCompleted):
    __slots__ = ()
    TYPE = "run_completed"
    VERSION = 1


Event = (
    RunStarted
    | AgentRegistered
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
    AgentRegistered,
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

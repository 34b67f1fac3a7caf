"""Commands: what participants (or the clock) ask of the exchange.

A command is a request; the exchange's ``decide`` turns it into events (which may be an
``order_rejected`` with one of the :class:`Reason` codes) and only those events change state.
Numbers are in the integer units of :mod:`rexnet.domain.market`; ``t`` is in milliseconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class TimeInForce(StrEnum):
    GTC = "gtc"  # good till gate closure of the order's unit
    IOC = "ioc"  # immediate or cancel: fill what crosses now, cancel the rest
    FOK = "fok"  # fill or kill: fill completely now or do nothing


class Reason(StrEnum):
    """Reason codes of ``order_rejected`` events (stable: users filter on them)."""

    UNIT_NOT_OPEN = "unit_not_open"  # not yet inside the forward window
    UNIT_CLOSED = "unit_closed"  # gate already closed
    OFF_TICK = "off_tick"  # price not a whole number of ticks
    OFF_LOT = "off_lot"  # quantity not a whole number of lots
    NON_POSITIVE_QTY = "non_positive_qty"
    NON_POSITIVE_PRICE = "non_positive_price"
    PRICE_OUT_OF_BOUNDS = "price_out_of_bounds"  # price below the market's min_price or above max_price
    UNKNOWN_ORDER = "unknown_order"  # cancel / shrink of a ref with nothing resting
    NOT_A_REDUCTION = "not_a_reduction"  # shrink to a quantity >= the remaining one
    DUPLICATE_REF = "duplicate_ref"  # ref already used by this agent for a live order
    NO_LIQUIDITY = "no_liquidity"  # market order against an empty opposite side
    FOK_NOT_FILLABLE = "fok_not_fillable"
    BAD_SET = "bad_set"  # order set with no units or repeated units
    OUTSIDE_DELIVERY = "outside_delivery"  # realization not within its unit's delivery period
    ALREADY_SETTLED = "already_settled"  # realization for a unit already settled
    DUPLICATE_REALIZATION = "duplicate_realization"  # a second realization of the same (agent, unit)
    AUCTION_PHASE = "auction_phase"  # market / IOC / FOK orders while the unit trades by call auction
    RESERVED_AGENT = "reserved_agent"  # the agent name "system" belongs to the system account


class PlaceLimit(NamedTuple):
    t: int
    agent: str
    ref: str
    side: str
    unit: int
    price: int
    qty: int
    tif: str = TimeInForce.GTC


class PlaceMarket(NamedTuple):
    """A market order: walks the book, the remainder is cancelled (it never rests)."""

    t: int
    agent: str
    ref: str
    side: str
    unit: int
    qty: int


class PlaceSet(NamedTuple):
    """An order set: one ref, one good-till-gate limit seat of ``qty`` at ``price`` in each unit."""

    t: int
    agent: str
    ref: str
    side: str
    units: tuple[int, ...]
    price: int
    qty: int


class Cancel(NamedTuple):
    """Cancel everything still resting under ``ref`` (every seat of a set)."""

    t: int
    agent: str
    ref: str


class Shrink(NamedTuple):
    """Reduce the remaining quantity of the order(s) under ``ref`` to ``qty``; keeps queue position."""

    t: int
    agent: str
    ref: str
    qty: int


class Realize(NamedTuple):
    """A participant's measured net injection ``qty`` (meter units, average over the unit)."""

    t: int
    agent: str
    unit: int
    qty: int


class RefuseAtEdge(NamedTuple):
    """An order refused before it could become a command (e.g. a price off the tick grid).

    Edges (file readers) build it; the engine records it as an ``order_rejected`` event at ``t``
    so the refusal is part of the history like any other rejection.
    """

    t: int
    agent: str
    ref: str
    reason: str
    message: str


Command = PlaceLimit | PlaceMarket | PlaceSet | Cancel | Shrink | Realize | RefuseAtEdge

"""Deciding commands: validation, rejections and continuous matching of new orders (read-only).

:class:`CommandDecider` is the command half of :class:`rexnet.exchange.Exchange`: every method
reads the state and returns events; none changes anything (the exchange applies the events).
The decisions it makes where DESIGN.md leaves room are listed in :mod:`rexnet.exchange.exchange`.
"""

from __future__ import annotations

from typing import Any, Final

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Reason, Shrink
from rexnet.domain.events import OrderAccepted, OrderCancelled, OrderRejected, OrderShrunk
from rexnet.domain.market import MarketSpec
from rexnet.errors import RexnetError
from rexnet.exchange.book import Book, RestingOrder
from rexnet.exchange.matching import fillable, match
from rexnet.exchange.state import ExchangeState, seats

#: Rejection reason for IOC / FOK / market orders in a unit in call-auction phase (a plain str,
#: as every reason recorded in events is).
AUCTION_PHASE = Reason.AUCTION_PHASE.value

# value -> the plain str recorded in events (commands may carry the Side / TimeInForce StrEnums)
_SIDES: Final = {"buy": "buy", "sell": "sell"}
#: builds a NamedTuple without its Python-level ``__new__`` (hot path)
_new: Final[Any] = tuple.__new__
# The event classes of the hot path as Final names: compiled, they load from a C static instead
# of a module-dict lookup.
_ACCEPTED: Final = OrderAccepted
_CANCELLED: Final = OrderCancelled

Event = Any


class ExchangeError(RexnetError, ValueError):
    """A malformed command or event reached the exchange (a programming error, not a rejection)."""


class CommandDecider:
    """Turns order commands into events against the current state (mixed into ``Exchange``)."""

    spec: MarketSpec
    state: ExchangeState
    _lot: int
    _stp: str
    _min_price: int  # the market's price bounds in ticks (inclusive)
    _max_price: int

    @staticmethod
    def _reject(t: int, agent: str, ref: str, reason: str, message: str) -> list[Event]:
        return [OrderRejected(t, ref, agent, str(reason), message)]

    def _unit_reason(self, unit: int, t: int) -> tuple[str, str]:
        if t >= self.spec.gate_ms(unit):
            return Reason.UNIT_CLOSED, f"unit {unit} closed at t={self.spec.gate_ms(unit)} ms"
        return Reason.UNIT_NOT_OPEN, f"unit {unit} is not open at t={t} ms"

    def _check(self, agent: str, ref: str, side: str, price: int | None, qty: int) -> tuple[str, str] | None:
        """The rejection of a new order's fields (after its unit was found open), if any."""
        if side not in _SIDES:
            raise ExchangeError(f"side must be 'buy' or 'sell', not {side!r}")
        if price is not None and price <= 0:
            return Reason.NON_POSITIVE_PRICE, f"price {price} is not positive"
        if price is not None and not self._min_price <= price <= self._max_price:
            return (
                Reason.PRICE_OUT_OF_BOUNDS,
                f"price {price} is outside the market's bounds [{self._min_price}, {self._max_price}]",
            )
        if qty <= 0:
            return Reason.NON_POSITIVE_QTY, f"qty {qty} is not positive"
        if qty % self._lot:
            return Reason.OFF_LOT, f"qty {qty} is not a multiple of the lot ({self._lot} units)"
        if self.state.resting(agent, ref) is not None:
            return Reason.DUPLICATE_REF, f"ref {ref!r} already has resting orders"
        return None

    def _decide_limit(self, cmd: PlaceLimit) -> list[Event]:
        # The fields that only travel into events stay the command's own objects (see fields_of).
        agent: str
        ref: str
        side: str
        tif: str
        t, agent, ref, side, unit, price, qty, tif = fields_of(cmd)
        p: int = price  # (compiled: a TypeError here for a non-int, as the typed fields raise)
        q: int = qty
        if _boxed_subclass(t, unit, price, qty):  # (a call: an inline ``type(x) is int`` would
            # narrow x to int for mypyc, which would then unbox it and box it again in each event)
            plain = PlaceLimit(_int(t), agent, ref, side, _int(unit), _int(p), _int(q), tif)
            return self._decide_limit(plain)
        s = self.state
        found = s.open_book(unit)
        # One cheap guard for the common valid case; the slow path names the reason.
        if (
            found is None
            or p < self._min_price
            or p > self._max_price
            or q <= 0
            or q % self._lot
            or s.resting(agent, ref) is not None
        ):
            bad = self._unit_reason(unit, t) if found is None else self._check(agent, ref, side, p, q)
            assert bad is not None
            return self._reject(t, agent, ref, *bad)
        book: Book = found  # (a plain Book local: compiled, its attributes are read natively)
        if type(side) is not str:  # a Side / TimeInForce member -> its plain str
            side = _plain(side)
        if type(tif) is not str:  # (the default tif of PlaceLimit is TimeInForce.GTC)
            tif = _plain(tif)
        is_buy = side == "buy"
        gtc = tif == "gtc"
        if not (is_buy or side == "sell") or not (gtc or tif == "ioc" or tif == "fok"):
            raise ExchangeError(f"bad side {cmd.side!r} or tif {cmd.tif!r}")
        oid: Any = s.next_order_id  # boxed once, for every event naming the order
        if book.auction_due is not None:
            if not gtc:
                return self._reject(t, agent, ref, AUCTION_PHASE, f"unit {unit} is in call-auction phase")
            return [_new(_ACCEPTED, (t, oid, ref, agent, side, unit, price, qty, tif, None))]
        if not gtc and tif == "fok" and not fillable(book, agent, side, p, q, self._stp):
            return self._reject(t, agent, ref, Reason.FOK_NOT_FILLABLE, f"{qty} cannot fill now at {price}")
        out: list[Event] = [_new(_ACCEPTED, (t, oid, ref, agent, side, unit, price, qty, tif, None))]
        if is_buy:
            keys = book.ask_px
            crossing = len(keys) > 0 and -keys[-1] <= p
        else:
            keys = book.bid_px
            crossing = len(keys) > 0 and keys[-1] >= p
        if not crossing:
            if not gtc:
                out.append(_new(_CANCELLED, (t, oid, agent, unit, qty, "ioc_remainder")))
            return out
        rem, _, stopped = match(book, t, oid, agent, side, p, q, s.next_trade_id, self._stp, out)
        if rem and (stopped or not gtc):
            why = "self_trade" if stopped else "ioc_remainder"
            out.append(_new(_CANCELLED, (t, oid, agent, unit, rem, why)))
        return out

    def _decide_market(self, cmd: PlaceMarket) -> list[Event]:
        agent: str
        ref: str
        side: str
        t, agent, ref, side, unit, qty = fields_of(cmd)
        q: int = qty
        if _boxed_subclass(t, unit, 0, qty):
            return self._decide_market(PlaceMarket(_int(t), agent, ref, side, _int(unit), _int(q)))
        s = self.state
        found = s.open_book(unit)
        bad = self._unit_reason(unit, t) if found is None else self._check(agent, ref, side, None, q)
        if bad is not None:
            return self._reject(t, agent, ref, *bad)
        assert found is not None
        book: Book = found
        if type(side) is not str:
            side = _plain(side)
        if book.auction_due is not None:
            return self._reject(t, agent, ref, AUCTION_PHASE, f"unit {unit} is in call-auction phase")
        if not (book.ask_px if side == "buy" else book.bid_px):
            return self._reject(
                t, agent, ref, Reason.NO_LIQUIDITY, f"no {'asks' if side == 'buy' else 'bids'}"
            )
        oid: Any = s.next_order_id
        out: list[Event] = [_new(_ACCEPTED, (t, oid, ref, agent, side, unit, None, qty, "ioc", None))]
        rem, _, stopped = match(book, t, oid, agent, side, None, q, s.next_trade_id, self._stp, out)
        if rem:
            why = "self_trade" if stopped else "market_remainder"
            out.append(_new(_CANCELLED, (t, oid, agent, unit, rem, why)))
        return out

    def _decide_set(self, cmd: PlaceSet) -> list[Event]:
        t, agent, ref, side, units, price, qty = cmd
        s = self.state
        if not units or len(set(units)) != len(units):
            return self._reject(t, agent, ref, Reason.BAD_SET, f"units {list(units)} empty or repeated")
        for unit in units:
            if unit not in s.books:
                reason, message = self._unit_reason(unit, t)
                return self._reject(t, agent, ref, reason, f"set rejected: {message}")
        bad = self._check(agent, ref, side, price, qty)
        if bad is not None:
            return self._reject(t, agent, ref, *bad)
        side = _SIDES[side]
        oid, tid = s.next_order_id, s.next_trade_id
        out: list[Event] = []
        for unit in units:
            book = s.books[unit]
            out.append(OrderAccepted(t, oid, ref, agent, side, unit, price, qty, "gtc", ref))
            if book.auction_due is None:
                rem, tid, stopped = match(book, t, oid, agent, side, price, qty, tid, self._stp, out)
                if rem and stopped:
                    out.append(OrderCancelled(t, oid, agent, unit, rem, "self_trade"))
            oid += 1
        return out

    def _decide_cancel(self, cmd: Cancel) -> list[Event]:
        agent: str
        ref: str
        t, agent, ref = fields_of(cmd)
        if type(t) is not int:
            return self._decide_cancel(Cancel(_int(t), agent, ref))
        first = self.state.resting(agent, ref)
        if first is None:
            return self._reject(t, agent, ref, Reason.UNKNOWN_ORDER, f"nothing rests under ref {ref!r}")
        if first.seat is None:
            return [_new(_CANCELLED, (t, first.order_id, agent, first.unit, first.remaining, "requested"))]
        return [
            _new(_CANCELLED, (t, o.order_id, agent, o.unit, o.remaining, "requested"))
            for o in sorted(seats(first), key=_order_id)
        ]

    def _decide_shrink(self, cmd: Shrink) -> list[Event]:
        t, agent, ref, qty = cmd
        if qty <= 0:
            return self._reject(
                t, agent, ref, Reason.NON_POSITIVE_QTY, f"qty {qty} is not positive (use cancel)"
            )
        if qty % self._lot:
            return self._reject(t, agent, ref, Reason.OFF_LOT, f"qty {qty} is not a multiple of the lot")
        first = self.state.resting(agent, ref)
        if first is None:
            return self._reject(t, agent, ref, Reason.UNKNOWN_ORDER, f"nothing rests under ref {ref!r}")
        out: list[Event] = [
            OrderShrunk(t, o.order_id, agent, o.unit, qty)
            for o in sorted(seats(first), key=_order_id)
            if o.remaining > qty
        ]
        if not out:
            return self._reject(
                t, agent, ref, Reason.NOT_A_REDUCTION, f"qty {qty} is not below the remaining"
            )
        return out


def _plain(value: str) -> str:
    """The plain ``str`` of a ``Side`` / ``TimeInForce`` member (or ``value`` if none matches).

    Found by comparison with literals, not by a dict lookup: an enum member's hash is a
    Python-level call.
    """
    if value == "gtc":
        return "gtc"
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    if value == "ioc":
        return "ioc"
    if value == "fok":
        return "fok"
    return value


def _order_id(o: RestingOrder) -> int:
    return o.order_id


def fields_of(cmd: tuple[Any, ...]) -> tuple[Any, ...]:
    """A command's fields as the objects it holds.

    Compiled, a field read as ``int`` becomes an unboxed machine int, and putting it into an event
    boxes it again: a fresh allocation for every value above 256. Ids, times, prices and
    quantities mostly only travel from the command into the events, so the hot deciders read
    them as objects and unbox (cheaply, no allocation) only the ones they compute with.
    """
    return cmd


def _boxed_subclass(t: Any, unit: Any, price: Any, qty: Any) -> bool:
    """Whether an int field is an ``int`` subclass (``bool``, ``IntEnum``): events get plain ints."""
    return type(t) is not int or type(unit) is not int or type(price) is not int or type(qty) is not int


def _int(x: Any) -> int:
    """A plain ``int`` of an int-typed field (a ``TypeError`` for anything else, compiled or not)."""
    if not isinstance(x, int):
        raise TypeError(f"int object expected; got {type(x).__name__}")
    return int(x)

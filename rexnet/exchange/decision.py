"""Deciding commands: validation, rejections and continuous matching of new orders (read-only).

:class:`CommandDecider` is the command half of :class:`rexnet.exchange.Exchange`: every method
reads the state and returns events; none changes anything (the exchange applies the events).
The decisions it makes where DESIGN.md leaves room are listed in :mod:`rexnet.exchange.exchange`.
"""

from __future__ import annotations

from typing import Any, Final

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Reason, Shrink
from rexnet.domain.events import Event, OrderAccepted, OrderCancelled, OrderRejected, OrderShrunk
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
_TIFS: Final = {"gtc": "gtc", "ioc": "ioc", "fok": "fok"}


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

    def _match(
        self,
        book: Book,
        t: int,
        oid: int,
        agent: str,
        side: str,
        limit: int | None,
        qty: int,
        tid: int,
        out: list[Event],
    ) -> tuple[int, int, bool]:
        """:func:`rexnet.exchange.matching.match` under the market's self-trade prevention (the
        speed path overrides this with its own matching)."""
        return match(book, t, oid, agent, side, limit, qty, tid, self._stp, out)

    def _decide_limit(self, cmd: PlaceLimit) -> list[Event]:
        t, agent, ref, side, unit, price, qty, tif = cmd
        t, unit, price, qty = _int(t), _int(unit), _int(price), _int(qty)
        book = self.state.open_book(unit)
        bad = self._unit_reason(unit, t) if book is None else self._check(agent, ref, side, price, qty)
        if bad is not None:
            return self._reject(t, agent, ref, *bad)
        assert book is not None
        side = _SIDES[side]
        if tif not in _TIFS:
            raise ExchangeError(f"tif must be 'gtc', 'ioc' or 'fok', not {tif!r}")
        tif = _TIFS[tif]
        oid = self.state.next_order_id
        accepted = OrderAccepted(t, oid, ref, agent, side, unit, price, qty, tif, None)
        if book.auction_due is not None:
            if tif != "gtc":
                return self._reject(t, agent, ref, AUCTION_PHASE, f"unit {unit} is in call-auction phase")
            return [accepted]
        if tif == "fok" and not fillable(book, agent, side, price, qty, self._stp):
            return self._reject(t, agent, ref, Reason.FOK_NOT_FILLABLE, f"{qty} cannot fill now at {price}")
        out: list[Event] = [accepted]
        rem, _, stopped = self._match(book, t, oid, agent, side, price, qty, self.state.next_trade_id, out)
        if rem and (stopped or tif != "gtc"):
            out.append(OrderCancelled(t, oid, agent, unit, rem, "self_trade" if stopped else "ioc_remainder"))
        return out

    def _decide_market(self, cmd: PlaceMarket) -> list[Event]:
        t, agent, ref, side, unit, qty = cmd
        t, unit, qty = _int(t), _int(unit), _int(qty)
        book = self.state.open_book(unit)
        bad = self._unit_reason(unit, t) if book is None else self._check(agent, ref, side, None, qty)
        if bad is not None:
            return self._reject(t, agent, ref, *bad)
        assert book is not None
        side = _SIDES[side]
        if book.auction_due is not None:
            return self._reject(t, agent, ref, AUCTION_PHASE, f"unit {unit} is in call-auction phase")
        if not (book.ask_px if side == "buy" else book.bid_px):
            return self._reject(
                t, agent, ref, Reason.NO_LIQUIDITY, f"no {'asks' if side == 'buy' else 'bids'}"
            )
        oid = self.state.next_order_id
        out: list[Event] = [OrderAccepted(t, oid, ref, agent, side, unit, None, qty, "ioc", None)]
        rem, _, stopped = self._match(book, t, oid, agent, side, None, qty, self.state.next_trade_id, out)
        if rem:
            out.append(
                OrderCancelled(t, oid, agent, unit, rem, "self_trade" if stopped else "market_remainder")
            )
        return out

    def _decide_set(self, cmd: PlaceSet) -> list[Event]:
        t, agent, ref, side, units, price, qty = cmd
        t, price, qty = _int(t), _int(price), _int(qty)
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
                rem, tid, stopped = self._match(book, t, oid, agent, side, price, qty, tid, out)
                if rem and stopped:
                    out.append(OrderCancelled(t, oid, agent, unit, rem, "self_trade"))
            oid += 1
        return out

    def _decide_cancel(self, cmd: Cancel) -> list[Event]:
        t, agent, ref = cmd
        t = _int(t)
        first = self.state.resting(agent, ref)
        if first is None:
            return self._reject(t, agent, ref, Reason.UNKNOWN_ORDER, f"nothing rests under ref {ref!r}")
        return [
            OrderCancelled(t, o.order_id, agent, o.unit, o.remaining, "requested")
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


def _order_id(o: RestingOrder) -> int:
    return o.order_id


def _int(x: Any) -> int:
    """A plain ``int`` of an int-typed field (a ``TypeError`` for anything else, compiled or not)."""
    if not isinstance(x, int):
        raise TypeError(f"int object expected; got {type(x).__name__}")
    return int(x)

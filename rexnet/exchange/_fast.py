"""The exchange's speed path: :class:`FastExchange`, the reference exchange with its hot methods
shaped for mypyc.

Everything here exists only for speed and must give exactly the events and the state of the
plain code in :mod:`rexnet.exchange.exchange` and :mod:`rexnet.exchange.decision` (the
reference); ``tests/unit/exchange/test_fast_path.py`` runs both on the same command streams.
:func:`rexnet.exchange.new_exchange` picks this class when the package is compiled and the
reference otherwise (as SQLAlchemy picks its ``_cy`` modules). The tricks, each for mypyc:

* the deciders read a command's fields as *objects* (:func:`fields_of`): compiled, a field read
  as ``int`` is unboxed and boxed again (an allocation) in every event naming it; ``int``
  subclasses (``bool``, ``IntEnum``) are caught by a *call* (:func:`_boxed_subclass`), since an
  inline ``type(x) is int`` would narrow ``x`` and trigger the same unboxing, and re-decided on a
  plain copy of the command;
* events are built with ``tuple.__new__`` (no Python-level ``__new__``); event and command
  classes are ``Final`` names (C statics, not module-dict lookups); a ``Side`` / ``TimeInForce``
  member becomes its plain str by literal compares (an enum member's hash is a Python call);
* matching is :mod:`rexnet.exchange._matching_fast` (the same walk as the reference
  :mod:`rexnet.exchange.matching`, with the same tricks), for order sets too (:meth:`FastExchange._match`);
* an order's id is read from a removal event as an object (:meth:`FastExchange._apply_removed`),
  not as an ``int`` local that each dict use would box again;
* :meth:`FastExchange.handle` and :meth:`FastExchange.apply` call the commonest deciders and
  appliers directly (a direct native call, not a bound method from a dict);
* applying an order that joins an existing level inlines ``Book.add``, and a partly filled
  taker's "rest once nothing crosses" (``_settle_taker``) is inlined into the trade applier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, cast

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket
from rexnet.domain.events import OrderAccepted, OrderCancelled, OrderExpired, TradeExecuted
from rexnet.domain.market import MarketSpec
from rexnet.exchange._matching_fast import fillable, match
from rexnet.exchange.book import Book, Level, RestingOrder
from rexnet.exchange.decision import AUCTION_PHASE, Event, ExchangeError, Reason, _int, _order_id
from rexnet.exchange.exchange import _APPLIERS, _DECIDERS, Command, Exchange, _level_of
from rexnet.exchange.state import seats

#: builds a NamedTuple without its Python-level ``__new__``
_new: Final[Any] = tuple.__new__
_LIMIT: Final = PlaceLimit
_CANCEL: Final = Cancel
_MARKET: Final = PlaceMarket
_ACCEPTED: Final = OrderAccepted
_TRADE: Final = TradeExecuted
_CANCELLED: Final = OrderCancelled


class FastExchange(Exchange):
    """:class:`~rexnet.exchange.exchange.Exchange` with its hot path shaped for mypyc (same events)."""

    def __init__(self, spec: MarketSpec) -> None:
        super().__init__(spec)
        self._appliers = _FAST_APPLIERS
        self._deciders = _FAST_DECIDERS

    def handle(self, cmd: Command) -> list[Event]:
        if cmd[0] >= self.state.due:
            pre = self.advance(cmd[0])
            pre.extend(self.handle(cmd))
            return pre
        kind = type(cmd)
        if kind is _LIMIT:
            events = self._decide_limit(cast(PlaceLimit, cmd))
        elif kind is _CANCEL:
            events = self._decide_cancel(cast(Cancel, cmd))
        elif kind is _MARKET:
            events = self._decide_market(cast(PlaceMarket, cmd))
        else:
            events = self.decide(cmd)
        for e in events:
            self.apply(e)
        return events

    def apply(self, event: object) -> None:
        # (``object``, not ``Event``: as Exchange.apply, a non-event raises ExchangeError compiled too)
        kind = type(event)
        if kind is _ACCEPTED:
            self._apply_accepted(cast(OrderAccepted, event))
        elif kind is _TRADE:
            self._apply_trade(cast(TradeExecuted, event))
        elif kind is _CANCELLED:
            self._apply_removed(cast(OrderCancelled, event))
        else:
            try:
                applier = self._appliers[kind]
            except KeyError:
                raise ExchangeError(f"not an event record: {event!r}") from None
            applier(self, event)

    # == deciding ===============================================================================
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
        return match(book, t, oid, agent, side, limit, qty, tid, self._stp, out)

    def _decide_limit(self, cmd: PlaceLimit) -> list[Event]:
        agent: str
        ref: str
        side: str
        tif: str
        t, agent, ref, side, unit, price, qty, tif = fields_of(cmd)
        p: int = price  # (compiled: a TypeError here for a non-int, as the typed fields raise)
        q: int = qty
        if _boxed_subclass(t, unit, price, qty):
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
        if type(side) is not str:
            side = _plain(side)
        if type(tif) is not str:
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
        if not book.crosses(side, p):
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

    # == applying ===============================================================================
    def _apply_accepted(self, e: OrderAccepted) -> None:
        # Fields read as the objects the event holds: the order's id, unit and price stay boxed.
        side: str
        tif: str
        _, oid, ref, agent, side, unit, price, qty, tif, set_ref = fields_of(e)
        s = self.state
        book = s.applied_book(unit)
        o = RestingOrder(oid, agent, ref, side, unit, price, qty, tif, set_ref)
        next_id: int = oid
        s.next_order_id = next_id + 1
        if tif != "gtc" or price is None:  # (a gtc order always has a price)
            s.taker = o
            return
        limit: int = price
        # An order that crosses is the taker until its trades are applied.
        if book.auction_due is None and book.crosses(side, limit):
            s.taker = o
            return
        found = book.bids.get(price) if side == "buy" else book.asks.get(price)
        tail = None if found is None else found.tail
        if found is None or tail is None:
            book.add(o)
        else:  # Book.add, inlined for the commonest case: join an existing level's queue
            level: Level = found
            o.level = level
            o.prev = tail
            tail.next = o
            level.tail = o
            level.qty += o.remaining
            level.count += 1
        s.orders[oid] = o
        s.index(o)

    def _apply_trade(self, e: TradeExecuted) -> None:
        buyer: str
        seller: str
        aggressor: str | None
        _, tid, unit, price, qty, buy_id, sell_id, buyer, seller, aggressor = fields_of(e)
        q: int = qty
        s = self.state
        book = s.applied_book(unit)
        next_tid: int = tid
        s.next_trade_id = next_tid + 1
        px: int = price
        book.volume += q
        book.notional += px * q
        book.last_price = price
        pos = book.positions
        pos[seller] = pos.get(seller, 0) + q
        pos[buyer] = pos.get(buyer, 0) - q
        orders = s.orders
        taker = s.taker
        if aggressor is None or taker is None:  # a call-auction fill: both orders rest
            self._fill(book, orders[buy_id], q)
            self._fill(book, orders[sell_id], q)
            return
        incoming: RestingOrder = taker
        o = orders[sell_id if aggressor == "buy" else buy_id]
        if o.remaining > q:
            o.remaining -= q
            _level_of(o).qty -= q
        else:
            del orders[o.order_id]
            book.remove(o)
            s.unindex(o)
        rem = incoming.remaining - q
        incoming.remaining = rem
        if rem == 0:
            s.taker = None
        elif incoming.tif == "gtc":  # _settle_taker, inlined: rest once nothing crosses any more
            priced = incoming.price
            assert priced is not None  # gtc: priced
            if not book.crosses(aggressor, priced):
                s.taker = None
                self._rest(book, incoming)

    def _apply_removed(self, e: OrderCancelled | OrderExpired) -> None:
        s = self.state
        oid: Any = e[1]  # (the object the event holds, boxed once for the dict uses)
        taker = s.taker
        if taker is not None and taker.order_id == oid:  # the incoming order's remainder
            s.taker = None
            return
        orders = s.orders
        o = orders[oid]
        del orders[oid]
        book = s.applied_book(o.unit)
        if o.level is not None:
            book.remove(o)
            s.unindex(o)
        if taker is not None:
            self._settle_taker(book)  # a self-trade cancel may leave the taker uncrossed


def _plain(value: str) -> str:
    """The plain ``str`` of a ``Side`` / ``TimeInForce`` member (or ``value`` if none matches)."""
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


def fields_of(cmd: tuple[Any, ...]) -> tuple[Any, ...]:
    """A command's (or event's) fields as the objects it holds (an identity, typed ``Any``).

    Compiled, a field read as ``int`` becomes an unboxed machine int, and putting it into an event
    boxes it again: a fresh allocation for every value above 256. Ids, times, prices and
    quantities mostly only travel from the command into the events, so the hot deciders read
    them as objects and unbox (cheaply, no allocation) only the ones they compute with.
    """
    return cmd


def _boxed_subclass(t: Any, unit: Any, price: Any, qty: Any) -> bool:
    """Whether an int field is an ``int`` subclass (``bool``, ``IntEnum``): events get plain ints."""
    return type(t) is not int or type(unit) is not int or type(price) is not int or type(qty) is not int


_FAST_APPLIERS: dict[type, Callable[[Exchange, Any], None]] = {
    **_APPLIERS,
    OrderAccepted: FastExchange._apply_accepted,  # type: ignore[dict-item]
    TradeExecuted: FastExchange._apply_trade,  # type: ignore[dict-item]
    OrderCancelled: FastExchange._apply_removed,  # type: ignore[dict-item]
    OrderExpired: FastExchange._apply_removed,  # type: ignore[dict-item]
}
_FAST_DECIDERS: dict[type, Callable[[Exchange, Any], list[Event]]] = {
    **_DECIDERS,
    PlaceLimit: FastExchange._decide_limit,  # type: ignore[dict-item]
    PlaceMarket: FastExchange._decide_market,  # type: ignore[dict-item]
    Cancel: FastExchange._decide_cancel,  # type: ignore[dict-item]
}

"""The LOB-3D exchange: one continuous double auction per delivery unit of a rolling window.

Event-sourced and pure: :meth:`Exchange.decide` turns a command into events without touching
the state; :meth:`Exchange.apply` is the only thing that changes the state, one event at a time;
:meth:`Exchange.handle` does both (after :meth:`Exchange.advance` has run the clock up to the
command's ``t``). Folding a stored log through ``apply`` therefore rebuilds the live state. No I/O,
no clock and no randomness of its own: time arrives in commands and in ``advance(t_ms)``.

Decisions this module makes where DESIGN.md leaves room (all are pinned by tests):

* **Market order on an empty opposite side** is rejected (``no_liquidity``), with no
  ``order_accepted``. If the opposite side has orders (even only the agent's own, which
  self-trade prevention may then cancel) the order is accepted and any rest is cancelled
  (``market_remainder``). A market order is accepted with ``price=None`` and ``tif="ioc"``.
* **Shrink** sets the remaining quantity of every order under the ref that is above ``qty`` to
  ``qty`` (seats already at or below it are left alone); if none is above, ``not_a_reduction``.
  ``qty <= 0`` is rejected (``non_positive_qty``): shrink never removes an order, cancel does.
* **Validation order**: unit (``unit_closed`` if ``t`` is at or after its gate, else
  ``unit_not_open``), set shape (``bad_set``), price (``non_positive_price``, then
  ``price_out_of_bounds`` outside ``[min_price, max_price]``), quantity, lot, duplicate live ref.
  Market orders carry no price: they trade at resting prices, which the bounds already hold, and
  a call auction clears at a book price, so every trade price stays inside the bounds.
  A malformed ``side`` or ``tif`` is a programming error (the edges validate them) and raises.
* **Clock**: at one instant, gate closures come first, then call auctions (by unit), then unit
  openings; a unit never clears an auction at the instant it closes or opens.
* **Call auctions** (``auction_mode="periodic"``, or ``opening_auction``): a unit in auction phase
  collects orders without matching and is cleared at every multiple of ``auction_period_seconds``
  (strictly after its opening; with ``auction_align_gate`` a last time 1 ms before its gate);
  with ``opening_auction`` in continuous mode it matches continuously after its first auction.
  IOC, FOK and market orders are rejected in auction phase (reason ``auction_phase``). The
  clearing rule is in :mod:`rexnet.exchange.auction`.
* A unit's positions are dropped at its gate closure (its ``reservation_fixed`` events carry them
  on), so memory is bounded by the open window: ``position()`` of a closed unit is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Shrink
from rexnet.domain.events import (
    EVENT_CLASSES,
    AuctionCleared,
    GateClosed,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderShrunk,
    ReservationFixed,
    TradeExecuted,
    UnitOpened,
)
from rexnet.domain.market import MarketSpec
from rexnet.exchange import auction
from rexnet.exchange.book import Book, Level, RestingOrder
from rexnet.exchange.decision import CommandDecider, Event, ExchangeError
from rexnet.exchange.state import INF, ExchangeState, LiveOrder

Command = PlaceLimit | PlaceMarket | PlaceSet | Cancel | Shrink


class Exchange(CommandDecider):
    """The LOB-3D exchange of one run: decide, apply, advance and read-only queries."""

    def __init__(self, spec: MarketSpec) -> None:
        """Args:
        spec: the market rules.
        """
        self.spec = spec
        # Units with t < gate at t=0 are the first to open; none ever opens when the gate lead
        # is at least the whole window (its opening instant would not precede its gate).
        self._can_open = spec.gate_lead_ms < spec.horizon * spec.unit_ms
        self.state = ExchangeState(spec.gate_lead_ms // spec.unit_ms + 1)
        self._lot = spec.lot_units
        self._stp = spec.self_trade
        self._periodic = spec.auction_mode == "periodic"
        self._auction_on_open = self._periodic or spec.opening_auction
        self._period = spec.auction_period_seconds * 1000
        self._align_gate = self._periodic and spec.auction_align_gate
        self._min_price = spec.min_price_ticks
        self._max_price = spec.max_price_ticks
        # Shared tables of *unbound* methods (called as ``fn(self, x)``), built once at import and
        # swapped whole by a subclass (FastExchange): per-instance tables of bound methods would be
        # rebuilt for every new exchange (every snapshot restored) and tie the instance in a cycle.
        self._appliers = _APPLIERS
        self._deciders = _DECIDERS
        self._refresh_due()

    # == commands ===============================================================================
    def handle(self, cmd: Command) -> list[Event]:
        """Run the clock to ``cmd.t``, then decide and apply ``cmd``; returns every event emitted."""
        events = self.advance(cmd[0]) if cmd[0] >= self.state.due else []
        decided = self.decide(cmd)
        for e in decided:
            self.apply(e)
        events.extend(decided)
        return events

    def decide(self, cmd: Command) -> list[Event]:
        """The events ``cmd`` causes in the current state, without changing it (no clock advance)."""
        try:
            decider = self._deciders[type(cmd)]
        except KeyError:
            raise ExchangeError(f"the exchange does not take {type(cmd).__name__} commands") from None
        return decider(self, cmd)

    def apply(self, event: object) -> None:
        """Change the state by one event; events of other concerns (settlement, run) are ignored."""
        # (``object``, not ``Event``: compiled, mypyc checks a declared argument type on entry,
        # and a non-event must reach the ExchangeError below in both builds alike)
        try:
            applier = self._appliers[type(event)]
        except KeyError:
            raise ExchangeError(f"not an event record: {event!r}") from None
        applier(self, event)

    # == clock ==================================================================================
    def next_due_ms(self) -> int | None:
        """Time of the next clock happening (gate closure, auction or opening); None if none."""
        due = self.state.due
        return None if due == INF else int(due)

    def advance(self, t_ms: int) -> list[Event]:
        """Decide and apply every clock happening with time <= ``t_ms``, in time order."""
        s = self.state
        out: list[Event] = []
        appliers = self._appliers
        while s.due <= t_ms:
            events = self._decide_clock()
            for e in events:
                appliers[type(e)](self, e)
            out.extend(events)
        return out

    def _decide_clock(self) -> list[Event]:
        """Events of the first pending clock happening (at ``state.due``)."""
        s = self.state
        spec = self.spec
        due = int(s.due)
        if s.books:
            first = next(iter(s.books.values()))
            if spec.gate_ms(first.unit) == due:
                return self._decide_gate(first, due)
        for book in s.books.values():
            if book.auction_due == due:
                price, volume, trades = auction.clear(book, due, s.next_trade_id)
                return [AuctionCleared(due, book.unit, price, volume), *trades]
        return [UnitOpened(due, s.next_unit)]

    def _decide_gate(self, book: Book, t: int) -> list[Event]:
        unit = book.unit
        out: list[Event] = [
            OrderExpired(t, o.order_id, o.agent, unit, o.remaining)
            for o in sorted(book.orders(), key=lambda o: o.order_id)
        ]
        out.extend(ReservationFixed(t, agent, unit, e) for agent, e in sorted(book.positions.items()) if e)
        volume, notional = book.volume, book.notional
        vwap = (2 * notional + volume) // (2 * volume) if volume else None  # half-up
        out.append(GateClosed(t, unit, volume, vwap, notional))
        return out

    def _refresh_due(self) -> None:
        s = self.state
        spec = self.spec
        due: float = INF  # a float throughout: it is compared with inf (and compiled as a double)
        if s.books:
            due = float(spec.gate_ms(next(iter(s.books))))
            for book in s.books.values():
                if book.auction_due is not None and book.auction_due < due:
                    due = float(book.auction_due)
        if self._can_open:
            due = min(due, float(spec.opens_at_ms(s.next_unit)))
        s.due = due

    # == applying ===============================================================================
    def _rest(self, book: Book, o: RestingOrder) -> None:
        s = self.state
        s.orders[o.order_id] = o
        book.add(o)
        s.index(o)

    def _drop(self, book: Book, o: RestingOrder) -> None:
        """Forget ``o`` (filled, cancelled or expired)."""
        s = self.state
        if o.level is not None:
            book.remove(o)
            s.unindex(o)
        del s.orders[o.order_id]
        if s.taker is o:
            s.taker = None

    def _fill(self, book: Book, o: RestingOrder, qty: int) -> None:
        """Take ``qty`` from resting ``o`` (dropping it when that is all it had)."""
        if o.remaining > qty:
            o.remaining -= qty
            _level_of(o).qty -= qty
        else:
            self._drop(book, o)

    def _settle_taker(self, book: Book) -> None:
        """A good-till-gate incoming order rests as soon as nothing crosses it any more."""
        taker = self.state.taker
        if taker is None or taker.tif != "gtc":
            return
        assert taker.price is not None  # a gtc order is a limit order
        if not book.crosses(taker.side, taker.price):
            self.state.taker = None
            self._rest(book, taker)

    def _apply_accepted(self, e: OrderAccepted) -> None:
        s = self.state
        book = s.applied_book(e.unit)
        o = RestingOrder(e.order_id, e.agent, e.ref, e.side, e.unit, e.price, e.qty, e.tif, e.set_ref)
        s.next_order_id = e.order_id + 1
        price = e.price if e.tif == "gtc" else None  # (ioc, fok and market orders never rest)
        if price is None or (book.auction_due is None and book.crosses(e.side, price)):
            s.taker = o  # it matches: the taker until its trades are applied (_settle_taker)
        else:
            self._rest(book, o)

    def _apply_trade(self, e: TradeExecuted) -> None:
        s = self.state
        book = s.applied_book(e.unit)
        s.next_trade_id = e.trade_id + 1
        book.volume += e.qty
        book.notional += e.price * e.qty
        book.last_price = e.price
        book.positions[e.seller] = book.positions.get(e.seller, 0) + e.qty
        book.positions[e.buyer] = book.positions.get(e.buyer, 0) - e.qty
        taker = s.taker
        if e.aggressor is None or taker is None:  # a call-auction fill: both orders rest
            self._fill(book, s.orders[e.buy_order_id], e.qty)
            self._fill(book, s.orders[e.sell_order_id], e.qty)
            return
        # Continuous: the taker is the aggressor's order; the other one rests in the book.
        resting_id = e.sell_order_id if e.aggressor == "buy" else e.buy_order_id
        self._fill(book, s.orders[resting_id], e.qty)
        taker.remaining -= e.qty
        if taker.remaining == 0:
            s.taker = None
        else:
            self._settle_taker(book)

    def _apply_removed(self, e: OrderCancelled | OrderExpired) -> None:
        s = self.state
        oid = e.order_id
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

    def _apply_shrunk(self, e: OrderShrunk) -> None:
        o = self.state.orders[e[1]]
        remaining = e[4]
        _level_of(o).qty -= o.remaining - remaining
        o.remaining = remaining

    def _apply_unit_opened(self, e: UnitOpened) -> None:
        s = self.state
        book = Book(e.unit)
        if self._auction_on_open:
            book.auction_due = self._next_auction(e.unit, e.t)
        s.books[e.unit] = book
        s.next_unit = e.unit + 1
        self._refresh_due()

    def _apply_gate_closed(self, e: GateClosed) -> None:
        s = self.state
        del s.books[e.unit]
        s.last_book = None
        self._refresh_due()

    def _apply_auction_cleared(self, e: AuctionCleared) -> None:
        book = self.state.books[e.unit]
        book.auction_due = self._next_auction(e.unit, e.t) if self._periodic else None
        self._refresh_due()

    def _next_auction(self, unit: int, t: int) -> int:
        """The clearing after ``t``: the next period boundary; with ``auction_align_gate`` never
        later than 1 ms before the gate, and after that last clearing the gate itself (the unit
        keeps collecting orders, which expire: the gate closes before any clearing at its
        instant)."""
        due = (t // self._period + 1) * self._period
        if self._align_gate:
            last = self.spec.gate_ms(unit) - 1
            if due > last:
                return last if t < last else last + 1
        return due

    # == read-only queries ======================================================================
    def best_bid(self, unit: int) -> int | None:
        book = self.state.books.get(unit)
        return None if book is None else book.best_bid()

    def best_ask(self, unit: int) -> int | None:
        book = self.state.books.get(unit)
        return None if book is None else book.best_ask()

    def depth(self, unit: int) -> dict[str, Any]:
        """``{"unit", "bids": [(price, qty, n_orders), ...], "asks": [...]}``, best level first."""
        book = self.state.books.get(unit)
        return {"unit": unit, "bids": [], "asks": []} if book is None else book.depth()

    def open_units(self) -> list[int]:
        return list(self.state.books)

    def position(self, agent: str, unit: int) -> int:
        """Meter units sold minus bought by ``agent`` in open ``unit`` so far (0 once it closed)."""
        book = self.state.books.get(unit)
        return 0 if book is None else book.positions.get(agent, 0)

    def live_orders(self, agent: str) -> list[LiveOrder]:
        """The agent's resting orders, by order id."""
        found = [
            LiveOrder(o.order_id, o.ref, o.unit, o.side, o.price, o.remaining)  # type: ignore[arg-type]
            for o in self.state.live(agent)
        ]
        found.sort()
        return found


def _ignore(exchange: Exchange, event: Event) -> None:
    """Events of other concerns (settlement, run) do not change the exchange."""


#: event class -> ``Exchange`` method applying it (``Exchange.apply`` takes the whole catalogue)
_APPLIERS: dict[type, Callable[[Exchange, Any], None]] = {cls: _ignore for cls in EVENT_CLASSES}
_APPLIERS.update(
    {
        OrderAccepted: Exchange._apply_accepted,
        TradeExecuted: Exchange._apply_trade,
        OrderCancelled: Exchange._apply_removed,
        OrderExpired: Exchange._apply_removed,
        OrderShrunk: Exchange._apply_shrunk,
        UnitOpened: Exchange._apply_unit_opened,
        GateClosed: Exchange._apply_gate_closed,
        AuctionCleared: Exchange._apply_auction_cleared,
    }
)
#: command class -> ``Exchange`` method deciding it
_DECIDERS: dict[type, Callable[[Exchange, Any], list[Event]]] = {
    PlaceLimit: Exchange._decide_limit,
    PlaceMarket: Exchange._decide_market,
    PlaceSet: Exchange._decide_set,
    Cancel: Exchange._decide_cancel,
    Shrink: Exchange._decide_shrink,
}


def _level_of(o: RestingOrder) -> Level:
    """The level ``o`` rests in (a programming error if it does not rest)."""
    level = o.level
    if level is None:
        raise ExchangeError(f"order {o.order_id} does not rest in a level")
    return level

"""Brokers: trading strategies that turn a client's wishes into commands.

* :class:`TargetBroker`, the target-position broker: for each open unit it asks its client for
  a target reservation (for uncontrollable clients, the newsvendor quantile of the forecast, see
  :func:`critical_fractile`) and trades the gap between that target and its position. Its
  limit prices start passive and grow more aggressive as the gate nears; in its last wake-up
  before a unit's gate it sends a market order (or, for a client with a cost or value to
  protect, a limit at that cost or value, so it never trades at a loss).
* Zero-intelligence and adaptive traders live in :mod:`rexnet.sim.zi`.

Agents wake at the times of a Poisson process (exponential gaps, rate per agent type) on the
kernel. A broker holds no book state of its own: positions and resting orders are read from the
market at each wake-up, so a rejected command (an ``order_rejected`` event) needs no recovery.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from operator import attrgetter
from typing import Any

import numpy as np

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, Shrink
from rexnet.domain.events import GateClosed, OrderRejected, ReservationFixed, TradeExecuted
from rexnet.sim.client import Client, Context, Plan
from rexnet.sim.kernel import Kernel
from rexnet.sim.port import MarketPort

Submit = Callable[[Any], list[Any]]

_order_id = attrgetter("order_id")


def critical_fractile(price: float, penalty: float, surplus: float) -> float:
    """The newsvendor quantile ``q`` at which to reserve net injection ``e``.

    Under the floor rule a participant reserving ``e`` (sold - bought) at price ``p`` and
    realizing ``x`` earns ``p e - P max(0, e - x) + s max(0, x - e)``. Raising ``e`` by one unit
    earns ``p``, costs ``P`` if it turns out short (probability ``F(e)``) and loses the surplus
    credit ``s`` otherwise. The marginal profit ``p - P F(e) - s (1 - F(e))`` is zero at

        F(e*) = (p - s) / (P - s)

    (underage cost ``p - s``, overage cost ``P - p``: the classic ``cu / (cu + co)``). With a
    penalty far above the price, a seller reserves a low quantile (sells only what it is nearly
    sure to produce) and a consumer, whose ``x`` is negative, buys up to a high consumption
    quantile. The same ``e*`` holds for buyers since buying is a negative ``e``.
    """
    if penalty <= surplus:
        return 0.5
    return min(max((price - surplus) / (penalty - surplus), 1e-6), 1.0 - 1e-6)


def sample_indices(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """``k`` distinct indices out of ``range(n)``, uniformly: a partial Fisher-Yates shuffle
    driven by ``k`` uniform draws (one call; ``Generator.choice`` costs ~10x more per call)."""
    idx = list(range(n))
    for i, u in enumerate(rng.random(k).tolist()):
        j = i + int(u * (n - i))
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:k]


class Reservations:
    """Every agent's position in any unit: live from the market while the unit is open, then the
    reservation fixed at its gate (the market forgets closed units' positions).

    Closed units are kept ``keep`` units behind the last gate closure (a flexible load looks back
    over its day's window), so memory stays bounded in long runs.
    """

    def __init__(self, market: MarketPort, *, keep: int | None = None) -> None:
        self.market = market
        spec = market.spec
        self.keep = keep if keep is not None else 86400 // spec.unit_seconds + spec.horizon + 2
        self._closed_through: int | None = None  # gates close in unit order
        self._fixed: dict[int, dict[str, int]] = {}

    def observe(self, events: list[Any]) -> None:
        for ev in events:
            if isinstance(ev, ReservationFixed):
                self._fixed.setdefault(ev.unit, {})[ev.agent] = ev.qty
            elif isinstance(ev, GateClosed):
                if self._closed_through is None or ev.unit > self._closed_through:
                    self._closed_through = ev.unit
                self._fixed.pop(ev.unit - self.keep, None)

    def position(self, agent: str, unit: int) -> int:
        """Sold - bought (meter units): fixed once the unit's gate closed."""
        if self._closed_through is not None and unit <= self._closed_through:
            return self._fixed.get(unit, {}).get(agent, 0)
        return self.market.position(agent, unit)


class PriceBoard:
    """Public market data every broker reads: last trade per unit, a smoothed price level.

    ``ref_price`` is an exponential moving average of closed units' VWAPs, starting at the
    scenario's price prior (ticks); it is the "expected price" before a unit has quotes.
    """

    def __init__(self, market: MarketPort, prior: float, *, smoothing: float = 0.2) -> None:
        self.market = market
        self.ref_price = float(prior)
        self.smoothing = smoothing
        self._periodic = market.spec.auction_mode == "periodic"
        self._last: dict[int, int] = {}

    def observe(self, events: list[Any]) -> None:
        for ev in events:
            if isinstance(ev, TradeExecuted):
                self._last[ev.unit] = ev.price
            elif isinstance(ev, GateClosed):
                self._last.pop(ev.unit, None)
                if ev.vwap is not None:
                    self.ref_price += self.smoothing * (ev.vwap - self.ref_price)

    def last_trade(self, unit: int) -> int | None:
        """The last trade price of an open ``unit`` (ticks), if any."""
        return self._last.get(unit)

    def expected_price(self, unit: int) -> float:
        """Mid quote if both sides exist, else the unit's last trade, else the price level.

        In call auctions the book is a batch (crossed until it clears): its mid says nothing of
        the price, so the unit's last clearing price, else the price level, is taken.
        """
        if not self._periodic:
            bid, ask = self.market.best_bid(unit), self.market.best_ask(unit)
            if bid is not None and ask is not None:
                return (bid + ask) / 2.0
        last = self._last.get(unit)
        return float(last) if last is not None else self.ref_price


class Broker:
    """Common machinery: Poisson wake-ups, refs, context, order bookkeeping.

    Args:
        client: the prosumer's client.
        market: the market (read-only use; commands go through ``submit``).
        rng: the agent's own generator.
        board: shared public price data.
        reservations: positions, including closed units' reservations.
        units: ``(first, last)`` delivery units the run trades.
        wake_per_hour: Poisson rate of wake-ups.
    """

    def __init__(
        self,
        client: Client,
        market: MarketPort,
        rng: np.random.Generator,
        board: PriceBoard,
        reservations: Reservations,
        *,
        units: tuple[int, int],
        wake_per_hour: float,
    ) -> None:
        self.agent = client.agent
        self.client = client
        self.market = market
        self.spec = market.spec
        self.rng = rng
        self.board = board
        self.reservations = reservations
        self.units = units
        self.mean_gap_ms = 3_600_000.0 / wake_per_hour
        self._penalty_ticks = float(self.spec.penalty_ticks)
        self._window_ms = self.spec.horizon * self.spec.unit_ms
        periodic = self.spec.auction_mode == "periodic"
        self._auction_period_ms = self.spec.auction_period_seconds * 1000 if periodic else 0
        self._vwap_multiple = float(self.spec.vwap_multiple)
        #: ``position(unit)``: this agent's position (a partial: the hottest call of a wake-up)
        self._position = partial(reservations.position, self.agent)
        self.rejections = 0
        #: unit -> the last target the broker traded towards (for reports: fill against target)
        self.last_target: dict[int, int] = {}
        #: unit -> the critical fractile that target was the quantile of (newsvendor calibration)
        self.last_q: dict[int, float] = {}
        self._n = 0
        self._submit: Submit | None = None
        self._kernel: Kernel | None = None
        # This agent's resting orders by unit, read from the market once per wake-up: within a
        # wake-up only the agent's own commands change them, and a command only changes orders
        # of the units it names (a book matches within itself), so those units are marked stale
        # and the snapshot is re-read only if a stale unit is asked for. Outside a wake-up every
        # read goes to the market.
        self._live: dict[int, list[Any]] | None = None
        self._ref_unit: dict[str, int | None] = {}  # of the snapshot's orders; None: several units
        self._stale: set[int] = set()
        self._in_wake = False

    # -- scheduling -----------------------------------------------------------------------------
    def start(self, kernel: Kernel, submit: Submit) -> None:
        """Schedule the first wake-up after ``kernel.now``."""
        self._kernel, self._submit = kernel, submit
        self._schedule_from(kernel.now)

    def _draw_next(self, t_ms: int) -> int:
        return t_ms + 1 + int(self.rng.exponential(self.mean_gap_ms))

    def _schedule_from(self, t_ms: int) -> int:
        nxt = self._draw_next(t_ms)
        if nxt < self.spec.gate_ms(self.units[1]) and self._kernel is not None:
            self._kernel.schedule(nxt, self.wake)
        return nxt

    def wake(self, t_ms: int) -> None:
        """One wake-up: draw the next one first (so we know whether this is the last before a
        gate), then trade."""
        nxt = self._schedule_from(t_ms)
        self._in_wake = True
        try:
            self.act(t_ms, nxt)
        finally:
            self._in_wake = False
            self._live = None
            self._stale.clear()

    def act(self, t_ms: int, next_ms: int) -> None:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------------
    def deadline_ms(self, unit: int) -> int:
        """Last instant at which an order can still trade in ``unit``.

        In continuous trading that is the gate. In periodic call auctions it is the last
        clearing strictly before the gate (the exchange closes the gate before clearing at the
        same instant), so "the last wake-up" is the last one before that clearing.
        """
        gate = self.spec.gate_ms(unit)
        period = self._auction_period_ms
        if not period:
            return gate
        if self.spec.auction_align_gate:
            return gate - 1
        return max(0, (gate - 1) // period * period)

    def eligible_units(self) -> list[int]:
        first, last = self.units
        trades = self.client.trades
        return [u for u in sorted(self.market.open_units()) if first <= u <= last and trades(u)]

    def context(self, unit: int, t_ms: int) -> Context:
        price = self.board.expected_price(unit)
        penalty = max(self._penalty_ticks, self._vwap_multiple * price)
        q = critical_fractile(price, penalty, self.spec.surplus_ticks)
        return Context(
            t_ms,
            price,
            self.board.ref_price,
            q,
            penalty,
            self.spec.surplus_ticks,
            self._position,
            self._resting,
        )

    def _resting(self, unit: int) -> tuple[int, int]:
        sell = buy = 0
        for order in self._orders_in(unit):
            if order.side == "sell":
                sell += order.remaining
            else:
                buy += order.remaining
        return sell, buy

    def next_ref(self) -> str:
        self._n += 1
        return f"{self.agent}-{self._n}"

    def submit(self, command: Any) -> list[Any]:
        assert self._submit is not None, "broker not started"
        if self._live is not None:
            self._touch(command)
        events = self._submit(command)
        # A rejection needs no recovery (state is re-read at each wake-up); count it for reports.
        for ev in events:
            if isinstance(ev, OrderRejected) and ev.agent == self.agent:
                self.rejections += 1
        return events

    def live_in(self, unit: int) -> list[Any]:
        """This agent's resting orders in ``unit``, by order id."""
        return list(self._orders_in(unit))

    def _orders_in(self, unit: int) -> Sequence[Any]:
        if not self._in_wake:
            return sorted((o for o in self.market.live_orders(self.agent) if o.unit == unit), key=_order_id)
        live = self._live
        if live is None or unit in self._stale:
            live = self._live = {}
            refs = self._ref_unit = {}
            self._stale.clear()
            for o in self.market.live_orders(self.agent):
                live.setdefault(o.unit, []).append(o)
                refs[o.ref] = o.unit if refs.get(o.ref, o.unit) == o.unit else None
            for orders in live.values():
                orders.sort(key=_order_id)
        return live.get(unit, ())

    def _touch(self, command: Any) -> None:
        """Mark the units whose resting orders ``command`` may change as stale in the snapshot."""
        assert self._live is not None
        kind = type(command)
        if kind is PlaceLimit or kind is PlaceMarket:
            self._stale.add(command.unit)
        elif kind is Cancel or kind is Shrink:  # the unit of that ref's orders
            unit = self._ref_unit.get(command.ref)
            if unit is not None:
                self._stale.add(unit)
            else:
                self._live = None  # unknown to the snapshot, or a set: read everything again
        else:
            self._live = None

    def cancel_all(self, t_ms: int, orders: list[Any]) -> None:
        seen: list[str] = []
        for order in orders:
            if order.ref not in seen:
                seen.append(order.ref)
                self.submit(Cancel(t_ms, self.agent, order.ref))

    def gap_lots(self, plan: Plan, unit: int) -> int:
        """Lots to trade toward ``plan.target``: positive sell, negative buy.

        Sales round down (never promise more than the target); purchases round up only for
        clients whose consumption is uncertain (more reserved consumption is always safe).
        """
        gap = plan.target - self._position(unit)
        lot = self.spec.lot_units
        if gap >= 0:
            return gap // lot
        return -(-gap // lot) if not self.client.round_buys_up else -((-gap + lot - 1) // lot)


class TargetBroker(Broker):
    """Trades the gap to the client's target with resting limit orders around its reference.

    The reference ``r`` is the expected price of the unit (the mid quote in continuous trading,
    the unit's last clearing price or the price level in call auctions), kept within the
    client's own price limits (its value, cost or penalty). Quotes start ``markup / 2`` on the
    passive side of ``r`` and move in ``stages`` steps to ``markup / 2`` on the aggressive side
    as the deadline nears, shifted by a per-agent offset drawn once (traders differ, so the book
    holds a spread of prices and trades happen across the window, not only at the gate). The
    target is re-read at every wake-up (the forecast improves), so the order follows it until
    the gate.

    In its last wake-up before a unit's deadline an unconstrained client (a seller whose floor is
    the surplus price, a buyer whose ceiling is the penalty) takes the book with a market order
    when the opposite side has orders, and otherwise leaves a limit at ``r * (1 -/+ markup)`` in
    the book (liquidity for the others instead of a ``no_liquidity`` rejection); a client with a
    value or cost keeps its limit at that bound. In call auctions there are no market orders: the
    last order is a limit at ``r * (1 -/+ 2 markup)``, within the client's limits: a broker bids
    around its own reference, never at the penalty price as a reflex.

    Args (besides :class:`Broker`'s):
        markup: width of the quotes' walk around the reference (0.2 = +-10%).
        stages: the limit price moves in this many steps over the forward window, so resting
            orders are not re-posted at every wake-up.
        extra_units: open units handled per wake-up besides the one nearest its gate (and any
            unit whose gate comes before the next wake-up).
    """

    def __init__(
        self, *args: Any, markup: float = 0.2, stages: int = 4, extra_units: int = 2, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.markup = markup
        self.stages = stages
        self.extra_units = extra_units
        #: this trader's own place in the spread of quotes, in units of ``markup``
        self.bias = float(self.rng.uniform(-0.5, 0.5))

    def act(self, t_ms: int, next_ms: int) -> None:
        units = self.eligible_units()
        if not units:
            return
        lasts = {u for u in units if self.deadline_ms(u) <= next_ms}
        chosen = [u for u in units if u in lasts] or units[:1]
        rest = [u for u in units if u not in chosen]
        if rest and self.extra_units > 0:
            k = min(self.extra_units, len(rest))
            chosen += [rest[i] for i in sorted(sample_indices(self.rng, len(rest), k))]
        for unit in chosen:
            self.trade_unit(unit, t_ms, last=unit in lasts)

    def bounds(self, plan: Plan) -> tuple[int, int]:
        """The client's price limits within the market's price bounds: ``(floor, ceiling)``."""
        spec = self.spec
        return max(plan.floor, spec.min_price_ticks), min(plan.ceiling, spec.max_price_ticks)

    def reference(self, ctx: Context, plan: Plan) -> float:
        """The expected price, within the client's limits."""
        floor, ceiling = self.bounds(plan)
        return min(max(ctx.price, floor), max(floor, ceiling))

    def limit_price(self, unit: int, t_ms: int, selling: bool, plan: Plan, ctx: Context) -> int:
        """From ``markup / 2`` passive to ``markup / 2`` aggressive around the reference, never
        past the client's limits."""
        f = min(max((self.deadline_ms(unit) - t_ms) / self._window_ms, 0.0), 1.0)
        stage = math.ceil(f * self.stages) / self.stages
        shift = self.markup * (stage - 0.5 + self.bias)
        floor, ceiling = self.bounds(plan)
        r = min(max(ctx.price, floor), max(floor, ceiling))  # (self.reference, bounds read once)
        if selling:
            return max(floor, round(r * (1.0 + shift)), 1)
        return max(1, min(ceiling, round(r * (1.0 - shift))))

    def trade_unit(self, unit: int, t_ms: int, *, last: bool) -> None:
        ctx = self.context(unit, t_ms)
        plan = self.client.plan(unit, ctx)
        self.last_target[unit] = plan.target
        self.last_q[unit] = ctx.q
        lots = self.gap_lots(plan, unit)
        live = self.live_in(unit)
        side = "sell" if lots > 0 else "buy"
        qty = abs(lots) * self.spec.lot_units
        if last:
            self._last_order(unit, t_ms, lots, plan, ctx, live)
            return
        if lots == 0:
            self.cancel_all(t_ms, live)
            return
        price = self.limit_price(unit, t_ms, lots > 0, plan, ctx)
        self._replace(unit, t_ms, live, side, price, qty)

    def _replace(self, unit: int, t_ms: int, live: list[Any], side: str, price: int, qty: int) -> None:
        """Leave exactly one order of ``qty`` at ``price`` in ``unit`` (shrink when that will do)."""
        if len(live) == 1 and live[0].side == side and live[0].price == price:
            if live[0].remaining == qty:
                return
            if live[0].remaining > qty:  # shrinking keeps the queue position
                self.submit(Shrink(t_ms, self.agent, live[0].ref, qty))
                return
        self.cancel_all(t_ms, live)
        self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))

    def _walk(self, unit: int, selling: bool, qty: int) -> int | None:
        """The price of the opposite level at which the visible book covers ``qty`` (the last
        level if it does not), or ``None`` (empty side, or a market that shows no depth)."""
        depth = getattr(self.market, "depth", None)
        if depth is None:
            return None
        levels = depth(unit)["bids" if selling else "asks"]
        got, found = 0, None
        for price, level_qty, _ in levels:
            got, found = got + level_qty, price
            if got >= qty:
                break
        return found

    def _last_order(self, unit: int, t_ms: int, lots: int, plan: Plan, ctx: Context, live: list[Any]) -> None:
        if lots == 0:
            self.cancel_all(t_ms, live)
            return
        selling = lots > 0
        side = "sell" if selling else "buy"
        qty = abs(lots) * self.spec.lot_units
        floor, ceiling = self.bounds(plan)
        r = self.reference(ctx, plan)
        free = plan.floor <= max(1, self.spec.surplus_ticks) if selling else plan.ceiling >= ctx.penalty - 1
        if self.spec.auction_mode == "periodic":
            reach = (4.0 if free else 2.0) * self.markup
            price = max(floor, round(r * (1 - reach))) if selling else min(ceiling, round(r * (1 + reach)))
            if free:  # reach the visible opposite orders that cover the quantity, if that is further
                walk = self._walk(unit, selling, qty)
                if walk is not None:
                    price = max(floor, min(price, walk)) if selling else min(ceiling, max(price, walk))
            self._replace(unit, t_ms, live, side, max(1, price), qty)
            return
        if not free:  # a value or a cost to protect: keep the limit at it
            self._replace(unit, t_ms, live, side, floor if selling else ceiling, qty)
            return
        self.cancel_all(t_ms, live)
        opposite = self.market.best_bid(unit) if selling else self.market.best_ask(unit)
        if opposite is not None:
            self.submit(PlaceMarket(t_ms, self.agent, self.next_ref(), side, unit, qty))
            return
        price = (
            max(floor, round(r * (1 - self.markup)))
            if selling
            else min(ceiling, round(r * (1 + self.markup)))
        )
        self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, max(1, price), qty))

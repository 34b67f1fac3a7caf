"""Brokers: trading strategies that turn a client's wishes into commands.

* :class:`TargetBroker`, the target-position broker: for each open unit it asks its client for
  a target reservation (for uncontrollable clients, the newsvendor quantile of the forecast, see
  :func:`critical_fractile`) and trades the gap between that target and its position. Its
  limit prices start passive and grow more aggressive as the gate nears; in its last wake-up
  before a unit's gate it sends a market order (or, for a client with a cost or value to
  protect, a limit at that cost or value, so it never trades at a loss).
* :class:`ZIBroker`, zero-intelligence constrained trading (Gode & Sunder 1993): at each
  wake-up one random unit, a random size, and a price drawn uniformly from ``[cost, max]`` for
  sellers or ``[1, value]`` for buyers, so it never trades at a loss (fills happen at the
  resting order's price, which is at least as good as its own limit).

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
        self._last: dict[int, int] = {}

    def observe(self, events: list[Any]) -> None:
        for ev in events:
            if isinstance(ev, TradeExecuted):
                self._last[ev.unit] = ev.price
            elif isinstance(ev, GateClosed):
                self._last.pop(ev.unit, None)
                if ev.vwap is not None:
                    self.ref_price += self.smoothing * (ev.vwap - self.ref_price)

    def expected_price(self, unit: int) -> float:
        """Mid quote if both sides exist, else the unit's last trade, else the price level."""
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
    """Trades the gap to the client's target, limit orders then market orders near the gate.

    Args (besides :class:`Broker`'s):
        markup: how far from the expected price the first quotes sit (0.2 = 20%).
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

    def limit_price(self, unit: int, t_ms: int, selling: bool, plan: Plan, ctx: Context) -> int:
        """Passive far from the gate, crossing the spread in the last stage, never past the plan."""
        f = min(max((self.deadline_ms(unit) - t_ms) / self._window_ms, 0.0), 1.0)
        stage = math.ceil(f * self.stages) / self.stages
        if selling:
            bid = self.market.best_bid(unit)
            price = (
                bid
                if stage <= 1 / self.stages and bid is not None
                else round(ctx.price * (1 + self.markup * stage))
            )
            return max(plan.floor, price, 1)
        ask = self.market.best_ask(unit)
        price = (
            ask
            if stage <= 1 / self.stages and ask is not None
            else round(ctx.price * (1 - self.markup * stage))
        )
        return max(1, min(plan.ceiling, price))

    def trade_unit(self, unit: int, t_ms: int, *, last: bool) -> None:
        ctx = self.context(unit, t_ms)
        plan = self.client.plan(unit, ctx)
        self.last_target[unit] = plan.target
        lots = self.gap_lots(plan, unit)
        live = self.live_in(unit)
        side = "sell" if lots > 0 else "buy"
        qty = abs(lots) * self.spec.lot_units
        if last:
            self.cancel_all(t_ms, live)
            if lots == 0:
                return
            # Unconstrained clients take whatever the book offers; the others keep their limit.
            # Call auctions take no market orders: a limit at the client's bound does the same.
            free = (
                plan.floor <= max(1, self.spec.surplus_ticks) if lots > 0 else plan.ceiling >= ctx.penalty - 1
            )
            if free and self.spec.auction_mode != "periodic":
                self.submit(PlaceMarket(t_ms, self.agent, self.next_ref(), side, unit, qty))
            else:
                price = plan.floor if lots > 0 else plan.ceiling
                self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))
            return
        if lots == 0:
            self.cancel_all(t_ms, live)
            return
        price = self.limit_price(unit, t_ms, lots > 0, plan, ctx)
        if len(live) == 1 and live[0].side == side and live[0].price == price:
            if live[0].remaining == qty:
                return
            if live[0].remaining > qty:  # shrinking keeps the queue position
                self.submit(Shrink(t_ms, self.agent, live[0].ref, qty))
                return
        self.cancel_all(t_ms, live)
        self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))


class ZIBroker(Broker):
    """Gode & Sunder's ZI-C trader on a client's constraints.

    Args (besides :class:`Broker`'s):
        max_price: top of a seller's price range (ticks).
        max_lots: largest order size in lots.
    """

    def __init__(self, *args: Any, max_price: int, max_lots: int = 5, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.max_price = max_price
        self.max_lots = max_lots

    def act(self, t_ms: int, next_ms: int) -> None:
        units = self.eligible_units()
        if not units:
            return
        unit = units[int(self.rng.integers(len(units)))]
        plan = self.client.plan(unit, self.context(unit, t_ms))
        # A new shout replaces the previous one in that unit, as in the ZI experiments.
        self.cancel_all(t_ms, self.live_in(unit))
        lots = self.gap_lots(plan, unit)
        if lots == 0:
            return
        size = int(self.rng.integers(1, min(abs(lots), self.max_lots) + 1))
        qty = size * self.spec.lot_units
        if lots > 0:
            price = int(self.rng.integers(plan.floor, max(plan.floor, self.max_price) + 1))
            side = "sell"
        else:
            price = int(self.rng.integers(1, max(1, plan.ceiling) + 1))
            side = "buy"
        self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))

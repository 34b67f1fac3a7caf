"""Zero-intelligence and adaptive traders for clients with a value or a cost.

* :class:`ZIBroker`: the zero-intelligence traders of Gode & Sunder (1993), "Allocative
  efficiency of markets with zero-intelligence traders", JPE 101(1). At every shout the trader
  replaces its order in *each* open unit where its quantity is not traded yet with a fresh one
  for the whole remaining quantity, at a price drawn uniformly:

  - ZI-C (``constrained=True``, strategy ``zi``): buyers in ``[min_price, value]``, sellers in
    ``[cost, max_price]``, so no trade is ever at a loss (a fill happens at the resting order's
    price, at least as good as the trader's own limit);
  - ZI-U (``constrained=False``, strategy ``zi_u``): both sides in ``[min_price, max_price]``.

  Once a unit's quantity is traded the trader stays silent there. A trader with a stepped
  schedule (several G&S "units" at different values or costs, :class:`ValueBuyer` /
  :class:`CostSeller` ``steps``) quotes one step at a time, in order, each at its own limit.

  In continuous trading the traders follow Gode and Sunder's market rules (JPE 1993, section
  II: each bid, ask and transaction is for a single unit, a new bid must improve the standing
  bid and a new ask the standing ask, a transaction cancels all unaccepted bids and asks, the
  price is that of the earlier of the two crossing quotes): a shout whose price does not improve
  the best quote on its side of the book is discarded (the trader's earlier quote, if any, stays),
  one that does replaces the trader's earlier quote, and after any trade in a unit every ZI
  trader withdraws its quotes there at once (:meth:`ZIBroker.withdraw`, called by the simulation
  at the trade's instant, before anyone else acts), so each trade starts from an empty book as
  in their markets. Shouts come at the times of a Poisson process with ``shouts`` expected shouts
  per unit over the unit's trading window (not per hour), so a unit sees the same number of
  shouts whatever the market's horizon and unit length: the number of chances to trade is the
  parameter, and efficiency is flat in it above a few dozen (tested).

  In call markets (``auction.mode = "periodic"``) a ZI trader submits a fresh random order for
  each call instead: it shouts 1 ms before every clearing (``shouts`` is not used), replacing its
  order in every open unit; there is no standing quote to improve in a batch book.

* :class:`AdaptiveBroker`: a learning trader in the spirit of Cliff's ZIP (1997, "Minimal-
  intelligence agents for bargaining behaviors in market-based environments", HP Labs
  HPL-97-91), used to reproduce Smith's (1962) convergence, which ZI traders cannot show (their
  prices have no memory). Each trader holds a profit margin ``mu`` (its limit is ``value * (1 -
  mu)`` or ``cost * (1 + mu)``) carried from unit to unit and updated at every shout with
  Widrow-Hoff steps (rate ``beta``, momentum ``gamma``) toward a target price built from the
  last trade in the unit and the best opposite quote: a seller whose ask is below the last trade
  raises its price toward it, one above it (or facing no trade while its order rests) lowers it;
  buyers mirror this. Simplified from ZIP: the target comes from the book and the last trade
  read at the shout, not from every shout in the market.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rexnet.domain.commands import PlaceLimit
from rexnet.sim.broker import Broker
from rexnet.sim.client import Context
from rexnet.sim.device import CostSeller, ValueBuyer


class ZIBroker(Broker):
    """Gode & Sunder's ZI-C (``constrained``) or ZI-U trader on a value or cost client.

    Args (besides :class:`Broker`'s; ``wake_per_hour`` is replaced by ``shouts``):
        shouts: expected shouts per unit over its trading window.
        constrained: ZI-C (budget constraint) or ZI-U.
        min_price: bottom of the price range (ticks).
        max_price: top of the price range (ticks).
    """

    #: follow Gode and Sunder's quote rules in continuous trading (improve the standing quote;
    #: withdraw after a trade in the unit); the adaptive trader keeps its own quotes instead
    gs_rules = True

    def __init__(
        self,
        *args: Any,
        shouts: float,
        constrained: bool = True,
        min_price: int = 1,
        max_price: int,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.constrained = constrained
        self.min_price = max(1, min_price)
        self.max_price = max(self.min_price, max_price)
        self.shouts = shouts
        self.set_shouts(shouts)
        #: ``on_quote(unit, broker)``: told of every quote placed (the simulation withdraws the
        #: quotes of a unit after a trade there)
        self.on_quote: Callable[[int, ZIBroker], None] | None = None
        self._calls = self.gs_rules and self.spec.auction_mode == "periodic"

    def _draw_next(self, t_ms: int) -> int:
        if not self._calls:
            return super()._draw_next(t_ms)
        return self.next_call_ms(t_ms + 1) - 1  # (no draw: the rng stream is the quotes' alone)

    def next_call_ms(self, t_ms: int) -> int:
        """The first clearing strictly after ``t_ms`` of any unit (the exchange's clock: every
        multiple of the period, and with ``align_gate`` 1 ms before each gate)."""
        period = self._auction_period_ms
        due = (t_ms // period + 1) * period
        if self.spec.auction_align_gate:
            spec = self.spec
            unit = (t_ms + 1 + spec.gate_lead_ms) // spec.unit_ms
            while spec.gate_ms(unit) - 1 <= t_ms:
                unit += 1
            due = min(due, spec.gate_ms(unit) - 1)
        return due

    def withdraw(self, t_ms: int, unit: int) -> None:
        """Cancel this trader's quotes in ``unit`` (a trade there cancels all standing quotes)."""
        self.cancel_all(t_ms, self.live_in(unit))

    def improves(self, unit: int, selling: bool, price: int) -> bool:
        """Whether a quote at ``price`` beats the standing quote on its side (G&S's rule; always
        in call markets, where orders wait for the clearing)."""
        if self._calls or not self.gs_rules:
            return True
        if selling:
            ask = self.market.best_ask(unit)
            return ask is None or price < ask
        bid = self.market.best_bid(unit)
        return bid is None or price > bid

    def set_shouts(self, shouts: float) -> None:
        """``shouts`` per unit window: a Poisson rate of ``shouts`` per forward window."""
        self.shouts = shouts
        self.mean_gap_ms = self._window_ms / shouts

    def price_range(self, selling: bool, floor: int, ceiling: int) -> tuple[int, int]:
        """The uniform range of a shout's price (ticks, inclusive)."""
        if not self.constrained:
            return self.min_price, self.max_price
        if selling:
            return floor, max(floor, self.max_price)
        return min(self.min_price, ceiling), ceiling

    def bare_context(self, t_ms: int) -> Context | None:
        """For value and cost clients, a context without market expectations (they only read
        time and positions from it, and building every unit's expected price and fractile costs
        more than the shout itself); ``None`` for other clients (a full context per unit)."""
        if not isinstance(self.client, (ValueBuyer, CostSeller)):
            return None
        return Context(t_ms, 0.0, 0.0, 0.5, 0.0, 0, self._position, self._resting)

    def act(self, t_ms: int, next_ms: int) -> None:
        units = self.eligible_units()
        if not units:
            return
        bare = self.bare_context(t_ms)
        # one uniform draw per open unit, in one call (a numpy call per unit costs more than the
        # rest of the unit's work); a price is ``lo + floor(u * (hi - lo + 1))``
        draws = self.rng.random(len(units)).tolist()
        for unit, u in zip(units, draws, strict=True):
            plan = self.client.plan(unit, bare or self.context(unit, t_ms))
            self.last_target[unit] = plan.target
            lots = self.gap_lots(plan, unit)
            if lots == 0:
                live = self.live_in(unit)
                if live:
                    self.cancel_all(t_ms, live)
                continue
            selling = lots > 0
            lo, hi = self.price_range(selling, plan.floor, plan.ceiling)
            price = lo + min(int(u * (hi - lo + 1)), hi - lo)
            if not self.improves(unit, selling, price):
                continue  # discarded: the standing quote is better
            self.cancel_all(t_ms, self.live_in(unit))  # a new shout replaces the previous one
            qty = abs(lots) * self.spec.lot_units
            side = "sell" if selling else "buy"
            if self.on_quote is not None:  # (first: a trade this quote makes withdraws its rest)
                self.on_quote(unit, self)
            self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))


class AdaptiveBroker(ZIBroker):
    """A ZIP-style margin learner (see the module docstring).

    It keeps its one quote per unit until it changes its price (no G&S quote rules: the margin it
    learns is its price, and Poisson shouts in both mechanisms).

    Args (besides :class:`ZIBroker`'s):
        beta: learning rate of the Widrow-Hoff step.
        gamma: momentum.
        margin: initial profit margin (drawn uniformly in ``[margin / 2, margin]`` per trader).
    """

    def __init__(self, *args: Any, beta: float = 0.3, gamma: float = 0.05, margin: float = 0.3, **kw: Any):
        super().__init__(*args, **kw)
        self.beta = beta
        self.gamma = gamma
        self.mu = float(self.rng.uniform(margin / 2, margin))
        self._momentum = 0.0

    gs_rules = False

    def limit(self, selling: bool, floor: int, ceiling: int) -> float:
        return floor * (1.0 + self.mu) if selling else ceiling * (1.0 - self.mu)

    def learn(self, unit: int, selling: bool, floor: int, ceiling: int, resting: bool) -> None:
        """One Widrow-Hoff step of the margin toward the target price of ``unit`` now."""
        p = self.limit(selling, floor, ceiling)
        last = self.board.last_trade(unit)
        draw = self.rng.random(2).tolist()
        up, down = 1.0 + 0.05 * draw[0], 1.0 - 0.05 * draw[0]
        if selling:
            bid = self.market.best_bid(unit)
            if last is not None and p <= last:
                target = last * up  # trades happen above my price: ask more
            elif bid is not None and bid > p:
                target = bid * up
            elif (last is not None and p > last) or resting:
                target = (last if last is not None else p) * down  # undercut or unfilled: ask less
            else:
                return
        else:
            ask = self.market.best_ask(unit)
            if last is not None and p >= last:
                target = last * down
            elif ask is not None and ask < p:
                target = ask * down
            elif (last is not None and p < last) or resting:
                target = (last if last is not None else p) * up
            else:
                return
        target += 0.5 * (draw[1] - 0.5)  # ZIP's small absolute perturbation (ticks)
        self._momentum = self.gamma * self._momentum + (1.0 - self.gamma) * self.beta * (target - p)
        new = p + self._momentum
        if selling:
            self.mu = max(0.0, new / floor - 1.0)
        else:
            self.mu = min(max(0.0, 1.0 - new / ceiling), 1.0)

    def act(self, t_ms: int, next_ms: int) -> None:
        bare = self.bare_context(t_ms)
        for unit in self.eligible_units():
            plan = self.client.plan(unit, bare or self.context(unit, t_ms))
            self.last_target[unit] = plan.target
            live = self.live_in(unit)
            lots = self.gap_lots(plan, unit)
            if lots == 0:
                self.cancel_all(t_ms, live)
                continue
            selling = lots > 0
            self.learn(unit, selling, plan.floor, plan.ceiling, bool(live))
            price = round(self.limit(selling, plan.floor, plan.ceiling))
            price = min(max(price, self.min_price), self.max_price)
            qty = abs(lots) * self.spec.lot_units
            if len(live) == 1 and live[0].price == price and live[0].remaining == qty:
                continue
            self.cancel_all(t_ms, live)
            side = "sell" if selling else "buy"
            self.submit(PlaceLimit(t_ms, self.agent, self.next_ref(), side, unit, price, qty))

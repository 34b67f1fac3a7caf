"""The simulation: builds the population of a scenario and drives the market with it.

:class:`Simulation` turns a :class:`~rexnet.sim.scenario.Scenario` and a seed into agents
(client + broker each, ids like ``wind-003``, built and started in sorted id order), and runs
the discrete-event kernel: the market's own clock (merged as one re-armed wake-up), Poisson
wake-ups of the brokers, and one realization step per delivery unit at ``delivery_end - 1``
ms, where every agent with a reservation or a non-zero physical injection submits a
``Realize``. The run ends when every unit with a reservation or realization is settled.

Persistence is not done here: every batch of events the market returns is handed to
``on_events`` in order (the caller appends them to the ledger). Determinism: all randomness
comes from per-agent streams (:mod:`rexnet.sim.rng`) and the kernel's total order, so one
scenario and one seed give the same command stream in any process.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rexnet.domain.commands import Realize
from rexnet.domain.events import GateClosed, Realized, ReservationFixed, Settled, ShockApplied, TradeExecuted
from rexnet.domain.market import MarketSpec
from rexnet.sim.broker import Broker, PriceBoard, Reservations, TargetBroker
from rexnet.sim.client import Client, Household, Solar, StochasticClient, Wind
from rexnet.sim.device import CostSeller, Dispatchable, FlexibleLoad, Storage, ValueBuyer
from rexnet.sim.dispatch import DispatchBroker
from rexnet.sim.forecast import Shock
from rexnet.sim.kernel import PRIORITY_MARKET, PRIORITY_REALIZE, Kernel
from rexnet.sim.port import MarketPort
from rexnet.sim.profiles import shape_for
from rexnet.sim.registration import registration
from rexnet.sim.rng import agent_rng
from rexnet.sim.scenario import Scenario, SiteSection
from rexnet.sim.zi import AdaptiveBroker, ZIBroker

OnEvents = Callable[[list[Any]], None]
Progress = Callable[[int, int], None]


def _units(spec: MarketSpec, kw: float) -> float:
    """kW -> meter units (float; clients round at the edges)."""
    return float(Decimal(repr(kw)) / spec.meter_kw)


def _ticks(spec: MarketSpec, price: float) -> int:
    """currency/MWh -> whole ticks (nearest)."""
    return round(Decimal(repr(price)) / spec.tick)


def _steps(
    spec: MarketSpec, prices: tuple[float, ...] | None, total: float
) -> tuple[tuple[int, int], ...] | None:
    """A schedule ``((ticks, meter units), ...)``: ``total`` split evenly over ``prices`` (each step
    rounded down to whole meter units)."""
    if not prices:
        return None
    each = int(total // len(prices))
    return tuple((_ticks(spec, p), each) for p in prices)


def build_client(
    group: Any,
    agent: str,
    spec: MarketSpec,
    seed: int,
    shocks: tuple[Shock, ...],
    *,
    site: SiteSection | None = None,
) -> Client:
    """The client of one member of a population group (at ``site``, default: the default site)."""
    g = group
    if g.kind in ("wind", "solar", "household"):
        mmfe: dict[str, Any] = dict(
            sigma=g.sigma, rho=g.rho, lead=g.lead_units, final_share=g.final_share, shocks=shocks
        )
        # the expected profile, shared by every member of every group with the same parameters
        mmfe["shape"] = shape_for(g, site or SiteSection(), spec.unit_seconds)
        if g.kind == "wind":
            return Wind(agent, spec, seed, capacity=_units(spec, g.capacity_kw), mean_cf=g.mean_cf, **mmfe)
        if g.kind == "solar":
            return Solar(agent, spec, seed, capacity=_units(spec, g.pv_kwp), clearness=g.clearness, **mmfe)
        return Household(agent, spec, seed, mean=_units(spec, g.annual_kwh / 8760.0), **mmfe)
    if g.kind == "flexible":
        return FlexibleLoad(
            agent,
            spec,
            need=_units(spec, g.need_kwh) * 3600 / spec.unit_seconds,  # kWh -> meter units x units
            start_hour=g.start_hour,
            end_hour=g.end_hour,
            max_power=_units(spec, g.max_kw),
            value=_ticks(spec, g.value),
        )
    if g.kind == "dispatchable":
        cap, cost, ramp = _units(spec, g.capacity_kw), _ticks(spec, g.marginal_cost), _units(spec, g.ramp_kw)
        return Dispatchable(agent, spec, capacity=cap, cost=cost, ramp=ramp)
    if g.kind == "storage":
        return Storage(
            agent,
            spec,
            energy=_units(spec, g.energy_kwh) * 3600 / spec.unit_seconds,
            power=_units(spec, g.power_kw),
            efficiency=g.efficiency,
            soc=g.initial_soc,
            band=g.band,
        )
    if g.kind == "zi_buyer":
        power = _units(spec, g.max_kw)
        steps = _steps(spec, g.values, power)
        return ValueBuyer(agent, spec, max_power=power, value=_ticks(spec, g.value), steps=steps)
    if g.kind == "zi_seller":
        cap = _units(spec, g.capacity_kw)
        steps = _steps(spec, g.costs, cap)
        return CostSeller(agent, spec, capacity=cap, cost=_ticks(spec, g.cost), steps=steps)
    raise ValueError(f"unknown population kind {g.kind!r}")


def shock_of(s: Any, name: str, spec: MarketSpec) -> Shock:
    """The :class:`Shock` of a scenario's ``[[shocks]]`` entry (a ``ShockSpec``)."""
    if s.notice_s is not None:
        return Shock.with_notice(
            name,
            s.driver,
            s.first_unit,
            s.last_unit,
            s.factor,
            notice_ms=round(s.notice_s * 1000),
            unit_ms=spec.unit_ms,
        )
    return Shock(name, s.driver, s.first_unit, s.last_unit, s.factor, round(s.at_s * 1000))


def _shock_event(s: Shock) -> ShockApplied:
    factor = str(Decimal(repr(s.factor)))
    return ShockApplied(s.at_ms, s.name, s.driver, s.first_unit, s.last_unit, factor)  # type: ignore[call-arg]


#: per-unit memos of clients (see ``Simulation._forget``)
_PER_UNIT_CLIENT = ("_realized", "_reserved", "_output")


class Simulation:
    """One run of a scenario against a market.

    Args:
        scenario: the validated scenario.
        seed: run seed; ``None`` takes ``scenario.run.seed``.
        market: the market to drive (its ``spec`` should be ``scenario.to_spec()``).
        emit_shocks: also hand the run's own records to ``on_events``: an ``AgentRegistered``
            per agent when the run starts (and when :meth:`register` is called, e.g. by a fork)
            and a ``ShockApplied`` at each shock's time (off by default: the caller may record
            shocks itself from :meth:`shock_events`).
    """

    def __init__(
        self, scenario: Scenario, seed: int | None, market: MarketPort, *, emit_shocks: bool = False
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.run.seed if seed is None else seed
        self.market = market
        self.spec = market.spec
        self.emit_shocks = emit_shocks
        self.first_unit = scenario.first_unit()
        self.last_unit = self.first_unit + scenario.run.units - 1
        self.shocks = tuple(
            shock_of(s, s.name or f"shock-{i}", self.spec) for i, s in enumerate(scenario.shocks)
        )
        self.board = PriceBoard(market, float(Decimal(repr(scenario.run.price_prior)) / self.spec.tick))
        self.reservations = Reservations(market)
        self.kernel = Kernel(0)
        self.clients: dict[str, Client] = {}
        self.brokers: dict[str, Broker] = {}
        self._kinds: dict[str, str] = {}
        self._build()
        self._on_events: OnEvents = lambda events: None
        # ZI traders (Gode and Sunder's rules, continuous trading): unit -> traders that quoted
        # there since its last trade; a trade makes them withdraw those quotes at once
        self._quoted: dict[int, dict[str, ZIBroker]] = {}
        self._pending: set[int] = set()  # units with a reservation or realization, not yet settled
        self._realized_through = self.first_unit - 1
        self.commands = 0
        self._progress: Progress | None = None
        self._started = False

    # -- population -------------------------------------------------------------------------------
    def _build(self) -> None:
        numbers: dict[str, int] = {}
        members: list[tuple[str, Any]] = []
        #: the population as it is now (forks may change a group's parameters from a time on)
        self.groups: list[Any] = list(self.scenario.population)
        #: agent ids of each group, by index in ``groups``
        self.members: list[list[str]] = [[] for _ in self.groups]
        for index, group in enumerate(self.scenario.population):
            for _ in range(group.count):
                numbers[group.kind] = numbers.get(group.kind, 0) + 1
                members.append((f"{group.kind}-{numbers[group.kind]:03d}", group))
                self.members[index].append(members[-1][0])
        self._numbers = numbers
        for agent, group in sorted(members, key=lambda m: m[0]):
            client = build_client(group, agent, self.spec, self.seed, self.shocks, site=self.scenario.site)
            self.clients[agent] = client
            self._kinds[agent] = group.kind
            self.brokers[agent] = self._broker(group, client)
        # the library calls of the expected profiles happen here, once per shared shape
        for shape in {
            id(s): s for s in (getattr(c, "shape", None) for c in self.clients.values()) if s
        }.values():
            shape.warm(self.first_unit, self.last_unit)

    def add_agent(self, index: int) -> str:
        """Add one member to population group ``index`` from now on (for forks); returns its id.

        The id takes the next free number of the group's kind (e.g. ``wind-025``), so no existing
        agent is renamed; its RNG streams derive from the run seed and that id, so the other
        agents' draws are unchanged. Its broker's first wake-up comes after the current time.
        """
        group = self.groups[index]
        self._numbers[group.kind] = self._numbers.get(group.kind, 0) + 1
        agent = f"{group.kind}-{self._numbers[group.kind]:03d}"
        client = build_client(group, agent, self.spec, self.seed, self.shocks, site=self.scenario.site)
        broker = self._broker(group, client)
        # realizations walk ``clients`` in id order: keep the dict sorted
        self.clients = dict(sorted({**self.clients, agent: client}.items()))
        self._kinds = dict(sorted({**self._kinds, agent: group.kind}.items()))
        self.brokers = dict(sorted({**self.brokers, agent: broker}.items()))
        self.members[index].append(agent)
        if self._started:
            broker.start(self.kernel, self.submit)
            self.register([agent])
        return agent

    def registrations(self, agents: list[str] | None = None) -> list[Any]:
        """``agent_registered`` records of ``agents`` (default: all) at the current time, id order."""
        group_of = {agent: self.groups[i] for i, members in enumerate(self.members) for agent in members}
        chosen = sorted(group_of if agents is None else agents)
        return [registration(group_of[a], a, self.spec, self.kernel.now) for a in chosen]

    def register(self, agents: list[str]) -> None:
        """Record ``agents`` as they are now (joined or changed mid-run) when recording the run."""
        if self.emit_shocks and self._started and agents:
            self._on_events(self.registrations(agents))

    def _broker(self, group: Any, client: Client) -> Broker:
        common = dict(units=(self.first_unit, self.last_unit), wake_per_hour=group.wake_per_hour)
        rng = agent_rng(self.seed, client.agent)
        if group.strategy in ("zi", "zi_u", "adaptive"):
            cls = AdaptiveBroker if group.strategy == "adaptive" else ZIBroker
            zi = cls(
                client,
                self.market,
                rng,
                self.board,
                self.reservations,
                shouts=group.shouts,
                constrained=group.strategy != "zi_u",
                min_price=self.spec.min_price_ticks,
                max_price=min(_ticks(self.spec, group.max_price), self.spec.max_price_ticks),
                **common,
            )
            if zi.gs_rules and self.spec.auction_mode != "periodic":
                zi.on_quote = self._note_quote
            return zi
        if isinstance(client, Dispatchable):
            return DispatchBroker(client, self.market, rng, self.board, self.reservations, **common)
        return TargetBroker(
            client, self.market, rng, self.board, self.reservations, markup=group.markup, **common
        )

    def agent_types(self) -> dict[str, str]:
        """Agent id -> population kind, in id order (for reports)."""
        return dict(self._kinds)

    def shock_events(self) -> list[ShockApplied]:
        """The scenario's shocks as ``shock_applied`` records, in time order."""
        return sorted((_shock_event(s) for s in self.shocks), key=lambda e: e.t)

    # -- driving ----------------------------------------------------------------------------------
    def submit(self, command: Any) -> list[Any]:
        """Send one command to the market and hand its events on (brokers call this)."""
        self.commands += 1
        events = self.market.submit(command)
        self._dispatch(events)
        return events

    def _note_quote(self, unit: int, broker: ZIBroker) -> None:
        self._quoted.setdefault(unit, {})[broker.agent] = broker

    def _dispatch(self, events: list[Any]) -> None:
        if not events:
            return
        self.board.observe(events)
        self.reservations.observe(events)
        traded: list[tuple[int, int]] = []
        for ev in events:
            if isinstance(ev, (ReservationFixed, Realized)) and self.first_unit <= ev.unit <= self.last_unit:
                self._pending.add(ev.unit)
            elif isinstance(ev, Settled):
                self._pending.discard(ev.unit)
            elif self._quoted and type(ev) is TradeExecuted:
                if ev.unit in self._quoted:
                    traded.append((ev.t, ev.unit))
            elif self._quoted and type(ev) is GateClosed:
                self._quoted.pop(ev.unit, None)
        self._on_events(events)
        # Gode and Sunder: a transaction cancels all unaccepted bids and asks (of ZI traders)
        for t_ms, unit in traded:
            quoted = self._quoted.pop(unit, None)
            if quoted:
                for agent in sorted(quoted):
                    quoted[agent].withdraw(t_ms, unit)

    def _on_market_due(self, t_ms: int) -> None:
        self._dispatch(self.market.advance(t_ms))

    def _realize(self, unit: int) -> Callable[[int], None]:
        def step(t_ms: int) -> None:
            for agent in self.clients:  # id order
                reserved = self.reservations.position(agent, unit)
                x = self.clients[agent].realize(unit, reserved=reserved)
                if reserved != 0 or x != 0:
                    self.submit(Realize(t_ms, agent, unit, x))
            self._realized_through = unit
            self._forget(unit - self.reservations.keep)
            if self._progress is not None:
                self._progress(unit - self.first_unit + 1, self.scenario.run.units)

        return step

    def _forget(self, unit: int) -> None:
        """Drop what clients and brokers keep of ``unit``, long realized (as the reservations book
        does, a day and the window behind): per-unit memos that are never read again once their
        unit is realized, which would otherwise grow with the history (runs of many days; a fork,
        resume or audit re-executes the whole of it). ``last_target`` stays: run figures read it."""
        for client in self.clients.values():
            for name in _PER_UNIT_CLIENT:
                memo = getattr(client, name, None)
                if isinstance(memo, dict):
                    memo.pop(unit, None)
        for broker in self.brokers.values():
            memo = getattr(broker, "last_q", None)
            if isinstance(memo, dict):
                memo.pop(unit, None)

    def _emit(self, events: list[Any]) -> Callable[[int], None]:
        def step(t_ms: int) -> None:
            self._on_events(events)

        return step

    def done(self) -> bool:
        """Whether every unit is realized and settled (nothing more will be simulated)."""
        return self._realized_through >= self.last_unit and not self._pending

    def add_shock(self, shock: Shock) -> None:
        """Apply a shock from now on (for forks): forecasts learn it from ``shock.at_ms``.

        Units already realized keep their realizations; the past is not rewritten.
        """
        if shock.at_ms < self.kernel.now:
            raise ValueError(
                f"shock at {shock.at_ms} ms is before the simulation clock ({self.kernel.now} ms)"
            )
        self.shocks = (*self.shocks, shock)
        for client in self.clients.values():
            if isinstance(client, StochasticClient):
                client.shocks = self.shocks
        if self.emit_shocks and self._started:
            self.kernel.schedule(shock.at_ms, self._emit([_shock_event(shock)]), priority=PRIORITY_MARKET)

    def _start(self) -> None:
        k = self.kernel
        if self.emit_shocks:
            self._on_events(self.registrations())
        k.attach_clock(self.market.next_due_ms, self._on_market_due)
        if self.emit_shocks:
            for ev in self.shock_events():
                k.schedule(ev.t, self._emit([ev]), priority=PRIORITY_MARKET)
        for unit in range(self.first_unit, self.last_unit + 1):
            k.schedule(self.spec.delivery_end_ms(unit) - 1, self._realize(unit), priority=PRIORITY_REALIZE)
        for broker in self.brokers.values():
            broker.start(k, self.submit)
        self._started = True

    def run(
        self, on_events: OnEvents, progress: Progress | None = None, *, until_ms: int | None = None
    ) -> bool:
        """Drive the market until every unit with a reservation or realization is settled.

        Args:
            on_events: receives each batch of market events, in order.
            progress: called as ``progress(units_realized, units_total)``.
            until_ms: pause after every happening with time <= ``until_ms`` instead; a later
                call continues exactly where this one stopped (the stream is the same as one
                uninterrupted run), e.g. to fork a run at a time.

        Returns:
            ``True`` when the run is complete, ``False`` when paused at ``until_ms``.
        """
        self._on_events = on_events
        self._progress = progress
        if not self._started:
            self._start()
        # The market opens units forever; the cap only guards against a market that never settles.
        cap = self.spec.delivery_end_ms(self.last_unit) + self.spec.unit_ms
        self.kernel.run(cap if until_ms is None else min(cap, until_ms), stop=self.done)
        if self.done():
            return True
        if until_ms is not None and until_ms < cap:
            return False
        raise RuntimeError(f"simulation stopped with units {sorted(self._pending)} unsettled")

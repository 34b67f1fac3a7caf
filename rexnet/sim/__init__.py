"""The discrete-event, agent-based simulator that drives the exchange (DESIGN.md section 2).

Modules: ``kernel`` (event queue), ``rng`` (per-agent streams), ``forecast`` (MMFE forecasts,
shocks), ``client`` and ``device`` (prosumers' physics and economics), ``broker`` (strategies),
``scenario`` (TOML scenarios), ``simulation`` (:class:`Simulation`), ``port`` (the market protocol).
"""

from rexnet.sim.port import MarketPort
from rexnet.sim.scenario import Scenario, builtin_names, load_scenario
from rexnet.sim.simulation import Simulation

__all__ = ["MarketPort", "Scenario", "Simulation", "builtin_names", "load_scenario"]

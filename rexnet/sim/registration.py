"""``agent_registered`` records: who each simulated agent is, for the ledger and its analysts.

A simulated run records, right after ``run_started``, one :class:`AgentRegistered` per agent (in
id order): its population kind, the entry's ``group`` label (default: the kind) and
``attributes``, its strategy and the economic parameters that metrics need (values, costs and
capacities), converted exactly to the ledger's integer units. Parameters a kind does not have are
``None``. The fields are read by name from the population entry, so a new kind with the usual
parameter names (``capacity_kw``, ``max_kw``, ``cost`` ...) is described without code here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rexnet.domain.events import AgentRegistered
from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError

#: the ledger stores 64-bit integers
_LIMIT = 2**63


def _scaled(group: Any, names: tuple[str, ...], unit: Decimal) -> int | None:
    """The first of ``names`` the entry has, divided by ``unit`` and rounded to an integer."""
    for name in names:
        value = getattr(group, name, None)
        if value is not None:
            scaled = round(Decimal(repr(value)) / unit)
            if not -_LIMIT < scaled < _LIMIT:
                raise InputError(f"{name} = {value} is out of range")
            return scaled
    return None


def registration(group: Any, agent: str, spec: MarketSpec, t_ms: int) -> AgentRegistered:
    """The ``agent_registered`` record of member ``agent`` of population entry ``group``."""
    meter, tick = spec.meter_kw, spec.tick
    storage = getattr(group, "energy_kwh", None) is not None
    return AgentRegistered(
        t_ms,
        agent,
        group.kind,
        group.group or group.kind,
        dict(sorted(group.attributes.items())),
        group.strategy,
        _scaled(group, ("capacity_kw", "power_kw"), meter),  # capacity: most injection
        _scaled(group, ("max_kw", "power_kw") if storage else ("max_kw",), meter),  # demand
        _scaled(group, ("mean_kw",), meter),
        _scaled(group, ("marginal_cost", "cost"), tick),
        _scaled(group, ("value",), tick),
        _scaled(group, ("energy_kwh",), meter),  # kWh / meter_kw = meter units x hours
        _scaled(group, ("need_kwh",), meter),
    )

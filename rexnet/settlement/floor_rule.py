"""The floor rule of settlement (DESIGN.md section 1) as pure, exact integer arithmetic.

Both the live :class:`~rexnet.settlement.Settlement` and the audit's recomputation call
:func:`settle_unit`, so the two can only disagree when the log itself disagrees.

Per participant and delivery unit, with ``e`` the reservation and ``x`` the realization (meter
units), trade cash in money units (+ sells, - buys, ``price * qty`` per fill)::

    shortfall      = max(0, e - x)
    rate           = max(penalty_ticks, vwap_multiple * notional / volume)   # ticks, exact Fraction
    penalty        = round_half_up(shortfall * rate)                          # the only rounding
    surplus        = max(0, x - e)
    surplus_credit = surplus * surplus_ticks
    net_cash       = trade_cash - penalty + surplus_credit

A unit without trades (``volume == 0``) is penalised at ``penalty_ticks`` alone. One meter unit
times one tick is one money unit, so ``shortfall * rate`` is already money; it is a whole number
unless the VWAP term wins, and then it is rounded once, half-up (``floor(v + 1/2)``; penalties are
never negative, so "half-up" and "half away from zero" coincide). Half-up is also the rounding of
the ``vwap`` field of ``gate_closed``.

The system account (agent ``"system"``) receives every penalty and pays every surplus credit, so
the net cash of a unit over all rows including the system row is exactly zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import NamedTuple

from rexnet.domain.events import SYSTEM_AGENT, Settled
from rexnet.domain.market import MarketSpec

_HALF = Fraction(1, 2)


class ParticipantTerms(NamedTuple):
    """The settlement figures of one participant in one unit (money in money units)."""

    shortfall: int
    penalty: int
    surplus: int
    surplus_credit: int
    net_cash: int


def round_half_up(value: Fraction) -> int:
    """Nearest integer to ``value``, halves rounded up (towards +infinity)."""
    return math.floor(value + _HALF)


def penalty_rate(spec: MarketSpec, volume: int, notional: int) -> Fraction:
    """Penalty price of a unit in ticks (exact): the fixed price, or the VWAP multiple if higher.

    Args:
        spec: the market rules.
        volume: total traded quantity of the unit (meter units); 0 when nothing traded.
        notional: sum of ``price * qty`` over the unit's trades (money units).
    """
    rate = Fraction(spec.penalty_ticks)
    if volume > 0:
        rate = max(rate, spec.vwap_multiple * Fraction(notional, volume))
    return rate


def settle_participant(
    *, reserved: int, realized: int, trade_cash: int, rate: Fraction, surplus_ticks: int
) -> ParticipantTerms:
    """Apply the floor constraint ``x >= e`` to one participant (see the module docstring)."""
    shortfall = max(0, reserved - realized)
    surplus = max(0, realized - reserved)
    penalty = round_half_up(shortfall * rate)
    surplus_credit = surplus * surplus_ticks
    return ParticipantTerms(
        shortfall, penalty, surplus, surplus_credit, trade_cash - penalty + surplus_credit
    )


def settle_unit(
    spec: MarketSpec,
    unit: int,
    t_ms: int,
    *,
    reserved: Mapping[str, int],
    realized: Mapping[str, int],
    trade_cash: Mapping[str, int],
    volume: int,
    notional: int,
) -> list[Settled]:
    """The ``settled`` rows of one unit: one per participant (sorted by agent), then the system row.

    A participant is every agent present in any of ``reserved``, ``realized`` or ``trade_cash``; a
    missing value counts as 0 (a reservation without a realization realized 0).

    Raises:
        ValueError: an agent is named like the system account (it would be merged with it).
    """
    agents = sorted(set(reserved) | set(realized) | set(trade_cash))
    if SYSTEM_AGENT in agents:
        raise ValueError(f"agent name {SYSTEM_AGENT!r} is reserved for the system account")
    rate = penalty_rate(spec, volume, notional)
    rows: list[Settled] = []
    sum_e = sum_x = sum_short = sum_surplus = sum_penalty = sum_credit = 0
    for agent in agents:
        e = reserved.get(agent, 0)
        x = realized.get(agent, 0)
        cash = trade_cash.get(agent, 0)
        terms = settle_participant(
            reserved=e, realized=x, trade_cash=cash, rate=rate, surplus_ticks=spec.surplus_ticks
        )
        shortfall, penalty, surplus, credit, net_cash = terms
        rows.append(Settled(t_ms, agent, unit, e, x, cash, shortfall, penalty, surplus, credit, net_cash))
        sum_e += e
        sum_x += x
        sum_short += terms.shortfall
        sum_surplus += terms.surplus
        sum_penalty += terms.penalty
        sum_credit += terms.surplus_credit
    rows.append(system_row(unit, t_ms, sum_e, sum_x, sum_short, sum_penalty, sum_surplus, sum_credit))
    return rows


def system_row(
    unit: int,
    t_ms: int,
    reserved: int,
    realized: int,
    shortfall: int,
    penalty: int,
    surplus: int,
    surplus_credit: int,
) -> Settled:
    """The system account's row from the participants' totals: it receives penalties, pays credits.

    ``realized`` is the unit's system balance (sum of ``x``); ``reserved`` (sum of ``e``) is 0
    whenever the reservations come from trades.
    """
    return Settled(
        t_ms,
        SYSTEM_AGENT,
        unit,
        reserved,
        realized,
        0,
        shortfall,
        -penalty,
        surplus,
        -surplus_credit,
        penalty - surplus_credit,
    )

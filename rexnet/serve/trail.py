"""The settlement trail of one participant and unit: every event that made its settlement.

Its orders (with their shrinks, cancels and expiries), its trades, the unit's gate closure, its
reservation, its realization and its ``settled`` row, each with its seq; then the floor rule's
arithmetic worked again from those events with the settlement's own functions
(:func:`rexnet.settlement.floor_rule.penalty_rate` and ``settle_participant``), in exact integers,
and set against what was recorded.

Reads are bounded: a unit's events lie between its opening (``horizon`` units before it) and its
settlement (the system account's ``settled`` row, the last of the unit), so the trail reads that
stretch of the history only, found by a binary search on time.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from rexnet.domain.events import SYSTEM_AGENT
from rexnet.errors import InputError, RunNotFound
from rexnet.replay.decode import EVENT_OF
from rexnet.replay.history import read_history
from rexnet.replay.projection import run_spec
from rexnet.serve.fmt import money as money_text
from rexnet.serve.fmt import plain
from rexnet.serve.timeline import seq_at
from rexnet.settlement.floor_rule import penalty_rate, settle_participant

if TYPE_CHECKING:
    from rexnet.store.recorder import LedgerReader
    from rexnet.store.records import RunInfo

_TYPES = frozenset(
    {
        "order_accepted",
        "order_cancelled",
        "order_shrunk",
        "order_expired",
        "trade",
        "gate_closed",
        "reservation_fixed",
        "realized",
        "settled",
    }
)


class NotInUnit(RunNotFound):
    """The participant left no trace in the unit (a 404 page)."""


def collect(store: LedgerReader, run: RunInfo, agent: str, unit: int) -> dict[str, Any]:
    """The raw events (integer records with their seqs) of ``agent`` in ``unit``."""
    spec = run_spec(run)
    opens_ms = max(0, (unit - spec.horizon - 1) * spec.unit_seconds * 1000)
    start = seq_at(store, run, opens_ms - 1) + 1
    found: dict[str, Any] = {
        "orders": [],
        "updates": [],
        "trades": [],
        "gate": None,
        "reservation": None,
        "realized": None,
        "settled": None,
    }
    mine: set[int] = set()
    for row in read_history(store, run, from_seq=start, types=_TYPES):
        e = EVENT_OF(row)
        if getattr(e, "unit", None) != unit:
            continue
        kind = row.type
        if kind == "order_accepted" and e.agent == agent:
            mine.add(e.order_id)
            found["orders"].append((row.seq, e))
        elif kind in ("order_cancelled", "order_shrunk", "order_expired") and e.order_id in mine:
            found["updates"].append((row.seq, e))
        elif kind == "trade" and agent in (e.buyer, e.seller):
            found["trades"].append((row.seq, e))
        elif kind == "gate_closed":
            found["gate"] = (row.seq, e)
        elif kind in ("reservation_fixed", "realized") and e.agent == agent:
            found["reservation" if kind == "reservation_fixed" else "realized"] = (row.seq, e)
        elif kind == "settled":
            if e.agent == agent:
                found["settled"] = (row.seq, e)
            if e.agent == SYSTEM_AGENT:
                break  # the system row closes the unit's settlement
    if not (
        found["orders"] or found["trades"] or found["reservation"] or found["realized"] or found["settled"]
    ):
        raise NotInUnit(
            f"participant {agent!r} has no orders, trades, reservation or settlement in unit {unit}"
        )
    return found


def trail(store: LedgerReader, run: RunInfo, agent: str, unit: int) -> dict[str, Any]:
    """The trail's lines and the floor-rule arithmetic, in display units."""
    if unit < 0:
        raise InputError(f"unit {unit} is negative")
    spec = run_spec(run)
    found = collect(store, run, agent, unit)
    lines: list[dict[str, Any]] = []
    for seq, e in found["orders"]:
        price = "market" if e.price is None else plain(spec.price_display(e.price))
        lines.append(
            _line(
                seq,
                e,
                "order",
                f"{e.side} {plain(spec.kw_display(e.qty))} kW at {price} ({e.tif}, ref {e.ref})",
            )
        )
    for seq, e in found["updates"]:
        what = {"order_cancelled": "cancelled", "order_shrunk": "shrunk", "order_expired": "expired"}[
            type(e).TYPE
        ]
        lines.append(
            _line(seq, e, what, f"order {e.order_id}: remaining {plain(spec.kw_display(e.remaining))} kW")
        )
    bought = sold = cash = 0
    for seq, e in found["trades"]:
        sells = e.seller == agent
        value = e.price * e.qty
        cash += value if sells else -value
        sold += e.qty if sells else 0
        bought += 0 if sells else e.qty
        side, other = ("sold", e.buyer) if sells else ("bought", e.seller)
        lines.append(
            _line(
                seq,
                e,
                "trade",
                f"{side} {plain(spec.kw_display(e.qty))} kW at {plain(spec.price_display(e.price))} "
                f"(counterparty {other}); cash {'+' if sells else '-'}{money_text(spec, value)}",
            )
        )
    gate = found["gate"]
    if gate is not None:
        g = gate[1]
        vwap = "no trades" if g.vwap is None else f"VWAP {plain(spec.price_display(g.vwap))}"
        lines.append(
            _line(gate[0], g, "gate closed", f"unit volume {plain(spec.kw_display(g.volume))} kW, {vwap}")
        )
    for key, what in (("reservation", "reservation e"), ("realized", "realization x")):
        if found[key] is not None:
            seq, e = found[key]
            lines.append(_line(seq, e, what, f"{plain(spec.kw_display(e.qty))} kW"))
    if found["settled"] is not None:
        seq, e = found["settled"]
        lines.append(
            _line(seq, e, "settled", f"net cash {money_text(spec, e.net_cash)} (the floor rule below)")
        )
    lines.sort(key=lambda line: line["seq"])
    return {
        "agent": agent,
        "unit": unit,
        "lines": lines,
        "sums": {
            "sold": plain(spec.kw_display(sold)),
            "bought": plain(spec.kw_display(bought)),
            "trade_cash": money_text(spec, cash),
        },
        "arithmetic": arithmetic(spec, found, cash),
        "settled_seq": None if found["settled"] is None else found["settled"][0],
    }


def _line(seq: int, e: Any, what: str, text: str) -> dict[str, Any]:
    return {"seq": seq, "t": e.t / 1000.0, "what": what, "text": text}


def arithmetic(spec: Any, found: dict[str, Any], cash: int) -> list[dict[str, Any]] | None:
    """The floor rule worked again from the trail's events, line by line, against the record."""
    if found["settled"] is None:
        return None
    seq, s = found["settled"]
    e = found["reservation"][1].qty if found["reservation"] else 0
    x = found["realized"][1].qty if found["realized"] else 0
    gate = found["gate"][1] if found["gate"] else None
    volume, notional = (gate.volume, gate.notional) if gate else (0, 0)
    rate = penalty_rate(spec, volume, notional)
    terms = settle_participant(
        reserved=e, realized=x, trade_cash=cash, rate=rate, surplus_ticks=spec.surplus_ticks
    )
    kw = spec.kw_display

    def money(units: int) -> Decimal:
        return Decimal(money_text(spec, units))

    tick = Fraction(spec.tick)
    h = Fraction(spec.unit_seconds, 3600)
    vwap_term = (
        f"{plain(spec.penalty_vwap_multiple)} x VWAP {_dec(tick * Fraction(notional, volume))}"
        if volume
        else "no trades: fixed price only"
    )
    rows = [
        ("reserved e", "sold - bought", f"{plain(kw(e))} kW", e, s.reserved, kw),
        ("realized x", "measured net injection", f"{plain(kw(x))} kW", x, s.realized, kw),
        ("trade cash", "+ sells - buys at fill prices", plain(money(cash)), cash, s.trade_cash, money),
        (
            "shortfall",
            f"max(0, e - x) = max(0, {plain(kw(e))} - {plain(kw(x))})",
            f"{plain(kw(terms.shortfall))} kW",
            terms.shortfall,
            s.shortfall,
            kw,
        ),
        (
            "penalty price",
            f"max(fixed {plain(spec.penalty_price)}, {vwap_term})",
            f"{_dec(tick * rate)} /MWh",
            None,
            None,
            None,
        ),
        (
            "penalty",
            f"shortfall x price x {plain(_dec(h))} h / 1000, rounded half-up",
            plain(money(terms.penalty)),
            terms.penalty,
            s.penalty,
            money,
        ),
        (
            "surplus",
            f"max(0, x - e) = max(0, {plain(kw(x))} - {plain(kw(e))})",
            f"{plain(kw(terms.surplus))} kW",
            terms.surplus,
            s.surplus,
            kw,
        ),
        (
            "surplus credit",
            f"surplus x {plain(spec.surplus_price)} /MWh x {plain(_dec(h))} h / 1000",
            plain(money(terms.surplus_credit)),
            terms.surplus_credit,
            s.surplus_credit,
            money,
        ),
        (
            "net cash",
            "trade cash - penalty + surplus credit",
            plain(money(terms.net_cash)),
            terms.net_cash,
            s.net_cash,
            money,
        ),
    ]
    out = []
    for name, formula, value, mine, recorded, conv in rows:
        out.append(
            {
                "name": name,
                "formula": formula,
                "value": value,
                "recorded": None
                if recorded is None
                else plain(conv(recorded)) + (" kW" if conv is kw else ""),
                "agrees": None if recorded is None else mine == recorded,
                "seq": seq,
            }
        )
    return out


def _dec(value: Any) -> str:
    """A Decimal or Fraction shown with at most 6 decimals (exact when it has fewer)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return plain(value.quantize(Decimal("0.000001")).normalize())

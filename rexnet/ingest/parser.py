"""Reading external command streams: the JSONL format of ``rexnet ingest`` and market TOML files.

Everything here happens *before* anything is written: a whole file is parsed and validated first,
so a malformed line (not JSON, unknown op, missing or mistyped field, time going backwards) is an
:class:`~rexnet.errors.LineError` naming its line number and no run is created.

A well-formed order the market will refuse (price off the tick grid, quantity off the lot grid,
unit not open, ...) is *not* an input error: it becomes an ``order_rejected`` event with a reason
code. Prices and quantities off the integer grids cannot even be expressed as commands, so they
are turned into :class:`~rexnet.domain.commands.RefuseAtEdge` commands here, which the engine
records as rejections.
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from rexnet.domain.commands import (
    Cancel,
    PlaceLimit,
    PlaceMarket,
    PlaceSet,
    Realize,
    Reason,
    RefuseAtEdge,
    Shrink,
)
from rexnet.domain.limits import (
    INT64_MAX,
    MAX_KW,
    MAX_PRICE,
    MAX_TIME_S,
    MAX_UNIT_INDEX,
    NAME_MAX,
    active,
    is_reserved_agent,
    name_problem,
)
from rexnet.domain.market import MarketConfig, MarketSpec, to_grid
from rexnet.domain.strict import error_message, first_problem, kind_of
from rexnet.errors import InputError, LineError

MS = Decimal("0.001")

# Hard bounds of a line's numbers (rexnet.domain.limits); the grids and the work bounds come after.
# The types are pydantic's native ones (fast): :func:`_type_problem` has already refused booleans,
# strings and fractions where numbers or whole numbers belong, which lax mode would coerce.
_Time = Annotated[Decimal, Field(ge=0, le=MAX_TIME_S)]
_Unit = Annotated[int, Field(ge=-MAX_UNIT_INDEX, le=MAX_UNIT_INDEX)]
_Price = Annotated[Decimal, Field(ge=-MAX_PRICE, le=MAX_PRICE)]
_Qty = Annotated[Decimal, Field(ge=-MAX_KW, le=MAX_KW)]
_Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    t: _Time
    agent: _Name


class _Limit(_Line):
    op: Literal["limit"]
    ref: _Name
    side: Literal["buy", "sell"]
    unit: _Unit
    price: _Price
    qty: _Qty
    tif: Literal["gtc", "ioc", "fok"] = "gtc"


class _Market(_Line):
    op: Literal["market"]
    ref: _Name
    side: Literal["buy", "sell"]
    unit: _Unit
    qty: _Qty


class _Cancel(_Line):
    op: Literal["cancel"]
    ref: _Name


class _Shrink(_Line):
    op: Literal["shrink"]
    ref: _Name
    qty: _Qty


class _Set(_Line):
    op: Literal["set"]
    ref: _Name
    side: Literal["buy", "sell"]
    units: list[_Unit]
    price: _Price
    qty: _Qty


class _Realize(_Line):
    op: Literal["realize"]
    unit: _Unit
    qty: _Qty


_NUMBER_TYPES = (int, Decimal)  # what the decoder gives for JSON numbers (exact types: not bool)


def _type_problem(obj: dict[str, Any]) -> str | None:
    """Strict types of a decoded line, which pydantic's lax (fast) mode would coerce: numbers are
    JSON numbers (not booleans or strings), units are whole numbers."""
    for key in ("t", "price", "qty"):
        value = obj.get(key)
        if value is not None and type(value) not in _NUMBER_TYPES:
            return f"field {key!r}: Input should be a valid number, not {kind_of(value)}"
    value = obj.get("unit")
    if value is not None and type(value) is not int:
        return f"field 'unit': Input should be a valid integer, not {kind_of(value)}"
    units = obj.get("units")
    if type(units) is list:
        for i, value in enumerate(units):
            if type(value) is not int:
                return f"field 'units.{i}': Input should be a valid integer, not {kind_of(value)}"
    return None


@lru_cache(maxsize=4096)
def _agent_problem(agent: str) -> str | None:
    """:func:`name_problem` of an agent id (cached: a stream names few agents many times)."""
    problem = name_problem(agent)
    return None if problem is None else f"field 'agent': {problem}"


@lru_cache(maxsize=4096)
def _reserved(agent: str) -> bool:
    return is_reserved_agent(agent)


_LINE = TypeAdapter(
    Annotated[_Limit | _Market | _Cancel | _Shrink | _Set | _Realize, Field(discriminator="op")]
)


def _clip(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (messages stay one short line)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 40) -> str:
    """``repr`` of a user-given value, cut to ``limit`` characters."""
    return _clip(repr(value), limit)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    # the discriminated union puts the op name first in the location: drop it for readability
    if len(loc) > 1 and loc[0] in {"limit", "market", "cancel", "shrink", "set", "realize"}:
        loc = loc[1:]
    where = _clip(".".join(loc))
    if err["type"] == "union_tag_invalid":
        op = err["input"].get("op") if isinstance(err["input"], dict) else None
        return f"unknown op {_short(op)}"
    if err["type"] == "union_tag_not_found":
        return "missing field 'op'"
    if err["type"] == "missing":
        return f"missing field {where!r}"
    if err["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    return f"field {where!r}: {error_message(err)}"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict, refusing a repeated key (``json`` would keep the last one silently)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {_short(key)}")
            seen.add(key)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number (JSON has no NaN or Infinity)")


# one decoder for every line (``json.loads`` with options builds a new one per call)
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_object)


def _decode(raw: str) -> Any:
    """One line's JSON value: exact decimals, no NaN/Infinity, no repeated keys.

    Raises:
        ValueError: the message says what is wrong.
    """
    try:
        return _DECODER.decode(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError("not JSON (nested too deeply)") from None


def _qty_or_reject(line: Any, spec: MarketSpec, t: int) -> int | RefuseAtEdge:
    units = spec.qty_units(line.qty)
    if units is None:
        return RefuseAtEdge(
            t,
            line.agent,
            getattr(line, "ref", ""),
            Reason.OFF_LOT,
            f"qty {line.qty} kW is not a multiple of the lot {spec.lot_kw} kW",
        )
    return units


def _to_command(line: Any, spec: MarketSpec, t: int) -> Any:
    """The command for one validated line, or an :class:`RefuseAtEdge`."""
    if _reserved(line.agent):
        # every spelling of the system account (case, NFKC look-alikes): it never trades or realizes
        ref = getattr(line, "ref", None) or f"realize:{line.unit}"
        return RefuseAtEdge(
            t, line.agent, ref, Reason.RESERVED_AGENT, "the agent name is reserved for the system account"
        )
    if isinstance(line, _Cancel):
        return Cancel(t, line.agent, line.ref)
    if isinstance(line, _Realize):
        measured = spec.qty_units(line.qty)
        if measured is None:
            raise ValueError(f"qty {line.qty} kW is finer than the meter resolution {spec.meter_kw} kW")
        return Realize(t, line.agent, line.unit, measured)
    qty_or_refusal = _qty_or_reject(line, spec, t)
    if isinstance(qty_or_refusal, RefuseAtEdge):
        return qty_or_refusal
    qty: int = qty_or_refusal
    if isinstance(line, _Shrink):
        return Shrink(t, line.agent, line.ref, qty)
    if isinstance(line, _Market):
        return PlaceMarket(t, line.agent, line.ref, line.side, line.unit, qty)
    price = spec.price_ticks(line.price)
    if price is None:
        return RefuseAtEdge(
            t,
            line.agent,
            line.ref,
            Reason.OFF_TICK,
            f"price {line.price} is not a multiple of the tick {spec.tick}",
        )
    if isinstance(line, _Set):
        return PlaceSet(t, line.agent, line.ref, line.side, tuple(line.units), price, qty)
    return PlaceLimit(t, line.agent, line.ref, line.side, line.unit, price, qty, line.tif)


class _Bounds:
    """The stream-wide checks that keep every derived integer of the run inside 64 bits.

    A fill's cash is ``price x qty`` money units; a settlement's trade cash, penalty (shortfall x
    penalty price, the latter at most ``max(penalty_price, multiple x VWAP)``) and surplus credit
    are sums over the fills and quantities of the stream. So every money figure of the run, the
    system account's included, is at most a small multiple of (total quantity of the stream) x
    (highest price it can see): that product is kept below ``INT64_MAX / HEADROOM``.
    """

    HEADROOM = 8

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.volume = 0  # meter units: order quantities (x seats of a set) and |realizations|
        self.max_price = 0  # ticks, the highest |price| of an order so far
        self.top = max(spec.penalty_ticks, spec.surplus_ticks, 1)  # ticks, the highest any figure sees
        self.max_units = active().max_units
        self.max_set_units = active().max_set_units
        # the stream spans t // unit_ms + horizon units; the last instant within max_units:
        self.last_ms = (self.max_units - spec.horizon + 1) * spec.unit_ms - 1

    def check(self, command: Any) -> None:
        """Raise ``ValueError`` naming the field when ``command`` takes the stream past a bound."""
        if command.t > self.last_ms:
            span = command.t // self.spec.unit_ms + self.spec.horizon
            raise ValueError(
                f"field 't': the stream would span {span} delivery units (t / unit_seconds + horizon), "
                f"above the limit max_units = {self.max_units} (raise it with --limit max_units=N)"
            )
        kind = type(command)
        if kind is Cancel or kind is RefuseAtEdge:
            return
        qty = command.qty if command.qty >= 0 else -command.qty
        volume = qty
        if kind is PlaceLimit or kind is PlaceSet:
            price = command.price if command.price >= 0 else -command.price
            if price * qty > INT64_MAX:
                raise ValueError("fields 'price' x 'qty': the cash of a fill would exceed 64 bits")
            if kind is PlaceSet:
                seats = len(command.units)
                if seats > self.max_set_units:
                    raise ValueError(
                        f"field 'units': {seats} units, above the limit max_set_units = "
                        f"{self.max_set_units} (raise it with --limit max_set_units=N)"
                    )
                volume = qty * max(1, seats)
            if price > self.max_price:
                # a penalty may be a multiple of a unit's VWAP, itself at most the highest price
                self.max_price = price
                multiple = self.spec.vwap_multiple
                self.top = max(self.top, price, -(-price * multiple.numerator // multiple.denominator))
        self.volume += volume
        if self.volume * self.top * self.HEADROOM > INT64_MAX:
            raise ValueError(
                "field 'qty': the stream's total quantity x its highest price could exceed the 64-bit "
                "money range of the settlement (split the stream or use a coarser tick or meter)"
            )


class LineParser:
    """Validates the lines of one stream in order: the strict path, which says what is wrong.

    It keeps the stream's state (time order, :class:`_Bounds`). :mod:`rexnet.ingest.stream`
    tries a fast path first and hands a line here whenever that path is in any doubt, so every
    message comes from this code.
    """

    def __init__(self, name: str, spec: MarketSpec) -> None:
        self.name = name
        self.spec = spec
        self.bounds = _Bounds(spec)
        self.last_t = 0

    def parse(self, raw: str, number: int) -> Any:
        """The command of one non-blank line (``number`` counts from 1).

        Raises:
            LineError: the line is malformed or takes the stream past a bound.
        """
        name = self.name
        try:
            obj = _decode(raw)
        except ValueError as exc:
            raise LineError(name, number, str(exc)) from None
        if not isinstance(obj, dict):
            raise LineError(name, number, "not a JSON object")
        problem = _type_problem(obj)
        if problem is not None:
            raise LineError(name, number, problem)
        try:
            line = _LINE.validate_python(obj)
        except ValidationError as exc:
            raise LineError(name, number, _first_error(exc)) from None
        problem = _agent_problem(line.agent)
        if problem is None and not isinstance(line, _Realize):
            problem = name_problem(line.ref)
            problem = None if problem is None else f"field 'ref': {problem}"
        if problem is not None:
            raise LineError(name, number, problem)
        t = to_grid(line.t, MS)
        if t is None:
            raise LineError(name, number, f"t {line.t} is finer than a millisecond")
        if t < self.last_t:
            raise LineError(
                name, number, f"t {line.t} is earlier than the line before (lines must be in time order)"
            )
        try:
            command = _to_command(line, self.spec, t)
        except ValueError as exc:
            raise LineError(name, number, str(exc)) from None
        self.accept(command, number)
        return command

    def accept(self, command: Any, number: int) -> None:
        """Take a well-formed line's command into the stream's state (time order, bounds).

        Raises:
            LineError: the command takes the stream past a bound.
        """
        try:
            self.bounds.check(command)
        except ValueError as exc:
            raise LineError(self.name, number, str(exc)) from None
        self.last_t = command.t


def load_market(path: str | Path | None) -> tuple[MarketSpec, dict[str, Any]]:
    """The market rules from a TOML file (defaults when ``path`` is None) and its record form.

    Raises:
        InputError: unreadable file, bad TOML, unknown key or bad value (named in the message).
    """
    if path is None:
        spec = MarketConfig().to_spec()
        return spec, spec.to_record()
    name = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not valid TOML ({exc})") from None
    try:
        spec = MarketConfig.model_validate(data).to_spec()
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise InputError(f"{name}: {_clip(where)}: {what}") from None
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return spec, spec.to_record()

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
from dataclasses import dataclass
from decimal import Decimal
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
from rexnet.domain.market import MarketConfig, MarketSpec, to_grid
from rexnet.errors import InputError, LineError

MS = Decimal("0.001")


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    t: Decimal = Field(ge=0)
    agent: str = Field(min_length=1)


class _Limit(_Line):
    op: Literal["limit"]
    ref: str = Field(min_length=1)
    side: Literal["buy", "sell"]
    unit: int
    price: Decimal
    qty: Decimal
    tif: Literal["gtc", "ioc", "fok"] = "gtc"


class _Market(_Line):
    op: Literal["market"]
    ref: str = Field(min_length=1)
    side: Literal["buy", "sell"]
    unit: int
    qty: Decimal


class _Cancel(_Line):
    op: Literal["cancel"]
    ref: str = Field(min_length=1)


class _Shrink(_Line):
    op: Literal["shrink"]
    ref: str = Field(min_length=1)
    qty: Decimal


class _Set(_Line):
    op: Literal["set"]
    ref: str = Field(min_length=1)
    side: Literal["buy", "sell"]
    units: list[int]
    price: Decimal
    qty: Decimal


class _Realize(_Line):
    op: Literal["realize"]
    unit: int
    qty: Decimal


_LINE = TypeAdapter(
    Annotated[_Limit | _Market | _Cancel | _Shrink | _Set | _Realize, Field(discriminator="op")]
)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    # the discriminated union puts the op name first in the location: drop it for readability
    if len(loc) > 1 and loc[0] in {"limit", "market", "cancel", "shrink", "set", "realize"}:
        loc = loc[1:]
    where = ".".join(loc)
    if err["type"] == "union_tag_invalid":
        return f"unknown op {err['input'].get('op')!r}" if isinstance(err["input"], dict) else err["msg"]
    if err["type"] == "union_tag_not_found":
        return "missing field 'op'"
    if err["type"] == "missing":
        return f"missing field {where!r}"
    if err["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    return f"field {where!r}: {err['msg']}"


@dataclass
class ParsedStream:
    """A validated command stream: commands (and edge rejections) in time order."""

    commands: list[Any]
    lines: int


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


def parse_commands(path: str | Path, spec: MarketSpec) -> ParsedStream:
    """Parse and validate a whole JSONL command file.

    Raises:
        InputError: the file cannot be read.
        LineError: a line is malformed (its number is in the message).
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {name}: {exc}") from None
    commands: list[Any] = []
    last_t = 0
    count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        count += 1
        try:
            obj = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise LineError(name, number, f"not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise LineError(name, number, "not a JSON object")
        try:
            line = _LINE.validate_python(obj)
        except ValidationError as exc:
            raise LineError(name, number, _first_error(exc)) from None
        t = to_grid(line.t, MS)
        if t is None:
            raise LineError(name, number, f"t {line.t} is finer than a millisecond")
        if t < last_t:
            raise LineError(
                name, number, f"t {line.t} is earlier than the line before (lines must be in time order)"
            )
        last_t = t
        try:
            commands.append(_to_command(line, spec, t))
        except ValueError as exc:
            raise LineError(name, number, str(exc)) from None
    return ParsedStream(commands, count)


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
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: not valid TOML ({exc})") from None
    try:
        spec = MarketConfig.model_validate(data).to_spec()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        what = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise InputError(f"{name}: {where}: {what}") from None
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return spec, spec.to_record()

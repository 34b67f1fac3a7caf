"""Strict field types for the edge models (market and scenario TOML, ingest lines).

pydantic's lax mode turns ``true`` into 1, ``"8"`` into 8 and ``8.0`` into 8; at RexNet's edge a
boolean is not a number, a string is not a number, a fraction is not a whole number and NaN or
infinity is no value at all. These ``Annotated`` types say so, with one-line messages that the
loaders show after the key's name. Bounds stay with the fields (``Field(ge=..., le=...)``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from rexnet.domain.limits import name_problem, text_problem

_KINDS = {"bool": "a boolean", "int": "an integer", "float": "a float", "str": "a string", "list": "a list"}


def kind_of(value: Any) -> str:
    """'a boolean', 'a string', ...: what a value is, for messages."""
    name = type(value).__name__
    return _KINDS.get(name, "a table" if isinstance(value, dict) else f"a {name}")


def whole(value: Any) -> int:
    """An ``int`` (never a bool, float or string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Input should be a valid integer, not {kind_of(value)}")
    return value


#: validation context of stored records (``model_validate(..., context=RECORD)``): their decimals
#: were written as strings by ``model_dump(mode="json")``
RECORD = {"record": True}


def _decimal_field(value: Any, info: ValidationInfo) -> Decimal:
    """:func:`decimal`; a string is accepted only in a stored record (:data:`RECORD`), never from a user."""
    if isinstance(value, str) and info.context and info.context.get("record"):
        try:
            value = Decimal(value)
        except ArithmeticError:
            raise ValueError("expected a number") from None
    return decimal(value)


def decimal(value: Any) -> Decimal:
    """An exact finite :class:`Decimal` of an int, float or Decimal (floats via their repr)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"Input should be a valid number, not {kind_of(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Input should be a finite number")
        return Decimal(repr(value))
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError("Input should be a finite number")
    return d


def real(value: Any) -> float:
    """A finite ``float`` of an int or float (never a bool or string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"Input should be a valid number, not {kind_of(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError("number out of range") from None
    if not math.isfinite(out):
        raise ValueError("Input should be a finite number")
    return out


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"Input should be true or false, not {kind_of(value)}")
    return value


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Int = Annotated[int, BeforeValidator(whole)]
Dec = Annotated[Decimal, BeforeValidator(_decimal_field)]
Real = Annotated[float, BeforeValidator(real)]
Flag = Annotated[bool, BeforeValidator(flag)]
#: an agent id, order ref or run name (see :func:`rexnet.domain.limits.name_problem`)
Name = Annotated[str, AfterValidator(_name)]
#: a free text: bounded length, no control characters
Text = Annotated[str, AfterValidator(_text)]


_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")


def error_message(err: Any) -> str:
    """The one-line text of one pydantic error (``exc.errors()[i]``), without the key's name."""
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return _DECIMAL_REPR.sub(r"\1", msg)  # (pydantic writes decimal bounds as their repr)


def first_problem(exc: Any, *, unknown: str = "unknown key") -> tuple[str, str]:
    """``(where, what)`` of the first error of a pydantic ``ValidationError``: the dotted location
    of the bad key (empty at the top level) and its one-line message, ``unknown`` for a key the
    model does not take. The one formatter the edges build their one-line messages from."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return where, unknown if err["type"] == "extra_forbidden" else error_message(err)

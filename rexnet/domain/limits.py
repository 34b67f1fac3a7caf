"""The bounds every number and name crossing RexNet's edge must respect.

Two kinds of bound live here, and the README's *Limits* section lists them all:

* **Hard bounds** keep the integers inside 64 bits and the grids sensible; they cannot be raised.
  A price is at most :data:`MAX_PRICE` currency/MWh, a power at most :data:`MAX_KW` kW, the tick
  and the meter resolution at least :data:`MIN_TICK` / :data:`MIN_METER_KW`, every derived integer
  (ticks, meter units, money units = price x qty, penalties) at most :data:`INT64_MAX`.
* **Work bounds** (:class:`Limits`) stop a few bytes of input from asking for hours of work or
  millions of events: how many delivery units a run may span, the horizon, the population, the
  broker wake-ups of a simulation, the call auctions per unit, the seats of an order set. They
  are raised on purpose with ``rexnet --limit KEY=VALUE`` (repeatable), which sets the
  :func:`active` limits for one command.

Names (agent ids, order refs, run names) are short printable tokens (:func:`check_name`) and the
system account's name is reserved under every spelling that prints or folds alike
(:func:`is_reserved_agent`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from decimal import Decimal

#: every integer stored or derived (ticks, meter units, money units, ms) is a signed 64-bit value
INT64_MAX = 2**63 - 1

#: highest price (currency/MWh, in absolute value) anywhere: orders, penalties, scenario prices
MAX_PRICE = Decimal(1_000_000)
#: highest power (kW, in absolute value) of one order, realization or scenario parameter
MAX_KW = Decimal(1_000_000)
#: finest price grid (currency/MWh) and coarsest
MIN_TICK, MAX_TICK = Decimal("0.000001"), Decimal(1000)
#: finest meter resolution (kW) and coarsest
MIN_METER_KW, MAX_METER_KW = Decimal("0.000001"), Decimal(1000)
#: highest multiple of a unit's VWAP a penalty may be
MAX_VWAP_MULTIPLE = Decimal(1000)
#: a delivery unit divides a day (so days, hours of profiles and money units line up exactly)
DAY_SECONDS = 86_400
#: highest delivery unit index a line may name (far beyond any span; keeps unit x unit_ms in 64 bits)
MAX_UNIT_INDEX = 10**9
#: highest simulated time, seconds (about 317 years; t in ms stays far inside 64 bits)
MAX_TIME_S = Decimal(10**10)

#: agent ids, order refs, run names: 1..NAME_MAX characters
NAME_MAX = 64
#: free texts (scenario name and description, shock names)
TEXT_MAX = 1000
#: the name of the settlement's system account (the safety maintainer)
SYSTEM_NAME = "system"


@dataclass(frozen=True)
class Limits:
    """Work bounds; the defaults suit interactive use, ``rexnet --limit KEY=VALUE`` raises them.

    Attributes:
        max_units: delivery units a run may span (a simulation's ``start_unit + units +
            horizon``; the units an ingest stream's time span covers, plus the horizon).
        max_horizon: the forward window, in units.
        max_agents: members of a simulated population (all groups, forks included).
        max_wakeups: broker wake-ups a simulation may schedule in total (agents x
            ``wake_per_hour`` x simulated hours).
        max_auctions_per_unit: call-auction clearings one unit may see while open
            (``horizon * unit_seconds / period_seconds``).
        max_set_units: seats (units) of one order set.
        max_shocks: shocks of a scenario or a fork.
    """

    max_units: int = 100_000
    max_horizon: int = 10_000
    max_agents: int = 10_000
    max_wakeups: int = 20_000_000
    max_auctions_per_unit: int = 10_000
    max_set_units: int = 1_000
    max_shocks: int = 1_000

    def raised(self, pairs: list[str]) -> Limits:
        """These limits with ``KEY=VALUE`` pairs applied (``ValueError`` naming a bad pair)."""
        known = {f.name for f in fields(self)}
        changes: dict[str, int] = {}
        for pair in pairs:
            key, eq, raw = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not eq or key not in known:
                keys = ", ".join(sorted(known))
                raise ValueError(f"--limit {pair!r}: expected KEY=VALUE with KEY one of {keys}")
            raw = raw.strip().replace("_", "")
            if not raw.isdigit() or not 1 <= int(raw) <= INT64_MAX:
                raise ValueError(f"--limit {pair!r}: expected a positive whole number")
            changes[key] = int(raw)
        return replace(self, **changes)


DEFAULT = Limits()
#: what stored records are read with: they were checked when they were made (perhaps under
#: raised limits), and re-reading them must never refuse a run the ledger already holds
UNBOUNDED = Limits(*(INT64_MAX for _ in fields(Limits)))

_ACTIVE: ContextVar[Limits] = ContextVar("rexnet_limits", default=DEFAULT)


def active() -> Limits:
    """The work bounds in force (the defaults unless a caller chose others with :func:`using`)."""
    return _ACTIVE.get()


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Put ``limits`` in force for the ``with`` block."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


class LimitExceeded(ValueError):
    """Input past a work bound; the message names the bound and how to raise it."""

    def __init__(self, what: str, key: str, value: int, limit: int) -> None:
        super().__init__(
            f"{what} is {value}, above the limit {key} = {limit} (raise it with --limit {key}=N)"
        )


def check_work(what: str, key: str, value: int) -> None:
    """Raise :class:`LimitExceeded` when ``value`` is above the active bound ``key``."""
    limit: int = getattr(active(), key)
    if value > limit:
        raise LimitExceeded(what, key, value, limit)


# -- names ---------------------------------------------------------------------------------------

#: the run id shape (``uuid4().hex[:12]``): a run name may not look like one
RUN_ID = re.compile(r"[0-9a-f]{12}")


def name_problem(value: str, *, max_len: int = NAME_MAX) -> str | None:
    """Why ``value`` is not an acceptable name, or ``None``.

    A name is 1..``max_len`` characters, each printable and not a space (Unicode letters, marks,
    digits, punctuation and symbols), already in NFKC normal form (so no two spellings of one
    name that print alike, e.g. full-width letters).
    """
    if not value:
        return "must not be empty"
    if len(value) <= max_len and value.isascii() and value.isprintable() and " " not in value:
        return None  # (the common case, quickly: printable ASCII is its own NFKC form)
    if len(value) > max_len:
        return f"is {len(value)} characters long (at most {max_len})"
    for ch in value:
        if not ch.isprintable() or ch.isspace():
            return f"contains the character U+{ord(ch):04X} (names are printable, without spaces)"
    if unicodedata.normalize("NFKC", value) != value:
        return "is not in Unicode NFKC form (it has a look-alike spelling)"
    return None


def text_problem(value: str, *, max_len: int = TEXT_MAX) -> str | None:
    """Why a free text (description, label) is not acceptable: too long or with control characters."""
    if len(value) > max_len:
        return f"is {len(value)} characters long (at most {max_len})"
    for ch in value:
        if not ch.isprintable() and ch not in "\n\t":
            return f"contains the control character U+{ord(ch):04X}"
    return None


def is_reserved_agent(value: str) -> bool:
    """``True`` for every spelling of the system account: any case, spaces, NFKC look-alikes."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    folded = "".join(ch for ch in folded if ch.isprintable() and not ch.isspace())
    return folded == SYSTEM_NAME


def run_name_problem(value: str, *, typed: bool = True) -> str | None:
    """Why ``value`` cannot name a run: a bad name, or one shaped like a run id.

    ``typed``: a name given with ``--name`` (a token of :data:`NAME_MAX` characters, as
    :func:`name_problem`); otherwise one generated by a sweep or an experiment, which may be
    longer (up to :data:`TEXT_MAX`) and hold spaces, but is printable and in NFKC form too.
    """
    if typed:
        bad = name_problem(value)
    elif not value:
        bad = "must not be empty"
    elif len(value) > TEXT_MAX:
        bad = f"is {len(value)} characters long (at most {TEXT_MAX})"
    elif not value.isprintable():
        bad = "contains a non-printable character"
    elif unicodedata.normalize("NFKC", value) != value:
        bad = "is not in Unicode NFKC form (it has a look-alike spelling)"
    else:
        bad = None
    if bad is not None:
        return bad
    if RUN_ID.fullmatch(value):
        return "looks like a run id (12 hex digits); choose a name that does not"
    return None


def in_int64(value: int) -> bool:
    return -INT64_MAX - 1 <= value <= INT64_MAX

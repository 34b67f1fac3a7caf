"""Scenarios: a market, a population of prosumers and shocks, read from TOML and validated.

A scenario file has the market file's tables (``[market]``, ``[settlement]``, ``[auction]``,
reused from :class:`rexnet.domain.market.MarketConfig`), plus::

    name = "default"                 # optional
    extends = "default"              # optional: start from a built-in scenario, then override
    [run]          units = 96, seed = 0, start_unit = (horizon), price_prior = 50.0
    [site]         latitude = 51.32, longitude = 9.5, altitude = 170.0, timezone = "Europe/Berlin",
                   date = 2026-06-17     # delivery unit 0 starts at local midnight of the date
    [[population]] kind = "wind", count = 6, strategy = "target", capacity_kw = 4.0, ...
                   group = "estate", attributes = {income = "low"}     # optional labels
    [[shocks]]     driver = "wind", first_unit = 40, last_unit = 50, factor = 0.4, at_s = 31500
    [tariff]       flat = 250.0, tou = [{from_h = 0, to_h = 7, price = 180.0}, ...]  # optional

With ``extends``, tables are merged key by key and arrays (``population``, ``shocks``) are
replaced whole. Every table forbids unknown keys; a bad key or value raises
:class:`rexnet.errors.InputError` with one line naming it, e.g.
``scenario.toml: population[2].capacity_kw: Input should be greater than 0``.

Built-in scenarios ship as package data in ``rexnet/scenarios/*.toml`` and load by name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rexnet.domain import limits
from rexnet.domain.limits import INT64_MAX, MAX_KW, MAX_PRICE, MAX_TIME_S, MAX_UNIT_INDEX, LimitExceeded
from rexnet.domain.market import MarketConfig
from rexnet.domain.strict import RECORD, Int, Real, Text, error_message
from rexnet.errors import InputError

#: ``target``: the newsvendor / merit-order brokers; ``zi``: ZI-C and ``zi_u``: ZI-U (Gode &
#: Sunder 1993); ``adaptive``: a ZIP-style margin learner (Cliff 1997). See docs/agents.md.
Strategy = Literal["target", "zi", "zi_u", "adaptive"]

# hard bounds of the parameters (rexnet.domain.limits; README "Limits"): physical sizes and prices
# far beyond any prosumer's, and model parameters inside the range their models are meant for
PRICE_MAX = float(MAX_PRICE)  # currency/MWh
KW_MAX = float(MAX_KW)
KWH_MAX = 24 * KW_MAX
WAKE_MAX = 3600.0  # a broker wakes at most once a second on average
SIGMA_MAX = 10.0  # forecast noise, in units of the driver's level
LEAD_MAX = 1000  # forecast lead in units (the noise tables hold lead_units + 1 rows per unit)
FACTOR_MAX = 1000.0  # shock factor


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(_Model):
    """``[run]``: which delivery units, which seed, and the traders' price prior (currency/MWh)."""

    units: Int = Field(96, gt=0, le=MAX_UNIT_INDEX)
    seed: Int = Field(0, ge=0, le=INT64_MAX)
    #: first traded unit; default: the market horizon, the first unit with a full forward window
    start_unit: Int | None = Field(None, ge=1, le=MAX_UNIT_INDEX)
    price_prior: Real = Field(50.0, gt=0, le=PRICE_MAX)


# -- labels and tariffs (recorded for analysis; they do not change what agents do) ---------------
_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,31}$"
#: bounds of a population entry's attributes: they are copied into every member's
#: ``agent_registered`` event
MAX_ATTRIBUTES, MAX_TEXT = 16, 64


class _Labelled(_Model):
    """A population entry's ``group`` label (default: its kind) and ``attributes``.

    Attributes are a small table of strings, integers, floats or booleans (e.g.
    ``attributes = {income = "low", floor_area = 70}``): recorded in ``agent_registered``
    and shown by the ``agents`` view, for grouping costs and penalties in analysis.
    """

    group: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)

    @field_validator("attributes")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if not re.match(_KEY, key):
                raise ValueError(f"attribute name {key!r} must be an identifier of at most 32 characters")
            if not isinstance(item, (str, int, float, bool)):  # (bool is an int)
                raise ValueError(f"attribute {key} must be a string, a number or a boolean")
            if isinstance(item, str) and len(item) > MAX_TEXT:
                raise ValueError(f"attribute {key} is longer than {MAX_TEXT} characters")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"attribute {key} must be a finite number")
        return value


class TouPeriod(_Model):
    """One time-of-use period: ``price`` (currency/MWh) for units starting in [from_h, to_h)."""

    from_h: Real = Field(ge=0, lt=24)
    to_h: Real = Field(gt=0, le=24)
    price: Real = Field(ge=0, le=PRICE_MAX)


class Tariff(_Model):
    """``[tariff]``: retail prices a consumer's market cost is compared with (analysis only).

    ``flat`` is one price for every unit; ``tou`` lists periods of the day, in order, that
    cover 0..24 h exactly (a unit takes the price of the period its start time falls in).
    """

    flat: Real | None = Field(None, ge=0, le=PRICE_MAX)
    tou: tuple[TouPeriod, ...] = Field((), max_length=48)

    @model_validator(mode="after")
    def _covers_the_day(self) -> Tariff:
        if self.tou:
            edges = [0.0] + [p.to_h for p in self.tou]
            for i, period in enumerate(self.tou):
                if period.from_h != edges[i] or period.to_h <= period.from_h:
                    raise ValueError(f"tou[{i}] must start at {edges[i]:g} h and end after it")
            if edges[-1] != 24:
                raise ValueError("tou periods must cover the day up to 24 h")
        if self.flat is None and not self.tou:
            raise ValueError("give flat, tou or both")
        return self


class SiteSection(_Model):
    """``[site]``: where the prosumers are and which day unit 0 is (see :mod:`rexnet.sim.profiles`).

    The default is a German site (BDEW load profiles are German) on a summer weekday.
    """

    latitude: Real = Field(51.32, ge=-90, le=90)
    longitude: Real = Field(9.5, ge=-180, le=180)
    altitude: Real = Field(170.0, ge=-500, le=9000)
    timezone: Text = "Europe/Berlin"
    date: dt.date = dt.date(2026, 6, 17)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone {value!r} (an IANA name, e.g. "Europe/Berlin")') from None
        return value


class _Group(_Labelled):
    #: 0 switches a group off (handy in sweeps and overrides)
    count: Int = Field(1, ge=0, le=INT64_MAX)
    strategy: Strategy = "target"
    wake_per_hour: Real = Field(4.0, gt=0, le=WAKE_MAX)
    #: target broker: distance of the first quotes from the expected price
    markup: Real = Field(0.2, ge=0, lt=1)
    #: zi brokers: top of the price range (currency/MWh; never above the market's max_price)
    max_price: Real = Field(200.0, gt=0, le=PRICE_MAX)
    #: zi / adaptive brokers: expected shouts per delivery unit over its trading window (replaces
    #: wake_per_hour: the number of chances to trade, whatever the window's length)
    shouts: Real = Field(40.0, gt=0, le=WAKE_MAX)


class _Forecasted(_Group):
    """MMFE parameters (see :mod:`rexnet.sim.forecast`)."""

    sigma: Real = Field(0.15, ge=0, le=SIGMA_MAX)
    rho: Real = Field(0.6, ge=0, le=1)
    lead_units: Int = Field(16, gt=0, le=LEAD_MAX)
    final_share: Real = Field(0.1, ge=0, le=1)


class WindGroup(_Forecasted):
    """Wind: ``capacity_kw`` of a ``turbine``'s power curve (windpowerlib type) at ``hub_height``
    for a mean ``wind_speed`` at 10 m; ``profile = "stylized"``: capacity factor ``mean_cf``."""

    kind: Literal["wind"]
    profile: Literal["power_curve", "stylized"] = "power_curve"
    capacity_kw: Real = Field(4.0, gt=0, le=KW_MAX)
    turbine: Text = Field("E-82/2300", min_length=1, max_length=64)
    hub_height: Real = Field(98.0, gt=0, le=300)
    wind_speed: Real = Field(5.5, gt=0, le=40)
    #: read by ``profile = "stylized"`` only (the turbine's power curve gives the output otherwise)
    mean_cf: Real = Field(0.35, gt=0, le=1)

    @field_validator("turbine")
    @classmethod
    def _turbine(cls, value: str) -> str:
        from rexnet.sim.profiles import turbine_types

        known = turbine_types()
        if value not in known:
            close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(known[:3])}"
            raise ValueError(f"unknown windpowerlib turbine {value!r} ({hint})")
        return value


class SolarGroup(_Forecasted):
    """Solar: ``pv_kwp`` facing ``azimuth`` (degrees, 180 = south) at ``tilt``; pvlib clear sky
    times ``clearness`` (``profile = "stylized"``: a half sine from 6 to 18 h)."""

    kind: Literal["solar"]
    profile: Literal["pvwatts", "stylized"] = "pvwatts"
    pv_kwp: Real = Field(3.0, gt=0, le=KW_MAX)
    tilt: Real = Field(30.0, ge=0, le=90)
    azimuth: Real = Field(180.0, ge=0, lt=360)
    clearness: Real = Field(0.7, gt=0, le=1)

    @property
    def capacity_kw(self) -> float:
        """Peak output (kW): the PV peak power (recorded in ``agent_registered``)."""
        return self.pv_kwp

    sigma: Real = Field(0.2, ge=0, le=SIGMA_MAX)
    rho: Real = Field(0.7, ge=0, le=1)


class HouseholdGroup(_Forecasted):
    """Uncontrollable load of ``annual_kwh`` a year, shaped by a BDEW standard load profile
    (H0 households, G0 businesses, L0 farms; ``"stylized"``: two daily peaks)."""

    kind: Literal["household"]
    profile: Literal["bdew_h0", "bdew_g0", "bdew_l0", "stylized"] = "bdew_h0"
    annual_kwh: Real = Field(3500.0, gt=0, le=KW_MAX * 8760)

    @property
    def mean_kw(self) -> float:
        """Average load (kW) over a year (recorded in ``agent_registered``)."""
        return self.annual_kwh / 8760.0

    sigma: Real = Field(0.2, ge=0, le=SIGMA_MAX)
    rho: Real = Field(0.3, ge=0, le=1)
    final_share: Real = Field(0.3, ge=0, le=1)


class FlexibleGroup(_Group):
    kind: Literal["flexible"]
    need_kwh: Real = Field(6.0, gt=0, le=KWH_MAX)
    start_hour: Real = Field(8.0, ge=0, lt=24)
    end_hour: Real = Field(18.0, gt=0, le=24)
    max_kw: Real = Field(3.0, gt=0, le=KW_MAX)
    value: Real = Field(120.0, gt=0, le=PRICE_MAX)

    @model_validator(mode="after")
    def _window(self) -> FlexibleGroup:
        if self.start_hour >= self.end_hour:
            raise ValueError("start_hour must be below end_hour")
        return self


class DispatchableGroup(_Group):
    kind: Literal["dispatchable"]
    capacity_kw: Real = Field(10.0, gt=0, le=KW_MAX)
    marginal_cost: Real = Field(60.0, gt=0, le=PRICE_MAX)
    ramp_kw: Real = Field(5.0, gt=0, le=KW_MAX)


class StorageGroup(_Group):
    kind: Literal["storage"]
    energy_kwh: Real = Field(10.0, gt=0, le=KWH_MAX)
    power_kw: Real = Field(5.0, gt=0, le=KW_MAX)
    efficiency: Real = Field(0.9, gt=0, le=1)
    initial_soc: Real = Field(0.5, ge=0, le=1)
    band: Real = Field(0.1, ge=0, lt=1)


#: most steps of a ZI trader's schedule of values or costs
STEPS_MAX = 100


def _check_steps(
    group: Any, steps: tuple[float, ...] | None, single: str, power: str, dearest_first: bool
) -> None:
    """A schedule ``values``/``costs`` in trading order; it sets ``value``/``cost`` to its first
    step (an explicit different one is refused) and splits ``max_kw``/``capacity_kw`` evenly."""
    if steps is None:
        return
    name = "values" if dearest_first else "costs"
    ordered = all((a >= b) if dearest_first else (a <= b) for a, b in zip(steps, steps[1:], strict=False))
    if not ordered:
        order = (
            "non-increasing (dearest unit first)" if dearest_first else "non-decreasing (cheapest unit first)"
        )
        raise ValueError(f"{name} must be {order}: units are traded in order")
    if single in group.model_fields_set and getattr(group, single) != steps[0]:
        raise ValueError(f"give {single} or {name}, not both ({single} is the first of {name})")
    object.__setattr__(group, single, steps[0])


class ZIBuyerGroup(_Group):
    """A value buyer: ``max_kw`` at ``value`` per delivery unit, or ``values = [v1, v2, ...]``:
    ``max_kw`` split into that many equal steps bought in order, step ``i`` worth ``v_i``."""

    kind: Literal["zi_buyer"]
    strategy: Strategy = "zi"
    max_kw: Real = Field(2.0, gt=0, le=KW_MAX)
    value: Real = Field(100.0, gt=0, le=PRICE_MAX)
    values: tuple[Annotated[Real, Field(gt=0, le=PRICE_MAX)], ...] | None = Field(
        None, min_length=1, max_length=STEPS_MAX
    )

    @model_validator(mode="after")
    def _steps(self) -> ZIBuyerGroup:
        _check_steps(self, self.values, "value", "max_kw", True)
        return self


class ZISellerGroup(_Group):
    """A cost seller: ``capacity_kw`` at ``cost``, or ``costs = [c1, c2, ...]``: ``capacity_kw``
    split into that many equal steps sold in order, step ``i`` costing ``c_i``."""

    kind: Literal["zi_seller"]
    strategy: Strategy = "zi"
    capacity_kw: Real = Field(2.0, gt=0, le=KW_MAX)
    cost: Real = Field(40.0, gt=0, le=PRICE_MAX)
    costs: tuple[Annotated[Real, Field(gt=0, le=PRICE_MAX)], ...] | None = Field(
        None, min_length=1, max_length=STEPS_MAX
    )

    @model_validator(mode="after")
    def _steps(self) -> ZISellerGroup:
        _check_steps(self, self.costs, "cost", "capacity_kw", False)
        return self


Group = Annotated[
    WindGroup
    | SolarGroup
    | HouseholdGroup
    | FlexibleGroup
    | DispatchableGroup
    | StorageGroup
    | ZIBuyerGroup
    | ZISellerGroup,
    Field(discriminator="kind"),
]
KINDS = ("wind", "solar", "household", "flexible", "dispatchable", "storage", "zi_buyer", "zi_seller")


class ShockSpec(_Model):
    """``[[shocks]]``: ``driver`` output of units ``first_unit..last_unit`` times ``factor``.

    The realizations always reflect it. Forecasts know it ``notice_s`` (simulated seconds)
    before each affected unit's delivery starts (``notice_s = 0``: a sudden shock, discovered
    only at realization), or, without ``notice_s``, from ``at_s`` on for every affected unit
    (an announcement at a time).
    """

    name: Text = ""
    driver: Literal["wind", "solar", "load"]
    first_unit: Int = Field(ge=0, le=MAX_UNIT_INDEX)
    last_unit: Int = Field(ge=0, le=MAX_UNIT_INDEX)
    factor: Real = Field(ge=0, le=FACTOR_MAX)
    at_s: Real = Field(0.0, ge=0, le=float(MAX_TIME_S))
    notice_s: Real | None = Field(None, ge=0, le=float(MAX_TIME_S))

    @model_validator(mode="after")
    def _range(self) -> ShockSpec:
        if self.last_unit < self.first_unit:
            raise ValueError("last_unit must not be below first_unit")
        if self.notice_s is not None and self.at_s:
            raise ValueError(
                "give at_s (an announcement time) or notice_s (a notice before delivery), not both"
            )
        return self

    def known_at_s(self, unit_seconds: int) -> float:
        """The first instant (simulated seconds) at which forecasts know the shock: where an
        unshocked twin run may be forked to compare (0 for a sudden shock's first delivery)."""
        if self.notice_s is None:
            return self.at_s
        return max(0.0, self.first_unit * unit_seconds - self.notice_s)


class Scenario(MarketConfig):
    """A validated scenario: market tables, ``[run]``, ``[site]``, ``[[population]]``, ``[[shocks]]``."""

    name: Text = "scenario"
    description: Text = ""
    run: RunSection = RunSection.model_validate({})
    site: SiteSection = SiteSection.model_validate({})
    population: tuple[Group, ...] = ()
    shocks: tuple[ShockSpec, ...] = ()
    tariff: Tariff | None = None

    def to_record(self) -> dict[str, Any]:
        """Canonical JSON-able form: every key present, keys sorted, decimals as strings."""
        return _sorted(self.model_dump(mode="json"))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Scenario:
        # a stored record passed the limits in force when it was made (perhaps raised ones)
        with limits.using(limits.UNBOUNDED):
            return parse_scenario(record, source="scenario record", context=RECORD)

    def first_unit(self) -> int:
        start = self.run.start_unit
        return self.market.horizon if start is None else start


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _loc(loc: tuple[Any, ...]) -> str:
    """``('population', 2, 'wind', 'capacity_kw')`` -> ``population[2].capacity_kw``."""
    out = ""
    prev: Any = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(prev, int) and part in KINDS:
            pass  # the discriminated union's tag, not a key of the file
        else:
            out += ("." if out else "") + str(part)
        prev = part
    return out


def parse_scenario(data: dict[str, Any], *, source: str, context: dict[str, Any] | None = None) -> Scenario:
    """Validate a scenario mapping; ``InputError`` with one line naming the first bad key.

    Besides each key's type and bounds: the market rules together (:func:`check_rules`) and the
    work the scenario asks for (:func:`check_work`), against the active :mod:`~rexnet.domain.limits`.
    """
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = _loc(tuple(first["loc"]))
        msg = error_message(first)
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            where += ".kind"
        if first["type"] == "union_tag_not_found":
            msg = f"Field required (one of {', '.join(KINDS)})"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"{source}: {where or '(top level)'}: {msg}{more}") from None
    try:
        spec = scenario.to_spec()
    except LimitExceeded as exc:
        raise InputError(f"{source}: {exc}") from None
    except ValueError as exc:  # keys that are valid alone but inconsistent together
        raise InputError(f"{source}: market: {exc}") from None
    from rexnet.sim.registration import registration  # (it converts parameters to ledger integers)

    for i, group in enumerate(scenario.population):
        try:
            registration(group, group.kind, spec, 0)
        except InputError as exc:
            raise InputError(f"{source}: population[{i}]: {exc}") from None
    try:
        check_work(scenario, scenario.population)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    return scenario


def check_work(scenario: Scenario, population: tuple[Any, ...] | list[Any]) -> None:
    """Refuse a scenario (or a fork's changed ``population``) that asks for more work than the
    active limits allow, or whose money figures could leave 64 bits; ``ValueError`` naming why.
    """
    m = scenario.market
    span = scenario.first_unit() + scenario.run.units + m.horizon
    limits.check_work("run.start_unit + run.units + market.horizon", "max_units", span)
    agents = sum(g.count for g in population)
    limits.check_work("the population (sum of population[].count)", "max_agents", agents)
    limits.check_work("the number of shocks", "max_shocks", len(scenario.shocks))
    hours = span * m.unit_seconds / 3600
    wakeups = round(sum(g.count * g.wake_per_hour for g in population) * hours)
    limits.check_work("broker wake-ups (count x wake_per_hour x hours, summed)", "max_wakeups", wakeups)
    # one unit's money figures (a fill's price x qty, the system account's sum of penalties) are at
    # most (highest price) x (the population's total power); keep that far inside 64 bits
    spec = scenario.to_spec()
    top = max(
        [float(spec.penalty_price), float(spec.surplus_price), scenario.run.price_prior]
        + [getattr(g, k) for g in population for k in _PRICE_KEYS if hasattr(g, k)]
    )
    top_ticks = top * max(1.0, float(spec.penalty_vwap_multiple)) * 2 / float(spec.tick)
    power = sum(g.count * max(getattr(g, k, 0.0) for k in _POWER_KEYS) for g in population)
    units = power / float(spec.meter_kw)
    if top_ticks * units * _HEADROOM > INT64_MAX:
        raise ValueError(
            "the population's total power x the highest price could exceed the 64-bit money range "
            "(use a coarser market.tick or market.meter_kw, or fewer or smaller agents)"
        )


_PRICE_KEYS = ("max_price", "value", "cost", "marginal_cost")
_POWER_KEYS = ("capacity_kw", "mean_kw", "max_kw", "power_kw")
_HEADROOM = 2**10


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with RexNet."""
    folder = resources.files("rexnet") / "scenarios"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None


def _builtin_raw(name: str, source: str, depth: int = 0) -> dict[str, Any]:
    if name not in builtin_names():
        shown = repr(name) if len(name) <= 40 else repr(name[:37] + "...")
        raise InputError(f"{source}: no built-in scenario {shown} (have: {', '.join(builtin_names())})")
    text = (resources.files("rexnet") / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    return _resolve(_read_toml(text, f"{name}.toml"), f"{name}.toml", depth)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(raw: dict[str, Any], source: str, depth: int = 0) -> dict[str, Any]:
    """Apply ``extends`` (built-in names only, a few levels at most)."""
    if "extends" not in raw:
        return raw
    base_name = raw["extends"]
    if not isinstance(base_name, str) or depth > 4:
        raise InputError(f"{source}: extends: expected the name of a built-in scenario")
    rest = {k: v for k, v in raw.items() if k != "extends"}
    return _merge(_builtin_raw(base_name, source, depth + 1), rest)


def is_existing_file(path: Path) -> bool:
    """``path`` names an existing file; False (not an error) for a name the OS cannot even look up
    (too long, a NUL byte), which then fails as an unknown built-in name, in one line."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A scenario by built-in name (``"default"`` when ``None``) or from a TOML file path."""
    if name_or_path is None:
        name_or_path = "default"
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix == ".toml" or is_existing_file(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{text_name}: cannot read scenario file: {exc.strerror or exc}") from None
        source = path.name
        raw = _resolve(_read_toml(text, source), source)
    else:
        source = f"{text_name}.toml"
        raw = _builtin_raw(text_name, "scenario")
    raw.setdefault("name", path.stem if path.suffix == ".toml" else text_name)
    return parse_scenario(raw, source=source)


def record_json(scenario: Scenario) -> str:
    """The canonical JSON text of a scenario record (for hashing or storing)."""
    return json.dumps(scenario.to_record(), sort_keys=True, separators=(",", ":"))

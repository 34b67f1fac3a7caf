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

from rexnet.domain.market import MarketConfig
from rexnet.errors import InputError

#: ``target``: the newsvendor / merit-order brokers; ``zi``: ZI-C and ``zi_u``: ZI-U (Gode &
#: Sunder 1993); ``adaptive``: a ZIP-style margin learner (Cliff 1997). See docs/agents.md.
Strategy = Literal["target", "zi", "zi_u", "adaptive"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(_Model):
    """``[run]``: which delivery units, which seed, and the traders' price prior (currency/MWh)."""

    units: int = Field(96, gt=0)
    seed: int = Field(0, ge=0)
    #: first traded unit; default: the market horizon, the first unit with a full forward window
    start_unit: int | None = Field(None, ge=1)
    price_prior: float = Field(50.0, gt=0)


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

    from_h: float = Field(ge=0, lt=24)
    to_h: float = Field(gt=0, le=24)
    price: float = Field(ge=0)


class Tariff(_Model):
    """``[tariff]``: retail prices a consumer's market cost is compared with (analysis only).

    ``flat`` is one price for every unit; ``tou`` lists periods of the day, in order, that
    cover 0..24 h exactly (a unit takes the price of the period its start time falls in).
    """

    flat: float | None = Field(None, ge=0)
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

    latitude: float = Field(51.32, ge=-90, le=90)
    longitude: float = Field(9.5, ge=-180, le=180)
    altitude: float = Field(170.0, ge=-500, le=9000)
    timezone: str = "Europe/Berlin"
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
    count: int = Field(1, ge=0)
    strategy: Strategy = "target"
    wake_per_hour: float = Field(4.0, gt=0)
    #: target broker: distance of the first quotes from the expected price
    markup: float = Field(0.2, ge=0, lt=1)
    #: zi brokers: top of the price range (currency/MWh; never above the market's max_price)
    max_price: float = Field(200.0, gt=0)
    #: zi / adaptive brokers: expected shouts per delivery unit over its trading window (replaces
    #: wake_per_hour: the number of chances to trade, whatever the window's length)
    shouts: float = Field(40.0, gt=0)


class _Forecasted(_Group):
    """MMFE parameters (see :mod:`rexnet.sim.forecast`)."""

    sigma: float = Field(0.15, ge=0)
    rho: float = Field(0.6, ge=0, le=1)
    lead_units: int = Field(16, gt=0)
    final_share: float = Field(0.1, ge=0, le=1)


class WindGroup(_Forecasted):
    """Wind: ``capacity_kw`` of a ``turbine``'s power curve (windpowerlib type) at ``hub_height``
    for a mean ``wind_speed`` at 10 m; ``profile = "stylized"``: capacity factor ``mean_cf``."""

    kind: Literal["wind"]
    profile: Literal["power_curve", "stylized"] = "power_curve"
    capacity_kw: float = Field(4.0, gt=0)
    turbine: str = "E-82/2300"
    hub_height: float = Field(98.0, gt=0, le=300)
    wind_speed: float = Field(5.5, gt=0, le=40)
    #: read by ``profile = "stylized"`` only (the turbine's power curve gives the output otherwise)
    mean_cf: float = Field(0.35, gt=0, le=1)

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
    pv_kwp: float = Field(3.0, gt=0)
    tilt: float = Field(30.0, ge=0, le=90)
    azimuth: float = Field(180.0, ge=0, lt=360)
    clearness: float = Field(0.7, gt=0, le=1)

    @property
    def capacity_kw(self) -> float:
        """Peak output (kW): the PV peak power (recorded in ``agent_registered``)."""
        return self.pv_kwp

    sigma: float = Field(0.2, ge=0)
    rho: float = Field(0.7, ge=0, le=1)


class HouseholdGroup(_Forecasted):
    """Uncontrollable load of ``annual_kwh`` a year, shaped by a BDEW standard load profile
    (H0 households, G0 businesses, L0 farms; ``"stylized"``: two daily peaks)."""

    kind: Literal["household"]
    profile: Literal["bdew_h0", "bdew_g0", "bdew_l0", "stylized"] = "bdew_h0"
    annual_kwh: float = Field(3500.0, gt=0)

    @property
    def mean_kw(self) -> float:
        """Average load (kW) over a year (recorded in ``agent_registered``)."""
        return self.annual_kwh / 8760.0

    sigma: float = Field(0.2, ge=0)
    rho: float = Field(0.3, ge=0, le=1)
    final_share: float = Field(0.3, ge=0, le=1)


class FlexibleGroup(_Group):
    kind: Literal["flexible"]
    need_kwh: float = Field(6.0, gt=0)
    start_hour: float = Field(8.0, ge=0, lt=24)
    end_hour: float = Field(18.0, gt=0, le=24)
    max_kw: float = Field(3.0, gt=0)
    value: float = Field(120.0, gt=0)

    @model_validator(mode="after")
    def _window(self) -> FlexibleGroup:
        if self.start_hour >= self.end_hour:
            raise ValueError("start_hour must be below end_hour")
        return self


class DispatchableGroup(_Group):
    kind: Literal["dispatchable"]
    capacity_kw: float = Field(10.0, gt=0)
    marginal_cost: float = Field(60.0, gt=0)
    ramp_kw: float = Field(5.0, gt=0)


class StorageGroup(_Group):
    kind: Literal["storage"]
    energy_kwh: float = Field(10.0, gt=0)
    power_kw: float = Field(5.0, gt=0)
    efficiency: float = Field(0.9, gt=0, le=1)
    initial_soc: float = Field(0.5, ge=0, le=1)
    band: float = Field(0.1, ge=0, lt=1)


class ZIBuyerGroup(_Group):
    kind: Literal["zi_buyer"]
    strategy: Strategy = "zi"
    max_kw: float = Field(2.0, gt=0)
    value: float = Field(100.0, gt=0)


class ZISellerGroup(_Group):
    kind: Literal["zi_seller"]
    strategy: Strategy = "zi"
    capacity_kw: float = Field(2.0, gt=0)
    cost: float = Field(40.0, gt=0)


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

    name: str = ""
    driver: Literal["wind", "solar", "load"]
    first_unit: int = Field(ge=0)
    last_unit: int = Field(ge=0)
    factor: float = Field(ge=0)
    at_s: float = Field(0.0, ge=0)
    notice_s: float | None = Field(None, ge=0)

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

    name: str = "scenario"
    description: str = ""
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
        return parse_scenario(record, source="scenario record")

    def market_config(self) -> MarketConfig:
        return MarketConfig(market=self.market, settlement=self.settlement, auction=self.auction)

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


def parse_scenario(data: dict[str, Any], *, source: str) -> Scenario:
    """Validate a scenario mapping; ``InputError`` with one line naming the first bad key."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = _loc(tuple(first["loc"]))
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            where += ".kind"
        if first["type"] == "union_tag_not_found":
            msg = f"Field required (one of {', '.join(KINDS)})"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"{source}: {where or '(top level)'}: {msg}{more}") from None
    try:
        spec = scenario.to_spec()
    except ValueError as exc:  # keys that are valid alone but inconsistent together
        raise InputError(f"{source}: market: {exc}") from None
    from rexnet.sim.registration import registration  # (it converts parameters to ledger integers)

    for i, group in enumerate(scenario.population):
        try:
            registration(group, group.kind, spec, 0)
        except InputError as exc:
            raise InputError(f"{source}: population[{i}]: {exc}") from None
    return scenario


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
        raise InputError(f"{source}: no built-in scenario {name!r} (have: {', '.join(builtin_names())})")
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


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A scenario by built-in name (``"default"`` when ``None``) or from a TOML file path."""
    if name_or_path is None:
        name_or_path = "default"
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix == ".toml" or path.exists():
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

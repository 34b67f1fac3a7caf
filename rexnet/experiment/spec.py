"""Experiment specs: a research question as a declarative TOML file, validated with pydantic.

An experiment file names a base scenario, what varies, the seeds (the same for every condition,
so comparisons are paired), the metrics and the figures::

    name = "parameters"
    question = "c"                       # the seed's question it answers
    title = "What do prosumer and market parameters do?"
    scenario = "default"                 # built-in name or a scenario file (relative to this file)
    design = "levels"                    # "levels": factors one at a time; "fork": shocks as forks
    metrics = ["penalties", "deficit_kwh"]
    headline = ["penalties"]             # the numbers index.html leads with

    [scales.small]                       # --scale small (the default) and --scale full
    seeds = 5
    units = 12
    seconds_per_run = 6                  # what one run takes on one core (for the estimate)
    [scales.small.set]                   # changes of the base scenario at this scale
    "population.household.count" = 12

    [[factors]]                          # design = "levels": each factor varied alone
    key = "settlement.penalty_price"
    label = "penalty price (currency/MWh)"
    levels = [500.0, 1000.0, 3000.0, 6000.0]   # the first level is the baseline of paired differences

    [[treatments]]                       # design = "fork": the baseline run forked at the shock's notice
    name = "sudden_wind_drop"
    label = "sudden wind drop"
    band = 0.1                           # recovery: unit VWAP back within 10% of the unshocked run
    [treatments.shock]
    driver = "wind"
    first_unit = 20
    last_unit = 24
    factor = 0.4
    at_s = 18000.0                       # when it becomes known (the fork time)

    [[figures]]
    metric = "penalties"
    title = "Penalties against the penalty price"

Unknown keys, bad values and metrics that do not exist are bad input (exit 2) naming the key.
The experiments of the seed ship in ``rexnet/experiment/specs/``; copy one, edit it and run it by
path.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rexnet.domain.strict import first_problem
from rexnet.errors import InputError
from rexnet.experiment.metrics import METRICS
from rexnet.sim.scenario import is_existing_file

Scale = Literal["small", "full"]


class _Model(BaseModel):
    # strict: a string is not a number, a boolean is not a count; no NaN or infinity
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ScaleSpec(_Model):
    """One scale of an experiment: how many seeds and units, and changes of the base scenario."""

    seeds: int = Field(ge=2, le=1000)
    units: int | None = Field(None, ge=1, le=10_000)
    seconds_per_run: float = Field(10.0, gt=0, le=86_400)
    set: dict[str, Any] = Field(default_factory=dict)


class FactorSpec(_Model):
    """A parameter varied alone (the others stay at the base scenario's values)."""

    key: str = Field(min_length=1, max_length=200)
    label: str = Field("", max_length=200)
    levels: list[Any] = Field(min_length=2, max_length=50)


class TreatmentSpec(_Model):
    """A shock applied by forking each baseline run at the time the shock becomes known."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    label: str = Field("", max_length=200)
    band: float = Field(0.1, gt=0, le=10)
    shock: dict[str, Any]


class FigureSpec(_Model):
    metric: str = Field(min_length=1, max_length=200)
    title: str = Field("", max_length=200)


class ExperimentSpec(_Model):
    """A validated experiment file (see the module docstring)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    question: str = Field("", max_length=20)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    scenario: str = Field("default", min_length=1, max_length=500)
    design: Literal["levels", "fork"] = "levels"
    metrics: list[str] = Field(min_length=1)
    headline: list[str] = Field(default_factory=list)
    scales: dict[Scale, ScaleSpec]
    factors: list[FactorSpec] = Field(default_factory=list)
    treatments: list[TreatmentSpec] = Field(default_factory=list)
    figures: list[FigureSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        for i, name in enumerate(self.metrics):
            if name not in METRICS:
                raise ValueError(f"metrics[{i}]: unknown metric {name!r} (have: {', '.join(METRICS)})")
        if "small" not in self.scales:
            raise ValueError("scales: a [scales.small] table is required")
        if self.design == "levels" and not self.factors:
            raise ValueError("factors: a levels design needs at least one [[factors]] table")
        if self.design == "fork" and not self.treatments:
            raise ValueError("treatments: a fork design needs at least one [[treatments]] table")
        if self.design == "levels" and self.treatments:
            raise ValueError("treatments: only a fork design has treatments")
        if self.design == "fork" and self.factors:
            raise ValueError("factors: a fork design has treatments, not factors")
        names = [t.name for t in self.treatments]
        if len(set(names)) != len(names):
            raise ValueError("treatments: a name is used twice")
        keys = [f.key for f in self.factors]
        if len(set(keys)) != len(keys):
            raise ValueError("factors: a key is listed twice")
        return self


def builtin_names() -> list[str]:
    """The experiments shipped with RexNet."""
    folder = resources.files("rexnet.experiment") / "specs"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_experiment(ref: str) -> tuple[ExperimentSpec, Path | None]:
    """An experiment by built-in name or by path; ``(spec, folder of the file or None)``.

    Raises:
        InputError: no such experiment, unreadable or malformed file, a bad key (named).
    """
    path = Path(ref)
    if ref.endswith(".toml") or "/" in ref or is_existing_file(path):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{ref}: cannot read experiment file: {exc}") from None
        return parse_experiment(text, source=path.name), path.parent
    if ref not in builtin_names():
        raise InputError(
            f"unknown experiment {ref!r} (built-in: {', '.join(builtin_names())}; or a .toml path)"
        )
    text = (resources.files("rexnet.experiment") / "specs" / f"{ref}.toml").read_text(encoding="utf-8")
    return parse_experiment(text, source=f"{ref}.toml"), None


def parse_experiment(text: str, *, source: str) -> ExperimentSpec:
    """Validate the TOML text of an experiment (see :func:`load_experiment`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise InputError(f"{source}: {where + ': ' if where else ''}{what}".rstrip(".")) from None

"""Sweep files: a base scenario, a grid of parameter values and seeds, expanded into runs.

A sweep file (TOML)::

    name = "penalty-study"        # optional; default: the file's stem
    scenario = "default"          # a built-in name or a scenario file (relative to this file)
    seeds = [1, 2, 3]             # a list, or a count: seeds = 3 means 0, 1, 2 (default: the scenario's)
    units = 4                     # optional: run.units of every run

    [set]                         # optional: the same change in every run
    "run.price_prior" = 55.0

    [grid]                        # one run per combination of values, per seed
    "settlement.penalty_price" = [1000.0, 3000.0]
    "population[3].count" = [2, 8]

Instead of a ``[grid]``, a sweep may list its points one by one (each a table of keys and values;
an empty table is the base scenario), e.g. to vary one factor at a time::

    [[points]]
    [[points]]
    "settlement.penalty_price" = 1000.0
    [[points]]
    "population.household.count" = 48

Keys are dotted paths into the scenario (``market.horizon``, ``settlement.penalty_price``,
``run.price_prior``, ``population[I].FIELD``, ``shocks[I].FIELD``), ``population.KIND.FIELD``
(every group of that kind), or ``population`` / ``shocks`` to replace the whole array (e.g.
``"shocks" = [[], [{driver = "wind", first_unit = 40, last_unit = 50, factor = 0.4}]]``). An
optional ``description = "..."`` is free text.

A key that names nothing in the base scenario, a malformed file or an empty value list is bad
input for the whole sweep (:class:`~rexnet.errors.InputError`); a
*value* the scenario refuses (a negative capacity) fails that grid point only, before anything is
submitted, with the scenario's one-line message (:attr:`Point.error`).

Every run's scenario is the base scenario's record with the point's values written in and then
validated again, with ``run.seed`` and ``run.units`` set as ``rexnet run --seed --units`` sets
them, so a sweep run's history equals ``rexnet run`` of the same scenario, bit for bit.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexnet.app.simulate import with_overrides
from rexnet.domain.strict import RECORD
from rexnet.errors import InputError
from rexnet.sim.scenario import Scenario, is_existing_file, load_scenario, parse_scenario

_TOP_KEYS = {"name", "scenario", "seeds", "units", "set", "grid", "points", "description"}
_PART = re.compile(r"^(\w+)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Point:
    """One grid point: its values and, per seed, the scenario to run (or why it cannot run)."""

    index: int
    key: str
    params: dict[str, Any]
    #: seed -> the scenario of that run; empty when ``error`` is set
    scenarios: dict[int, Scenario] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, expanded sweep file."""

    name: str
    base: Scenario
    grid: dict[str, list[Any]]
    sets: dict[str, Any]
    seeds: list[int]
    units: int | None
    points: list[Point]
    source: str = ""
    #: the points as listed (``[[points]]``), or None for a grid
    listed: list[dict[str, Any]] | None = None

    def record(self) -> dict[str, Any]:
        """The canonical description stored in ``sweeps.spec`` (what re-running must match)."""
        # the grid as [key, values] pairs: its key order makes the point keys, so it is kept
        record: dict[str, Any] = {
            "scenario": self.base.to_record(),
            "grid": [[k, v] for k, v in self.grid.items()],
            "set": self.sets,
            "seeds": self.seeds,
            "units": self.units,
        }
        if self.listed is not None:  # only then: the records of grid sweeps stay as they were
            record["points"] = self.listed
        return record

    def record_json(self) -> str:
        return json.dumps(self.record(), sort_keys=True, separators=(",", ":"))

    @property
    def runs(self) -> int:
        """Number of runs the sweep asks for (points x seeds)."""
        return len(self.points) * len(self.seeds)


def load_sweep(path: str | Path, *, name: str | None = None) -> SweepSpec:
    """Read and expand a sweep file (see the module docstring); ``name`` overrides the file's.

    Raises:
        InputError: unreadable or malformed file, unknown key, bad seeds, a key naming nothing.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read sweep file: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: invalid TOML: {exc}") from None
    if name is not None:
        raw = {**raw, "name": name}
    return parse_sweep(raw, source=path.name, folder=path.parent, default_name=path.stem)


def parse_sweep(
    raw: dict[str, Any], *, source: str, folder: Path | None = None, default_name: str = "sweep"
) -> SweepSpec:
    """Validate a sweep mapping and expand its grid into points (see :func:`load_sweep`)."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise InputError(f"{source}: unknown key {unknown[0]!r} (have: {', '.join(sorted(_TOP_KEYS))})")
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"{source}: name: expected letters, digits, '.', '_' or '-' (got {name!r})")
    base = _base_scenario(raw.get("scenario", "default"), source, folder)
    seeds = _seeds(raw.get("seeds"), base, source)
    units = raw.get("units")
    if units is not None and (not isinstance(units, int) or isinstance(units, bool) or units < 1):
        raise InputError(f"{source}: units: expected a positive integer (got {units!r})")
    sets = _table(raw.get("set", {}), "set", source)
    grid = _table(raw.get("grid", {}), "grid", source)
    listed = _listed_points(raw.get("points"), source)
    if listed is not None and grid:
        raise InputError(f"{source}: points: give a [grid] or a list of [[points]], not both")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"{source}: grid.{key}: expected a non-empty list of values")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise InputError(f"{source}: grid.{key}: a value is listed twice")
    both = sorted(set(sets) & set(grid))
    if both:
        raise InputError(f"{source}: {both[0]}: both in [set] and in [grid]")
    listed_keys = list(dict.fromkeys(k for p in listed or [] for k in p))
    for key in [*sets, *grid, *listed_keys]:
        if key == "run.seed":
            raise InputError(f"{source}: {key}: give the seeds with `seeds = [...]`")
        if key == "run.units" and units is not None:
            raise InputError(f"{source}: {key}: give the units either with `units =` or as a key, not both")
    record = base.to_record()
    for key in [*sets, *grid, *listed_keys]:
        resolve_key(record, key, source)  # a key that names nothing fails the whole sweep
    for key in listed_keys:
        if key in sets:
            raise InputError(f"{source}: {key}: both in [set] and in [[points]]")
    combos = (
        [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
        if listed is None
        else listed
    )
    points = [_point(i, params, base, sets, seeds, units, source) for i, params in enumerate(combos)]
    return SweepSpec(
        name=name,
        base=base,
        grid=grid,
        sets=sets,
        seeds=seeds,
        units=units,
        points=points,
        source=source,
        listed=listed,
    )


def _listed_points(value: Any, source: str) -> list[dict[str, Any]] | None:
    """The ``[[points]]`` of a sweep file, each flattened to dotted keys (None: not given)."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(p, dict) for p in value):
        raise InputError(f"{source}: points: expected a non-empty list of tables ([[points]])")
    out = [_table(p, f"points[{i}]", source) for i, p in enumerate(value)]
    keys = [point_key(p) for p in out]
    if len(set(keys)) != len(keys):
        raise InputError(f"{source}: points: a point is listed twice")
    return out


def _base_scenario(ref: Any, source: str, folder: Path | None) -> Scenario:
    if not isinstance(ref, str) or not ref:
        raise InputError(f"{source}: scenario: expected a built-in name or a scenario file path")
    if folder is not None and (ref.endswith(".toml") or "/" in ref):
        candidate = folder / ref
        if is_existing_file(candidate):
            ref = str(candidate)
    return load_scenario(ref)


def _seeds(value: Any, base: Scenario, source: str) -> list[int]:
    if value is None:
        return [base.run.seed]
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise InputError(f"{source}: seeds: a count must be positive (got {value})")
        return list(range(value))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in value)
    ):
        if len(set(value)) != len(value):
            raise InputError(f"{source}: seeds: a seed is listed twice")
        return list(value)
    raise InputError(f"{source}: seeds: expected a list of integers >= 0 or a count (got {value!r})")


def _table(value: Any, what: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f'{source}: {what}: expected a table of "dotted.key" = value')
    out: dict[str, Any] = {}
    for key, item in _flatten(value):
        out[key] = item
    return out


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"settlement": {"penalty_price": [..]}}`` (TOML's reading of a bare dotted key) -> one key."""
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.extend(_flatten(value, full))
        else:
            out.append((full, value))
    return out


def resolve_key(record: dict[str, Any], key: str, source: str) -> list[list[str | int]]:
    """The record paths a key names (several for ``population.KIND.FIELD``).

    Raises:
        InputError: the key names nothing in ``record``.
    """
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "population" and "[" not in key:
        kind, name = parts[1], parts[2]
        groups = [i for i, g in enumerate(record["population"]) if g.get("kind") == kind]
        if not groups:
            kinds = sorted({g.get("kind") for g in record["population"]})
            raise InputError(
                f"{source}: {key}: no population group of kind {kind!r} (have: {', '.join(kinds)})"
            )
        paths: list[list[str | int]] = [["population", i, name] for i in groups]
    else:
        path: list[str | int] = []
        for part in parts:
            match = _PART.match(part)
            if not match:
                raise InputError(
                    f"{source}: {key}: malformed key (use e.g. settlement.penalty_price or "
                    "population[3].count)"
                )
            path.append(match[1])
            path.extend(int(i) for i in _INDEX.findall(match[2]))
        paths = [path]
    for path in paths:
        _check_path(record, path, key, source)
    return paths


def _check_path(record: Any, path: list[str | int], key: str, source: str) -> None:
    node = record
    for i, step in enumerate(path):
        where = _show(path[:i]) or "the scenario"
        if isinstance(step, int):
            if not isinstance(node, list):
                raise InputError(f"{source}: {key}: {where} is not a list")
            if step >= len(node):
                raise InputError(f"{source}: {key}: {where} has items 0..{len(node) - 1}")
        else:
            if not isinstance(node, dict) or step not in node:
                have = ", ".join(sorted(node)) if isinstance(node, dict) else "no keys"
                raise InputError(f"{source}: {key}: {where} has no key {step!r} (have: {have})")
        node = node[step]
    if isinstance(node, (dict, list)) and path[-1] not in ("population", "shocks"):
        raise InputError(f"{source}: {key}: names a table, not a value")


def _show(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else ("." if out else "") + step
    return out


def point_key(params: dict[str, Any]) -> str:
    """``settlement.penalty_price=1000.0,population[3].count=2`` (``base`` for an empty grid)."""
    if not params:
        return "base"
    return ",".join(f"{k}={json.dumps(v, sort_keys=True, separators=(',', ':'))}" for k, v in params.items())


def file_stem(key: str, seed: int) -> str:
    """A file-name-safe ``<point>-s<seed>`` (long keys shortened with a hash)."""
    safe = re.sub(r"[^A-Za-z0-9._=-]+", "_", key).strip("_") or "point"
    if len(safe) > 120:
        safe = safe[:100] + "-" + hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{safe}-s{seed}"


def _point(
    index: int,
    params: dict[str, Any],
    base: Scenario,
    sets: dict[str, Any],
    seeds: list[int],
    units: int | None,
    source: str,
) -> Point:
    key = point_key(params)
    record = copy.deepcopy(base.to_record())
    for name, value in [*sets.items(), *params.items()]:
        for path in resolve_key(record, name, source):
            node: Any = record
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = copy.deepcopy(value)
    try:
        # (the base's record writes its decimals as strings: read it as a record)
        scenario = parse_scenario(record, source="scenario", context=RECORD)
    except InputError as exc:
        return Point(index, key, params, error=str(exc))
    scenarios = {seed: with_overrides(scenario, seed=seed, units=units) for seed in seeds}
    return Point(index, key, params, scenarios)

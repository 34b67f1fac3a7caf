"""Fork changes: ``--set key=value`` and ``--shock FILE``, validated and recorded for re-execution.

A fork's scenario record is its parent's plus one entry in the ``fork`` list::

    "fork": [{"at_ms": 31500000,
              "set": {"population[0].capacity_kw": 2.0, "run.price_prior": 60.0},
              "shocks": [{"name": "", "driver": "wind", "first_unit": 40, ...}]}]

(a fork of a fork appends a second entry). :class:`~rexnet.replay.rerun.Rerun` applies each entry
when the clock reaches ``at_ms``, after every happening at that instant, with
:func:`apply_change`. Keys are normalized to group indices when the fork is made, so the record
says exactly which groups changed.

Supported ``--set`` keys (values parsed as TOML literals, then validated like a scenario file):

* ``population[I].FIELD`` and ``population.KIND.FIELD`` (every group of that kind; ``count`` by
  kind needs exactly one such group) for any group parameter but ``kind``, ``strategy`` and
  ``initial_soc``; ``count`` can only grow (new members join at the fork time);
* ``run.price_prior``.

Market, settlement and auction keys and the other ``run`` keys cannot change mid-run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rexnet.domain.limits import check_work as check_limit
from rexnet.domain.strict import first_problem
from rexnet.errors import InputError
from rexnet.replay.rerun import split_record
from rexnet.sim.change import FIXED_FIELDS, ChangeError, set_group, set_price_prior
from rexnet.sim.scenario import RunSection, Scenario, ShockSpec, check_work
from rexnet.sim.simulation import Simulation, shock_of

_BY_INDEX = re.compile(r"population\[(\d+)\]\.(\w+)$")
_BY_KIND = re.compile(r"population\.(\w+)\.(\w+)$")
_FIXED_TABLES = ("market", "settlement", "auction")


def parse_value(text: str) -> Any:
    """A ``--set`` value as a TOML literal (``2.0``, ``8``, ``"x"``), else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def current_groups(record: dict[str, Any]) -> list[Any]:
    """The population groups after every fork change of ``record``, applied in time order.

    Raises:
        InputError: a change would shrink a group's ``count`` (members cannot leave a run).
        ValidationError: a changed value the group's model refuses.
    """
    base, changes = split_record(record)
    groups = list(Scenario.from_record(base).population)
    for change in sorted(changes, key=lambda c: c["at_ms"]):
        for key, value in change.get("set", {}).items():
            match = _BY_INDEX.match(key)
            if match:
                index, field = int(match[1]), match[2]
                before = groups[index]
                groups[index] = type(before).model_validate({**before.model_dump(), field: value})
                if groups[index].count < before.count:
                    raise InputError(
                        f"--set {key}={value}: count can only grow in a fork (members cannot leave a "
                        f"run; it is {before.count} at t = {change['at_ms'] / 1000:g} s)"
                    )
    return groups


def normalize_sets(record: dict[str, Any], pairs: list[str], *, at_ms: int = 0) -> dict[str, Any]:
    """Validate ``key=value`` pairs against the run's population; ``{normalized key: value}``.

    Raises:
        InputError: malformed pair, unknown or unchangeable key, or a value the scenario refuses.
    """
    groups = current_groups(record)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, raw = pair.partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError(f"--set {pair!r}: expected key=value")
        value = parse_value(raw.strip())
        for norm in _resolve(key, groups):
            out[norm] = value
    # validate the groups as they would be after the change, all keys together
    changed = {**record, "fork": [*split_record(record)[1], {"at_ms": at_ms, "set": out, "shocks": []}]}
    try:
        groups = current_groups(changed)  # in time order with the earlier changes: counts never shrink
    except ValidationError as exc:
        field, what = first_problem(exc, unknown="not a field of that group's kind")
        bad = [k for k in out if k.endswith(f"].{field}")] or [field]
        raise InputError(f"--set {bad[0]}: {what}") from None
    try:  # the work the changed population asks for (members, wake-ups, money range)
        check_work(Scenario.from_record(split_record(record)[0]), groups)
    except ValueError as exc:
        raise InputError(f"--set: {exc}") from None
    for key, value in out.items():
        if key == "run.price_prior":
            try:
                RunSection.model_validate({"price_prior": value})
            except ValidationError as exc:
                raise InputError(f"--set run.price_prior: {first_problem(exc)[1]}") from None
    return out


def _resolve(key: str, groups: list[Any]) -> list[str]:
    head = key.split(".", 1)[0].split("[", 1)[0]
    if head in _FIXED_TABLES:
        raise InputError(
            f"--set {key}: the market rules cannot change during a run (they are part of its history)"
        )
    if head == "run":
        if key == "run.price_prior":
            return [key]
        raise InputError(f"--set {key}: only run.price_prior can change during a run")
    match = _BY_INDEX.match(key)
    if match:
        index, field = int(match[1]), match[2]
        if index >= len(groups):
            raise InputError(f"--set {key}: the population has groups 0..{len(groups) - 1}")
        _changeable(key, field)
        return [f"population[{index}].{field}"]
    match = _BY_KIND.match(key)
    if match:
        kind, field = match[1], match[2]
        indices = [i for i, g in enumerate(groups) if g.kind == kind]
        if not indices:
            kinds = sorted({g.kind for g in groups})
            raise InputError(f"--set {key}: no population group of kind {kind!r} (have: {', '.join(kinds)})")
        _changeable(key, field)
        if field == "count" and len(indices) > 1:
            raise InputError(
                f"--set {key}: {len(indices)} groups of kind {kind!r}; "
                f"name one as population[I].count (I in {indices})"
            )
        return [f"population[{i}].{field}" for i in indices]
    raise InputError(
        f"--set {key}: unknown key (use population[I].FIELD, population.KIND.FIELD or run.price_prior)"
    )


def _changeable(key: str, field: str) -> None:
    if field in FIXED_FIELDS:
        raise InputError(f"--set {key}: {field} cannot change during a run")


def load_shocks(path: str, *, at_ms: int) -> list[dict[str, Any]]:
    """The ``[[shocks]]`` of a TOML file, validated, each announced at or after the fork time.

    Raises:
        InputError: unreadable or malformed file, a bad shock, or one announced before ``at_ms``.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--shock {path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"--shock {path}: invalid TOML: {exc}") from None
    extra = sorted(set(data) - {"shocks"})
    shocks = data.get("shocks")
    if extra or not isinstance(shocks, list) or not shocks:
        raise InputError(f"--shock {path}: expected one or more [[shocks]] tables and nothing else")
    try:
        check_limit("the number of shocks", "max_shocks", len(shocks))
    except ValueError as exc:
        raise InputError(f"--shock {path}: {exc}") from None
    out = []
    for i, raw in enumerate(shocks):
        try:
            spec = ShockSpec.model_validate(raw)
        except ValidationError as exc:
            where, what = first_problem(exc)
            raise InputError(f"--shock {path}: shocks[{i}].{where}: {what}".rstrip(".")) from None
        if spec.notice_s is None and round(spec.at_s * 1000) < at_ms:
            raise InputError(
                f"--shock {path}: shocks[{i}].at_s {spec.at_s} is before the fork time "
                f"{at_ms / 1000:g} s (a fork cannot change the past)"
            )
        out.append(spec.model_dump(mode="json", exclude_none=True))  # (no notice_s: as before it existed)
    return out


def with_change(record: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``change`` appended to its ``fork`` list."""
    base, changes = split_record(record)
    return {**base, "fork": [*changes, change]}


def apply_change(sim: Simulation, change: dict[str, Any]) -> None:
    """Apply one recorded change set to a simulation paused at ``change["at_ms"]``."""
    by_group: dict[int, dict[str, Any]] = {}
    for key, value in change.get("set", {}).items():
        match = _BY_INDEX.match(key)
        if match:
            by_group.setdefault(int(match[1]), {})[match[2]] = value
    try:
        for index in sorted(by_group):
            group = sim.groups[index]
            set_group(sim, index, type(group).model_validate({**group.model_dump(), **by_group[index]}))
    except ChangeError as exc:
        raise InputError(str(exc)) from None
    if "run.price_prior" in change.get("set", {}):
        set_price_prior(sim, change["set"]["run.price_prior"])
    for i, raw in enumerate(change.get("shocks", [])):
        s = ShockSpec.model_validate(raw)
        shock = shock_of(s, s.name or f"fork-shock-{i}", sim.spec)
        if shock.at_ms < change["at_ms"]:
            raise InputError(
                f"shocks[{i}]: known at {shock.at_ms / 1000:g} s, before the fork time "
                f"{change['at_ms'] / 1000:g} s (a fork cannot change the past)"
            )
        sim.add_shock(shock)

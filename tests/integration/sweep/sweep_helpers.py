"""Helpers of the sweep tests: sweep files, `rexnet run` reference hashes, the CLI in JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.sim.scenario import load_scenario


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def write_sweep(
    path: Path,
    *,
    grid: dict,
    seeds: list[int],
    units: int = 4,
    name: str | None = None,
    scenario: str = "default",
) -> Path:
    lines = [f'scenario = "{scenario}"', f"seeds = {seeds}", f"units = {units}"]
    if name:
        lines.insert(0, f'name = "{name}"')
    lines.append("[grid]")
    lines += [f'"{key}" = [{", ".join(toml_value(v) for v in values)}]' for key, values in grid.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def reference_scenario_file(folder: Path, params: dict, tag: str) -> Path:
    """A plain scenario file (what a user would write for `rexnet run`) with ``params`` applied.

    Handles ``TABLE.KEY`` and ``population[I].FIELD`` keys; the population is written out whole.
    """
    base = load_scenario("default")
    tables: dict[str, dict] = {}
    groups = [g.model_dump() for g in base.population]
    for key, value in params.items():
        if key.startswith("population["):
            index = int(key[len("population[") : key.index("]")])
            groups[index][key.split(".", 1)[1]] = value
        else:
            table, field = key.split(".")
            tables.setdefault(table, {})[field] = value
    lines = ['name = "default"', 'extends = "default"']
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    for group in groups:
        lines.append("[[population]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in group.items() if v is not None]
    path = folder / f"ref-{tag}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def reference_hash(folder: Path, params: dict, seed: int, units: int = 4) -> str:
    """Head hash of the same run done on its own with `rexnet run` (into a SQLite ledger)."""
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10] + f"-{seed}"
    path = reference_scenario_file(folder, params, tag)
    db = f"sqlite:///{folder / 'reference.db'}"
    args = ["--db", db, "run", str(path), "--seed", str(seed), "--units", str(units), "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["head_hash"]


def sweep_cli(*args: str) -> tuple[int, dict | None, str]:
    """``rexnet ... sweep ... --format json``: (exit code, parsed stdout or None, stderr)."""
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    out = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, out, result.stderr

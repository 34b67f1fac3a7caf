"""Every built-in experiment end to end at a tiny scale, and bad specs as one-line errors (exit 2)."""

from __future__ import annotations

import csv
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.experiment import builtin_names
from rexnet.store import open_store

pytest.importorskip("distributed")

EXPERIMENTS = ["participation", "resilience", "parameters", "equity", "mechanism"]


def _tiny_copy(name: str, folder: Path) -> Path:
    """The built-in spec with a tiny small scale (few units, two seeds), written as a file."""
    text = (resources.files("rexnet.experiment") / "specs" / f"{name}.toml").read_text()
    raw = tomllib.loads(text)
    units = 56 if raw["design"] == "fork" else 4  # the shocks of `resilience` hit units 48..52
    lines = []
    skip = False
    for line in text.splitlines():
        if line.startswith("[scales.small]"):
            lines += ["[scales.small]", "seeds = 2", f"units = {units}", "seconds_per_run = 1"]
            skip = True
            continue
        if skip and line.startswith("["):
            skip = False
        if not skip:
            lines.append(line)
    text = "\n".join(lines) + "\n"
    for factor in raw.get("factors", []):  # two levels of each factor keep the test short
        levels = factor["levels"]
        text = text.replace(f"levels = {_toml_list(levels)}", f"levels = {_toml_list(levels[:2])}")
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def _toml_list(values: list) -> str:
    return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else repr(v) for v in values) + "]"


class _Done:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.exit_code = proc.returncode
        self.output = proc.stdout + proc.stderr


def _experiment(*args: str) -> _Done:
    """``rexnet ARGS`` in its own process: Dask leaves threads behind in the process that ran a
    local cluster, which would turn off the forked chain check of later tests."""
    proc = subprocess.run(
        [sys.executable, "-m", "rexnet.cli", *args], capture_output=True, text=True, timeout=1200
    )
    return _Done(proc)


def _runs_by_id(folder: Path) -> dict[str, str]:
    """run id -> the SQLite URL of the ledger file holding it (the sweep's per-run files)."""
    out = {}
    for db in folder.rglob("*.db"):
        url = f"sqlite:///{db}"
        with open_store(url) as store:
            for run in store.list_runs():
                out[run.run_id] = url
    return out


def test_list_shows_the_five_questions():
    result = CliRunner().invoke(cli, ["experiment", "--list"])
    assert result.exit_code == 0, result.output
    for name in EXPERIMENTS:
        assert name in result.output
    assert sorted(builtin_names()) == sorted(EXPERIMENTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_end_to_end(name, tmp_path):
    spec = _tiny_copy(name, tmp_path)
    out = tmp_path / "out"
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    runner = CliRunner()
    result = _experiment("--db", db, "experiment", str(spec), "--workers", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    for file in ("results.csv", "summary.csv", "index.html"):
        assert (out / file).is_file()
    assert list(out.glob("*.png")), "no figure written"
    page = (out / "index.html").read_text()
    assert "rexnet experiment" in page and str(tmp_path) not in page  # commands, no server path

    with (out / "summary.csv").open() as handle:
        summary = list(csv.DictReader(handle))
    assert summary
    for row in summary:
        if row["ci_low"]:
            assert float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"])
        if row["diff_low"]:
            assert float(row["diff_low"]) <= float(row["diff_mean"]) <= float(row["diff_high"])
            assert row["diff_n"] == "2"

    with (out / "results.csv").open() as handle:
        results = list(csv.DictReader(handle))
    run_ids = {r["run_id"] for r in results}
    ledgers = _runs_by_id(tmp_path)
    assert run_ids <= set(ledgers), "a run id of results.csv is not in the ledger"
    for run_id in sorted(run_ids):
        audit = runner.invoke(cli, ["--db", ledgers[run_id], "audit", run_id])
        assert audit.exit_code == 0, audit.output
    # paired: every level has the same seeds
    seeds = {}
    for r in results:
        seeds.setdefault((r["factor"], r["level"]), set()).add(r["seed"])
    assert len({frozenset(s) for s in seeds.values()}) == 1

    if name == "resilience":  # each shocked run is a fork of its own seed's unshocked run
        pairs = {(r["seed"], r["level"], r["factor"]): r["run_id"] for r in results}
        for (seed, level, factor), run_id in pairs.items():
            if level != "shocked":
                continue
            with open_store(ledgers[run_id]) as store:
                run = store.get_run(run_id)
            assert run.parent_run_id == pairs[(seed, "unshocked", factor)]
            assert run.fork_seq is not None and run.fork_seq > 0
    if name != "mechanism":
        return
    # resumable: a second run skips every finished run and gives the same results
    again = _experiment("--db", db, "experiment", str(spec), "--workers", "2", "--out", str(out))
    assert again.exit_code == 0, again.output
    with (out / "results.csv").open() as handle:
        assert {r["run_id"] for r in csv.DictReader(handle)} == run_ids


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("metrics = [", 'metrics = ["no_such_metric", '), "metrics[0]: unknown metric 'no_such_metric'"),
        (('design = "levels"', 'design = "levels"\ncolour = 3'), "colour: unknown key"),
        (("seeds = 5", "seeds = 1"), "scales.small.seeds"),
        (("levels = [3000.0, 500.0, 1000.0, 6000.0]", "levels = [3000.0]"), "factors.0.levels"),
    ],
)
def test_bad_spec_is_exit_2_naming_the_key(tmp_path, edit, message):
    text = (resources.files("rexnet.experiment") / "specs" / "parameters.toml").read_text()
    old, new = edit
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "experiment", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "l.db").exists() or not list(tmp_path.glob("sweep-*"))


def test_a_key_naming_nothing_is_exit_2(tmp_path):
    text = (resources.files("rexnet.experiment") / "specs" / "mechanism.toml").read_text()
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('key = "auction.mode"', 'key = "auction.colour"'))
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "experiment", str(path)])
    assert result.exit_code == 2, result.output
    assert "auction.colour" in result.output


def test_unknown_experiment_is_exit_2():
    result = CliRunner().invoke(cli, ["experiment", "nope"])
    assert result.exit_code == 2
    assert "unknown experiment 'nope'" in result.output


@pytest.mark.pg
@pytest.mark.slow
def test_experiment_into_postgresql(pg_url, tmp_path):
    spec = _tiny_copy("mechanism", tmp_path)
    out = tmp_path / "out"
    runner = CliRunner()
    result = _experiment("--db", pg_url, "experiment", str(spec), "--workers", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    with (out / "results.csv").open() as handle:
        run_ids = {r["run_id"] for r in csv.DictReader(handle)}
    assert len(run_ids) == 4
    with open_store(pg_url) as store:
        assert run_ids <= {r.run_id for r in store.list_runs()}
    for run_id in sorted(run_ids):
        assert runner.invoke(cli, ["--db", pg_url, "audit", run_id]).exit_code == 0
    assert "postgres" not in (out / "index.html").read_text()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("seeds = 5", 'seeds = "5"', "scales.small.seeds: Input should be a valid integer"),
        ("seeds = 5", "seeds = true", "scales.small.seeds: Input should be a valid integer"),
        ("seconds_per_run = 3", "seconds_per_run = nan", "finite number"),
        ('scenario = "default"', 'scenario = "' + "y" * 20000 + '"', "scenario: String should have at most"),
        ('scenario = "default"', 'scenario = "' + "y" * 300 + '"', "no built-in scenario"),
    ],
)
def test_hostile_spec_values_are_one_line_exit_2(tmp_path, old, new, message):
    text = (resources.files("rexnet.experiment") / "specs" / "parameters.toml").read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "experiment", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("sweep-*"))


def test_a_name_too_long_for_the_file_system_is_an_unknown_experiment_or_scenario(tmp_path):
    db = f"sqlite:///{tmp_path / 'l.db'}"
    for args in (["experiment", "z" * 300], ["run", "z" * 300]):
        result = CliRunner().invoke(cli, ["--db", db, *args])
        assert result.exit_code == 2, result.output
        assert "unknown experiment" in result.output or "no built-in scenario" in result.output

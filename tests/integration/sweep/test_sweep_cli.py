"""`rexnet sweep` input errors: one line, exit 2, nothing recorded; help texts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sweep_helpers import write_sweep

from rexnet.cli import cli
from rexnet.store import open_store
from rexnet.sweep.ledger import SweepLedger
from rexnet.sweep.spec import load_sweep


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('seeds = [1]\ncolour = "red"\n', "unknown key 'colour'"),
        (
            'seeds = [1]\n[grid]\n"settlement.penalty_prise" = [1.0]\n',
            "settlement.penalty_prise: settlement has no key 'penalty_prise'",
        ),
        (
            'seeds = [1]\n[grid]\n"population[42].count" = [1]\n',
            "population[42].count: population has items 0..9",
        ),
        ('seeds = [1]\n[grid]\n"population.nuclear.count" = [1]\n', "no population group of kind 'nuclear'"),
        ('seeds = [1]\n[grid]\n"settlement" = [1]\n', "names a table, not a value"),
        ('seeds = [1]\n[grid]\n"market.horizon" = []\n', "grid.market.horizon: expected a non-empty list"),
        ("seeds = [-1]\n", "seeds: expected a list of integers >= 0"),
        ('seeds = [1]\n[grid]\n"run.seed" = [1, 2]\n', "give the seeds with `seeds = [...]`"),
        ('scenario = "nope"\n', "no built-in scenario 'nope'"),
        ("seeds = [1\n", "invalid TOML"),
    ],
)
def test_bad_sweep_file_exits_2_with_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    db = f"sqlite:///{tmp_path / 'main.db'}"
    result = run("--db", db, "sweep", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "main.db").exists()  # nothing opened, nothing recorded


def test_missing_file_memory_db_and_changed_spec(tmp_path):
    result = run("sweep", str(tmp_path / "absent.toml"))
    assert result.exit_code == 2 and "cannot read sweep file" in result.stderr
    path = write_sweep(tmp_path / "s.toml", grid={"population[0].count": [-1]}, seeds=[1], name="s")
    result = run("--db", "sqlite://", "sweep", str(path))
    assert result.exit_code == 2 and "not an in-memory SQLite database" in result.stderr
    db = f"sqlite:///{tmp_path / 'main.db'}"
    # every point invalid: recorded as failed without starting a cluster (exit 1, not 2)
    result = run("--db", db, "sweep", str(path))
    assert result.exit_code == 1, result.output
    assert "population[0].count: Input should be greater than or equal to 0" in result.stdout
    write_sweep(path, grid={"population[0].count": [-2]}, seeds=[1], name="s")
    result = run("--db", db, "sweep", str(path))
    assert result.exit_code == 2 and "was recorded with a different scenario, grid" in result.stderr
    result = run("--db", db, "sweep", str(path), "--name", "s2")
    assert result.exit_code == 1
    with open_store(db) as store:
        assert [s["name"] for s in SweepLedger(store.engine).list_sweeps()] == ["s", "s2"]
    result = run("--db", db, "sweep-query", "system_balance", "nope")
    assert result.exit_code == 2 and "no sweep 'nope' in this ledger (have: s, s2)" in result.stderr


def test_dotted_keys_by_kind_and_bare_tables(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text(
        "seeds = 2\n[set]\nsettlement.surplus_price = 1.5\n"
        '[grid]\n"population.dispatchable.marginal_cost" = [50.0]\n'
    )
    spec = load_sweep(path)
    assert spec.seeds == [0, 1] and spec.sets == {"settlement.surplus_price": 1.5}
    (point,) = spec.points
    scenario = point.scenarios[1]
    assert [g.marginal_cost for g in scenario.population if g.kind == "dispatchable"] == [50.0] * 3
    assert str(scenario.settlement.surplus_price) == "1.5" and scenario.run.seed == 1


def test_every_sweep_command_has_help():
    for name in ("sweep", "sweeps", "sweep-query"):
        result = run(name, "--help")
        assert result.exit_code == 0 and len(result.output) > 100

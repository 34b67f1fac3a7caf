"""`rexnet sweep` on a local Dask cluster (2 worker processes) into the shared PostgreSQL ledger.

A 2 x 2 grid x 2 seeds completes and each run's head hash equals the same run done on its own
with `rexnet run`; a second run of the sweep skips everything; a bad value fails its point only,
before anything is submitted; a worker killed mid-run fails that run alone, and the next run of
the sweep resumes it to the expected hash while skipping the others.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sweep_helpers import reference_hash, sweep_cli, write_sweep

from rexnet.cli import cli
from rexnet.store import open_store

GRID = {"settlement.penalty_price": [1000.0, 3000.0], "population[3].count": [2, 8]}
SEEDS = [1, 2]


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """(point params as JSON-able tuple, seed) -> head hash of `rexnet run` with the same values."""
    folder = tmp_path_factory.mktemp("reference")
    out = {}
    for penalty in GRID["settlement.penalty_price"]:
        for count in GRID["population[3].count"]:
            params = {"settlement.penalty_price": penalty, "population[3].count": count}
            for seed in SEEDS:
                out[(penalty, count, seed)] = reference_hash(folder, params, seed)
    return out


def ref_of(references, run: dict) -> str:
    p = run["params"]
    return references[(p["settlement.penalty_price"], p["population[3].count"], run["seed"])]


def test_grid_sweep_matches_single_runs_and_rerun_skips(pg_url, scheduler, tmp_path, references):
    path = write_sweep(tmp_path / "grid.toml", grid=GRID, seeds=SEEDS)
    code, out, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    assert out["name"] == "grid" and out["storage"] == "ledger"
    assert (out["completed"], out["failed"], out["ran"], out["skipped"]) == (8, 0, 8, 0)
    for run in out["runs"]:
        assert run["head_hash"] == ref_of(references, run), run
        assert run["db_url"] is None and run["attempts"] == 1
    assert len({r["head_hash"] for r in out["runs"]}) == 8  # every point and seed is its own history
    # the summary table: one row per point, means over the two seeds
    assert [p["point"] for p in out["points"]] == [
        "settlement.penalty_price=1000.0,population[3].count=2",
        "settlement.penalty_price=1000.0,population[3].count=8",
        "settlement.penalty_price=3000.0,population[3].count=2",
        "settlement.penalty_price=3000.0,population[3].count=8",
    ]
    for point in out["points"]:
        assert point["completed"] == 2 and point["trades"] > 0 and point["min_price"] <= point["max_price"]
    with open_store(pg_url) as store:
        runs = {r.run_id: r for r in store.list_runs()}
    assert len(runs) == 8 and all(r.status == "completed" for r in runs.values())
    assert {runs[r["run_id"]].name for r in out["runs"]} == {
        f"sweep/grid/{r['point']}/seed={r['seed']}" for r in out["runs"]
    }

    code, again, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    assert (again["ran"], again["skipped"], again["completed"]) == (0, 8, 8)
    assert [r["run_id"] for r in again["runs"]] == [r["run_id"] for r in out["runs"]]
    assert again["points"] == out["points"]
    with open_store(pg_url) as store:
        assert len(store.list_runs()) == 8

    # a named query across the sweep: point and seed columns in front
    args = ["--db", pg_url, "sweep-query", "system_balance", "grid", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["point"], r["seed"]) for r in rows} == {(r["point"], r["seed"]) for r in out["runs"]}
    assert {r["settlement.penalty_price"] for r in rows} == {1000.0, 3000.0}
    assert list(rows[0])[:4] == ["point", "seed", "settlement.penalty_price", "population[3].count"]

    # the table output and the list of sweeps
    result = CliRunner().invoke(cli, ["--db", pg_url, "sweep", str(path), "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    assert "8 runs, 8 completed (0 run now, 8 already complete), 0 failed" in result.stdout
    assert "volume_kwh" in result.stdout and "population[3].count=8" in result.stdout
    result = CliRunner().invoke(cli, ["--db", pg_url, "sweeps", "--format", "json"])
    assert json.loads(result.stdout)[0]["completed"] == 8


def test_bad_value_fails_its_point_only(pg_url, scheduler, tmp_path):
    grid = {"population[3].capacity_kw": [4.0, -1.0]}
    path = write_sweep(tmp_path / "bad.toml", grid=grid, seeds=[3])
    code, out, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 1
    assert "1 of 2 runs of sweep 'bad' did not complete" in err
    good, bad = out["runs"]
    assert good["status"] == "completed" and good["action"] == "ran"
    assert bad["status"] == "failed" and bad["action"] == "invalid" and bad["run_id"] is None
    assert bad["error"] == "scenario: population[3].capacity_kw: Input should be greater than 0"
    assert bad["attempts"] == 0  # never submitted
    with open_store(pg_url) as store:
        assert [r.run_id for r in store.list_runs()] == [good["run_id"]]


def test_killed_worker_run_is_redone_on_rerun(pg_url, scheduler, tmp_path, references, monkeypatch):
    grid = {"settlement.penalty_price": [1000.0], "population[3].count": [2, 8]}
    path = write_sweep(tmp_path / "kill.toml", grid=grid, seeds=[1])
    victim = "settlement.penalty_price=1000.0,population[3].count=8"
    # small batches so that the victim has committed events when its worker dies (each attempt:
    # the first one, and Dask's retry on another worker, which resumes the run and dies again)
    monkeypatch.setenv("REXNET_BATCH_SIZE", "200")
    monkeypatch.setenv("REXNET_SWEEP_KILL", f"{victim}|1|600")
    code, out, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 1, err
    by_point = {r["point"]: r for r in out["runs"]}
    survivor = by_point["settlement.penalty_price=1000.0,population[3].count=2"]
    assert survivor["status"] == "completed" and survivor["head_hash"] == ref_of(references, survivor)
    dead = by_point[victim]
    assert dead["status"] == "failed" and dead["error"].startswith("KilledWorker")
    with open_store(pg_url) as store:
        stub = store.get_run(dead["run_id"])
        assert stub.status == "failed" and 600 <= stub.events < 1600  # a committed prefix, not the whole run
        assert store.verify_chain(stub.run_id) is None
        assert len(store.list_runs()) == 2

    monkeypatch.delenv("REXNET_SWEEP_KILL")
    code, again, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    by_point = {r["point"]: r for r in again["runs"]}
    assert by_point[survivor["point"]]["action"] == "skipped"
    redone = by_point[victim]
    assert redone["action"] == "ran" and redone["status"] == "completed" and redone["error"] is None
    assert redone["head_hash"] == ref_of(references, redone)
    assert redone["run_id"] == dead["run_id"]  # resumed in place: rexnet.replay's resume
    with open_store(pg_url) as store:
        run = store.get_run(redone["run_id"])
        assert run.status == "completed" and run.head_hash.hex() == redone["head_hash"]
        assert len(store.list_runs()) == 2


def test_dask_retry_after_a_worker_death_resumes_the_run(
    pg_url, scheduler, tmp_path, references, monkeypatch
):
    grid = {"settlement.penalty_price": [3000.0], "population[3].count": [2]}
    path = write_sweep(tmp_path / "once.toml", grid=grid, seeds=[2])
    monkeypatch.setenv("REXNET_BATCH_SIZE", "200")
    point = "settlement.penalty_price=3000.0,population[3].count=2"
    monkeypatch.setenv("REXNET_SWEEP_KILL", f"{point}|2|400|once")
    code, out, err = sweep_cli("--db", pg_url, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    (run,) = out["runs"]
    assert run["status"] == "completed" and run["head_hash"] == ref_of(references, run)
    with open_store(pg_url) as store:
        (info,) = store.list_runs()
        assert info.status == "completed" and info.run_id == run["run_id"]

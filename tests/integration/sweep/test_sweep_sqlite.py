"""`rexnet sweep` into SQLite: the command's own local Dask cluster (`--workers 2`), one SQLite
file per run, the sweep record in the main file, a lost run file redone, and `sweep-query`
reading every file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sweep_helpers import reference_hash, sweep_cli, write_sweep

from rexnet.cli import cli
from rexnet.store import open_store


def test_sqlite_sweep_writes_one_file_per_run(tmp_path, scheduler):
    grid = {"run.price_prior": [40.0, 60.0]}
    path = write_sweep(tmp_path / "files.toml", grid=grid, seeds=[5], units=3)
    db = f"sqlite:///{tmp_path / 'main.db'}"
    code, out, err = sweep_cli("--db", db, "sweep", str(path), "--workers", "2")
    assert code == 0, err
    assert out["storage"] == str(tmp_path / "sweep-files")
    for run in out["runs"]:
        assert run["status"] == "completed"
        file = tmp_path / "sweep-files" / f"run.price_prior={run['params']['run.price_prior']}-s5.db"
        assert run["db_url"] == f"sqlite:///{file}" and file.is_file()
        with open_store(run["db_url"]) as store:
            (info,) = store.list_runs()
            assert info.run_id == run["run_id"] and info.status == "completed"
            assert info.head_hash.hex() == run["head_hash"]
        assert run["head_hash"] == reference_hash(tmp_path, run["params"], 5, units=3)
    with open_store(db) as main:
        assert main.list_runs() == []  # the main file holds the sweep record only

    code, again, err = sweep_cli("--db", db, "sweep", str(path))
    assert code == 0, err
    assert again["skipped"] == 2 and again["ran"] == 0

    # a run file that went missing is redone (on an existing scheduler), the other one skipped
    lost = out["runs"][0]
    Path(lost["db_url"].removeprefix("sqlite:///")).unlink()
    code, again, err = sweep_cli("--db", db, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    assert [r["action"] for r in again["runs"]] == ["ran", "skipped"]
    assert again["runs"][0]["head_hash"] == lost["head_hash"] and again["runs"][0]["attempts"] == 2

    args = ["--db", db, "sweep-query", "costs_by_type", str(path), "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["point"], r["seed"]) for r in rows} == {(r["point"], 5) for r in out["runs"]}
    assert {r["run.price_prior"] for r in rows} == {40.0, 60.0}

    result = CliRunner().invoke(cli, ["--db", db, "sweeps", "files"])
    assert result.exit_code == 0 and result.stdout.count("completed") == 2

    # the sweep record is lost and the sweep changed (4 units): the old run in the file has the
    # same name but another scenario, so it is left alone and a new run is made beside it
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'main.db'}{suffix}").unlink(missing_ok=True)
    write_sweep(path, grid={"run.price_prior": [40.0]}, seeds=[5], units=4)
    code, changed, err = sweep_cli("--db", db, "sweep", str(path), "--scheduler", scheduler)
    assert code == 0, err
    (run,) = changed["runs"]
    assert run["head_hash"] == reference_hash(tmp_path, run["params"], 5, units=4)
    with open_store(run["db_url"]) as store:
        names = {r.name: r.status for r in store.list_runs()}
    assert names == {
        "sweep/files/run.price_prior=40.0/seed=5": "completed",
        "sweep/files/run.price_prior=40.0/seed=5#2": "completed",
    }

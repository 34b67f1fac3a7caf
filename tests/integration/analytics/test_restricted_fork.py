"""A session restricted to a fork (``rexnet sql --run FORK``) shows its whole history: the events
it inherits from its parent are in every typed view, as in an unrestricted session."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rexnet.cli import cli

VIEWS = ("trades", "orders", "settlements", "reservations", "realizations", "unit_prices", "agents")


def _sql(db: str, query: str, *extra: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["--db", db, "sql", query, "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_restricted_views_of_a_fork_include_its_inherited_history(sqlite_url):
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", sqlite_url, "run", "--units", "3", "--name", "p"]).exit_code == 0
    fork = runner.invoke(
        cli,
        [
            "--db",
            sqlite_url,
            "fork",
            "p",
            "--time",
            "1800",
            "--name",
            "f",
            "--set",
            "run.price_prior=60",
            "--format",
            "json",
        ],
    )
    assert fork.exit_code == 0, fork.output
    fork_id = json.loads(fork.output)["run_id"]
    for view in VIEWS:
        whole = _sql(sqlite_url, f"SELECT count(*) AS n FROM {view} WHERE run_id = '{fork_id}'")
        restricted = _sql(
            sqlite_url, f"SELECT count(*) AS n FROM {view} WHERE run_id = '{fork_id}'", "--run", "f"
        )
        assert whole == restricted, view
        assert whole[0]["n"] > 0, view

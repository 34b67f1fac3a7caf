"""``rexnet sql`` / ``rexnet query``: output formats, ``--run``, and read-only by construction."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest
import sqlalchemy as sa
from analytics_helpers import ingest, invoke

from rexnet.analytics import duckdb_session


def event_count(url: str) -> int:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute("SELECT COUNT(*) FROM event_log").fetchone()[0]
    finally:
        con.close()


def test_json_csv_and_table(ledger):
    url, run = ledger
    result = invoke(url, "sql", "SELECT unit, price, qty, buyer FROM trades", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"unit": 2, "price": 40.0, "qty": 0.5, "buyer": "b"}]
    result = invoke(
        url, "sql", "SELECT agent, net_cash FROM settlements WHERE unit = 2 ORDER BY agent", "--format", "csv"
    )
    assert result.output.splitlines() == ["agent,net_cash", "a,-0.07", "b,-0.005", "system,0.075"]
    result = invoke(url, "sql", "SELECT COUNT(*) AS n FROM orders")
    assert result.exit_code == 0 and result.output.split() == ["n", "-", "3"]


def test_run_restricts_the_views(ledger, tmp_path):
    url, first = ledger
    second = ingest(url, tmp_path, name="again")
    query = "SELECT DISTINCT run_id FROM events"
    everything = json.loads(invoke(url, "sql", query, "--format", "json").output)
    assert {r["run_id"] for r in everything} == {first, second}
    only = json.loads(invoke(url, "sql", query, "--run", "again", "--format", "json").output)
    assert only == [{"run_id": second}]
    assert invoke(url, "sql", query, "--run", "nope").exit_code == 2


def test_list_names_views_and_queries(ledger):
    url, _ = ledger
    result = invoke(url, "sql", "--list", "--format", "json")
    names = {r["name"] for r in json.loads(result.output)}
    assert {"trades", "orders", "settlements", "unit_prices", "imbalance", "fork_diff", "depth_at"} <= names


def test_query_command(ledger):
    url, run = ledger
    result = invoke(url, "query", "system_balance", "demo", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["deficit"] == 0.1
    result = invoke(url, "query", "vwap_by_unit_lead", run, "-p", "bucket=600", "--format", "csv")
    assert result.output.splitlines()[1] == "2,1200,1800,1,0.5,40"
    for args in (
        ["query", "nope", run],
        ["query", "depth_at", run, "-p", "time=soon"],
        ["query", "depth_at", run, "-p", "time"],
        ["query", "fork_diff", run],
    ):
        result = invoke(url, *args)
        assert result.exit_code == 2 and "Traceback" not in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1


REFUSED = [
    "INSERT INTO ledger.runs (run_id) VALUES ('x')",
    "UPDATE trades SET price = 0",
    "DELETE FROM events",
    "CREATE TABLE x (a INTEGER)",
    "CREATE VIEW v AS SELECT 1",
    "DROP VIEW trades",
    "ATTACH 'other.db' AS other",
    "DETACH ledger",
    "COPY trades TO 'trades.csv'",
    "COPY (SELECT * FROM trades) TO 'trades.parquet' (FORMAT parquet)",
    "EXPORT DATABASE 'dump'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 1",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "USE ledger",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "CHECKPOINT",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('x.parquet')",
    "SELECT * FROM read_json('x.json')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM '/etc/hosts.csv'",
    "SELECT * FROM sqlite_scan('ledger.db', 'runs')",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM duckdb_databases()",  # would show the ATTACH string (a PostgreSQL password)
    "SELECT * FROM trades WHERE unit IN (SELECT unit FROM read_csv('/etc/passwd'))",
    "SELECT 1; DELETE FROM events",
    "PRAGMA show_tables",  # lists every attached catalog's tables
    "SELECT * FROM no_such_view",  # an allow-list: what is not a ledger view is refused
]


@pytest.mark.parametrize("statement", REFUSED)
def test_writes_ddl_attach_copy_and_files_are_refused(ledger, statement):
    url, _ = ledger
    before = event_count(url)
    result = invoke(url, "sql", statement)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "refused" in result.output and "read-only" in result.output
    assert event_count(url) == before


@pytest.mark.parametrize(
    "statement,needle",
    [
        ("SELEC 1", "Parser Error"),
        ("SELECT nope FROM trades", "Binder Error"),
        ("SELECT nope()", "refused"),
        ("SELECT 1/0::INTEGER + 'x'", "Error"),
    ],
)
def test_bad_sql_is_duckdbs_message_and_exit_2(ledger, statement, needle):
    url, _ = ledger
    result = invoke(url, "sql", statement)
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "SHOW TABLES",
        "DESCRIBE trades",
        "SUMMARIZE trades",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "SELECT * FROM range(3)",
        "FROM ledger.runs SELECT run_id",
    ],
)
def test_read_only_introspection_is_allowed(ledger, statement):
    url, _ = ledger
    result = invoke(url, "sql", statement)
    assert result.exit_code == 0, result.output


def test_the_session_itself_refuses_writes_and_files(ledger, tmp_path):
    """Second line of defence, below the parser check: READ_ONLY attach and locked configuration."""
    url, _ = ledger
    con = duckdb_session.connect(sa.make_url(url))
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("INSERT INTO ledger.runs (run_id) VALUES ('x')")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"ATTACH '{tmp_path / 'y.db'}' AS y")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.db").exists()


def test_extensions_come_from_the_pypi_packages():
    for backend in ("sqlite", "postgresql"):
        path = duckdb_session.extension_path(backend)
        assert path.suffix == ".duckdb_extension" and path.is_file()
        assert "duckdb_extension_" in str(path)

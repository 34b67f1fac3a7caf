"""No command prints a password, and ``rexnet sql`` shows no secret, path or host detail.

A PostgreSQL URL carries a known password (the test server's trust authentication accepts any), in
the user part and in the query string (``?password=``, which libpq also reads). Every command, its
error paths included (bad run id, bad SQL, refused SQL, an unreachable server), must keep it out
of stdout and stderr. On SQLite, ``rexnet sql`` must not print the ledger's absolute path.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import tempfile
import threading
import uuid

import pytest
import sqlalchemy as sa
from secrets_helpers import (
    command_paths,
    ingest,
    invoke,
    new_secret,
    with_password,
    with_query_password,
)

from rexnet.analytics import Analytics, duckdb_session
from rexnet.analytics.catalogue import VIEWS, Dialect, render
from rexnet.analytics.errors import AnalyticsError
from rexnet.analytics.guard import allowed_functions, allowed_relations, check_read_only
from rexnet.analytics.queries import QUERIES
from rexnet.store.database import mask_secrets, redact


def pg_base() -> str:
    """The PostgreSQL test URL (as tests/conftest.py: under CI=true a missing one fails)."""
    url = os.environ.get("REXNET_TEST_PG_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("REXNET_TEST_PG_URL is not set but CI=true: PostgreSQL tests must run in CI")
        pytest.skip("REXNET_TEST_PG_URL not set: PostgreSQL tests skipped outside CI")
    return url


@pytest.fixture(scope="module")
def pg_schema():
    """A fresh PostgreSQL schema for the module (dropped afterwards): ``(base url, schema)``."""
    base = pg_base()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield base, schema
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def in_schema(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def pg_ledger(pg_schema, tmp_path_factory):
    """``(url with a password, password, ingested run id, simulated run id)`` on PostgreSQL."""
    secret = new_secret()
    url = with_password(in_schema(*pg_schema), secret)
    folder = tmp_path_factory.mktemp("pg-secret")
    run_id = ingest(url, folder)
    result = invoke(url, "run", "--units", "1", "--name", "sim", "--format", "json")
    assert result.exit_code == 0, result.output
    return url, secret, run_id, json.loads(result.stdout)["run_id"]


def assert_clean(result, *secrets: str) -> None:
    text = result.output + (repr(result.exception) if result.exception else "")
    for secret in secrets:
        for form in {secret, secret.replace(":", "%3A").replace("@", "%40").replace("/", "%2F")}:
            assert form not in text, text


def sweep_file(folder, name: str) -> str:
    """A sweep whose every point is invalid: recorded as failed without starting a cluster."""
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nscenario = "default"\nseeds = [1]\nunits = 1\n[grid]\n"population[0].count" = [-1]\n'
    )
    return str(path)


def scenario_commands(run_id: str, sim_id: str, folder) -> list[tuple[list[str], set[int]]]:
    """``(arguments, allowed exit codes)`` of every command, with its error paths."""
    stream = folder / "bad.jsonl"
    stream.write_text('{"t": 0, "op": "limit"}\n')
    return [
        (["db", "upgrade"], {0}),
        (["runs"], {0}),
        (["runs", "--format", "json"], {0}),
        (["events", run_id], {0}),
        (["events", "no-such-run"], {2}),
        (["book", run_id, "--unit", "2"], {0}),
        (["book", "no-such-run", "--unit", "2"], {2}),
        (["accounts", run_id], {0}),
        (["accounts", run_id, "--at", "999999"], {0, 2}),
        (["audit", run_id], {0}),
        (["audit", "no-such-run"], {2}),
        (["replay", run_id], {0}),
        (["replay", sim_id, "--verify"], {0}),
        (["fork", sim_id, "--at", "5", "--name", f"f{uuid.uuid4().hex[:6]}"], {0}),
        (["fork", "no-such-run", "--at", "5"], {2}),
        (["resume", sim_id], {0}),
        (["run", "no-such-scenario"], {2}),
        (["ingest", str(stream)], {2}),
        (["sql", "SELECT run_id, count(*) AS n FROM events GROUP BY run_id"], {0}),
        (["sql", "SELEC 1"], {2}),
        (["sql", "SELECT nope FROM trades"], {2}),
        (["sql", "PRAGMA database_list"], {2}),
        (["sql", "SELECT path FROM duckdb_databases"], {2}),
        (["sql", "SELECT * FROM duckdb_settings()"], {2}),
        (["sql", "SELECT 1", "--run", "no-such-run"], {2}),
        (["sql", "--list"], {0}),
        (["query", "system_balance", run_id], {0}),
        (["query", "no_such_query", run_id], {2}),
        (["export", run_id, "--parquet", str(folder / "parquet")], {0}),
        (["report", run_id, "--out", str(folder / "report")], {0}),
        (["sweep", sweep_file(folder, "bad")], {1}),
        (["sweep", str(folder / "absent.toml")], {2}),
        (["sweeps"], {0}),
        (["sweeps", "bad"], {0}),
        (["sweep-query", "system_balance", "bad"], {0, 2}),
        (["sweep-query", "system_balance", "no-such-sweep"], {2}),
    ]


@pytest.mark.slow
def test_no_command_prints_the_password(pg_ledger, tmp_path):
    url, secret, run_id, sim_id = pg_ledger
    covered = set()
    for args, codes in scenario_commands(run_id, sim_id, tmp_path):
        result = invoke(url, *args)
        assert result.exit_code in codes, (args, result.output)
        assert "Traceback" not in result.output, (args, result.output)
        assert_clean(result, secret)
        covered.add(tuple(a for a in args[:2] if not a.startswith("-"))[: 2 if args[0] == "db" else 1])
    # every command of the CLI is covered above; new ones at least on their error path
    for path in command_paths():
        if path not in covered:
            result = invoke(url, *path, "no-such-run")
            assert_clean(result, secret)


@pytest.mark.parametrize("where", ["user", "query"])
def test_unreachable_server_and_bad_options_mask_the_password(where):
    secret = new_secret()
    put = with_password if where == "user" else with_query_password
    for url in (
        put("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", secret),  # nothing listens on port 1
        put("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1&bogus=1", secret),
        put("postgresql://postgres@no-such-host.invalid/x", secret),
    ):
        for args in (["runs"], ["sql", "SELECT 1"], ["events", "x"], ["db", "upgrade"], ["sweeps"]):
            result = invoke(url, *args)
            assert result.exit_code == 2, (url, args, result.output)
            assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
            assert_clean(result, secret)


def test_password_in_the_query_string_works_and_is_masked(pg_ledger):
    url, secret, run_id, _ = pg_ledger
    other = new_secret()
    moved = with_query_password(
        sa.make_url(url).set(password=None).render_as_string(hide_password=False), other
    )
    for args in (["runs"], ["sql", "SELECT count(*) AS n FROM trades"], ["sql", "PRAGMA database_list"]):
        result = invoke(moved, *args)
        assert result.exit_code in (0, 2), result.output
        assert_clean(result, secret, other)
    assert other not in redact(moved) and "password=***" in redact(moved)


def test_redact_and_mask_cover_urls_query_strings_and_libpq_keywords():
    secret = "pa:ss w@rd"
    shown = redact(f"postgresql://u:{secret}@h/db?password={secret}&sslpassword=xy")
    assert shown == "postgresql://u:***@h/db?password=***&sslpassword=***"
    assert redact("postgresql://u:x@h/db?sslpassword=y&a=1").endswith("sslpassword=***&a=1")
    masked = mask_secrets("connection failed: host=h password='a b\\'c' dbname=x PASSWORD=zz")
    assert "a b" not in masked and "zz" not in masked and "dbname=x" in masked
    assert mask_secrets("oops pa%3Ass%20w%40rd and pa:ss w@rd", [secret]) == "oops *** and ***"


def test_the_password_never_enters_duckdb(pg_ledger):
    """Below the guard: the ATTACH string DuckDB keeps holds no password (a libpq passfile does)."""
    url, secret, _, _ = pg_ledger
    con = duckdb_session.connect(sa.make_url(url))
    try:
        (path,) = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'ledger'").fetchone()
        assert secret not in path and "password" not in path.lower()
        passfile = path.split("passfile=")[1].split("&")[0].replace("%2F", "/")
        assert os.stat(passfile).st_mode & 0o777 == 0o600
        assert con.execute("SELECT count(*) FROM trades").fetchone()[0] >= 1  # the password was found
    finally:
        duckdb_session.close(con)
    assert not os.path.exists(passfile)


@pytest.fixture(scope="module")
def sqlite_ledger(tmp_path_factory):
    """``(url, run id, folder)`` of a SQLite ledger whose folder name must never be printed."""
    tmp_path = tmp_path_factory.mktemp("sqlite-secret")
    folder = tmp_path / f"secret-place-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    url = f"sqlite:///{folder / 'ledger.db'}"
    return url, ingest(url, tmp_path), str(folder)


#: Reads that would show the ATTACH string, a path, a setting, a file or the host: each refused.
REFUSED = [
    "PRAGMA database_list",
    "PRAGMA show_databases",
    "PRAGMA platform",
    "PRAGMA table_info('trades')",
    "PRAGMA version",
    "SELECT path FROM duckdb_databases",
    "SELECT * FROM duckdb_databases()",
    "FROM duckdb_databases() SELECT path",
    "SELECT * FROM duckdb_settings()",
    "SELECT value FROM duckdb_settings WHERE name = 'home_directory'",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_logs",
    "SELECT * FROM duckdb_profiling_settings()",
    "SELECT * FROM pragma_database_list",
    "SELECT * FROM pragma_database_list()",
    "SELECT * FROM pragma_platform()",
    "SELECT * FROM pragma_user_agent()",
    "SELECT current_setting('home_directory')",
    "SELECT main.current_setting('temp_directory')",
    "SELECT getenv('HOME')",
    "SELECT getvariable('x')",
    "SELECT version()",
    "SELECT get_block_size('ledger')",
    "SELECT json_serialize_plan('SELECT path FROM duckdb_databases()')",
    "SELECT * FROM query('SELECT path FROM duckdb_databases()')",
    "SELECT * FROM query_table('duckdb_databases')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM '/etc/passwd'",
    "FROM 'ledger.db'",
    'SELECT * FROM "ledger.db"',
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM information_schema.schemata",
    "SELECT * FROM pg_catalog.pg_settings",
    "SELECT * FROM pg_settings",
    "SELECT * FROM pg_database",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM ledger.sqlite_master",
    "SELECT * FROM ledger.main.sqlite_master",
    "SELECT * FROM ledger.alembic_version",
    "SELECT db_url FROM ledger.sweep_runs",
    "SELECT * FROM system.main.duckdb_databases",
    "SELECT * FROM main.duckdb_databases",
    'SELECT * FROM "DuckDB_Databases"',
    "SELECT * FROM DUCKDB_DATABASES",
    "SELECT * FROM duc\u212adb_databases",  # a Kelvin sign, lower-cased to k by Unicode rules
    "/* trades */ SELECT path -- FROM trades\n FROM duckdb_databases",
    "WITH duckdb_databases AS (SELECT 1 AS path) SELECT path FROM duckdb_databases",
    "WITH x AS (SELECT 1) SELECT * FROM (WITH y AS (SELECT 2) SELECT * FROM y), duckdb_databases",
    "WITH trades AS (SELECT * FROM duckdb_databases()) SELECT * FROM trades",
    "SELECT * FROM trades WHERE unit IN (SELECT 1 FROM duckdb_databases)",
    "SELECT (SELECT path FROM duckdb_databases LIMIT 1)",
    "VALUES ((SELECT path FROM duckdb_databases()))",
    "SELECT list_transform([1], x -> (SELECT path FROM duckdb_databases()))",
    "SELECT * FROM range(3) r, duckdb_databases() d",
    "SELECT * FROM (PIVOT duckdb_databases ON path USING count(*))",
    "PIVOT trades ON unit USING sum(qty)",
    "SHOW DATABASES",
    "SHOW ALL TABLES",
    "DESCRIBE",
    "DESCRIBE duckdb_databases",
    "SUMMARIZE duckdb_databases",
    "SUMMARIZE SELECT * FROM duckdb_databases()",
    "DESCRIBE SELECT path FROM duckdb_databases()",
    "EXPLAIN SELECT * FROM trades",
    "EXPLAIN ANALYZE SELECT path FROM duckdb_databases()",
    "CALL pragma_database_list()",
    "CALL duckdb_settings()",
    "SET home_directory = '/'",
    "RESET threads",
    "CREATE MACRO leak() AS (SELECT path FROM duckdb_databases())",
    "ATTACH '/tmp/x.db' AS x",
    "DETACH ledger",
    "INSTALL httpfs",
    "LOAD postgres_scanner",
    "COPY trades TO '/tmp/trades.csv'",
    "EXPORT DATABASE '/tmp/dump'",
    "SELECT * FROM postgres_query('ledger', 'SELECT 1')",
    "SELECT * FROM postgres_scan('host=127.0.0.1', 'public', 'runs')",
    "SELECT * FROM sqlite_scan('/tmp/x.db', 'runs')",
    "SELECT * FROM sqlite_attach('/tmp/x.db')",
    "SELECT * FROM which_secret('s3://x/y', 's3')",
    "SELECT * FROM trades AT (VERSION => 1)",
    "SELECT 1; SELECT path FROM duckdb_databases",
]

#: Ordinary analysis: joins over views, CTEs, windows, aggregates, lambdas, introspection of views.
ALLOWED = [
    "SELECT t.unit, t.price, o.agent FROM trades t JOIN orders o ON o.run_id = t.run_id AND o.order_id = t.sell_order_id",
    "WITH s AS (SELECT agent, sum(net_cash) AS cash FROM settlements GROUP BY agent) SELECT * FROM s ORDER BY cash",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT sum(i) FROM n",
    "SELECT seq, type, row_number() OVER (PARTITION BY run_id ORDER BY seq) AS k FROM events QUALIFY k <= 3",
    "SELECT agent_type(agent) AS kind, count(*) FROM orders GROUP BY ALL",
    "SELECT r.name, count(*) FROM runs r JOIN event_log e USING (run_id) GROUP BY r.name",
    "SELECT count(*) FROM event_log",
    "SELECT count(seq) FROM ledger.event_log",
    "SELECT list_transform([1, 2], x -> x * 2), unnest([1, 2]), * FROM range(2)",
    "SELECT * FROM (PIVOT trades ON unit IN (2) USING sum(qty) GROUP BY run_id)",
    "SELECT unit, vwap, lag(vwap) OVER (ORDER BY unit) FROM unit_prices",
    "SELECT * FROM imbalance, run_markets WHERE imbalance.run_id = run_markets.run_id",
    "SHOW TABLES",
    "DESCRIBE trades",
    "SUMMARIZE trades",
    "FROM orders SELECT status, count(*) GROUP BY status",
    "SELECT CAST(price AS INTEGER) % 7, coalesce(NULL, 1), price BETWEEN 1 AND 100 FROM trades",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_refused_on_sqlite_without_the_path(sqlite_ledger, statement):
    url, _, folder = sqlite_ledger
    result = invoke(url, "sql", statement)
    assert result.exit_code == 2, result.output
    assert "refused" in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert folder not in result.output and "secret-place" not in result.output


@pytest.mark.slow
def test_refused_on_postgresql_without_the_password(pg_ledger):
    url, secret, _, _ = pg_ledger
    for statement in REFUSED:
        result = invoke(url, "sql", statement)
        assert result.exit_code == 2, (statement, result.output)
        assert "refused" in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert_clean(result, secret)


@pytest.mark.parametrize("backend", ["sqlite", "pg"])
def test_ordinary_analysis_still_works(backend, request):
    if backend == "sqlite":
        url, _, folder = request.getfixturevalue("sqlite_ledger")
        secrets = [folder]
    else:
        url, secret, _, _ = request.getfixturevalue("pg_ledger")
        secrets = [secret]
    result = invoke(url, "sql", ALLOWED[0], "--format", "json")  # the command line, once
    assert result.exit_code == 0 and json.loads(result.stdout), result.output
    assert_clean(result, *secrets)
    with Analytics(url) as ax:  # the rest in one session (each CLI call would open its own)
        for statement in ALLOWED:
            if backend == "pg" and "ledger." in statement:
                continue  # the PostgreSQL ledger's schema is not DuckDB's default; event_log serves both
            columns, rows = ax.rows(statement)
            assert columns and rows, statement
            assert not any(secret in repr(rows) for secret in secrets)


def test_errors_of_allowed_queries_show_no_path(sqlite_ledger):
    url, _, folder = sqlite_ledger
    for statement in ("SELECT nope FROM trades", "SELECT 1/0::INTEGER + 'x'", "SELECT error('boom')"):
        result = invoke(url, "sql", statement)
        assert result.exit_code == 2 and folder not in result.output, result.output


def test_the_guard_accepts_every_view_and_named_query_of_rexnet_itself():
    """The allow-list follows the catalogue: a view or named query added later must pass it too."""
    dialect = Dialect("duckdb", log="ledger.event_log", runs="runs", only_runs=("a",), only_sources=("a",))
    for name, sql in render(dialect):
        assert check_read_only(sql) == [sql], name
    for query in QUERIES.values():
        if query.sql is not None:
            check_read_only(query.sql)
    assert set(VIEWS) <= allowed_relations()
    assert not {"current_setting", "version", "json_serialize_plan"} & allowed_functions()


@pytest.mark.parametrize("db", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_ledger_is_refused(db, tmp_path):
    for args in (["runs"], ["run", "--units", "1"], ["sql", "SELECT 1"]):
        result = invoke(db, *args)
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
        assert "sqlite:///PATH" in result.output


class PasswordCatcher:
    """A fake PostgreSQL server that asks for a cleartext password, records it and refuses.

    The test server trusts every connection, so it cannot tell whether a password was sent at
    all; this one shows that the password DuckDB's libpq sends comes from the passfile.
    """

    def __init__(self) -> None:
        self.passwords: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)  # accept() wakes up to see `stopped`: closing does not wake it
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with conn:
                try:
                    self._answer(conn)
                except (OSError, struct.error):  # TimeoutError is an OSError
                    pass

    def _answer(self, conn: socket.socket) -> None:
        while True:  # SSL / GSS encryption requests are declined until the startup message
            length, code = struct.unpack("!ii", _exactly(conn, 8))
            _exactly(conn, length - 8)
            if code not in (80877103, 80877104):
                break
            conn.sendall(b"N")
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        _exactly(conn, 1)
        (length,) = struct.unpack("!i", _exactly(conn, 4))
        self.passwords.append(_exactly(conn, length - 4).rstrip(b"\0").decode())
        message = b"SFATAL\0C28P01\0Mpassword refused by the test\0\0"
        conn.sendall(b"E" + struct.pack("!i", len(message) + 4) + message)

    def close(self) -> None:
        """Stop and join the thread (a live thread would stop ``replay`` from forking in later tests)."""
        self.stopped.set()
        self.thread.join()
        self.sock.close()


def _exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def passfiles() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("rexnet-pgpass-")}


def test_duckdb_gets_the_password_from_the_passfile_and_errors_hide_it():
    catcher = PasswordCatcher()
    before = passfiles()
    try:
        for secret, url in (
            (s := new_secret(), with_password(f"postgresql://u@127.0.0.1:{catcher.port}/db", s)),
            (q := new_secret(), with_query_password(f"postgresql://u@127.0.0.1:{catcher.port}/db", q)),
        ):
            catcher.passwords.clear()
            with pytest.raises(AnalyticsError) as error:
                duckdb_session.connect(sa.make_url(url))
            assert secret in catcher.passwords  # libpq read it from the passfile
            assert secret not in str(error.value) and "refused by the test" in str(error.value)
            assert passfiles() <= before  # removed as the failed session closed
            catcher.passwords.clear()
            result = invoke(url, "runs")  # psycopg's own connection, and its error message
            assert result.exit_code == 2 and secret in catcher.passwords, result.output
            assert_clean(result, secret)
    finally:
        catcher.close()

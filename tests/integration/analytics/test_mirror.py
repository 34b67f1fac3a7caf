"""The columnar mirror equals the log, refreshes by seq, and neither hides nor suffers tampering.

The whole analytics suite also runs on both paths (see ``conftest``); these tests are about the
mirror itself: its copy is complete, increments copy only what is new, a hand-edited mirror is
caught and repaired, a ledger rewritten after it was mirrored is a failed check, and where the
mirror cannot exist the scanner answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest
import sqlalchemy as sa
from analytics_helpers import FORK_COMMANDS, ingest, invoke, make_fork

from rexnet.analytics import Analytics, AnalyticsError
from rexnet.analytics.catalogue import RUN_VIEWS
from rexnet.analytics.mirror import MirrorMismatch, mirror_path, refresh
from rexnet.domain.codec import chain_hash
from rexnet.store import open_store

EVERY_TABLE = (*RUN_VIEWS, "event_history", "runs")
#: enough to see any event, decoded field or run go missing or change (the cheaper comparisons)
SOME_TABLES = ("events", "trades", "settlements", "orders", "runs")


def normalised(rows):
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def snapshot(url: str, mode: str, notes: list[str] | None = None, tables=SOME_TABLES) -> dict[str, tuple]:
    """The views' (columns, rows) read through ``mode`` (``require``: the mirror, ``off``: the ledger)."""
    out = {}
    with Analytics(url, mirror=mode, notify=(notes.append if notes is not None else None)) as ax:
        for table in tables:
            columns, rows = ax.rows(f"SELECT * FROM {table}")
            out[table] = (columns, normalised(rows))
        assert ax.uses_mirror == (mode == "require")
    return out


def file_of(url: str) -> Path:
    with open_store(url) as store:
        return mirror_path(store.engine.url)


def mirrored_url(url: str):
    with open_store(url) as store:
        return store.engine.url


@pytest.fixture(params=["sqlite", "pg"])
def lineage(request, tmp_path):
    """``(url, parent, fork)`` on each backend."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    parent = ingest(url, tmp_path)
    return url, parent, make_fork(url, parent)


def test_mirror_equals_the_log_in_every_view(lineage):
    url, parent, fork = lineage
    mirrored = snapshot(url, "require", tables=EVERY_TABLE)
    assert mirrored == snapshot(url, "off", tables=EVERY_TABLE)
    assert mirrored["trades"][1] and mirrored["settlements"][1]  # not vacuous
    assert file_of(url).exists()


def test_sqlite_mirror_sits_beside_the_ledger(ledger):
    url, _ = ledger
    raw = "SELECT * FROM ledger.event_log"  # the stored rows themselves, as on the scanner path
    with Analytics(url, mirror="require") as mirrored, Analytics(url, mirror="off") as scanned:
        assert mirrored.rows(raw) == scanned.rows(raw)
    ledger_file = Path(url.removeprefix("sqlite:///"))
    assert file_of(url) == ledger_file.with_name(ledger_file.name + ".mirror.duckdb")
    assert file_of(url).exists()


def test_named_queries_and_exports_agree(forked, tmp_path):
    url, parent, fork = forked
    for mode in ("require", "off"):
        with Analytics(url, mirror=mode) as ax:
            diff = ax.named_rows("fork_diff", fork)
            lead = ax.named_rows("vwap_by_unit_lead", parent)
            files = ax.export_parquet(fork, tmp_path / mode)
        exported = {f.name: normalised(duckdb.sql(f"SELECT * FROM '{f}'").fetchall()) for f in files}
        if mode == "require":
            expected = (diff, lead, exported)
    assert (diff, lead, exported) == expected


def test_refresh_copies_only_new_events_and_new_runs(lineage, tmp_path):
    url, parent, fork = lineage
    db = mirrored_url(url)
    first = refresh(db)
    with open_store(url) as store:
        own = {
            r.run_id: r.head_seq - (r.fork_seq if r.fork_seq is not None else -1) for r in store.list_runs()
        }
    assert first.copied == own
    assert refresh(db).copied == {}  # nothing new: nothing copied
    # a new run and a fork of the fork arrive: only their stored events are copied
    other = ingest(url, tmp_path, name="other")
    grandchild = make_fork(url, fork, name="grandchild", fork_seq=12, commands=FORK_COMMANDS[1:])
    with open_store(url) as store:
        new = {other: store.get_run(other).events, grandchild: store.get_run(grandchild).head_seq - 12}
    assert refresh(db).copied == new
    assert snapshot(url, "require") == snapshot(url, "off")


def test_a_running_run_is_mirrored_up_to_its_committed_head(sqlite_url):
    from rexnet.domain.commands import PlaceLimit, PlaceMarket
    from rexnet.domain.market import MarketSpec
    from rexnet.market_engine import MarketEngine

    store = open_store(sqlite_url)
    spec = MarketSpec()
    run = store.create_run(
        name="live", scenario={"kind": "test"}, seed=0, code_version="test", market=spec.to_record()
    )
    engine = MarketEngine(spec)
    db = store.engine.url
    with store.writer(run.run_id) as writer:
        writer.append(engine.submit(PlaceLimit(0, "a", "o1", "sell", 2, 4000, 1000)))
    assert refresh(db).copied == {run.run_id: store.get_run(run.run_id).events}
    before = store.get_run(run.run_id).head_seq
    with store.writer(run.run_id) as writer:
        writer.append(engine.submit(PlaceMarket(1000, "b", "o2", "buy", 2, 500)))
    assert refresh(db).copied == {run.run_id: store.get_run(run.run_id).head_seq - before}
    store.close()
    assert snapshot(sqlite_url, "require") == snapshot(sqlite_url, "off")


HAND_EDITS = [
    "UPDATE mirror_log SET doc = struct_update(doc, net_cash := doc.net_cash + 1) WHERE type = 'settled'",
    "UPDATE mirror_log SET payload = replace(payload, '\"b\"', '\"z\"') WHERE type = 'trade'",
    "DELETE FROM mirror_log WHERE type = 'trade'",
    "INSERT INTO mirror_log SELECT * REPLACE (seq + 1000 AS seq) FROM mirror_log WHERE type = 'trade'",
    "UPDATE mirror_runs SET seq = seq - 1",
]


@pytest.mark.parametrize("edit", HAND_EDITS)
def test_a_mirror_edited_by_hand_is_caught_and_copied_again(forked, edit):
    url, parent, fork = forked
    expected = snapshot(url, "off")
    assert snapshot(url, "require") == expected
    con = duckdb.connect(str(file_of(url)))
    changed = con.execute(edit).fetchone()
    con.close()
    assert changed and changed[0] > 0
    notes: list[str] = []
    assert snapshot(url, "require", notes) == expected
    assert any("did not match its checksums" in note for note in notes), notes
    assert not any(str(file_of(url)) in note for note in notes)  # no path in a message
    notes.clear()
    assert snapshot(url, "require", notes) == expected and notes == []  # repaired


def _unguarded(url: str) -> sa.Engine:
    """An engine of someone who switched off the ledger's append-only triggers."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE event_log DISABLE TRIGGER USER")
            conn.exec_driver_sql("ALTER TABLE runs DISABLE TRIGGER USER")
        else:
            for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return engine


def forge_and_rechain(url: str, run: str) -> int:
    """Add 1 to the net cash of the first settlement of ``run`` and re-chain every later hash and
    the head, as a careful forger would; the seq changed."""
    engine = _unguarded(url)
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT seq, t_ms, type, version, payload, hash FROM event_log WHERE run_id = :r ORDER BY seq"
            ),
            {"r": run},
        ).all()
        target = next(r.seq for r in rows if r.type == "settled")
        prev = bytes(next(r.hash for r in rows if r.seq == target - 1))
        for r in rows[target - rows[0].seq :]:
            payload = r.payload
            if r.seq == target:
                doc = orjson.loads(payload)
                payload = orjson.dumps(
                    {**doc, "net_cash": doc["net_cash"] + 1}, option=orjson.OPT_SORT_KEYS
                ).decode()
            prev = chain_hash(prev, r.seq, r.t_ms, r.type, r.version, payload.encode())
            conn.execute(
                sa.text("UPDATE event_log SET payload = :p, hash = :h WHERE run_id = :r AND seq = :s"),
                {"p": payload, "h": prev, "r": run, "s": r.seq},
            )
        conn.execute(sa.text("UPDATE runs SET head_hash = :h WHERE run_id = :r"), {"h": prev, "r": run})
    engine.dispose()
    return target


def test_a_ledger_rewritten_after_it_was_mirrored_is_a_failed_check(lineage):
    url, parent, fork = lineage
    assert snapshot(url, "require") == snapshot(url, "off")
    seq = forge_and_rechain(url, parent)
    with open_store(url) as store:
        assert store.verify_chain(parent) is None  # the forger re-chained: the chain alone is fine
    result = invoke(url, "sql", "SELECT SUM(net_cash) FROM settlements")
    assert result.exit_code == 1, result.output
    assert f"run {parent}" in result.output and "changed" in result.output
    with Analytics(url, mirror="require") as ax, pytest.raises(MirrorMismatch):
        ax.rows("SELECT 1")
    # the scanner still reads the ledger as it now is; --rebuild accepts it
    assert invoke(url, "sql", "SELECT COUNT(*) FROM trades", "--no-mirror").exit_code == 0
    rebuilt = invoke(url, "mirror", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert snapshot(url, "require") == snapshot(url, "off")
    assert seq > 0


def test_a_truncated_ledger_is_a_failed_check(ledger):
    url, run = ledger
    snapshot(url, "require")
    engine = _unguarded(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM event_log WHERE run_id = '{run}' AND seq > 20")
    engine.dispose()
    result = invoke(url, "sql", "SELECT COUNT(*) FROM events")
    assert result.exit_code == 1 and f"run {run}" in result.output


def test_a_new_ledger_at_the_same_place_starts_a_new_mirror(ledger, tmp_path):
    url, run = ledger
    snapshot(url, "require")
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    new = ingest(url, tmp_path, name="again")
    mirrored = snapshot(url, "require")
    assert mirrored == snapshot(url, "off")
    assert {r[0] for r in mirrored["runs"][1]} == {new}


def test_no_mirror_flag_and_env_scan_the_ledger(ledger, monkeypatch):
    url, run = ledger
    result = invoke(url, "sql", "SELECT COUNT(*) AS n FROM trades", "--no-mirror", "--format", "json")
    assert json.loads(result.output) == [{"n": 1}]
    assert not file_of(url).exists()
    monkeypatch.setenv("REXNET_MIRROR", "off")
    assert invoke(url, "query", "vwap_by_unit_lead", run).exit_code == 0
    assert not file_of(url).exists()
    monkeypatch.setenv("REXNET_MIRROR", "sometimes")
    result = invoke(url, "sql", "SELECT 1")
    assert result.exit_code == 2 and "REXNET_MIRROR" in result.output


def test_mirror_command_reports_what_it_copied(ledger):
    url, run = ledger
    first = json.loads(invoke(url, "mirror", "--format", "json").stdout)
    with open_store(url) as store:
        assert first["events_copied"] == store.get_run(run).events
    again = json.loads(invoke(url, "mirror", "--format", "json").stdout)
    assert (again["runs_copied"], again["events_copied"], again["rebuilt"]) == (0, 0, [])


def test_where_the_mirror_cannot_be_written_the_scanner_answers(ledger):
    url, run = ledger
    expected = snapshot(url, "off")
    file_of(url).mkdir()  # something that is not a mirror stands in its place
    notes: list[str] = []
    assert snapshot(url, "off") == expected
    with Analytics(url, notify=notes.append) as ax:
        assert normalised(ax.rows("SELECT * FROM settlements")[1]) == expected["settlements"][1]
        assert not ax.uses_mirror
    assert notes and "reading the ledger directly" in notes[0]
    assert str(file_of(url)) not in notes[0]
    result = invoke(url, "sql", "SELECT 1", "--format", "json")
    assert result.exit_code == 0 and "Warning: the analytics mirror cannot be used" in result.stderr
    with Analytics(url, mirror="require") as ax, pytest.raises(AnalyticsError, match="mirror cannot be used"):
        ax.rows("SELECT 1")


@pytest.mark.pg
def test_read_only_mirror_folder_falls_back_to_the_scanner(pg_url, tmp_path):
    """A PostgreSQL ledger whose mirror folder is read-only: the command still answers, from the ledger."""
    run = ingest(pg_url, tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    env = {**os.environ, "REXNET_MIRROR_DIR": str(folder / "mirrors"), "REXNET_MIRROR": "auto"}
    command = [sys.executable, "-m", "rexnet.cli", "--db", pg_url, "sql", "SELECT COUNT(*) AS n FROM trades"]
    if os.geteuid() == 0:  # root ignores permission bits unless it gives up the capability
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    done = subprocess.run(
        [*command, "--format", "json", "--run", run], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"n": 1}]
    assert "reading the ledger directly" in done.stderr and str(folder) not in done.stderr
    assert not (folder / "mirrors").exists()


def test_a_view_added_to_the_catalogue_works_over_the_mirror_unedited(forked, monkeypatch):
    """A new view reading new payload fields: the mirror decodes them (rebuilding itself)."""
    from rexnet.analytics import catalogue

    url, parent, fork = forked
    snapshot(url, "require")  # a mirror made before the view existed
    view = catalogue._typed("run_completed", [("events", catalogue.INT), ("head_hash", catalogue.TEXT)])
    monkeypatch.setitem(catalogue.VIEWS, "completions", view)
    tables = ("completions", "trades")
    mirrored = snapshot(url, "require", tables=tables)
    assert mirrored == snapshot(url, "off", tables=tables)
    rows = mirrored["completions"][1]
    assert {row[0] for row in rows} == {parent}  # the ingest recorded run_completed; the test fork did not
    assert all(len(row[4]) == 64 and row[3] > 0 for row in rows)  # decoded: the hash text, the count

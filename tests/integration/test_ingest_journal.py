"""Issue 17: an ingest's inputs live in its input journal, not in ``run_started``.

The journal is written with the run, read back as a stream by verify, resume and audit, and a run
recorded before the journal (its commands embedded in the record) still verifies and audits.
Standard input (``-``) ingests like a file; a malformed line anywhere, the last one of a long
stream included, writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.domain.command_record import encode_commands
from rexnet.domain.market import MarketSpec
from rexnet.ingest.stream import parse_commands
from rexnet.replay.recording import record_commands
from rexnet.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from streams import write_stream  # noqa: E402


def invoke(db: str, *args: str, stdin: bytes | None = None):
    return CliRunner().invoke(cli, ["--db", db, *args], input=stdin)


def ingest_json(db: str, *args: str, stdin: bytes | None = None) -> dict:
    result = invoke(db, "ingest", *args, "--format", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(db: str) -> tuple[int, int, int]:
    """Rows of runs, event_log and input_journal (of a ledger migrated first, if new)."""
    open_store(db).close()
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                for table in ("runs", "event_log", "input_journal")
            )
    finally:
        engine.dispose()


def test_ingest_keeps_its_inputs_in_the_journal_and_verifies_resumes_audits_through_it(
    db_url, tmp_path, monkeypatch
):
    monkeypatch.setattr("rexnet.ingest.chunks.CHUNK_COMMANDS", 64)  # several chunks from a short stream
    stream = write_stream(tmp_path / "s.jsonl", 500, seed=3)
    run = ingest_json(db_url, str(stream), "--name", "ing")
    store = open_store(db_url)
    try:
        info = store.get_run("ing")
        record = info.scenario
        assert "commands" not in record  # run_started holds metadata, not the stream
        assert record["lines"] == 500 and record["source"] == "s.jsonl"
        assert record["sha256"] == hashlib.sha256(stream.read_bytes()).hexdigest()
        assert record["journal"]["commands"] == 500 and record["journal"]["chunks"] == 8
        rows = list(store.journal_rows(info.run_id))
        assert [r[0] for r in rows] == list(range(8)) and sum(r[2] for r in rows) == 500
        assert rows[-1][4].hex() == record["journal"]["head"]
        # the journal's commands are exactly the parsed stream's
        parsed = parse_commands(stream, MarketSpec()).commands
        assert [c for r in rows for c in json.loads(r[3])] == json.loads(json.dumps(encode_commands(parsed)))
        # a copy of the run cut short (with its journal) resumes to the same head
        cut = store.create_run(
            name="cut", scenario=record, seed=0, code_version=info.code_version, market=info.market
        )
        store.append_journal(cut.run_id, store.journal_rows(info.run_id))
        writer = store.writer(cut.run_id)
        writer.append(r.event() for r in store.read(info.run_id, to_seq=40))
        writer.flush()
    finally:
        store.close()
    verify = invoke(db_url, "replay", "ing", "--verify")
    assert verify.exit_code == 0 and f"verified {run['events']} events" in verify.stdout
    audit = invoke(db_url, "audit", "ing")
    assert audit.exit_code == 0, audit.output
    resumed = json.loads(invoke(db_url, "resume", "cut", "--format", "json").stdout)
    assert (resumed["events"], resumed["head_hash"]) == (run["events"], run["head_hash"])


def test_stdin_ingests_like_the_file(sqlite_url, tmp_path):
    stream = write_stream(tmp_path / "s.jsonl", 300, seed=5)
    data = stream.read_bytes()
    from_file = ingest_json(sqlite_url, str(stream), "--name", "file")
    from_stdin = ingest_json(sqlite_url, "-", "--name", "stdin", stdin=data)
    assert from_stdin["events"] == from_file["events"]
    store = open_store(sqlite_url)
    try:
        a, b = store.get_run("file").scenario, store.get_run("stdin").scenario
    finally:
        store.close()
    assert b["source"] == "-" and b["sha256"] == a["sha256"] == hashlib.sha256(data).hexdigest()
    assert b["journal"] == a["journal"]
    assert invoke(sqlite_url, "replay", "stdin", "--verify").exit_code == 0
    # a bad line on standard input writes nothing either
    before = counts(sqlite_url)
    bad = invoke(sqlite_url, "ingest", "-", stdin=data + b'{"t": 1e9, "op": "nope"}\n')
    assert bad.exit_code == 2 and "-, line 301: unknown op 'nope'" in bad.stderr
    assert counts(sqlite_url) == before


def test_a_malformed_last_line_of_a_long_stream_writes_nothing(db_url, tmp_path):
    stream = write_stream(tmp_path / "long.jsonl", 20_000, seed=2)
    with stream.open("a") as out:
        out.write('{"t": 999999, "op": "limit", "agent": "a", "ref": "z", "side": "sell", "unit": 2}\n')
    result = invoke(db_url, "ingest", str(stream), "--name", "never")
    assert result.exit_code == 2, result.output
    assert "long.jsonl, line 20001: missing field 'price'" in result.stderr
    assert "Traceback" not in result.output
    assert counts(db_url) == (0, 0, 0)  # no run row, no journal chunk, no event


def test_a_run_recorded_before_the_journal_still_verifies_and_audits(db_url, tmp_path):
    # what `rexnet ingest` wrote before issue 17: the parsed commands embedded in run_started
    stream = write_stream(tmp_path / "old.jsonl", 300, seed=4)
    parsed = parse_commands(stream, MarketSpec())
    old = {
        "kind": "ingest",
        "source": "old.jsonl",
        "sha256": hashlib.sha256(stream.read_bytes()).hexdigest(),
        "lines": parsed.lines,
        "commands": encode_commands(parsed.commands),
    }
    store = open_store(db_url)
    try:
        record_commands(store, parsed.commands, spec=MarketSpec(), name="old", scenario=old)
        (run,) = store.list_runs()
        assert list(store.journal_rows(run.run_id)) == []
    finally:
        store.close()
    verify = invoke(db_url, "replay", "old", "--verify")
    assert verify.exit_code == 0, verify.output
    audit = invoke(db_url, "audit", "old")
    assert audit.exit_code == 0 and "re-executed" in audit.stdout, audit.output

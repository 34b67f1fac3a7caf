"""A hostile database writer and the input journal of an ingest run (issue 17).

With the guards on, the database refuses changing, deleting or misplacing a chunk. With them off
(triggers dropped on SQLite, replica mode on PostgreSQL), an edited, removed, reordered, re-chained
or extra chunk is named by ``audit`` and ``replay --verify`` (exit 1) before any of its commands
is executed.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from tamper_helpers import attacker, invoke, invoke_json, run_id_of

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from streams import write_stream  # noqa: E402


@pytest.fixture
def ingested(db_url, tmp_path, monkeypatch):
    monkeypatch.setattr("rexnet.ingest.chunks.CHUNK_COMMANDS", 50)
    stream = write_stream(tmp_path / "s.jsonl", 300, seed=7)  # 6 chunks
    invoke_json(db_url, "ingest", str(stream), "--name", "ing")
    return db_url, run_id_of(db_url, "ing")


def _chunks(conn: sa.Connection, run_id: str) -> list[tuple]:
    rows = conn.execute(
        sa.text(
            "SELECT chunk, first_line, commands, body, hash FROM input_journal WHERE run_id = :r ORDER BY chunk"
        ),
        {"r": run_id},
    )
    return [tuple(r) for r in rows.all()]


def _rehash(prev: bytes, index: int, first: int, count: int, body: str) -> bytes:
    digest = hashlib.sha256(prev)
    digest.update(struct.pack(">qqq", index, first, count))
    digest.update(body.encode())
    return digest.digest()


def _named(db: str, *words: str) -> None:
    """``audit`` and ``replay --verify`` both fail (exit 1) with a message containing ``words``."""
    for args in (("audit", "ing"), ("replay", "ing", "--verify")):
        code, out, err = invoke(db, *args)
        assert code == 1, (args, out, err)
        text = out + err
        assert "Traceback" not in text
        for word in words:
            assert word in text, (args, text)


def test_guards_refuse_changing_removing_or_misplacing_chunks(ingested):
    db, run_id = ingested
    statements = [
        ("UPDATE input_journal SET body = '[]' WHERE run_id = :r AND chunk = 1", "append-only"),
        ("DELETE FROM input_journal WHERE run_id = :r AND chunk = 5", "append-only"),
        ("INSERT INTO input_journal VALUES (:r, 9, 1, 0, '[]', :h)", "in order"),
        ("INSERT INTO input_journal VALUES (:r, 6, 1, 0, '[]', :h)", "closed after run_completed"),
        ("INSERT INTO input_journal VALUES ('nope', 0, 1, 0, '[]', :h)", "input_journal"),
    ]
    for sql, words in statements:
        with pytest.raises(sa.exc.DBAPIError) as error:
            with attacker(db) as conn:
                conn.execute(sa.text(sql), {"r": run_id, "h": b"\0" * 32})
        message = str(error.value.orig)
        assert words in message or "foreign key" in message.lower(), message
    assert invoke(db, "audit", "ing")[0] == 0


def test_an_edited_chunk_is_named(ingested):
    db, run_id = ingested
    with attacker(db, guards_off=True) as conn:
        body = _chunks(conn, run_id)[2][3]
        conn.execute(
            sa.text("UPDATE input_journal SET body = :b WHERE run_id = :r AND chunk = 2"),
            {"b": body.replace('"buy"', '"sell"', 1), "r": run_id},
        )
    _named(db, "input journal", "chunk 2", "does not match its hash chain")


def test_a_missing_chunk_is_named(ingested):
    db, run_id = ingested
    with attacker(db, guards_off=True) as conn:
        conn.execute(sa.text("DELETE FROM input_journal WHERE run_id = :r AND chunk = 3"), {"r": run_id})
    _named(db, "input journal", "chunk 3 is missing")


def test_reordered_chunks_are_named(ingested):
    db, run_id = ingested
    with attacker(db, guards_off=True) as conn:
        rows = _chunks(conn, run_id)
        for index, source in ((1, rows[2]), (2, rows[1])):
            conn.execute(
                sa.text(
                    "UPDATE input_journal SET first_line = :f, commands = :c, body = :b, hash = :h "
                    "WHERE run_id = :r AND chunk = :i"
                ),
                {"f": source[1], "c": source[2], "b": source[3], "h": source[4], "r": run_id, "i": index},
            )
    _named(db, "input journal", "chunk 1", "does not match its hash chain")


def test_a_rechained_journal_is_named_by_the_head_in_run_started(ingested):
    # the attacker edits a chunk and re-chains every later one: the chain holds, the head does not
    db, run_id = ingested
    with attacker(db, guards_off=True) as conn:
        rows = _chunks(conn, run_id)
        prev = b"\0" * 32
        for index, first, count, body, _stored in rows:
            if index == 4:
                body = body.replace('"sell"', '"buy"', 1)
            digest = _rehash(prev, index, first, count, body)
            conn.execute(
                sa.text("UPDATE input_journal SET body = :b, hash = :h WHERE run_id = :r AND chunk = :i"),
                {"b": body, "h": digest, "r": run_id, "i": index},
            )
            prev = digest
    _named(db, "input journal", "head hash differs")


def test_an_extra_chunk_is_named(ingested):
    db, run_id = ingested
    with attacker(db, guards_off=True) as conn:
        rows = _chunks(conn, run_id)
        body = '[["cancel",99999999,"a1","x"]]'
        digest = _rehash(bytes(rows[-1][4]), 6, 301, 1, body)
        conn.execute(
            sa.text("INSERT INTO input_journal VALUES (:r, 6, 301, 1, :b, :h)"),
            {"r": run_id, "b": body, "h": digest},
        )
    _named(db, "input journal", "7 chunks with 301 commands stored", "records 6 chunks")

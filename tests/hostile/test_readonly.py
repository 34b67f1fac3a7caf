"""Reading commands work on a read-only SQLite ledger and write nothing to it.

Tests may run as root, for whom ``chmod -w`` stops no write. So the ledger's file *and* folder are
made immutable with ``chattr +i`` when running as root (even root cannot write, create or delete
there then), and made read-only with ``chmod`` otherwise. Either way the proof is the same: every
reading command exits as it would on a writable ledger, and the file's bytes, size and mtime are
unchanged, with no ``-wal``, ``-shm`` or ``-journal`` beside it. A writable ledger opened by a
reading command is checked the same way (SQLite's ``query_only``; nothing left behind).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from contextlib import contextmanager

import pytest
from secrets_helpers import ingest, invoke

#: the columnar mirror's cache files (rexnet/analytics/mirror.py): a copy beside the ledger that
#: the analytics commands bring up to date; they are not the ledger and may be written
MIRROR_SUFFIXES = (".mirror.duckdb", ".mirror.duckdb.seal", ".mirror.duckdb.wal")


def snapshot(folder) -> tuple:
    """What must not change: the ledger's files in the folder, and its bytes, size and mtime."""
    path = folder / "ledger.db"
    info = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    names = sorted(n for n in os.listdir(folder) if not n.endswith(MIRROR_SUFFIXES))
    return names, digest, info.st_size, info.st_mtime_ns


@contextmanager
def read_only(folder):
    """The ledger's folder and file cannot be written by this process while inside."""
    targets = [folder / "ledger.db", folder]
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root (chmod -w stops nothing) and chattr is not available")
        done = subprocess.run(["chattr", "+i", *map(str, targets)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"running as root (chmod -w stops nothing) and chattr +i failed: {done.stderr}")
        try:
            assert not os.access(targets[0], os.W_OK)  # the kernel agrees: even root cannot write
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, targets)], check=True)
    else:
        modes = [t.stat().st_mode for t in targets]
        for target in targets:
            target.chmod(stat.S_IMODE(target.stat().st_mode) & ~0o222)
        try:
            yield
        finally:
            for target, mode in zip(targets, modes, strict=True):
                target.chmod(stat.S_IMODE(mode))


@pytest.fixture
def ledger(tmp_path):
    """``(url, folder, ingested run id)`` of a SQLite ledger in a folder of its own (and a run ``sim``)."""
    folder = tmp_path / "ledger"
    folder.mkdir()
    url = f"sqlite:///{folder / 'ledger.db'}"
    run_id = ingest(url, tmp_path)
    result = invoke(url, "run", "--units", "1", "--name", "sim")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(folder)) == ["ledger.db"]  # a writer leaves no -wal behind
    return url, folder, run_id


def reading_commands(run_id: str, out) -> list[list[str]]:
    return [
        ["runs"],
        ["runs", "--format", "json"],
        ["events", run_id],
        ["book", run_id, "--unit", "2"],
        ["accounts", run_id],
        ["audit", run_id],
        ["replay", run_id],
        ["replay", "sim", "--verify"],
        ["sql", "SELECT agent, net_cash FROM settlements ORDER BY agent"],
        ["sql", "SELECT count(*) FROM event_log", "--run", run_id],
        ["query", "system_balance", run_id],
        ["export", run_id, "--parquet", str(out / "parquet")],
        ["report", run_id, "--out", str(out / "report")],
        ["sweeps"],
    ]


def run_all(url, run_id, out) -> dict[str, str]:
    outputs = {}
    for args in reading_commands(run_id, out):
        result = invoke(url, *args)
        assert result.exit_code == 0, (args, result.output)
        outputs[" ".join(args[:1])] = result.stdout
    return outputs


@pytest.mark.slow
def test_reading_commands_on_a_read_only_ledger_write_nothing(ledger, tmp_path):
    url, folder, run_id = ledger
    writable = run_all(url, run_id, tmp_path / "w")
    before = snapshot(folder)
    with read_only(folder):
        locked = run_all(url, run_id, tmp_path / "r")
        assert snapshot(folder) == before
        # a writing command fails with one line, and writes nothing either
        stream = tmp_path / "more.jsonl"
        stream.write_text(
            '{"t": 0, "op": "limit", "agent": "a", "ref": "x", "side": "sell", "unit": 2, "price": 1, "qty": 1}\n'
        )
        result = invoke(url, "ingest", str(stream))
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output
        assert snapshot(folder) == before
    assert locked["runs"] == writable["runs"] and locked["sql"] == writable["sql"]
    assert locked["audit"] == writable["audit"]


@pytest.mark.slow
def test_reading_commands_on_a_writable_ledger_write_nothing(ledger, tmp_path):
    url, folder, run_id = ledger
    before = snapshot(folder)
    run_all(url, run_id, tmp_path / "out")
    assert snapshot(folder) == before  # no byte, no mtime, no -wal/-shm/-journal left


def test_an_out_of_date_read_only_ledger_asks_for_db_upgrade(ledger):
    url, folder, run_id = ledger
    con = sqlite3.connect(folder / "ledger.db")
    with con:
        con.execute("UPDATE alembic_version SET version_num = '0003'")
    con.close()
    with read_only(folder):
        for args in (["runs"], ["events", run_id], ["sql", "SELECT 1"]):
            result = invoke(url, *args)
            assert result.exit_code == 2, result.output
            assert "rexnet db upgrade" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_missing_ledger_is_still_created_by_a_reading_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = invoke(url, "runs", "--format", "json")
    assert result.exit_code == 0 and result.stdout.strip() == "[]"
    assert (tmp_path / "new.db").exists()

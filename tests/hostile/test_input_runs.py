"""A run row exists only for validated input, and no run is ever left ``running`` by an error.

Issue 13: overflowing streams left runs ``running`` with 0 events forever and ``resume``
tracebacked. Input is now refused before the run row is created; and should a run still fail
after its creation (here forced by feeding the recorder commands that skip the edge checks), it
is marked ``failed`` and ``resume`` says why in one line.
"""

from __future__ import annotations

import json

import pytest
from input_helpers import GOOD_LINE, assert_refused, invoke, jsonl, ledger

from rexnet.domain.command_record import encode_commands
from rexnet.domain.commands import PlaceLimit
from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError
from rexnet.replay.recording import record_commands
from rexnet.store import open_store

# 1e12 ticks x 1e7 meter units: a settlement figure past 64 bits (the edge would refuse the qty)
OVERFLOWING = [
    PlaceLimit(0, "a", "o1", "sell", 2, 10**12, 10**7),
    PlaceLimit(1, "b", "o2", "buy", 2, 10**12, 10**7),
]


def _record(commands):
    return {
        "kind": "ingest",
        "source": "x.jsonl",
        "sha256": "0" * 64,
        "lines": 2,
        "commands": encode_commands(commands),
    }


def test_a_run_that_fails_after_creation_is_marked_failed_with_a_one_line_reason(db_url):
    store = open_store(db_url)
    try:
        with pytest.raises(InputError, match="marked failed: a figure exceeds the 64-bit range"):
            record_commands(store, OVERFLOWING, spec=MarketSpec(), name="boom", scenario=_record(OVERFLOWING))
        (run,) = store.list_runs()
        assert run.status == "failed"
        assert run.failure is not None and "64-bit" in run.failure  # the reason is kept
        assert "\n" not in run.failure
    finally:
        store.close()
    # resume re-executes it, fails the same way: a one-line message, exit 2, still failed
    result = invoke(db_url, "resume", "boom")
    assert_refused(result, "marked failed", "64-bit")
    runs, _ = ledger(db_url)
    assert [status for _, status, _ in runs] == ["failed"]


def test_refused_input_creates_no_run_row(db_url, tmp_path):
    bad = jsonl(tmp_path / "bad.jsonl", GOOD_LINE, {**GOOD_LINE, "t": 1, "price": 1e308})
    result = invoke(db_url, "ingest", str(bad), "--name", "never")
    assert_refused(result, "line 2", "'price'")
    assert ledger(db_url) == ((), 0)
    assert_refused(invoke(db_url, "events", "never"), "no run")


def test_interrupting_a_run_marks_it_failed_and_resume_finishes_it(sqlite_url, tmp_path, monkeypatch):
    # an error in the middle of a simulation (here: the third batch) leaves a resumable failed run
    import rexnet.replay.recording as recording

    calls = {"n": 0}
    original = recording.RunRecorder.record

    def flaky(self, events):
        calls["n"] += 1
        if calls["n"] == 40:
            raise KeyboardInterrupt
        return original(self, events)

    monkeypatch.setenv("REXNET_BATCH_SIZE", "20")
    monkeypatch.setattr(recording.RunRecorder, "record", flaky)
    result = invoke(sqlite_url, "run", "--units", "2", "--name", "cut")
    assert result.exit_code != 0
    monkeypatch.setattr(recording.RunRecorder, "record", original)
    runs, _ = ledger(sqlite_url)
    assert [status for _, status, _ in runs] == ["failed"]
    listed = invoke(sqlite_url, "runs", "--format", "json")
    (row,) = json.loads(listed.output)
    assert row["status"] == "failed" and row["failure"] == "interrupted"
    assert "interrupted" in invoke(sqlite_url, "runs").output
    resumed = invoke(sqlite_url, "resume", "cut")
    assert resumed.exit_code == 0, resumed.output
    runs, _ = ledger(sqlite_url)
    assert [status for _, status, _ in runs] == ["completed"]
    (row,) = json.loads(invoke(sqlite_url, "runs", "--format", "json").output)
    assert "failure" not in row  # a finished run carries no failure


@pytest.mark.parametrize(
    "command", [["ingest", "FILE"], ["run", "--units", "1"], ["fork", "first", "--at", "30"]]
)
def test_run_names_are_checked_before_anything_is_written(sqlite_url, tmp_path, command):
    ok = jsonl(tmp_path / "ok.jsonl", GOOD_LINE)
    assert invoke(sqlite_url, "run", "--units", "1", "--name", "first").exit_code == 0
    ((first_id, _, _),) = ledger(sqlite_url)[0]
    args = [str(ok) if a == "FILE" else a for a in command]
    before = ledger(sqlite_url)
    for name, words in [
        ("0123456789ab", ("--name", "run id")),  # shaped like a run id
        (first_id, ("--name", "run id")),  # another run's id
        ("first", ("already exists",)),  # another run's name
        ("x" * 65, ("--name", "65 characters")),
        ("a\x1b[31mb", ("--name", "U+001B")),
        ("two words", ("--name", "U+0020")),
        ("ｆｕｌｌ", ("--name", "NFKC")),
        ("", ("--name", "empty")),
    ]:
        result = invoke(sqlite_url, *args, "--name", name)
        assert_refused(result, *words)
    assert ledger(sqlite_url) == before


def test_a_taken_name_is_refused_before_the_stream_is_read(sqlite_url, tmp_path):
    """``ingest --name`` of a taken name is refused before pass 1 reads the stream: a malformed
    stream behind it is not what the message names."""
    assert invoke(sqlite_url, "run", "--units", "1", "--name", "first").exit_code == 0
    bad = jsonl(tmp_path / "bad.jsonl", {**GOOD_LINE, "op": "nonsense"})
    assert_refused(invoke(sqlite_url, "ingest", str(bad), "--name", "first"), "already exists")
    assert_refused(invoke(sqlite_url, "ingest", str(bad), "--name", "other"), "line 1")


@pytest.mark.parametrize(
    "args",
    [
        ("book", "{ref}", "--unit", "1"),
        ("accounts", "{ref}"),
        ("replay", "{ref}"),
        ("audit", "{ref}"),
        ("fork", "{ref}", "--time", "10"),
    ],
)
def test_a_huge_run_reference_is_quoted_by_its_start(db_url, args):
    """A 20,000-character run reference is named in a short line, not echoed whole (exit 2)."""
    ref = "r" * 20_000
    result = invoke(db_url, *(a.format(ref=ref) for a in args))
    assert_refused(result, "no run 'rrr", "...")
    assert len(result.stderr) < 200


def test_a_huge_database_url_is_quoted_by_its_start_and_redacted():
    url = "postgresql://user:hunter2@nohost.invalid/" + "d" * 20_000
    result = invoke(url, "runs")
    assert_refused(result, "cannot open database", "...")
    assert "hunter2" not in result.output and len(result.stderr) < 500


@pytest.mark.parametrize(
    "args",
    [
        ("sweep", "{big}"),
        ("sweeps", "{big}"),
        ("query", "{big}", "p"),
        ("sql", "{big}"),
        ("ingest", "{big}"),
        ("experiment", "{big}"),
        ("digest", "p", "--key", "{big}"),
        ("fork", "p", "--time", "1", "--shock", "{big}"),
        ("fork", "p", "--time", "1", "--set", "{big}=1"),
        ("run", "{big}"),
    ],
)
def test_any_error_quotes_huge_input_by_its_start(sqlite_url, args):
    """Whatever library message quotes a 20,000-character argument, the CLI prints one short
    line (rexnet.cli.output.clip_words), exit 2, nothing written."""
    assert invoke(sqlite_url, "run", "--units", "1", "--name", "p").exit_code == 0
    before = ledger(sqlite_url)
    result = invoke(sqlite_url, *(a.format(big="x" * 20_000) for a in args))
    assert_refused(result, "xxxxxxxxxx...")
    assert len(result.stderr) < 400, result.stderr[:300]
    assert ledger(sqlite_url) == before

"""The notebook facade: the README's Python example runs as written, and ``import rexnet`` is cheap."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

import rexnet
from rexnet.errors import InputError, RunNotFound

TOP = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (TOP / "README.md").read_text()
    return text.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), "README.md", "exec"), {})  # noqa: S102 - our own README
    lines = out.getvalue().splitlines()
    run_id, events, head, trades = lines[0].split()
    assert len(run_id) == 12 and int(events) > 0 and len(head) == 64 and int(trades) >= 0
    assert lines[3] == "ok"
    parent, fork_seq, _ = lines[4].split()
    assert parent == run_id and int(fork_seq) > 0
    assert (tmp_path / "rexnet-notebook.db").exists()


def test_the_facade_is_typed_and_equal_to_the_store(tmp_path):
    with rexnet.Ledger("memory://") as ledger:
        summary = ledger.run("default", seed=3, units=1, name="one")
        assert isinstance(summary, rexnet.RunSummary) and summary.name == "one"
        run = ledger.get("one")
        assert (run.run_id, run.events, run.head_hash.hex()) == (
            summary.run_id,
            summary.events,
            summary.head_hash,
        )
        assert ledger.verify("one") == rexnet.VerifyResult(run.run_id, run.events, summary.head_hash, True)
        assert [r.run_id for r in ledger.runs()] == [run.run_id]
        replayed = ledger.replay("one", verify=True)
        assert isinstance(replayed, rexnet.ReplaySummary) and replayed.verify == ledger.verify("one")
        assert (replayed.events, replayed.head_hash, replayed.status) == (
            run.events,
            summary.head_hash,
            "completed",
        )
        assert replayed.figures["trades"] == summary.stats["trades"]
        with pytest.raises(RunNotFound):
            ledger.book("nope", unit=1)
        with pytest.raises(InputError):
            ledger.run("no-such-scenario")


def test_import_rexnet_is_cheap():
    code = "import sys, rexnet; print(sorted(m for m in ('sqlalchemy', 'pydantic', 'duckdb', 'click', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "Ledger" in rexnet.__all__ and rexnet.Ledger.__doc__


def test_digest_use_case_anchors_the_head(tmp_path):
    from rexnet.app import use_cases
    from rexnet.app.digest import new_key

    key = str(tmp_path / "k.hex")
    new_key(key)
    with rexnet.Ledger("memory://") as ledger:
        summary = ledger.run("default", seed=5, units=1)
        digest = use_cases.digest(ledger.store, ledger.get(summary.run_id), key_path=key)
    assert (digest.run_id, digest.events, digest.head_hash) == (
        summary.run_id,
        summary.events,
        summary.head_hash,
    )

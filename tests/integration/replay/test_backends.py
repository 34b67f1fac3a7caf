"""Fork, verify and resume on each backend (SQLite always; PostgreSQL with REXNET_TEST_PG_URL)."""

from __future__ import annotations

from replay_cli import invoke, invoke_json

from rexnet.replay.history import read_history
from rexnet.store import open_store


def test_fork_verify_resume(db_url):
    run = invoke_json(db_url, "run", "--units", "3", "--seed", "9", "--name", "base")
    fork = invoke_json(db_url, "fork", "base", "--at", str(run["events"] // 2), "--name", "same")
    assert (fork["events"], fork["head_hash"]) == (run["events"], run["head_hash"])
    code, out, _ = invoke(db_url, "replay", "same", "--verify")
    assert code == 0 and f"verified {run['events']} events" in out
    code, out, _ = invoke(db_url, "events", "same", "--format", "jsonl")
    assert code == 0 and out.count("\n") == run["events"]
    store = open_store(db_url)
    base = store.get_run("base")
    cut = store.create_run(
        name="cut", scenario=base.scenario, seed=base.seed, code_version=base.code_version, market=base.market
    )
    w = store.writer(cut.run_id)
    w.append(r.event() for r in read_history(store, base, to_seq=run["events"] // 3))
    w.flush()
    store.close()
    resumed = invoke_json(db_url, "resume", "cut")
    assert (resumed["events"], resumed["head_hash"]) == (run["events"], run["head_hash"])

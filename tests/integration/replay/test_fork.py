"""``rexnet fork``: shared prefix, no-change fork == parent, changes, fork of a fork, errors."""

from __future__ import annotations

import pytest
from replay_cli import invoke, invoke_json

from rexnet.replay.history import read_history
from rexnet.store import open_store


def runs(db: str) -> list[str]:
    return [r["run_id"] for r in invoke_json(db, "runs")]


def test_fork_without_change_equals_parent(parent_db):
    db, parent = parent_db
    fork = invoke_json(db, "fork", "p", "--at", "1500", "--name", "same")
    assert fork["head_hash"] == parent["head_hash"] and fork["events"] == parent["events"]
    assert fork["parent"] == parent["run_id"] and fork["fork_seq"] >= 1500
    store = open_store(db)
    p, f = store.get_run("p"), store.get_run("same")
    assert (f.parent_run_id, f.fork_seq) == (p.run_id, fork["fork_seq"])
    # only the fork's own events are stored
    assert next(store.read(f.run_id)).seq == f.fork_seq + 1
    # full histories are identical, event by event
    a = [(r.seq, r.hash) for r in read_history(store, p)]
    b = [(r.seq, r.hash) for r in read_history(store, f)]
    assert a == b


def test_fork_point_takes_the_whole_instant(parent_db):
    db, _ = parent_db
    store = open_store(db)
    p = store.get_run("p")
    rows = list(read_history(store, p, to_seq=3000))
    # find a seq whose instant holds several events: the fork shares all of them
    seq = next(r.seq for r, n in zip(rows, rows[1:], strict=False) if r.t_ms == n.t_ms and r.seq > 1000)
    t = rows[seq].t_ms
    last = max(r.seq for r in rows if r.t_ms == t)
    fork = invoke_json(db, "fork", "p", "--at", str(seq))
    assert fork["fork_seq"] == last and fork["fork_t"] == t / 1000
    by_time = invoke_json(db, "fork", "p", "--time", str(t / 1000))
    assert by_time["fork_seq"] == last and by_time["head_hash"] == fork["head_hash"]


def test_fork_with_changes_shares_prefix_and_verifies(parent_db, tmp_path):
    db, parent = parent_db
    shock = tmp_path / "shock.toml"
    shock.write_text(
        '[[shocks]]\ndriver = "wind"\nfirst_unit = 10\nlast_unit = 13\nfactor = 0.3\nat_s = 9500\n'
    )
    fork = invoke_json(
        db,
        "fork",
        "p",
        "--time",
        "9000",
        "--set",
        "population.wind.capacity_kw=2.0",
        "--set",
        "population[0].count=28",
        "--set",
        "run.price_prior=65",
        "--shock",
        str(shock),
        "--name",
        "changed",
    )
    assert fork["head_hash"] != parent["head_hash"]
    store = open_store(db)
    p, f = store.get_run("p"), store.get_run("changed")
    n = f.fork_seq + 1
    assert [r.hash for r in read_history(store, f, to_seq=f.fork_seq)] == [
        r.hash for r in read_history(store, p, to_seq=f.fork_seq)
    ]
    assert len(list(read_history(store, f))) == fork["events"]
    assert f.scenario["fork"] == [
        {
            "at_ms": 9_000_000,
            "set": {"population[0].count": 28, "population[3].capacity_kw": 2.0, "run.price_prior": 65},
            "shocks": [
                {
                    "at_s": 9500.0,
                    "driver": "wind",
                    "factor": 0.3,
                    "first_unit": 10,
                    "last_unit": 13,
                    "name": "",
                }
            ],
        }
    ]
    own = list(read_history(store, f, from_seq=n))
    assert any(r.type == "shock_applied" for r in own)
    agents = {r.event().agent for r in own if r.type == "order_accepted"}
    assert {"household-025", "household-028"} & agents  # new members trade
    assert invoke(db, "replay", "changed", "--verify")[0] == 0
    assert invoke(db, "audit", "changed")[0] == 0
    # a fork of the fork re-executes both change sets
    again = invoke_json(db, "fork", "changed", "--time", "12000", "--set", "population.storage.power_kw=1.0")
    code, out, _ = invoke(db, "replay", again["run_id"], "--verify")
    assert code == 0 and f"verified {again['events']} events" in out
    # events / accounts / book read the full history
    code, out, _ = invoke(db, "events", again["run_id"], "--type", "run_started", "--format", "jsonl")
    assert code == 0 and out.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--at", "999999"], "has seqs 0.."),
        (["--at", "-1"], "has seqs 0.."),
        (["--time", "999999"], "spans t = 0"),
        ([], "exactly one of --at"),
        (["--at", "5", "--time", "3"], "exactly one of --at"),
        (["--at", "100", "--set", "market.tick=1"], "market rules cannot change"),
        (["--at", "100", "--set", "settlement.penalty_price=1"], "market rules cannot change"),
        (["--at", "100", "--set", "run.units=3"], "only run.price_prior"),
        (["--at", "100", "--set", "nonsense"], "expected key=value"),
        (["--at", "100", "--set", "population.comet.count=3"], "no population group of kind 'comet'"),
        (["--at", "100", "--set", "population[99].count=3"], "groups 0.."),
        (["--at", "100", "--set", "population[0].colour=3"], "not a field"),
        (["--at", "100", "--set", "population.wind.capacity_kw=-2"], "greater than 0"),
        (["--at", "100", "--set", "population.wind.capacity_kw=lots"], "valid number"),
        (["--at", "100", "--set", "population[0].count=3"], "count can only grow"),
        (["--at", "100", "--set", "population.wind.strategy=zi"], "cannot change during a run"),
        (["--at", "100", "--set", "run.price_prior=0"], "greater than 0"),
        (["--at", "100", "--name", "p"], "already exists"),
    ],
)
def test_bad_fork_exits_2_and_creates_nothing(parent_db, args, message):
    db, _ = parent_db
    before = runs(db)
    code, _, err = invoke(db, "fork", "p", *args)
    assert code == 2, err
    assert message in err and err.count("\n") == 1
    assert runs(db) == before


@pytest.mark.parametrize(
    "text, message",
    [
        ("not toml [", "invalid TOML"),
        ("[other]\nx = 1\n", "expected one or more [[shocks]]"),
        ('[[shocks]]\ndriver = "wind"\nfirst_unit = 3\n', "shocks[0]"),
        (
            '[[shocks]]\ndriver = "sun"\nfirst_unit = 3\nlast_unit = 4\nfactor = 0.5\nat_s = 9000\n',
            "shocks[0].driver",
        ),
        (
            '[[shocks]]\ndriver = "wind"\nfirst_unit = 3\nlast_unit = 4\nfactor = 0.5\nat_s = 10\n',
            "before the fork time",
        ),
    ],
)
def test_bad_shock_file_exits_2(parent_db, tmp_path, text, message):
    db, _ = parent_db
    path = tmp_path / "s.toml"
    path.write_text(text)
    before = runs(db)
    code, _, err = invoke(db, "fork", "p", "--time", "9000", "--shock", str(path))
    assert code == 2 and message in err, err
    assert runs(db) == before
    code, _, err = invoke(db, "fork", "p", "--time", "9000", "--shock", str(tmp_path / "missing.toml"))
    assert code == 2 and "cannot read" in err


def test_fork_after_the_end_and_of_ingest_runs_refused(parent_db, tmp_path):
    db, parent = parent_db
    before = runs(db)
    code, _, err = invoke(db, "fork", "p", "--at", str(parent["events"] - 1))
    assert code == 2 and "nothing is simulated after" in err
    stream = tmp_path / "c.jsonl"
    stream.write_text(
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o", "side": "sell", "unit": 2, '
        '"price": 40, "qty": 1}\n'
    )
    ing = invoke_json(db, "ingest", str(stream))
    code, _, err = invoke(db, "fork", ing["run_id"], "--at", "1")
    assert code == 2 and "ingest run" in err
    assert len(runs(db)) == len(before) + 1


def test_fork_of_a_run_whose_log_diverges_exits_1_and_creates_nothing(parent_db):
    """The parent's prefix is checked while re-simulating: a run recorded with another seed fails."""
    db, _ = parent_db
    store = open_store(db)
    p = store.get_run("p")
    fake = store.create_run(
        name="liar", scenario=p.scenario, seed=p.seed + 1, code_version=p.code_version, market=p.market
    )
    with store.writer(fake.run_id) as w:
        w.append(r.event() for r in read_history(store, p))
    before = runs(db)
    code, _, err = invoke(db, "fork", "liar", "--at", "2000")
    assert code == 1 and "diverges at seq" in err
    assert runs(db) == before


def test_fork_of_a_fork_before_its_fork_point(parent_db):
    """Forking f (forked at 10000 s) at 8000 s: shares p's prefix, then both changes in time order."""
    db, _ = parent_db
    f = invoke_json(db, "fork", "p", "--time", "10000", "--set", "population.wind.capacity_kw=2.0")
    g = invoke_json(db, "fork", f["run_id"], "--time", "8000", "--set", "population.solar.pv_kwp=1.0")
    assert g["fork_seq"] < f["fork_seq"]
    store = open_store(db)
    run = store.get_run(g["run_id"])
    assert [c["at_ms"] for c in run.scenario["fork"]] == [10_000_000, 8_000_000]
    code, out, _ = invoke(db, "replay", g["run_id"], "--verify")
    assert code == 0 and f"verified {g['events']} events" in out
    assert invoke(db, "audit", g["run_id"])[0] == 0

"""Persisted snapshots (``snapshots`` table): written with runs, forks, resumes and ingests, equal to
the fold, used by as-of reads only when they check out against the chain, re-derived by audit,
added to older runs by ``rexnet snapshot``; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import zlib

import orjson
import pytest
import sqlalchemy as sa
from replay_cli import invoke, invoke_json

from rexnet.market_engine import MarketEngine
from rexnet.replay import persisted
from rexnet.replay.accounts import Accounts
from rexnet.replay.history import read_history
from rexnet.replay.projection import book_view, fold, run_spec, state_as_of
from rexnet.replay.snapshot import Snapshots
from rexnet.replay.state_codec import encode_state
from rexnet.store import open_store
from rexnet.store.snapshot_table import snapshot_keys, snapshot_state

EVERY = 400


@pytest.fixture(autouse=True)
def _often(monkeypatch):
    monkeypatch.setenv("REXNET_SNAPSHOT_EVERY", str(EVERY))


def _folded(store, run, seq):
    """Engine and accounts after ``seq`` by a plain fold from seq 0 (no snapshot)."""
    engine = fold(store, run, MarketEngine(run_spec(run)), at_seq=seq)
    accounts = fold(store, run, Accounts(), at_seq=seq)
    return engine, accounts


def _execute(db, sql, params=()):
    engine = sa.create_engine(db)
    try:
        with engine.begin() as conn:
            return conn.exec_driver_sql(sql, params)
    finally:
        engine.dispose()


def _ph(db):
    return "?" if db.startswith("sqlite") else "%s"


def _used(monkeypatch):
    """A list that collects the seq of every snapshot a read starts from."""
    used: list[int] = []
    real = persisted.load_best

    def spy(*args, **kwargs):
        best = real(*args, **kwargs)
        if best is not None:
            used.append(best[0])
        return best

    monkeypatch.setattr(persisted, "load_best", spy)
    return used


@pytest.fixture
def recorded(db_url):
    run = invoke_json(db_url, "run", "--units", "8", "--seed", "2", "--name", "p")
    return db_url, run


def test_a_recorded_run_has_snapshots_equal_to_the_fold(recorded):
    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    keys = snapshot_keys(store, p.run_id, 0, None)
    assert len(keys) >= run["events"] // (2 * EVERY)
    assert all(b.seq - a.seq >= EVERY for a, b in zip(keys, keys[1:], strict=False))
    for key in keys:
        engine, accounts = persisted.unpack(snapshot_state(store, p.run_id, key.seq), run_spec(p), key.t_ms)
        assert encode_state(engine, accounts) == encode_state(*_folded(store, p, key.seq)), key.seq
        assert key.hash == next(read_history(store, p, from_seq=key.seq, to_seq=key.seq)).hash
    code, out, _ = invoke(db, "audit", "p")
    assert code == 0 and f"{len(keys)} stored snapshots re-derived" in out


def test_book_and_accounts_start_from_a_snapshot_and_equal_the_fold(recorded, monkeypatch):
    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    used = _used(monkeypatch)
    for t in (2000.0, 4321.0, 7000.5):
        engine, accounts = _folded(
            store, p, max(r.seq for r in read_history(store, p, to_t_ms=int(t * 1000)))
        )
        for unit in engine.open_units():
            shown = invoke_json(db, "book", "p", "--unit", str(unit), "--time", str(t))
            assert shown == json.loads(json.dumps(book_view(engine, unit), default=float)), (t, unit)
        rows = invoke_json(db, "accounts", "p", "--time", str(t))
        assert rows == json.loads(json.dumps(accounts.rows(run_spec(p)), default=float))
    assert used and min(used) >= EVERY - 1


def _forge(db, run_id, seq, *, redigest: bool):
    """Add 1 to the first account's cash in a stored snapshot (optionally re-digested)."""
    store = open_store(db)
    key = next(k for k in snapshot_keys(store, run_id, seq, seq))
    raw = orjson.loads(zlib.decompress(snapshot_state(store, run_id, seq)))
    raw["accounts"][0][1] += 1
    state = zlib.compress(orjson.dumps(raw))
    digest = persisted.digest_of(seq, key.t_ms, key.hash, key.format, state) if redigest else key.digest
    ph = _ph(db)
    _execute(
        db,
        f"UPDATE snapshots SET state = {ph}, digest = {ph} WHERE run_id = {ph} AND seq = {ph}",
        (state, digest, run_id, seq),
    )
    store.close()


def test_a_forged_snapshot_is_ignored_by_reads_and_named_by_audit(recorded, monkeypatch, caplog):
    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    keys = snapshot_keys(store, p.run_id, 0, None)
    target = keys[1].seq
    _forge(db, p.run_id, target, redigest=False)
    used = _used(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="rexnet.snapshots"):
        engine, accounts = state_as_of(store, p, at_seq=target + 5)
    assert encode_state(engine, accounts) == encode_state(*_folded(store, p, target + 5))
    assert used == [keys[0].seq]  # the forged one skipped, the one before used
    assert f"stored snapshot at seq {target}" in caplog.text and "digest" in caplog.text
    code, out, err = invoke(db, "audit", "p")
    assert code == 1 and f"stored snapshot at seq {target} is unusable" in out

    # re-digested by whoever edited it: reads cannot tell, the audit re-derives it
    _forge(db, p.run_id, target, redigest=True)
    code, out, _ = invoke(db, "audit", "p")
    assert code == 1 and f"stored snapshot at seq {target} differs from the state the history gives" in out
    code, out, _ = invoke(db, "audit", "p", "--format", "json")
    assert json.loads(out)["seq"] == target

    # `rexnet snapshot` replaces it; the audit is clean again
    fixed = invoke_json(db, "snapshot", "p")
    assert fixed["replaced"] == 1 and fixed["kept"] == len(keys) - 1
    assert invoke(db, "audit", "p")[0] == 0


def test_a_snapshot_of_another_chain_is_ignored(recorded, monkeypatch, caplog):
    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    key = snapshot_keys(store, p.run_id, 0, None)[0]
    state = snapshot_state(store, p.run_id, key.seq)
    other = bytes(32)
    ph = _ph(db)
    _execute(
        db,
        f"UPDATE snapshots SET hash = {ph}, digest = {ph} WHERE run_id = {ph} AND seq = {ph}",
        (other, persisted.digest_of(key.seq, key.t_ms, other, key.format, state), p.run_id, key.seq),
    )
    used = _used(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="rexnet.snapshots"):
        engine, _ = state_as_of(store, p, at_seq=key.seq + 1)
    assert not used and "chain hash differs" in caplog.text
    assert encode_state(engine, Accounts()) == encode_state(_folded(store, p, key.seq + 1)[0], Accounts())
    code, out, _ = invoke(db, "audit", "p")
    assert code == 1 and f"stored snapshot at seq {key.seq} is unusable" in out


def test_forks_and_resumes_write_their_own_and_read_their_parents(recorded, monkeypatch):
    db, run = recorded
    fork = invoke_json(
        db, "fork", "p", "--time", "4000", "--set", "population.wind.capacity_kw=3.0", "--name", "f"
    )
    store = open_store(db)
    p, f = store.get_run("p"), store.get_run("f")
    own = snapshot_keys(store, f.run_id, 0, None)
    assert own and all(k.seq > fork["fork_seq"] for k in own)
    used = _used(monkeypatch)
    parents = [k.seq for k in snapshot_keys(store, p.run_id, 0, fork["fork_seq"])]
    engine, accounts = state_as_of(store, f, at_seq=fork["fork_seq"])  # shared prefix: the parent's
    assert used == [parents[-1]]
    assert encode_state(engine, accounts) == encode_state(*_folded(store, f, fork["fork_seq"]))
    late = f.head_seq - 3
    engine, accounts = state_as_of(store, f, at_seq=late)
    assert used[-1] == max(k.seq for k in own if k.seq <= late)
    assert encode_state(engine, accounts) == encode_state(*_folded(store, f, late))
    assert invoke(db, "audit", "f")[0] == 0

    # a run cut short, resumed: snapshots over its whole history, equal to the fold
    cut = store.create_run(
        name="cut", scenario=p.scenario, seed=p.seed, code_version=p.code_version, market=p.market
    )
    w = store.writer(cut.run_id)
    w.append(r.event() for r in read_history(store, p, to_seq=run["events"] // 3))
    w.flush()
    resumed = invoke_json(db, "resume", "cut")
    assert resumed["head_hash"] == run["head_hash"]
    cut = store.get_run("cut")
    keys = snapshot_keys(store, cut.run_id, 0, None)
    assert keys and keys[0].seq < run["events"] // 3 < keys[-1].seq
    for key in keys[:: max(1, len(keys) // 3)]:
        engine, accounts = persisted.unpack(
            snapshot_state(store, cut.run_id, key.seq), run_spec(cut), key.t_ms
        )
        assert encode_state(engine, accounts) == encode_state(*_folded(store, cut, key.seq))
    assert invoke(db, "audit", "cut")[0] == 0


def test_snapshot_command_fills_runs_recorded_without_them(recorded, monkeypatch):
    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    before = snapshot_keys(store, p.run_id, 0, None)
    ph = _ph(db)
    _execute(db, f"DELETE FROM snapshots WHERE run_id = {ph}", (p.run_id,))
    assert not snapshot_keys(store, p.run_id, 0, None)
    done = invoke_json(db, "snapshot", "p")
    assert done == {"run_id": p.run_id, "written": run["events"] // EVERY, "replaced": 0, "kept": 0}
    keys = snapshot_keys(store, p.run_id, 0, None)
    assert len(keys) >= len(before)
    assert invoke(db, "audit", "p")[0] == 0
    again = invoke_json(db, "snapshot", "p")
    assert again["written"] == again["replaced"] == 0 and again["kept"] == len(keys)
    code, _, err = invoke(db, "snapshot")
    assert code == 2 and "give a RUN or --all" in err


def test_in_memory_snapshots_and_the_book_replay_start_from_persisted_ones(recorded, monkeypatch):
    from rexnet.serve.timeline import Timeline

    db, run = recorded
    store = open_store(db)
    p = store.get_run("p")
    keys = snapshot_keys(store, p.run_id, 0, None)
    late = keys[-1].seq + 7
    snaps = Snapshots(store, p, every=10**9)  # no in-memory interval: only the persisted ones help
    assert (
        snaps.engine_as_of(at_seq=late).exchange.state.snapshot()
        == _folded(store, p, late)[0].exchange.state.snapshot()
    )
    assert keys[-1].seq in snaps._seqs
    timeline = Timeline(store, p, every=10**9)
    engine, accounts = timeline.state_at(late)
    assert encode_state(engine, accounts) == encode_state(*_folded(store, p, late))
    assert timeline._seqs == [-1, keys[-1].seq]
    timeline.warm()  # persisted snapshots: nothing to warm
    assert timeline._seqs == [-1, keys[-1].seq]


def test_an_ingest_writes_snapshots(db_url, tmp_path):
    lines = []
    for i in range(900):
        side = "sell" if i % 2 else "buy"
        price = 40 + (i % 7) if side == "sell" else 44 - (i % 5)
        lines.append(
            json.dumps(
                {
                    "t": float(i),
                    "op": "limit",
                    "agent": f"a{i % 9}",
                    "ref": f"o{i}",
                    "side": side,
                    "unit": 2 + (i % 3),
                    "price": float(price),
                    "qty": 0.5,
                    "tif": "gtc",
                }
            )
        )
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = invoke_json(db_url, "ingest", str(path), "--name", "i")
    store = open_store(db_url)
    run = store.get_run("i")
    keys = snapshot_keys(store, run.run_id, 0, None)
    assert len(keys) >= done["events"] // (2 * EVERY)
    for key in keys:
        engine, accounts = persisted.unpack(
            snapshot_state(store, run.run_id, key.seq), run_spec(run), key.t_ms
        )
        assert encode_state(engine, accounts) == encode_state(*_folded(store, run, key.seq))
    assert invoke(db_url, "audit", "i")[0] == 0

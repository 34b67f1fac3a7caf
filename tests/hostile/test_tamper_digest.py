"""Anchors outside the database: ``rexnet digest`` and ``rexnet audit --digest``.

A log cut back to a consistent earlier state, or a whole run replaced by another consistent one,
passes every check that reads the database alone; a keyed digest of the head taken before the
attack catches both. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat

import orjson
import pytest
import sqlalchemy as sa
from tamper_helpers import attacker, invoke, rewrite, rows_of, run_id_of, small_run

from rexnet.app.digest import check_against, load_key, read_digest
from rexnet.domain.events import UnitOpened
from rexnet.domain.market import MarketSpec
from rexnet.store import open_store


def key_and_digest(db: str, tmp_path, run: str = "honest", alg: str = "hmac-sha256") -> tuple[str, str]:
    """A new key and a digest of ``run`` made with it; the key that checks it (for Ed25519 the
    public key, which cannot make digests)."""
    key, digest = str(tmp_path / "key"), str(tmp_path / "digest.json")
    code, out, err = invoke(db, "digest", "--new-key", key, "--alg", alg)
    assert code == 0, err
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    code, out, err = invoke(db, "digest", run, "--key", key, "--out", digest)
    assert code == 0, err
    return (key + ".pub" if alg == "ed25519" else key), digest


def test_digest_states_the_head_and_audit_accepts_it(db_url, tmp_path):
    summary = small_run(db_url, "honest")
    key, digest = key_and_digest(db_url, tmp_path)
    record = json.loads(open(digest).read())
    assert (record["run_id"], record["events"], record["seq"], record["head_hash"]) == (
        summary["run_id"],
        summary["events"],
        summary["events"] - 1,
        summary["head_hash"],
    )
    code, out, _ = invoke(db_url, "audit", "honest", "--digest", digest, "--key", key)
    assert code == 0 and f"extends its digest at seq {record['seq']}" in out
    code, out, _ = invoke(db_url, "audit", "--digest", digest, "--key", key)  # RUN from the digest
    assert code == 0 and out.startswith(f"run {summary['run_id']}: ok")


@pytest.mark.parametrize("alg", ["hmac-sha256", "ed25519"])
def test_truncation_is_caught_with_a_digest(db_url, tmp_path, alg):
    small_run(db_url, "honest")
    key, digest = key_and_digest(db_url, tmp_path, alg=alg)
    run_id = run_id_of(db_url, "honest")
    with attacker(db_url, guards_off=True) as conn:  # cut the last 300 events, run_completed included
        rows = rows_of(conn, run_id)
        cut = len(rows) - 300
        rewrite(conn, run_id, cut, [])
    # without a digest: a `completed` run without run_completed fails all the same
    code, out, _ = invoke(db_url, "audit", "honest")
    assert code == 1 and f"status completed, but the log ends at seq {cut - 1}" in out
    with attacker(db_url, guards_off=True) as conn:  # ... unless the attacker resets the status too
        conn.execute(sa.text("UPDATE runs SET status = 'running' WHERE run_id = :r"), {"r": run_id})
    code, out, _ = invoke(db_url, "audit", "honest")
    assert code == 0 and "incomplete, resumable" in out  # what the database alone can say
    code, out, err = invoke(db_url, "audit", "honest", "--digest", digest, "--key", key)
    assert code == 1
    assert (
        f"the log ends at seq {cut - 1}, before the digested seq {len(rows) - 1}: 300 events were cut off"
        in out
    )


def test_a_forged_whole_run_is_caught_with_a_digest(db_url, tmp_path):
    """The attacker replaces run ``honest`` by a consistent run of another seed (its record,
    its re-chained events, its head): re-execution agrees with it; the digest does not."""
    small_run(db_url, "honest", seed=3)
    small_run(db_url, "other", seed=4)
    key, digest = key_and_digest(db_url, tmp_path)
    run_id, other_id = run_id_of(db_url, "honest"), run_id_of(db_url, "other")
    with attacker(db_url, guards_off=True) as conn:
        other = rows_of(conn, other_id)
        conn.execute(
            sa.text(
                "UPDATE runs SET seed = 4, scenario = (SELECT scenario FROM runs WHERE run_id = :o) WHERE run_id = :r"
            ),
            {"r": run_id, "o": other_id},
        )
        rewrite(conn, run_id, 0, other)
    code, out, _ = invoke(db_url, "audit", "honest")
    assert code == 0  # nothing in the database tells the forgery from a real run
    code, out, _ = invoke(db_url, "audit", "honest", "--digest", digest, "--key", key)
    assert code == 1 and "does not extend its digest" in out and "was rewritten" in out


def test_a_digest_of_a_prefix_holds_while_the_run_goes_on(db_url, tmp_path):
    """A digest anchors a prefix: a run that goes on past it still extends it."""
    with open_store(db_url) as store:
        run = store.create_run(
            name="live", scenario={}, seed=1, code_version="t", market=MarketSpec().to_record()
        )
        writer = store.writer(run.run_id)
        writer.append([UnitOpened(0, 1)])
        writer.flush()
        key, digest = key_and_digest(db_url, tmp_path, "live")
        writer.append([UnitOpened(0, 2), UnitOpened(0, 3)])
        writer.flush()
        anchor = read_digest(digest, load_key(key))
        assert (anchor.seq, anchor.events) == (0, 1)
        assert check_against(store, store.get_run("live"), anchor) is None


def test_an_altered_digest_or_a_wrong_key(db_url, tmp_path):
    small_run(db_url, "honest")
    key, digest = key_and_digest(db_url, tmp_path)
    record = orjson.loads(open(digest, "rb").read())
    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps({**record, "seq": record["seq"] - 5, "events": record["events"] - 5}))
    code, _, err = invoke(db_url, "audit", "honest", "--digest", str(forged), "--key", key)
    assert code == 1 and "the digest was altered" in err
    other_key = str(tmp_path / "other-key")
    assert invoke(db_url, "digest", "--new-key", other_key)[0] == 0
    code, _, err = invoke(db_url, "audit", "honest", "--digest", digest, "--key", other_key)
    assert code == 2 and "not with this key" in err
    assert invoke(db_url, "digest", "--new-key", other_key)[0] == 2  # a key is never overwritten
    code, _, err = invoke(db_url, "audit", "honest", "--digest", digest)
    assert code == 2 and "needs a key" in err
    code, _, err = invoke(db_url, "audit", "nope", "--digest", digest, "--key", key)
    assert code == 2 and "no run 'nope'" in err


def test_an_ed25519_public_key_checks_but_cannot_sign(db_url, tmp_path):
    small_run(db_url, "honest")
    public, digest = key_and_digest(db_url, tmp_path, alg="ed25519")
    record = json.loads(open(digest).read())
    assert record["alg"] == "ed25519" and len(record["signature"]) == 128 and "mac" not in record
    code, _, err = invoke(db_url, "digest", "honest", "--key", public)
    assert code == 2 and "it can check digests, not make them" in err
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**record, "head_hash": "0" * 64}))
    code, _, err = invoke(db_url, "audit", "honest", "--digest", str(forged), "--key", public)
    assert code == 1 and "the digest was altered" in err
    code, out, _ = invoke(db_url, "audit", "honest", "--digest", digest, "--key", public)
    assert code == 0 and "extends its digest" in out

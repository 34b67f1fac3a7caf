"""`rexnet audit` catches a forged settlement written through the store API with the chain intact."""

import json

from click.testing import CliRunner

from rexnet.cli import cli
from rexnet.store import open_store

STREAM = [
    {"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40.0, "qty": 1.0},
    {"t": 1, "op": "limit", "agent": "b", "ref": "o2", "side": "buy", "unit": 2, "price": 40.0, "qty": 1.0},
    {"t": 1850, "op": "realize", "agent": "a", "unit": 2, "qty": 0.5},
]


def honest_and_blank_forgery(tmp_path):
    """A ledger with an honest ingested run, and an empty run "forged" with the same record (and
    a copy of its input journal: the forger writes through the store API)."""
    db = f"sqlite:///{tmp_path / 'l.db'}"
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in STREAM))
    assert CliRunner().invoke(cli, ["--db", db, "ingest", str(path), "--name", "honest"]).exit_code == 0
    store = open_store(db)
    honest = store.get_run("honest")
    forged = store.create_run(
        name="forged",
        scenario=honest.scenario,
        seed=honest.seed,
        code_version=honest.code_version,
        market=honest.market,
    )
    store.append_journal(forged.run_id, store.journal_rows(honest.run_id))
    return db, store, honest, forged


def test_forged_settled_event_is_named_by_audit(tmp_path):
    db, store, honest, forged = honest_and_blank_forgery(tmp_path)
    forged_seq = None
    with store.writer(forged.run_id) as writer:
        for stored in store.read(honest.run_id):
            event = stored.event()
            if event.TYPE == "settled" and event.agent == "a":
                # a's shortfall penalty halved (and its net cash to match): the chain stays intact
                event = event._replace(
                    penalty=event.penalty // 2, net_cash=event.net_cash + event.penalty // 2
                )
                forged_seq = writer.seq + 1
            writer.append([event])
    assert forged_seq is not None and store.verify_chain(forged.run_id) is None

    result = CliRunner().invoke(cli, ["--db", db, "audit", "forged"])
    assert result.exit_code == 1
    assert f"seq {forged_seq}: a unit 2 penalty" in result.output
    assert CliRunner().invoke(cli, ["--db", db, "audit", "honest"]).exit_code == 0


def test_false_run_completed_statement_is_named_by_audit(tmp_path):
    db, store, honest, forged = honest_and_blank_forgery(tmp_path)
    with store.writer(forged.run_id) as writer:
        for stored in store.read(honest.run_id):
            event = stored.event()
            if event.TYPE == "run_completed":
                event = event._replace(head_hash="0" * 64)  # a false closing statement, chain intact
            writer.append([event])
    result = CliRunner().invoke(cli, ["--db", db, "audit", "forged"])
    assert result.exit_code == 1
    assert f"seq {honest.head_seq}: run_completed states head 0000" in result.output

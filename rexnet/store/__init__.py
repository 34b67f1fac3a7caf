"""The append-only SQL event store (the ledger): runs, events, the hash chain and migrations.

Depends on :mod:`rexnet.domain` only. Open a store by URL with :func:`open_store`; every driver
error is translated into :mod:`rexnet.errors` here, so callers never see a DB-API exception.

Example::

    store = open_store("sqlite:///rexnet.db")
    run = store.create_run(name="demo", scenario={}, seed=1, code_version="0.1.0", market=spec.to_record())
    with store.writer(run.run_id) as writer:
        writer.append(events)
    for row in store.read(run.run_id, types={"trade"}):
        print(row.seq, row.event())
"""

from rexnet.store.event_store import EventStore, open_store, upgrade
from rexnet.store.memory import MemoryStore
from rexnet.store.recorder import LedgerReader, LedgerWriter, Recorder
from rexnet.store.records import RunInfo, StoredEvent
from rexnet.store.writer import RunWriter

__all__ = [
    "EventStore",
    "LedgerReader",
    "LedgerWriter",
    "MemoryStore",
    "Recorder",
    "RunInfo",
    "RunWriter",
    "StoredEvent",
    "open_store",
    "upgrade",
]

"""Append throughput of the RexNet ledger against the raw-sqlite3 limit and pyeventsourcing.

Usage::

    python benchmarks/bench_append.py [--events 200000] [--batch 5000] [--repeat 5]

Measures, on fresh SQLite files in one temporary directory, in the same process:

(a) RexNet: encode + hash-chain + append through :class:`rexnet.store.RunWriter` (from domain
    event records to committed rows);
(b) the limit: ``sqlite3.executemany`` of the same rows, pre-encoded and pre-hashed, into the same
    schema (same table, triggers, foreign key and pragmas), one transaction per batch;
(b') the same rows through multi-row ``INSERT ... VALUES`` statements of 128 rows with the run id
    bound once and the hash bound as a ``bytearray`` (what the writer does on SQLite: ``sqlite3``
    binds a bytearray as it is but looks every ``bytes`` parameter up in its adapter registry):
    the real limit of the append path;
(c) ``eventsourcing``'s SQLite recorder (``SQLiteDatastore`` + ``SQLiteAggregateRecorder``)
    inserting pre-built ``StoredEvent`` objects with the same payload bytes, one batch per call:
    the recorder alone, with *no* encoding. It is ``executemany`` of pre-encoded rows, like (b),
    so it is shown as a second "limit", not as the goal's reference;
(c') eventsourcing doing what (a) does, persisting domain events: the same events as
    eventsourcing domain events (frozen dataclasses deriving from
    ``eventsourcing.domain.DomainEvent``, built before the clock starts, as (a)'s records are),
    encoded by eventsourcing's own ``Mapper`` + ``JSONTranscoder`` (with its standard UUID /
    datetime / Decimal transcodings) batch by batch, then inserted by the same recorder.
    eventsourcing computes no hash chain, so (a) still does more work per event.

Why (c') is the reference of "faster than eventsourcing": the issue asks for encode + hash +
append next to the raw limit (pre-encoded rows) *and* eventsourcing's recorder, with two goals,
>= 0.7x the raw limit and faster than eventsourcing. Read as the recorder fed pre-encoded rows,
(c) is the raw limit again (its figure equals (b)'s within noise), and the second goal would
demand more than the first; read as eventsourcing persisting its events, the goals are two
different yardsticks. Both figures are printed. (Since the writer binds hashes as bytearrays,
(a) about equals (c) as well: encoding and hashing cost about what the writer's insert saves over
the recorder's executemany.)

The contenders run interleaved (a, b, b', c, c', a, b, ...) so background load hits them alike;
each figure is the best of ``--repeat`` rounds, with the median beside it. Prints events/s and the
ratios (a)/(b), (a)/(b'), (a)/(c) and (a)/(c'), of the best rounds and of the medians. The goal
is (a) >= 0.7 x (b) and (a) > (c'). Not a test: a slow machine never fails CI.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rexnet.domain import codec
from rexnet.domain import events as ev
from rexnet.domain.market import MarketSpec
from rexnet.store import open_store

AGENTS = [f"agent-{i:03d}" for i in range(200)]


def make_events(n: int, *, seed: int = 7) -> list[Any]:
    """A realistic mix: mostly orders, trades and cancels, some rejections and unit life-cycle events."""
    rng = random.Random(seed)
    out: list[Any] = [
        ev.RunStarted(0, {"name": "bench", "units": 96}, seed, "bench", MarketSpec().to_record())
    ]
    t = 0
    order_id = trade_id = 0
    unit = 8
    while len(out) < n:
        t += rng.randint(0, 400)
        r = rng.random()
        agent = rng.choice(AGENTS)
        if t // 900_000 + 8 > unit:  # the window rolls: one unit closes and settles, one opens
            unit += 1
            out.append(ev.UnitOpened(t, unit))
            closed = unit - 8
            out.append(ev.GateClosed(t, closed, 12_000, 4_150, 49_800_000))
            for a in rng.sample(AGENTS, 20):
                e = rng.randint(-5000, 5000)
                out.append(ev.ReservationFixed(t, a, closed, e))
                out.append(ev.Realized(t, a, closed, e + rng.randint(-300, 300)))
                out.append(ev.Settled(t, a, closed, e, e + 10, 123_456, 0, 0, 10, 0, 123_456))
        elif r < 0.45:
            order_id += 1
            side = "buy" if rng.random() < 0.5 else "sell"
            out.append(
                ev.OrderAccepted(
                    t,
                    order_id,
                    f"r{order_id}",
                    agent,
                    side,
                    rng.randint(unit - 7, unit),
                    rng.randint(3_000, 6_000),
                    rng.randint(1, 50) * 100,
                    "gtc",
                    None,
                )
            )
        elif r < 0.68:
            trade_id += 1
            out.append(
                ev.TradeExecuted(
                    t,
                    trade_id,
                    rng.randint(unit - 7, unit),
                    rng.randint(3_000, 6_000),
                    rng.randint(1, 20) * 100,
                    rng.randint(1, order_id + 1),
                    rng.randint(1, order_id + 1),
                    agent,
                    rng.choice(AGENTS),
                    "buy",
                )
            )
        elif r < 0.88:
            out.append(ev.OrderCancelled(t, rng.randint(1, order_id + 1), agent, unit, 300, "requested"))
        elif r < 0.95:
            out.append(ev.OrderShrunk(t, rng.randint(1, order_id + 1), agent, unit, 200))
        else:
            out.append(
                ev.OrderRejected(t, f"x{t}", agent, "off_tick", "price 40.005 is not a multiple of 0.01")
            )
    return out[:n]


def encode_rows(run_id: str, events: list[Any]) -> list[tuple[Any, ...]]:
    rows = []
    prev = codec.GENESIS
    for seq, e in enumerate(events):
        payload = codec.encode_payload(e)
        prev = codec.chain_hash(prev, seq, e.t, e.TYPE, e.VERSION, payload)
        rows.append((run_id, seq, e.t, e.TYPE, e.VERSION, payload.decode(), prev))
    return rows


def _fresh_store(path: Path) -> tuple[Any, str]:
    store = open_store(f"sqlite:///{path}")
    run = store.create_run(
        name=None, scenario={}, seed=0, code_version="bench", market=MarketSpec().to_record()
    )
    return store, run.run_id


def bench_rexnet(tmp: Path, events: list[Any], batch: int) -> float:
    store, run_id = _fresh_store(tmp / f"rexnet-{uuid.uuid4().hex}.db")
    start = time.perf_counter()
    with store.writer(run_id, batch_size=batch) as writer:
        for i in range(0, len(events), 100):  # a simulator hands over small slices
            writer.append(events[i : i + 100])
    elapsed = time.perf_counter() - start
    assert store.head(run_id)[0] == len(events) - 1
    store.close()
    return elapsed


def bench_raw(tmp: Path, events: list[Any], batch: int) -> float:
    path = tmp / f"raw-{uuid.uuid4().hex}.db"
    store, run_id = _fresh_store(path)  # same schema, triggers and foreign key
    store.close()
    rows = encode_rows(run_id, events)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    sql = (
        "INSERT INTO event_log (run_id, seq, t_ms, type, version, payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[i : i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_raw_multirow(tmp: Path, events: list[Any], batch: int) -> float:
    path = tmp / f"rawm-{uuid.uuid4().hex}.db"
    store, run_id = _fresh_store(path)
    store.close()
    rows = encode_rows(run_id, events)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    n = 128
    cols = "INSERT INTO event_log (run_id, seq, t_ms, type, version, payload, hash) VALUES "
    many = cols + ", ".join(["(?1, ?, ?, ?, ?, ?, ?)"] * n)  # the run id bound once, as the writer does
    short = [(*row[1:6], bytearray(row[6])) for row in rows]  # the hash bound as the writer binds it
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        part = short[i : i + batch]
        full = len(part) - len(part) % n
        conn.execute("BEGIN")
        for j in range(0, full, n):
            params: list[Any] = [run_id]
            params.extend(itertools.chain.from_iterable(part[j : j + n]))
            conn.execute(many, params)
        if full < len(part):
            conn.executemany(cols + "(?, ?, ?, ?, ?, ?, ?)", rows[i + full : i + len(part)])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_eventsourcing(tmp: Path, events: list[Any], batch: int) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(tmp / f"es-{uuid.uuid4().hex}.db"))
    recorder = SQLiteAggregateRecorder(datastore)
    recorder.create_table()
    originator = uuid.uuid4()
    stored = [
        StoredEvent(
            originator_id=originator, originator_version=i, topic=e.TYPE, state=codec.encode_payload(e)
        )
        for i, e in enumerate(events)
    ]
    start = time.perf_counter()
    for i in range(0, len(stored), batch):
        recorder.insert_events(stored[i : i + batch])
    elapsed = time.perf_counter() - start
    datastore.close()
    return elapsed


#: record class -> its eventsourcing ``DomainEvent`` twin (made once: eventsourcing registers
#: each class under its topic and refuses a second class for the same topic)
_ES_CLASSES: dict[type, Any] = {}


def _es_domain_events(events: list[Any], originator: uuid.UUID) -> list[Any]:
    """The events as eventsourcing domain events: one ``DomainEvent`` subclass per record class."""
    from datetime import UTC, datetime, timedelta

    from eventsourcing.domain import DomainEvent

    classes = _ES_CLASSES
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for version, e in enumerate(events):
        cls = classes.get(type(e))
        if cls is None:
            # DomainEvent's metaclass makes every subclass a frozen dataclass with these fields.
            name = f"Es{type(e).__name__}"
            namespace = {
                "__annotations__": {field: Any for field in e._fields},
                "__module__": __name__,
                "__qualname__": name,
            }
            cls = classes[type(e)] = type(name, (DomainEvent,), namespace)
        out.append(
            cls(
                originator_id=originator,
                originator_version=version,
                timestamp=epoch + timedelta(milliseconds=e.t),
                **e._asdict(),
            )
        )
    return out


def bench_eventsourcing_encoded(tmp: Path, events: list[Any], batch: int) -> float:
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(tmp / f"esm-{uuid.uuid4().hex}.db"))
    recorder = SQLiteAggregateRecorder(datastore)
    recorder.create_table()
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        transcoder.register(transcoding)
    to_stored = Mapper(transcoder=transcoder).to_stored_event
    domain_events = _es_domain_events(events, uuid.uuid4())
    start = time.perf_counter()
    for i in range(0, len(domain_events), batch):
        recorder.insert_events([to_stored(e) for e in domain_events[i : i + batch]])
    elapsed = time.perf_counter() - start
    datastore.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    events = make_events(args.events)
    mix: dict[str, int] = {}
    for e in events:
        mix[e.TYPE] = mix.get(e.TYPE, 0) + 1
    print(f"{len(events)} events, batch {args.batch}, {args.repeat} rounds; sqlite {sqlite3.sqlite_version}")
    print("mix: " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])))
    contenders: dict[str, Callable[[Path, list[Any], int], float]] = {
        "(a)  rexnet RunWriter (encode+hash+append)": bench_rexnet,
        "(b)  raw sqlite3 executemany, pre-encoded": bench_raw,
        "(b') raw sqlite3 multi-row INSERT, pre-encoded": bench_raw_multirow,
        "(c)  eventsourcing SQLiteAggregateRecorder": bench_eventsourcing,
        "(c') eventsourcing Mapper encode + recorder": bench_eventsourcing_encoded,
    }
    times: dict[str, list[float]] = {label: [] for label in contenders}
    with tempfile.TemporaryDirectory(prefix="rexnet-bench-") as name:
        for _ in range(args.repeat):
            for label, fn in contenders.items():
                times[label].append(fn(Path(name), events, args.batch))
                # Delete the round's database at once: its dirty pages are then dropped, not
                # written back to the disk while the next contender runs.
                for leftover in Path(name).iterdir():
                    leftover.unlink()
    rates = {label: len(events) / min(ts) for label, ts in times.items()}
    medians = {label: len(events) / statistics.median(ts) for label, ts in times.items()}
    for label, rate in rates.items():
        best, median = min(times[label]), statistics.median(times[label])
        rounds = len(times[label])
        print(f"{label:48s} {rate:10,.0f} events/s  (best {best:.3f} s of {rounds}, median {median:.3f} s)")
    a, b, b2, c, c2 = rates.values()
    ma, mb, mb2, mc, mc2 = medians.values()
    print("ratios of the best rounds (and of the medians):")
    print(f"(a)/(b)  = {a / b:.2f} ({ma / mb:.2f})   goal >= 0.70")
    print(f"(a)/(b') = {a / b2:.2f} ({ma / mb2:.2f})   same insert strategy: the cost of encoding + hashing")
    print(f"(a)/(c)  = {a / c:.2f} ({ma / mc:.2f})   (c) inserts pre-encoded rows: it encodes nothing")
    print(
        f"(a)/(c') = {a / c2:.2f} ({ma / mc2:.2f})   goal > 1.00: both persist domain events; only (a) hashes"
    )


if __name__ == "__main__":
    main()

"""The recorder contract: one suite, run against every recorder (SQLite file, PostgreSQL, memory).

:class:`RecorderContract` holds what every implementation of :class:`rexnet.store.Recorder` must
do; :class:`TestSQLStore` runs it on the ``db_url`` fixture of ``tests/conftest.py`` (once per
SQL backend; PostgreSQL runs skip outside CI when ``REXNET_TEST_PG_URL`` is unset and fail under
``CI=true``) and :class:`TestMemoryStore` on :class:`rexnet.store.MemoryStore`. The module-level
tests need a database (triggers, raw SQL, URLs, migrations, concurrent writers).
"""

from __future__ import annotations

import threading
import typing

import orjson
import pytest
import sqlalchemy as sa

from rexnet.domain import codec
from rexnet.domain import events as ev
from rexnet.domain.market import MarketSpec
from rexnet.errors import (
    ConcurrencyError,
    DatabaseUnavailable,
    IntegrityError,
    RunNotFound,
    SchemaTooNew,
)
from rexnet.store import EventStore, MemoryStore, Recorder, RunWriter, StoredEvent, open_store, upgrade
from rexnet.store.migrate import head_revision

MARKET = MarketSpec().to_record()


def sample_events(n: int = 40) -> list:
    """A deterministic mix of every common event type (non-ASCII names included)."""
    out: list = [ev.RunStarted(0, {"name": "contract", "nested": {"b": 1, "a": [1, 2]}}, 42, "test", MARKET)]
    for i in range(n):
        t = 1000 * (i + 1)
        agent = ["alice", "bøb", "carol-ü"][i % 3]
        kind = i % 5
        if kind == 0:
            out.append(ev.UnitOpened(t, i))
        elif kind == 1:
            out.append(ev.OrderAccepted(t, i, f"r{i}", agent, "buy", 3, 4000 + i, 100, "gtc", None))
        elif kind == 2:
            out.append(ev.TradeExecuted(t, i, 3, 4000, 100, i - 1, i - 2, agent, "alice", "buy"))
        elif kind == 3:
            out.append(ev.OrderCancelled(t, i, agent, 3, 0, "requested"))
        else:
            out.append(ev.OrderRejected(t, f"x{i}", agent, "off_tick", 'price "40.005" is off the grid'))
    out.append(ev.GateClosed(100_000, 3, 200, 4000, 800_000))
    return out


def independent_chain(events: list, *, start: bytes = codec.GENESIS, first_seq: int = 0) -> bytes:
    prev = start
    for seq, e in enumerate(events, start=first_seq):
        prev = codec.chain_hash(prev, seq, e.t, e.TYPE, e.VERSION, codec.encode_payload(e))
    return prev


@pytest.fixture
def store(db_url):
    with open_store(db_url) as s:
        yield s


def new_run(store: EventStore, name: str | None = None, **kw):
    return store.create_run(
        name=name, scenario={"units": 4}, seed=7, code_version="test", market=MARKET, **kw
    )


def filled_run(store: EventStore, events: list, name: str | None = None):
    run = new_run(store, name)
    with store.writer(run.run_id, batch_size=7) as writer:
        writer.append(events)
    return run


def plain_engine(url: str) -> sa.Engine:
    """An engine without RexNet's hooks: what any SQL user could do."""
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


# -- runs -------------------------------------------------------------------------------------------


# -- append and read --------------------------------------------------------------------------------


def _example(cls: type, i: int):
    """An instance of event class ``cls`` with awkward but valid values for every field."""
    values = []
    for name, hint in typing.get_type_hints(cls).items():
        args = set(typing.get_args(hint)) or {hint}
        if name == "t":
            values.append(1000 + i)
        elif type(None) in args and i % 2:
            values.append(None)
        elif int in args:
            values.append(-(10**15) + i)
        elif str in args:
            values.append(f'ü "quoted" \\ back\tslash {i}')
        else:
            values.append({"z": [1, {"y": None, "b": "é"}], "a": i})
    return cls(*values)


# -- append-only, enforced by the database ---------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE event_log SET payload = '{}' WHERE seq = 1",
        "UPDATE event_log SET seq = seq + 1000",
        "DELETE FROM event_log WHERE seq = 1",
        "DELETE FROM event_log",
    ],
)
def test_database_refuses_changing_events(store, db_url, sql):
    run = filled_run(store, sample_events(5))
    engine = plain_engine(db_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="events are append-only: history cannot be changed"):
            with engine.begin() as conn:
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()
    assert store.verify_chain(run.run_id) is None
    assert len(list(store.read(run.run_id))) == 7


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE runs SET seed = 8", "settled facts"),
        ("UPDATE runs SET scenario = '{}'", "settled facts"),
        ("UPDATE runs SET market = '{}'", "settled facts"),
        ("UPDATE runs SET run_id = 'abc'", "settled facts"),
        ("UPDATE runs SET created_at = '2000-01-01'", "settled facts"),
        ("UPDATE runs SET money_scale = '1'", "settled facts"),
        ("UPDATE runs SET head_seq = head_seq - 1, events = events - 1", "only move forward"),
        (
            "UPDATE runs SET head_hash = event_log.hash FROM event_log WHERE event_log.seq = 0",
            "only move forward",
        ),
        ("DELETE FROM runs", "cannot be deleted"),
    ],
)
def test_database_refuses_changing_settled_run_facts(store, db_url, sql, message):
    run = filled_run(store, sample_events(5))
    engine = plain_engine(db_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match=message):
            with engine.begin() as conn:
                conn.exec_driver_sql(sql)
        with engine.begin() as conn:  # a label and the status may change
            conn.exec_driver_sql("UPDATE runs SET name = 'renamed', status = 'failed'")
    finally:
        engine.dispose()
    info = store.get_run("renamed")
    assert (info.seed, info.head_seq, info.status) == (7, run.head_seq + 7, "failed")


# -- concurrency --------------------------------------------------------------------------------------
def test_two_writers_one_wins(db_url):
    events = sample_events(20)
    with open_store(db_url) as one, open_store(db_url) as two:
        run = new_run(one)
        first, second = one.writer(run.run_id), two.writer(run.run_id)
        first.append(events[:10])
        second.append(events[:4] + [ev.UnitOpened(1, 1)])
        first.flush()
        with pytest.raises(
            ConcurrencyError, match=f"run {run.run_id}: seq 0 already written by another writer"
        ):
            second.flush()
        with pytest.raises(ConcurrencyError):  # a writer that lost stays refused
            second.flush()
        assert [r.event() for r in one.read(run.run_id)] == events[:10]
        assert one.head(run.run_id) == (9, independent_chain(events[:10]))
        assert one.verify_chain(run.run_id) is None


def test_a_seq_taken_behind_the_heads_back_is_a_concurrency_error(store, db_url):
    run = new_run(store)
    engine = plain_engine(db_url)
    try:
        with engine.begin() as conn:  # a row written without moving the run's head
            conn.execute(
                sa.text("INSERT INTO event_log VALUES (:r, 0, 0, 'unit_opened', 1, :p, :h)"),
                {"r": run.run_id, "p": '{"unit":1}', "h": bytes(32)},
            )
    finally:
        engine.dispose()
    writer = store.writer(run.run_id)
    writer.append(sample_events(3))
    with pytest.raises(ConcurrencyError, match="seq 0 already written by another writer"):
        writer.flush()
    assert store.head(run.run_id) == (-1, codec.GENESIS)
    assert store.verify_chain(run.run_id) == 0  # the stray row is not part of the recorded head


def test_racing_writers_exactly_one_wins(db_url):
    events = sample_events(200)
    with open_store(db_url) as setup:
        run = new_run(setup)
    stores = [open_store(db_url), open_store(db_url)]
    writers = [s.writer(run.run_id, batch_size=10_000) for s in stores]
    barrier = threading.Barrier(2)
    outcome: list[object] = [None, None]

    def go(i: int) -> None:
        writers[i].append(events if i == 0 else events[:150])
        barrier.wait()
        try:
            writers[i].flush()
            outcome[i] = "ok"
        except ConcurrencyError as error:
            outcome[i] = error

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(map(type, outcome), key=str) == sorted([str, ConcurrencyError], key=str)
        winner = outcome.index("ok")
        written = events if winner == 0 else events[:150]
        rows = list(stores[0].read(run.run_id))
        assert [r.seq for r in rows] == list(range(len(written)))
        assert [r.event() for r in rows] == written
        assert stores[0].verify_chain(run.run_id) is None
    finally:
        for s in stores:
            s.close()


# -- forks ------------------------------------------------------------------------------------------


# -- tamper detection -------------------------------------------------------------------------------------
def _drop_event_triggers(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER events_append_only ON event_log")
    else:
        conn.exec_driver_sql("DROP TRIGGER events_no_update")
        conn.exec_driver_sql("DROP TRIGGER events_no_delete")


def tamper(db_url: str, sql: str, **params: object) -> None:
    """Run ``sql`` as someone who dropped the append-only triggers by hand."""
    engine = plain_engine(db_url)
    try:
        with engine.begin() as conn:
            _drop_event_triggers(conn)
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def test_verify_chain_finds_a_changed_byte(store, db_url):
    run = filled_run(store, sample_events(20))
    target = list(store.read(run.run_id, from_seq=8, to_seq=8))[0]
    forged = target.payload.replace("4000", "4001", 1)
    assert forged != target.payload
    tamper(db_url, "UPDATE event_log SET payload = :p WHERE run_id = :r AND seq = 8", p=forged, r=run.run_id)
    assert store.verify_chain(run.run_id) == 8


def test_verify_chain_finds_a_missing_event(store, db_url):
    run = filled_run(store, sample_events(20))
    tamper(db_url, "DELETE FROM event_log WHERE run_id = :r AND seq >= 9", r=run.run_id)
    assert store.verify_chain(run.run_id) == 9


# -- opening databases ------------------------------------------------------------------------------------
def test_open_migrates_and_upgrade_is_idempotent(db_url):
    assert upgrade(db_url) == (None, head_revision())
    assert upgrade(db_url) == (head_revision(), head_revision())
    with open_store(db_url) as store:
        assert store.list_runs() == []


def test_newer_schema_revision_is_refused(db_url):
    open_store(db_url).close()
    engine = plain_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    finally:
        engine.dispose()
    with pytest.raises(SchemaTooNew, match="'9999_future' is newer") as info:
        open_store(db_url)
    assert "\n" not in str(info.value)
    with pytest.raises(SchemaTooNew):
        upgrade(db_url)


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://user:pw@localhost/db",
        "postgresql+psycopg2://localhost/db",
        "sqlite+nosuchdriver:///x.db",
        "sqlite:////nonexistent-dir/sub/ledger.db",
    ],
)
def test_bad_urls_are_unavailable(url):
    with pytest.raises(DatabaseUnavailable) as info:
        open_store(url)
    message = str(info.value)
    assert "\n" not in message and "cannot open database" in message and "pw" not in message


def test_unreachable_server_is_unavailable_and_hides_the_password():
    url = "postgresql+psycopg://rexnet:s3cret@127.0.0.1:1/ledger"
    with pytest.raises(DatabaseUnavailable) as info:
        open_store(url)
    message = str(info.value)
    assert "127.0.0.1:1" in message and "s3cret" not in message and "***" in message
    assert "\n" not in message


def test_unwritable_sqlite_path_is_unavailable(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    url = f"sqlite:///{not_a_folder / 'ledger.db'}"
    with pytest.raises(DatabaseUnavailable, match="unable to open database file") as info:
        open_store(url)
    assert str(not_a_folder) in str(info.value)


# -- the same bytes on every backend -----------------------------------------------------------------------
def test_identical_head_hash_on_sqlite_and_postgresql(sqlite_url, pg_url):
    events = sample_events(50)
    heads = []
    for url in (sqlite_url, pg_url):
        with open_store(url) as store:
            run = filled_run(store, events)
            heads.append(store.head(run.run_id))
            rows = list(store.read(run.run_id))
            assert store.verify_chain(run.run_id) is None
        heads.append((rows[-1].seq, rows[-1].hash))
    assert len(set(heads)) == 1
    assert heads[0] == (len(events) - 1, independent_chain(events))


# -- URLs -------------------------------------------------------------------------------------------------
def test_url_normalisation_and_redaction():
    from rexnet.store.database import parse_url, redact

    assert parse_url("postgres://u:pw@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"
    assert parse_url("sqlite:///x.db").drivername == "sqlite"
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact(parse_url("postgresql://u:pw@h/db")) == "postgresql+psycopg://u:***@h/db"


def test_in_memory_sqlite_store():
    with open_store("sqlite://") as store:
        run = filled_run(store, sample_events(12))
        assert store.verify_chain(run.run_id) is None
        assert len(list(store.read(run.run_id))) == 14


# -- the column read of replays -----------------------------------------------------------------------------
CODES = (("order_accepted", 1), ("trade", 1), ("unit_opened", 1), ("order_cancelled", 1))


def coded_entries(store: EventStore, run_id: str, **kw) -> list[tuple]:
    """``(seq, t_ms, code, payload as a dict)`` of every event, chunk by chunk."""
    out = []
    for chunk in store.read_coded(run_id, codes=CODES, **kw):
        assert len(chunk.seqs) == len(chunk.t_ms) == len(chunk.codes) == len(chunk.payloads)
        for seq, t, code, payload in zip(chunk.seqs, chunk.t_ms, chunk.codes, chunk.payloads, strict=True):
            out.append((seq, t, code, payload if isinstance(payload, dict) else orjson.loads(payload)))
    return out


def expected_entries(store: EventStore, run_id: str, **kw) -> list[tuple]:
    pairs = {pair: i for i, pair in enumerate(CODES)}
    return [
        (r.seq, r.t_ms, pairs.get((r.type, r.version), f"{r.type}@{r.version}"), orjson.loads(r.payload))
        for r in store.read(run_id, **kw)
    ]


def test_read_coded_reads_a_log_with_a_gap_row_by_row(store, db_url):
    run = filled_run(store, sample_events(20))
    run = store.get_run(run.run_id)
    tamper(db_url, "DELETE FROM event_log WHERE run_id = :r AND seq = 9", r=run.run_id)
    got = coded_entries(store, run.run_id, from_seq=0, to_seq=run.head_seq, chunk=6)
    assert [seq for seq, *_ in got] == [s for s in range(run.head_seq + 1) if s != 9]
    assert got == expected_entries(store, run.run_id)


def test_read_coded_hands_a_broken_payload_over_as_bytes(store, db_url):
    run = filled_run(store, sample_events(20))
    run = store.get_run(run.run_id)
    tamper(
        db_url,
        "UPDATE event_log SET payload = :p WHERE run_id = :r AND seq = 7",
        p='{"unit": 1',
        r=run.run_id,
    )
    every = [(t, cls.VERSION) for t, cls in ev.EVENT_TYPES.items()]
    chunks = list(store.read_coded(run.run_id, from_seq=0, to_seq=run.head_seq, codes=every, chunk=5))
    broken = chunks[1]  # seqs 5..9, read row by row
    assert list(broken.seqs) == [5, 6, 7, 8, 9] and broken.payloads[2] == b'{"unit": 1'
    assert all(isinstance(p, dict) for c in (chunks[0], chunks[2]) for p in c.payloads)


def test_reads_go_on_past_a_gap_wider_than_a_chunk(store, db_url):
    """Reads walk windows of seqs: a window with no rows at all does not end the read."""
    run = filled_run(store, sample_events(30))
    tamper(db_url, "DELETE FROM event_log WHERE run_id = :r AND seq >= 5 AND seq <= 14", r=run.run_id)
    left = [s for s in range(32) if not 5 <= s <= 14]
    assert [r.seq for r in store.read(run.run_id, chunk=4)] == left
    assert [r[0] for c in store.read_chunks(run.run_id, chunk=3) for r in c] == left
    assert [r.seq for r in store.read(run.run_id, from_seq=6, to_seq=16, chunk=2)] == [15, 16]


class RecorderContract:
    """The contract every recorder keeps (:class:`rexnet.store.Recorder`): subclasses give the
    ``store`` fixture (as eventsourcing's recorder test cases do); what only a database can show
    (triggers, raw SQL tampering, URLs, concurrent processes) is in the functions below."""

    def test_create_get_list_runs(self, store):
        a = new_run(store, "alpha")
        b = new_run(store)
        assert len(a.run_id) == 12 and int(a.run_id, 16) >= 0
        assert (a.status, a.head_seq, a.head_hash, a.events) == ("running", -1, codec.GENESIS, 0)
        assert a.scenario == {"units": 4} and a.seed == 7 and a.code_version == "test" and a.market == MARKET
        assert store.get_run("alpha") == a == store.get_run(a.run_id)
        assert store.get_run(b.run_id).name is None
        assert [r.run_id for r in store.list_runs()] == [a.run_id, b.run_id]

    def test_scales_are_derived_from_the_market(self, store):
        run = new_run(store)
        assert (run.price_scale, run.qty_scale, run.money_scale) == ("0.01", "0.001", "2.5E-9")

    def test_run_names_are_unique(self, store):
        new_run(store, "dup")
        with pytest.raises(IntegrityError, match="'dup' already exists"):
            new_run(store, "dup")

    def test_unknown_run(self, store):
        with pytest.raises(RunNotFound, match="no run 'nope'"):
            store.get_run("nope")
        for call in (store.head, store.writer, store.verify_chain):
            with pytest.raises(RunNotFound):
                call("nope")

    def test_name_equal_to_another_runs_id_is_ambiguous(self, store):
        a = new_run(store)
        new_run(store, a.run_id)
        with pytest.raises(RunNotFound, match=f"run name '{a.run_id}' is ambiguous"):
            store.get_run(a.run_id)

    def test_set_status(self, store):
        run = new_run(store)
        store.set_status(run.run_id, "failed")
        assert store.get_run(run.run_id).status == "failed"
        with pytest.raises(ValueError):
            store.set_status(run.run_id, "done")

    def test_append_read_round_trip(self, store):
        events = sample_events()
        run = filled_run(store, events)
        rows = list(store.read(run.run_id))
        assert all(isinstance(r, StoredEvent) for r in rows)
        assert [r.seq for r in rows] == list(range(len(events)))
        assert [r.event() for r in rows] == events
        assert [r.payload for r in rows] == [codec.encode_payload(e).decode() for e in events]
        info = store.get_run(run.run_id)
        assert (info.status, info.head_seq, info.events) == ("completed", len(events) - 1, len(events))

    def test_head_hash_equals_an_independent_chain(self, store):
        events = sample_events()
        run = filled_run(store, events)
        expected = independent_chain(events)
        assert store.head(run.run_id) == (len(events) - 1, expected)
        assert store.get_run(run.run_id).head_hash == expected
        assert list(store.read(run.run_id))[-1].hash == expected
        assert store.verify_chain(run.run_id) is None

    def test_every_event_class_is_stored_with_the_codec_bytes(self, store):
        # run_completed closes a log (migration 0005): it comes once, last
        classes = [cls for cls in ev.EVENT_CLASSES if cls is not ev.RunCompleted]
        events = [_example(cls, i) for i in range(2) for cls in classes] + [_example(ev.RunCompleted, 0)]
        run = filled_run(store, events)
        rows = list(store.read(run.run_id))
        assert [r.payload.encode() for r in rows] == [codec.encode_payload(e) for e in events]
        assert [r.event() for r in rows] == events
        assert store.head(run.run_id)[1] == independent_chain(events)

    def test_writer_assigns_seqs_and_flushes_in_batches(self, store):
        events = sample_events(20)
        run = new_run(store)
        writer = store.writer(run.run_id, batch_size=5)
        assert isinstance(writer, RunWriter) and writer.seq == -1 and writer.head_hash == codec.GENESIS
        writer.append(events[:12])
        assert writer.seq == 11 and writer.head_hash == independent_chain(events[:12])
        assert store.head(run.run_id)[0] == 9  # two full batches written, two events pending
        writer.append(events[12:])
        writer.close()
        assert store.head(run.run_id) == (len(events) - 1, independent_chain(events))
        assert store.get_run(run.run_id).status == "running"  # close() without a status leaves it
        # a new writer continues the chain from the committed head
        more = [ev.UnitOpened(200_000, 99)]
        with store.writer(run.run_id) as again:
            again.append(more)
        assert store.head(run.run_id)[1] == independent_chain(events + more)

    def test_writer_context_marks_failed_on_exception_and_keeps_the_prefix(self, store):
        events = sample_events(10)
        run = new_run(store)
        with pytest.raises(RuntimeError):
            with store.writer(run.run_id) as writer:
                writer.append(events)
                raise RuntimeError("simulator crashed")
        info = store.get_run(run.run_id)
        assert info.status == "failed" and info.head_seq == len(events) - 1
        assert store.verify_chain(run.run_id) is None

    def test_read_streams_by_seq_range_type_and_time(self, store):
        events = sample_events(60)
        run = filled_run(store, events)
        rid = run.run_id
        assert [r.seq for r in store.read(rid, from_seq=10, to_seq=20, chunk=3)] == list(range(10, 21))
        trades = [r for r in store.read(rid, types={"trade"}, chunk=4)]
        assert [r.event() for r in trades] == [e for e in events if e.TYPE == "trade"]
        two = list(store.read(rid, types=["trade", "unit_opened"], chunk=5))
        assert [r.seq for r in two] == [i for i, e in enumerate(events) if e.TYPE in ("trade", "unit_opened")]
        early = list(store.read(rid, to_t_ms=10_000, chunk=2))
        assert [r.event() for r in early] == [e for e in events if e.t <= 10_000]
        assert list(store.read(rid, types=[])) == []
        assert list(store.read(rid, from_seq=len(events))) == []

    def test_read_is_lazy(self, store):
        run = filled_run(store, sample_events(30))
        stream = store.read(run.run_id, chunk=4)
        assert next(stream).seq == 0  # a generator: fetches one chunk at a time
        stream.close()

    def test_fork_starts_at_the_parents_hash_and_stores_only_its_own_events(self, store):
        events = sample_events(10)
        parent = filled_run(store, events)
        fork = new_run(store, "fork", parent_run_id=parent.run_id, fork_seq=4)
        assert (fork.head_seq, fork.head_hash, fork.events) == (4, independent_chain(events[:5]), 5)
        own = [ev.UnitOpened(50_000, 77), ev.UnitOpened(50_001, 78)]
        with store.writer(fork.run_id) as writer:
            writer.append(own)
        rows = list(store.read(fork.run_id))
        assert [r.seq for r in rows] == [5, 6] and [r.event() for r in rows] == own
        assert store.head(fork.run_id)[1] == independent_chain(events[:5] + own)
        assert store.verify_chain(fork.run_id) is None
        grandchild = new_run(store, parent_run_id=fork.run_id, fork_seq=2)  # inside the shared prefix
        assert grandchild.head_hash == independent_chain(events[:3])
        with pytest.raises(ValueError):
            new_run(store, parent_run_id=parent.run_id, fork_seq=len(events))
        with pytest.raises(RunNotFound):
            new_run(store, parent_run_id="nope", fork_seq=0)

    def test_read_chunks_are_read_without_run_id_and_hash(self, store):
        run = filled_run(store, sample_events(25))
        full = [
            (e.seq, e.t_ms, e.type, e.version, e.payload.encode())
            for e in store.read(run.run_id, from_seq=3, to_seq=20)
        ]
        chunks = list(store.read_chunks(run.run_id, from_seq=3, to_seq=20, chunk=4))
        assert [r for c in chunks for r in c] == full and all(len(c) <= 4 for c in chunks)
        assert list(store.read_chunks(run.run_id, types=["no_such_type"])) == []

    def test_read_coded_gives_every_event_by_columns(self, store):
        run = filled_run(store, sample_events(45))
        rid = run.run_id
        run = store.get_run(rid)
        assert coded_entries(store, rid, from_seq=0, to_seq=run.head_seq + 6, chunk=5) == expected_entries(
            store, rid
        )
        assert coded_entries(store, rid, from_seq=3, to_seq=20, chunk=4) == expected_entries(
            store, rid, from_seq=3, to_seq=20
        )
        # a chunk of known types only comes parsed, with its seqs as a range
        chunk = next(store.read_coded(rid, from_seq=1, to_seq=3, codes=CODES))
        assert chunk.seqs == range(1, 4) and all(isinstance(p, dict) for p in chunk.payloads)
        # pairs not among the codes (run_started, order_rejected, gate_closed) come as "type@version"
        codes = {c for _, _, c, _ in coded_entries(store, rid, from_seq=0, to_seq=run.head_seq)}
        assert {"run_started@1", "order_rejected@1", "gate_closed@2"} <= codes
        assert list(store.read_coded(rid, from_seq=5, to_seq=4, codes=CODES)) == []

    def test_a_writer_behind_the_head_loses_and_writes_nothing(self, store):
        run = new_run(store)
        one, two = store.writer(run.run_id), store.writer(run.run_id)
        one.append(sample_events(3))
        one.flush()
        two.append(sample_events(2))
        with pytest.raises(ConcurrencyError, match="seq 0 already written"):
            two.flush()
        assert store.head(run.run_id)[0] == 4 and store.verify_chain(run.run_id) is None


class TestSQLStore(RecorderContract):
    """SQLite file and PostgreSQL (the ``db_url`` fixture runs each backend)."""

    @pytest.fixture
    def store(self, db_url):
        with open_store(db_url) as s:
            yield s


class TestMemoryStore(RecorderContract):
    """The in-memory recorder."""

    @pytest.fixture
    def store(self):
        with MemoryStore() as s:
            yield s

    def test_is_a_recorder(self, store):
        assert isinstance(store, Recorder) and isinstance(open_store("sqlite://"), Recorder)

"""The speed paths against their references, on the same generated streams.

:class:`rexnet.exchange._fast.FastExchange` must emit exactly the events of the plain reference
:class:`rexnet.exchange.Exchange` and end in the same state; its matching
(:mod:`rexnet.exchange._matching_fast`) must walk any book as :mod:`rexnet.exchange.matching`
does; the append loop of :mod:`rexnet.domain._codec_fast` must give exactly the rows (payload
bytes and chain hashes) of :func:`rexnet.domain.codec.chain_rows`; and the replay's decoder and
folds of :mod:`rexnet.replay._decode_fast` must give the events, the folded state and the
failures of the reference :mod:`rexnet.replay.decode`, on stored rows of every kind (current,
older, unknown, malformed). Both run in either build (pure or compiled), so the CI runs of both
builds hold each path to the reference.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rexnet.domain import _codec_fast, codec
from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Shrink, Side, TimeInForce
from rexnet.domain.market import MarketSpec
from rexnet.exchange import EXCHANGE_CLASS, Exchange, _matching_fast, matching, new_exchange
from rexnet.exchange._fast import FastExchange
from rexnet.exchange.book import Book, RestingOrder
from rexnet.market_engine import MarketEngine
from rexnet.replay import _decode_fast, decode
from rexnet.replay.accounts import Accounts
from rexnet.replay.codes import CODES, NotApplicable
from rexnet.replay.state_codec import encode_state
from rexnet.store.records import CodedChunk, StoredEvent

LOT = MarketSpec().lot_units
UNIT_MS = 60_000


class Big(IntEnum):
    """An ``int`` subclass in a command field: events must still hold plain ints."""

    PRICE = 101


AGENTS = st.sampled_from(["a", "b", "c", "d"])
REFS = st.sampled_from(["r0", "r1", "r2", "r3"])
SIDES = st.sampled_from(["buy", "sell", Side.BUY, Side.SELL])
TIFS = st.sampled_from(["gtc", "gtc", "ioc", "fok", TimeInForce.GTC, TimeInForce.IOC])
PRICES = st.one_of(st.integers(96, 104), st.just(Big.PRICE), st.just(0), st.just(10**9))
QTYS = st.one_of(st.integers(1, 5).map(lambda n: n * LOT), st.sampled_from([0, LOT + 1]))
OFFSETS = st.integers(0, 3)


@st.composite
def command(draw, t: int):
    unit = t // UNIT_MS + draw(OFFSETS)
    agent, ref, side = draw(AGENTS), draw(REFS), draw(SIDES)
    kind = draw(st.sampled_from(["limit"] * 5 + ["market", "cancel", "shrink", "set"]))
    if kind == "limit":
        return PlaceLimit(t, agent, ref, side, unit, draw(PRICES), draw(QTYS), draw(TIFS))
    if kind == "market":
        return PlaceMarket(t, agent, ref, side, unit, draw(QTYS))
    if kind == "cancel":
        return Cancel(t, agent, ref)
    if kind == "shrink":
        return Shrink(t, agent, ref, draw(QTYS))
    units = draw(st.lists(st.integers(unit, unit + 2), min_size=1, max_size=3, unique=True))
    return PlaceSet(t, agent, ref, side, units, draw(PRICES), draw(QTYS))


@st.composite
def streams(draw):
    t, out = 0, []
    for _ in range(draw(st.integers(1, 60))):
        t += draw(st.sampled_from([0, 1, 500, 7_000, UNIT_MS // 2]))
        out.append(draw(command(t)))
    return out


SPECS = st.builds(
    MarketSpec,
    unit_seconds=st.just(60),
    horizon=st.just(3),
    min_price=st.sampled_from([None, Decimal("0.97")]),
    max_price=st.sampled_from([None, Decimal("10")]),
    auction_align_gate=st.booleans(),
    self_trade=st.sampled_from(["cancel_resting", "cancel_incoming", "cancel_both", "allow"]),
    auction_mode=st.sampled_from(["continuous", "continuous", "periodic"]),
    auction_period_seconds=st.just(20),
    opening_auction=st.booleans(),
)


def _run(exchange: Exchange, stream: list) -> list:
    events = []
    for cmd in stream:
        try:
            events.extend(exchange.handle(cmd))
        except (TypeError, ValueError) as exc:  # the same refusal from both, compared below
            events.append(("raised", type(exc).__name__))
    events.extend(exchange.advance(stream[-1][0] + 4 * UNIT_MS))
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=SPECS, stream=streams())
def test_fast_exchange_emits_the_reference_events(spec, stream):
    reference, fast = Exchange(spec), FastExchange(spec)
    expected = _run(reference, stream)
    got = _run(fast, stream)
    assert got == expected
    # the same values *and* the same types: plain ints and strs, never an int subclass or an enum
    assert [tuple(map(type, e)) for e in got] == [tuple(map(type, e)) for e in expected]
    assert fast.state.snapshot() == reference.state.snapshot()
    rows_ref: list = []
    rows_fast: list = []
    real = [e for e in expected if e[0] != "raised"]
    codec.chain_rows(rows_ref, iter(real), -1, codec.GENESIS, len(real))
    _codec_fast.chain_rows(rows_fast, iter(real), -1, codec.GENESIS, len(real))
    assert rows_fast == rows_ref
    # and the replay's fast decoder gives back exactly the events the reference codec does
    for (_, t, kind, version, payload, _), event in zip(rows_ref, real, strict=True):
        assert (
            _decode_fast.decode_fast(kind, version, t, payload.encode())
            == codec.decode(kind, version, t, payload)
            == event
        )


STPS = st.sampled_from(["cancel_resting", "cancel_incoming", "cancel_both", "allow"])
RESTING = st.tuples(AGENTS, st.sampled_from(["buy", "sell"]), st.integers(0, 6), st.integers(1, 4))


@settings(max_examples=300, deadline=None)
@given(
    resting=st.lists(RESTING, max_size=40),
    agent=AGENTS,
    side=st.sampled_from(["buy", "sell"]),
    limit=st.one_of(st.none(), st.integers(90, 110)),
    lots=st.integers(1, 60),
    stp=STPS,
    ids=st.tuples(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 2**40)),
)
def test_fast_matching_walks_deep_books_as_the_reference(resting, agent, side, limit, lots, stp, ids):
    """Both matchings on one deep book: several levels a side, each agent's orders scattered in
    the queues, every self-trade prevention, limit and market orders (``limit=None``), ids past
    the small-int cache. Bids rest at 94..100 and asks at 101..107, so the book is uncrossed."""
    t, oid, tid = ids
    book = Book(7)
    for i, (owner, rest_side, offset, rest_lots) in enumerate(resting):
        price = 100 - offset if rest_side == "buy" else 101 + offset
        book.add(RestingOrder(10**12 + i, owner, f"r{i}", rest_side, 7, price, rest_lots * LOT, "gtc", None))
    qty = lots * LOT
    expected: list = []
    got: list = []
    result = matching.match(book, t, oid, agent, side, limit, qty, tid, stp, expected)
    assert _matching_fast.match(book, t, oid, agent, side, limit, qty, tid, stp, got) == result
    assert got == expected
    assert [tuple(map(type, e)) for e in got] == [tuple(map(type, e)) for e in expected]
    assert [type(e) for e in got] == [type(e) for e in expected]
    if limit is None:
        return
    # fill-or-kill: fillable exactly when the walk fills the whole order, at the edge too
    everything = 10**6 * LOT
    available = everything - matching.match(book, t, oid, agent, side, limit, everything, tid, stp, [])[0]
    for size in {qty, available, available + LOT} - {0}:
        fills = matching.fillable(book, agent, side, limit, size, stp)
        assert _matching_fast.fillable(book, agent, side, limit, size, stp) == fills
        assert fills == (size <= available)


def test_the_build_picks_one_exchange_class_and_folds_agree():
    assert EXCHANGE_CLASS in (Exchange, FastExchange)
    assert isinstance(new_exchange(MarketSpec()), EXCHANGE_CLASS)
    assert (decode.FOLD_CODED, decode.FOLD_ROWS, decode.EVENT_OF) in (
        (decode.fold_coded, decode.fold_rows, decode.event_of),
        (_decode_fast.fold_coded, _decode_fast.fold_rows, _decode_fast.event_of),
    )


# -- the replay's decoder and folds ---------------------------------------------------------------

#: Stored rows the engine never writes, by how they differ from a current row of the same event:
#: (type, version, payload) from the (type, version, payload) of a real row.
ODD_ROWS = {
    "older version": lambda kind, v, p: ("gate_closed", 1, '{"unit":0,"volume":3000,"vwap":4000}'),
    "older version, no vwap": lambda kind, v, p: ("gate_closed", 1, '{"unit":0,"volume":0,"vwap":null}'),
    "newer version": lambda kind, v, p: (kind, v + 1, p),
    "unknown type": lambda kind, v, p: ("nonsense", 1, "{}"),
    "truncated json": lambda kind, v, p: (kind, v, p[:-1]),
    "empty payload": lambda kind, v, p: (kind, v, ""),
    "not an object": lambda kind, v, p: (kind, v, "[1,2,3]"),
    # (as many items or characters as the record has fields: past the speed path's size test)
    "a list of its size": lambda kind, v, p: (kind, v, orjson.dumps(list(orjson.loads(p).values())).decode()),
    "a string of its size": lambda kind, v, p: (kind, v, orjson.dumps("x" * len(orjson.loads(p))).decode()),
    "null": lambda kind, v, p: (kind, v, "null"),
    "a key renamed": lambda kind, v, p: (kind, v, p.replace('{"', '{"zz_', 1)),
    "a key missing": lambda kind, v, p: (
        kind,
        v,
        orjson.dumps(dict(list(orjson.loads(p).items())[1:])).decode(),
    ),
    "a key added": lambda kind, v, p: (kind, v, orjson.dumps({**orjson.loads(p), "extra": 1}).decode()),
    "t in the payload": lambda kind, v, p: (kind, v, orjson.dumps({**orjson.loads(p), "t": 1}).decode()),
}
#: How a coded read gives a row's type: its code, or the text ``type@version`` (a row read row by
#: row, or a type code that is not well formed).
CODE_FORMS = st.sampled_from(["code", "code", "text", "no version", "past the codes"])


def _code(form: str, kind: str, version: int):
    if form == "code" and (kind, version) in CODES:
        return CODES.index((kind, version))
    if form == "no version":
        return kind
    if form == "past the codes":
        return len(CODES) + 3
    return f"{kind}@{version}"


def _outcome(fn, *args):
    """What ``fn(*args)`` gives: its result (with the types of its fields), or the type of its error."""
    try:
        result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - compared below
        return ("raised", type(exc))
    return (result, type(result), tuple(map(type, result)))


def _fold(fold, rows, spec):
    """Fold ``rows`` with ``fold`` into the replay's projections: the events applied, the state
    reached (the canonical bytes of engine and accounts) and the failure, if any."""
    engine, accounts, seen = MarketEngine(spec), Accounts(), []
    try:
        fold(rows, (seen.append, engine.apply, accounts.apply))
        failed = None
    except NotApplicable as exc:
        failed = (exc.seq, exc.event_type, str(exc), type(exc.__cause__))
    except IndexError as exc:  # a type code past CODES (the store never gives one) has no name
        failed = ("raised", type(exc))
    try:
        state = encode_state(engine, accounts)
    except Exception as exc:  # noqa: BLE001 - a state broken by the failing row: the same in both
        state = type(exc)
    return seen, [tuple(map(type, e)) for e in seen], state, failed


@st.composite
def stored_rows(draw):
    """The stored rows of a generated run, some of them replaced by odd rows, with the form each
    takes in a coded read (its type code; the payload parsed or as bytes)."""
    spec = draw(SPECS)
    engine, events = MarketEngine(spec), []
    for cmd in draw(streams()):
        try:
            events.extend(engine.submit(cmd))
        except (TypeError, ValueError):
            pass
    events.extend(engine.finish())
    rows: list = []
    codec.chain_rows(rows, iter(events), -1, codec.GENESIS, len(events))
    lean = [(seq, t, kind, version, payload) for seq, t, kind, version, payload, _ in rows]
    if lean:
        for _ in range(draw(st.integers(0, 2))):
            i = draw(st.integers(0, len(lean) - 1))
            seq, t, kind, version, payload, _ = rows[i]  # (a real row: odd rows are made from one)
            odd = ODD_ROWS[draw(st.sampled_from(sorted(ODD_ROWS)))]
            lean[i] = (seq, t, *odd(kind, version, payload))
    forms = [(draw(CODE_FORMS), draw(st.booleans())) for _ in lean]
    return spec, lean, forms


def _coded(lean: list, forms: list) -> CodedChunk:
    payloads = []
    for (_, _, _, _, payload), (_, parsed) in zip(lean, forms, strict=True):
        try:
            payloads.append(orjson.loads(payload) if parsed else payload.encode())
        except orjson.JSONDecodeError:  # the store reads a chunk that does not parse row by row
            payloads.append(payload.encode())
    return CodedChunk(
        [row[0] for row in lean],
        [row[1] for row in lean],
        [_code(form, kind, version) for (_, _, kind, version, _), (form, _) in zip(lean, forms, strict=True)],
        payloads,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=stored_rows())
def test_fast_decoder_and_folds_match_the_reference(case):
    spec, lean, forms = case
    chunk = _coded(lean, forms)
    # each row alone: the same record (values and field types) or the same error
    for seq, t, kind, version, payload in lean:
        stored = StoredEvent("r", seq, t, kind, version, payload, b"")
        expected = _outcome(decode.event_of, stored)
        assert _outcome(_decode_fast.event_of, stored) == expected
        assert _outcome(_decode_fast.decode_fast, kind, version, t, payload.encode()) == expected
        assert expected == _outcome(codec.decode, kind, version, t, payload)
    for t, code, payload in zip(chunk.t_ms, chunk.codes, chunk.payloads, strict=True):
        expected = _outcome(decode.decode_coded, code, t, payload)
        assert _outcome(_decode_fast.decode_coded, code, t, payload) == expected
    # the folds: the same events applied, the same state reached, the same failure (seq, type,
    # message, type of the cause)
    assert _fold(_decode_fast.fold_rows, lean, spec) == _fold(decode.fold_rows, lean, spec)
    assert _fold(_decode_fast.fold_coded, chunk, spec) == _fold(decode.fold_coded, chunk, spec)

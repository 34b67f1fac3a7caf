"""The market state (engine + accounts) as plain bytes and back, for persisted and in-memory snapshots.

A persisted snapshot is read back from the database, which a hostile writer may have edited, so
it is never a pickle (loading one runs whatever code it names). :func:`encode_state` writes the
fold's state as canonical JSON (orjson) of plain ints, strings, lists and nulls; :func:`decode_state`
parses it, checks every value's type and the state's internal consistency (each resting order in
exactly one level of its own book, side and price, every order indexed under its agent's ref
exactly once, counts and totals re-derived rather than read), and rebuilds fresh objects. Anything
else raises :class:`SnapshotInvalid`, whose message names what is wrong; the caller then folds
from an earlier point. Loading never evaluates anything from the bytes.

What is stored is exactly what a fold of the log builds (the event-sourcing promise): the
exchange's books with the FIFO queue of every level, resting orders and the incoming order while
it matches, the ref index in its order, the counters; the settlement's unsettled units, its
settled units (as ranges: they grow with history, one int per unit, and come in runs) and active
units; the accounts projection. Derived values are recomputed on load (a level's quantity and
count, the sorted price keys, the exchange's next clock time, the settlement's heap). The engine's
``now_ms`` is the time of the snapshot's event, which is what a fold sets it to. Dict orders are
kept, so a loaded state continues exactly as the fold would.

The in-memory snapshots of the as-of reads (:mod:`rexnet.replay.snapshot`, the serve book
scrubber) hold the same bytes (:func:`freeze`, :func:`thaw`): restoring one builds fresh objects
through the classes' own constructors, so no class needs a way to be copied or pickled.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from rexnet.domain.market import MarketSpec
from rexnet.exchange.book import Book, RestingOrder
from rexnet.exchange.state import seats
from rexnet.market_engine import MarketEngine
from rexnet.replay.accounts import Account, Accounts
from rexnet.settlement.settlement import _UnitState

#: format version of the bytes (a snapshot of another version is ignored, never misread)
FORMAT = 1
_SIDES = ("buy", "sell")
_TIFS = ("gtc", "ioc", "fok")
_ACCOUNT_FIELDS = (
    "trade_cash",
    "bought",
    "sold",
    "reserved",
    "realized",
    "shortfall",
    "surplus",
    "penalty",
    "surplus_credit",
    "units_settled",
)


class SnapshotInvalid(ValueError):
    """The bytes are not a state this code wrote (malformed, inconsistent, another format)."""


# == encoding =====================================================================================
def encode_state(engine: MarketEngine, accounts: Accounts) -> bytes:
    """The canonical bytes of ``engine`` and ``accounts`` (the fold's state at some seq).

    Raises:
        orjson.JSONEncodeError: a figure beyond 64 bits (the caller skips the snapshot).
    """
    ex = engine.exchange.state
    settlement = engine.settlement
    books = [_book(book) for book in ex.books.values()]
    refs = []
    for agent, mine in ex.refs.items():
        single = isinstance(mine, RestingOrder)
        firsts = [mine] if isinstance(mine, RestingOrder) else list(mine.values())
        refs.append([agent, single, [[f.ref, [o.order_id for o in seats(f)]] for f in firsts]])
    units = [
        [
            unit,
            list(map(list, s.trade_cash.items())),
            list(map(list, s.reserved.items())),
            list(map(list, s.realized.items())),
            s.traded_volume,
            s.traded_notional,
            None if s.gate is None else list(s.gate),
        ]
        for unit, s in settlement._units.items()
    ]
    state = {
        "format": FORMAT,
        "last_active_unit": engine.last_active_unit,
        "exchange": {
            "next_order_id": ex.next_order_id,
            "next_trade_id": ex.next_trade_id,
            "next_unit": ex.next_unit,
            "books": books,
            "taker": None if ex.taker is None else _order(ex.taker),
            "refs": refs,
        },
        "settlement": {
            "units": units,
            "settled": _ranges(settlement._settled),
            "active": sorted(settlement._active),
        },
        "accounts": [
            [agent, *(getattr(a, f) for f in _ACCOUNT_FIELDS), list(map(list, a.open_position.items()))]
            for agent, a in accounts.accounts.items()
        ],
    }
    return orjson.dumps(state)


def _order(o: RestingOrder) -> list[Any]:
    return [o.order_id, o.agent, o.ref, o.side, o.unit, o.price, o.remaining, o.tif, o.set_ref]


def _book(book: Book) -> list[Any]:
    return [
        book.unit,
        book.auction_due,
        book.volume,
        book.notional,
        book.last_price,
        list(map(list, book.positions.items())),
        [[level.price, [_order(o) for o in level]] for level in book.bid_levels()],
        [[level.price, [_order(o) for o in level]] for level in book.ask_levels()],
    ]


def _ranges(units: set[int]) -> list[list[int]]:
    """Sorted ``[first, last]`` runs of consecutive units."""
    out: list[list[int]] = []
    for unit in sorted(units):
        if out and out[-1][1] == unit - 1:
            out[-1][1] = unit
        else:
            out.append([unit, unit])
    return out


@dataclass(frozen=True, slots=True)
class FrozenState:
    """The market state at one point, as :func:`encode_state` bytes: an in-memory snapshot."""

    data: bytes
    now_ms: int


def freeze(engine: MarketEngine, accounts: Accounts) -> FrozenState | None:
    """The state of ``engine`` and ``accounts`` as a :class:`FrozenState`, or ``None`` when it
    cannot be encoded (a figure beyond 64 bits: the caller keeps no snapshot there)."""
    try:
        return FrozenState(encode_state(engine, accounts), engine.now_ms)
    except (orjson.JSONEncodeError, OverflowError, TypeError):
        return None


def thaw(frozen: FrozenState, spec: MarketSpec) -> tuple[MarketEngine, Accounts]:
    """A fresh engine and accounts with the state of ``frozen`` (the run's ``spec``)."""
    # (the validating decoder, though these bytes were made in this process: one decoder to keep
    # right, and its checks cost little next to the fold a read does after it; measured by
    # benchmarks/bench_snapshot.py)
    return decode_state(frozen.data, spec, now_ms=frozen.now_ms)


# == decoding =====================================================================================
def decode_state(data: bytes, spec: MarketSpec, *, now_ms: int) -> tuple[MarketEngine, Accounts]:
    """A fresh engine and accounts from :func:`encode_state` bytes, validated.

    Args:
        data: the bytes.
        spec: the run's market rules.
        now_ms: the time of the snapshot's event (the engine's clock after a fold to it).

    Raises:
        SnapshotInvalid: the bytes are malformed or inconsistent (the message says where).
    """
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise SnapshotInvalid(f"not JSON: {error}") from None
    try:
        return _decode(raw, spec, now_ms)
    except SnapshotInvalid:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise SnapshotInvalid(f"malformed state ({type(error).__name__}: {error})") from None


def _int(value: Any, what: str, *, null: bool = False) -> Any:
    if value is None and null:
        return None
    if type(value) is not int:
        raise SnapshotInvalid(f"{what}: expected an integer, found {type(value).__name__}")
    return value


def _str(value: Any, what: str, *, null: bool = False) -> Any:
    if value is None and null:
        return None
    if type(value) is not str:
        raise SnapshotInvalid(f"{what}: expected a string, found {type(value).__name__}")
    return value


def _list(value: Any, what: str, size: int | None = None) -> list[Any]:
    if type(value) is not list or (size is not None and len(value) != size):
        raise SnapshotInvalid(f"{what}: expected a list{'' if size is None else f' of {size}'}")
    return value


def _pairs(value: Any, what: str) -> dict[Any, int]:
    """A list of ``[str, int]`` pairs as a dict (insertion order kept; no key twice)."""
    out: dict[Any, int] = {}
    for item in _list(value, what):
        key, number = _list(item, what, 2)
        _str(key, what)
        if key in out:
            raise SnapshotInvalid(f"{what}: {key!r} twice")
        out[key] = _int(number, what)
    return out


def _decode(raw: Any, spec: MarketSpec, now_ms: int) -> tuple[MarketEngine, Accounts]:
    if type(raw) is not dict or set(raw) != {
        "format",
        "last_active_unit",
        "exchange",
        "settlement",
        "accounts",
    }:
        raise SnapshotInvalid("not a snapshot of the market state")
    if raw["format"] != FORMAT:
        raise SnapshotInvalid(f"format {raw['format']!r}, this RexNet reads {FORMAT}")
    engine = MarketEngine(spec)
    engine.now_ms = _int(now_ms, "now_ms")
    engine.last_active_unit = _int(raw["last_active_unit"], "last_active_unit", null=True)
    _decode_exchange(engine, raw["exchange"])
    _decode_settlement(engine, raw["settlement"])
    return engine, _decode_accounts(raw["accounts"])


def _new_order(item: Any, what: str) -> RestingOrder:
    oid, agent, ref, side, unit, price, remaining, tif, set_ref = _list(item, what, 9)
    if side not in _SIDES or tif not in _TIFS:
        raise SnapshotInvalid(f"{what}: bad side or time in force")
    return RestingOrder(
        _int(oid, what),
        _str(agent, what),
        _str(ref, what),
        side,
        _int(unit, what),
        _int(price, what, null=True),
        _int(remaining, what),
        tif,
        _str(set_ref, what, null=True),
    )


def _decode_exchange(engine: MarketEngine, raw: Any) -> None:
    if type(raw) is not dict or set(raw) != {
        "next_order_id",
        "next_trade_id",
        "next_unit",
        "books",
        "taker",
        "refs",
    }:
        raise SnapshotInvalid("exchange: unexpected keys")
    s = engine.exchange.state
    s.next_order_id = _int(raw["next_order_id"], "next_order_id")
    s.next_trade_id = _int(raw["next_trade_id"], "next_trade_id")
    s.next_unit = _int(raw["next_unit"], "next_unit")
    previous = None
    for item in _list(raw["books"], "books"):
        book = _decode_book(item, s.orders)
        if previous is not None and book.unit <= previous:
            raise SnapshotInvalid(f"books: unit {book.unit} out of order")
        previous = book.unit
        s.books[book.unit] = book
    if raw["taker"] is not None:
        taker = _new_order(raw["taker"], "taker")
        if taker.order_id in s.orders:
            raise SnapshotInvalid(f"taker: order {taker.order_id} also rests")
        s.taker = taker
    indexed: set[Any] = set()
    for entry in _list(raw["refs"], "refs"):
        agent, single, firsts = _list(entry, "refs", 3)
        _str(agent, "refs")
        firsts = _list(firsts, "refs")
        if type(single) is not bool or (single and len(firsts) != 1) or agent in s.refs or not firsts:
            raise SnapshotInvalid(f"refs of {agent!r}: malformed")
        by_ref: dict[str, RestingOrder] = {}
        for ref_item in firsts:
            ref, ids = _list(ref_item, "refs", 2)
            chain: list[RestingOrder] = []
            for oid in _list(ids, "refs"):
                o = s.orders.get(_int(oid, "refs"))
                if o is None or o.agent != agent or o.ref != ref or o.order_id in indexed:
                    raise SnapshotInvalid(f"refs of {agent!r}: an order not resting under {ref!r}")
                indexed.add(o.order_id)
                chain.append(o)
            if not chain or ref in by_ref:
                raise SnapshotInvalid(f"refs of {agent!r}: malformed")
            for a, b in zip(chain, chain[1:], strict=False):
                a.seat = b
            by_ref[ref] = chain[0]
        s.refs[agent] = next(iter(by_ref.values())) if single else by_ref
    if len(indexed) != len(s.orders):
        raise SnapshotInvalid("refs: a resting order is not indexed")
    engine.exchange._refresh_due()


def _decode_book(item: Any, orders: dict[Any, RestingOrder]) -> Book:
    unit, auction_due, volume, notional, last_price, positions, bids, asks = _list(item, "book", 8)
    book = Book(_int(unit, "book"))
    book.auction_due = _int(auction_due, "auction_due", null=True)
    book.volume = _int(volume, "volume")
    book.notional = _int(notional, "notional")
    book.last_price = _int(last_price, "last_price", null=True)
    book.positions = _pairs(positions, f"positions of unit {book.unit}")
    for side, levels in (("buy", bids), ("sell", asks)):
        last_price_seen = None
        for level_item in _list(levels, "levels"):
            price, queue = _list(level_item, "level", 2)
            _int(price, "level")
            # best first: bids descending, asks ascending
            if last_price_seen is not None and (
                price >= last_price_seen if side == "buy" else price <= last_price_seen
            ):
                raise SnapshotInvalid(f"unit {book.unit}: levels out of order")
            last_price_seen = price
            queue = _list(queue, "level")
            if not queue:
                raise SnapshotInvalid(f"unit {book.unit}: an empty level")
            for order_item in queue:
                o = _new_order(order_item, "order")
                if o.unit != book.unit or o.side != side or o.price != price or o.tif != "gtc":
                    raise SnapshotInvalid(f"order {o.order_id}: not of its level")
                if o.remaining <= 0 or o.order_id in orders:
                    raise SnapshotInvalid(f"order {o.order_id}: empty or resting twice")
                book.add(o)
                orders[o.order_id] = o
    return book


def _decode_settlement(engine: MarketEngine, raw: Any) -> None:
    if type(raw) is not dict or set(raw) != {"units", "settled", "active"}:
        raise SnapshotInvalid("settlement: unexpected keys")
    settlement = engine.settlement
    for item in _list(raw["units"], "units"):
        unit, cash, reserved, realized, volume, notional, gate = _list(item, "unit", 7)
        _int(unit, "unit")
        if unit in settlement._units:
            raise SnapshotInvalid(f"settlement: unit {unit} twice")
        state = _UnitState()
        state.trade_cash = _pairs(cash, f"trade cash of unit {unit}")
        state.reserved = _pairs(reserved, f"reservations of unit {unit}")
        state.realized = _pairs(realized, f"realizations of unit {unit}")
        state.traded_volume = _int(volume, "traded_volume")
        state.traded_notional = _int(notional, "traded_notional")
        if gate is not None:
            g_volume, g_notional = _list(gate, "gate", 2)
            state.gate = (_int(g_volume, "gate"), _int(g_notional, "gate"))
        settlement._units[unit] = state
    for pair in _list(raw["settled"], "settled"):
        lo, hi = _list(pair, "settled", 2)
        if _int(hi, "settled") < _int(lo, "settled") or hi - lo > 10_000_000:
            raise SnapshotInvalid("settled: bad range")
        settlement._settled.update(range(lo, hi + 1))
    for unit in _list(raw["active"], "active"):
        settlement._active.add(_int(unit, "active"))
    if settlement._active & settlement._settled or set(settlement._units) & settlement._settled:
        raise SnapshotInvalid("settlement: a settled unit still has state")
    settlement._active_heap = sorted(settlement._active)
    heapq.heapify(settlement._active_heap)


def _decode_accounts(raw: Any) -> Accounts:
    accounts = Accounts()
    table: defaultdict[str, Account] = accounts.accounts  # type: ignore[assignment]
    for item in _list(raw, "accounts"):
        row = _list(item, "account", len(_ACCOUNT_FIELDS) + 2)
        agent = _str(row[0], "account")
        if agent in table:
            raise SnapshotInvalid(f"account {agent!r} twice")
        account = Account(*(_int(v, f"account {agent!r}") for v in row[1:-1]))
        account.open_position = {
            _int(unit, "open_position"): _int(qty, "open_position") for unit, qty in _pairs_int(row[-1])
        }
        table[agent] = account
    return accounts


def _pairs_int(value: Any) -> list[tuple[Any, Any]]:
    return [tuple(_list(item, "open_position", 2)) for item in _list(value, "open_position")]  # type: ignore[misc]

"""Canonical bytes of events and the hash chain that makes a run's history tamper-evident.

An event is stored as its *payload*: the JSON object of its fields except ``t`` (keys sorted, no
whitespace, integers and strings only, UTF-8), next to ``seq``, ``t``, ``type`` and ``version``
columns. The bytes that are hashed are::

    canonical = b"%d|%d|%s|%d|" % (seq, t, type, version) + payload
    hash[seq] = sha256(hash[seq - 1] + canonical)        # hash[-1] = GENESIS

The run id is deliberately not hashed: one scenario + one seed must give the same head hash in
any database. Payloads are produced by orjson (sorted keys), whose output for ints, strings,
None, lists and dicts is fixed, so the bytes are identical across processes, machines and
backends; they are stored as text and re-hashed from exactly that text by the audit.

Decoding goes through the upcasters: a stored ``(type, version)`` older than the record class's
``VERSION`` is upgraded step by step before the record is built.

:func:`chain_rows` is the append path's hot loop (the store's ``RunWriter`` calls it): the same
bytes as :func:`encode_payload` and :func:`chain_hash`, with the per-class work done once. This
module is compiled by mypyc when the package is built with it (see ``setup.py``).
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

import orjson

from rexnet.domain.events import EVENT_TYPES

GENESIS = bytes(32)

_OPT: Final[int] = orjson.OPT_SORT_KEYS
_dumps: Final[Any] = orjson.dumps
_sha256: Final[Any] = hashlib.sha256
_bytearray: Final[Any] = bytearray

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
#: (type, from_version) -> function turning a payload of that version into one of version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that upgrades ``event_type`` payloads from ``from_version`` to the next."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def payload_of(event: Any) -> dict[str, Any]:
    """The event's fields except ``t``, as a dict."""
    return dict(zip(event._fields[1:], event[1:]))  # noqa: B905 - same record, same length


def encode_payload(event: Any) -> bytes:
    """Canonical JSON bytes of an event's payload."""
    return _dumps(dict(zip(event._fields[1:], event[1:])), option=_OPT)  # noqa: B905


def canonical_bytes(seq: int, t: int, event_type: str, version: int, payload: bytes) -> bytes:
    return b"%d|%d|%s|%d|" % (seq, t, event_type.encode(), version) + payload


def chain_hash(prev: bytes, seq: int, t: int, event_type: str, version: int, payload: bytes) -> bytes:
    """``sha256(prev + canonical_bytes(...))``."""
    return _sha256(prev + b"%d|%d|%s|%d|" % (seq, t, event_type.encode(), version) + payload).digest()


def decode(event_type: str, version: int, t: int, payload: bytes | str | dict[str, Any]) -> Any:
    """Rebuild the event record from a stored row, upcasting old versions.

    Raises:
        KeyError: unknown event type or missing upcaster.
    """
    cls = EVENT_TYPES[event_type]
    data = orjson.loads(payload) if not isinstance(payload, dict) else dict(payload)
    while version < cls.VERSION:  # type: ignore[attr-defined]
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return cls(t, **data)


#: record class -> (builder of its payload dict, canonical-bytes piece ``b"|type|version|"``, type,
#: version, orjson option)
_APPEND_INFO: dict[type, tuple[Callable[[Any], dict[str, Any]], bytes, str, int, int]] = {}
_SCALARS: Final = {int, str, bool, type(None)}


def _append_info(cls: type) -> tuple[Callable[[Any], dict[str, Any]], bytes, str, int, int]:
    """Per-class constants of :func:`chain_rows`, computed once per event class."""
    info = _APPEND_INFO.get(cls)
    if info is None:
        event_type: str = cls.TYPE  # type: ignore[attr-defined]
        version: int = cls.VERSION  # type: ignore[attr-defined]
        # Building the dict in sorted key order gives orjson's sorted output without asking it to
        # sort; fields that may hold containers keep OPT_SORT_KEYS for their nested keys.
        hints = typing.get_type_hints(cls).values()
        flat = all(set(typing.get_args(h) or (h,)) <= _SCALARS for h in hints)
        info = (
            _payload_builder(cls._fields),  # type: ignore[attr-defined]
            b"|%s|%d|" % (event_type.encode(), version),
            event_type,
            version,
            0 if flat else _OPT,
        )
        _APPEND_INFO[cls] = info
    return info


def _payload_builder(names: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    """``event -> {field: value}`` for every field but ``t``, keys in sorted order.

    Generated once per class as a dict display with constant keys (as ``collections.namedtuple``
    generates its ``__new__``): one bytecode builds the dict, about twice as fast as
    ``dict(zip(names, itemgetter(event)))``. The names are the record's field names, which
    ``NamedTuple`` has already checked to be identifiers.
    """
    order = sorted(range(1, len(names)), key=names.__getitem__)
    if not all(names[i].isidentifier() for i in order):
        raise ValueError(f"not field names: {names!r}")
    body = ", ".join(f"{names[i]!r}: e[{i}]" for i in order)
    build: Callable[[Any], dict[str, Any]] = eval(f"lambda e: {{{body}}}", {})  # noqa: S307
    return build


def chain_rows(rows: list[tuple[Any, ...]], events: Iterator[Any], seq: int, prev: bytes, stop: int) -> None:
    """Encode and chain events after ``(seq, prev)``, appending ``(seq, t, type, version, payload,
    hash)`` rows to ``rows``, until the row of seq ``stop`` is appended or ``events`` is exhausted.

    The caller reads the new head from ``rows[-1]`` (also when an event fails part-way: every row
    appended before it is correctly chained). Bytes are exactly those of :func:`encode_payload`
    and :func:`chain_hash`; the payload is a str (the column is text) and the hash a
    ``bytearray``: Python's ``sqlite3`` binds int, float, str and bytearray parameters as they
    are, but looks every ``bytes`` parameter up in its adapter registry (two failed attribute
    lookups), which cost more than encoding the payload. Drivers store both the same way.
    """
    infos = _APPEND_INFO
    add = rows.append
    for event in events:
        cls = type(event)
        info = infos.get(cls)
        if info is None:
            info = _append_info(cls)
        build, tail, event_type, version, opt = info
        t = event[0]
        fields = build(event)
        # (a keyword argument costs measurably in this loop: pass it only when needed)
        payload: bytes = _dumps(fields, option=opt) if opt else _dumps(fields)
        seq += 1
        n: Any = seq  # (boxed once for both uses when compiled)
        # == chain_hash(prev, seq, t, event_type, version, payload), in one step
        prev = _sha256(b"%s%d|%d%s%s" % (prev, n, t, tail, payload)).digest()
        add((n, t, event_type, version, payload.decode(), _bytearray(prev)))
        if seq >= stop:
            return


def check_rows(rows: Iterable[tuple[Any, ...]], prev: bytes, expected: int) -> tuple[bytes, int, int]:
    """Recompute the chain over stored ``(seq, t_ms, type, version, payload, hash)`` rows (payload
    as bytes) that continue a chain at ``(prev, expected)``.

    Returns ``(prev, expected, bad)``: the chain after the rows and ``bad = -1`` when every row
    holds; otherwise ``bad`` is the first seq that is missing, out of place or whose stored hash
    is not :func:`chain_hash` over the previous hash and its own bytes.
    """
    for seq, t_ms, event_type, version, payload, stored in rows:
        if seq != expected:
            return prev, expected, min(seq, expected)
        prev = _sha256(
            b"%s%d|%d|%s|%d|%s" % (prev, seq, t_ms, event_type.encode(), version, payload)
        ).digest()
        if prev != stored:
            return prev, expected, seq
        expected += 1
    return prev, expected, -1


@upcaster("gate_closed", 1)
def _gate_closed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 (DESIGN.md's first catalogue) had only ``volume`` and ``vwap``.

    The exact notional was not kept, so the best recoverable value is ``vwap * volume``
    (exact whenever the unit traded at one price, off by less than half a tick per lot otherwise).
    """
    vwap = data.get("vwap")
    return {**data, "notional": (vwap or 0) * data["volume"]}

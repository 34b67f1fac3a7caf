"""Canonical bytes of events and the hash chain that makes a run's history tamper-evident.

An event is stored as its *payload*: the JSON object of its fields except ``t`` (keys sorted, no
whitespace, integers and strings only, UTF-8), next to ``seq``, ``t``, ``type`` and ``version``
columns. The bytes that are hashed are::

    hash[seq] = sha256(hash[seq - 1] + b"%d|%d|%s|%d|" % (seq, t, type, version) + payload)
    hash[-1] = GENESIS

The run id is deliberately not hashed: one scenario + one seed must give the same head hash in
any database. Payloads are produced by orjson (sorted keys), whose output for ints, strings,
None, lists and dicts is fixed, so the bytes are identical across processes, machines and
backends; they are stored as text and re-hashed from exactly that text by the audit.

Decoding goes through the upcasters: a stored ``(type, version)`` older than the record class's
``VERSION`` is upgraded step by step before the record is built.

:func:`chain_hash` is the one chain formula and :func:`check_rows` the one chain walker (every
verifier goes through it). :func:`chain_rows` is the plain reference of the append loop; its
speed path lives in :mod:`rexnet.domain._codec_fast`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

import orjson

from rexnet._compiled import is_compiled
from rexnet.domain import _codec_fast
from rexnet.domain.events import EVENT_TYPES

GENESIS = bytes(32)

_OPT: Final[int] = orjson.OPT_SORT_KEYS
_dumps: Final[Any] = orjson.dumps
_sha256: Final[Any] = hashlib.sha256

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
#: (type, from_version) -> function turning a payload of that version into one of version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that upgrades ``event_type`` payloads from ``from_version`` to the next."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def encode_payload(event: Any) -> bytes:
    """Canonical JSON bytes of an event's payload."""
    return _dumps(dict(zip(event._fields[1:], event[1:])), option=_OPT)  # noqa: B905


def chain_hash(prev: bytes, seq: int, t: int, event_type: str, version: int, payload: bytes) -> bytes:
    """The one chain formula: ``sha256(prev + b"seq|t|type|version|" + payload)``."""
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


def chain_rows(rows: list[tuple[Any, ...]], events: Iterator[Any], seq: int, prev: bytes, stop: int) -> None:
    """Encode and chain events after ``(seq, prev)``, appending ``(seq, t, type, version, payload,
    hash)`` rows to ``rows``, until the row of seq ``stop`` is appended or ``events`` is exhausted.

    The reference of the append path's loop (:func:`rexnet.domain._codec_fast.chain_rows` is the
    same, shaped for speed; :data:`CHAIN_ROWS` is the one the build uses). The caller reads the
    new head from ``rows[-1]`` (also when an event fails part-way: every row appended before it
    is correctly chained). The payload is a str (the column is text) and the hash a
    ``bytearray`` (drivers bind it as it is, without an adapter lookup).
    """
    for event in events:
        seq += 1
        payload = encode_payload(event)
        prev = chain_hash(prev, seq, event.t, event.TYPE, event.VERSION, payload)
        rows.append((seq, event.t, event.TYPE, event.VERSION, payload.decode(), bytearray(prev)))
        if seq >= stop:
            return


#: The append loop the build uses: the speed path when it is compiled, else the reference.
CHAIN_ROWS: Callable[[list[tuple[Any, ...]], Iterator[Any], int, bytes, int], None] = (
    _codec_fast.chain_rows if is_compiled(_codec_fast) else chain_rows
)


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
        prev = chain_hash(prev, seq, t_ms, event_type, version, payload)
        if prev != stored:
            return prev, expected, seq
        expected += 1
    return prev, expected, -1


def first_bad_seq(
    chunks: Iterable[Iterable[tuple[Any, ...]]],
    head_seq: int,
    head_hash: bytes,
    *,
    prev: bytes = GENESIS,
    expected: int = 0,
) -> int | None:
    """Walk a run's stored rows (chunks of :func:`check_rows` rows) against its recorded head.

    Returns the first bad seq, or ``None`` when intact. A seq is bad when it is missing or out of
    place, when its stored hash does not match the hash over the previous one and its stored
    bytes, when it lies past the recorded head (the first such seq), or (at the head) when the
    recorded head hash disagrees with the last event.
    """
    for rows in chunks:
        prev, expected, bad = check_rows(rows, prev, expected)
        if bad >= 0:
            return bad
    if expected <= head_seq:
        return expected
    if expected - 1 > head_seq:  # events stored past the recorded head: the first of them
        return head_seq + 1
    if prev != head_hash:
        return max(head_seq, 0)
    return None


@upcaster("gate_closed", 1)
def _gate_closed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 (DESIGN.md's first catalogue) had only ``volume`` and ``vwap``.

    The exact notional was not kept, so the best recoverable value is ``vwap * volume``
    (exact whenever the unit traded at one price, off by less than half a tick per lot otherwise).
    """
    vwap = data.get("vwap")
    return {**data, "notional": (vwap or 0) * data["volume"]}

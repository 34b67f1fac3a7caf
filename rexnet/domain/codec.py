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
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from rexnet.domain.events import EVENT_TYPES

GENESIS = bytes(32)

_OPT = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps
_sha256 = hashlib.sha256

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
    return dict(zip(event._fields[1:], event[1:]))


def encode_payload(event: Any) -> bytes:
    """Canonical JSON bytes of an event's payload."""
    return _dumps(dict(zip(event._fields[1:], event[1:])), option=_OPT)


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


@upcaster("gate_closed", 1)
def _gate_closed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 (DESIGN.md's first catalogue) had only ``volume`` and ``vwap``.

    The exact notional was not kept, so the best recoverable value is ``vwap * volume``
    (exact whenever the unit traded at one price, off by less than half a tick per lot otherwise).
    """
    vwap = data.get("vwap")
    return {**data, "notional": (vwap or 0) * data["volume"]}

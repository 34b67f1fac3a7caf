"""A faster decoder of stored rows for the replay hot loop (same result as ``StoredEvent.event``).

:func:`rexnet.domain.codec.decode` is general (upcasting, keyword construction). Replay decodes
hundreds of thousands of rows of current-version events, so per ``(type, version)`` this module
builds the record straight from the payload's values in field order (``tuple.__new__`` on the
record class, no keyword matching), and falls back to the codec for old versions or a payload
whose keys do not match the record exactly (so a malformed row fails the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson

from rexnet.domain.codec import decode as codec_decode
from rexnet.domain.events import EVENT_TYPES

_loads = orjson.loads
_new = tuple.__new__
_DECODERS: dict[tuple[str, int], Callable[[int, Any], Any]] = {}


def _decoder(event_type: str, version: int) -> Callable[[int, Any], Any]:
    cls = EVENT_TYPES[event_type]
    fields = cls._fields[1:]  # type: ignore[attr-defined]
    if version != cls.VERSION or not fields:  # type: ignore[attr-defined]
        return lambda t, payload: codec_decode(event_type, version, t, payload)
    n = len(fields)
    get = itemgetter(*fields)

    def many(t: int, payload: Any) -> Any:
        data = _loads(payload)
        if len(data) != n:
            return codec_decode(event_type, version, t, payload)
        return _new(cls, (t, *get(data)))

    def one(t: int, payload: Any) -> Any:
        data = _loads(payload)
        if len(data) != 1:
            return codec_decode(event_type, version, t, payload)
        return _new(cls, (t, get(data)))

    return many if n > 1 else one


def event_of(row: Any) -> Any:
    """The domain event of a stored row (a ``StoredEvent``)."""
    return decode_fast(row.type, row.version, row.t_ms, row.payload)


def decode_fast(event_type: str, version: int, t_ms: int, payload: Any) -> Any:
    """:func:`rexnet.domain.codec.decode`, faster for current-version events."""
    key = (event_type, version)
    try:
        fn = _DECODERS[key]
    except KeyError:
        fn = _DECODERS[key] = _decoder(*key)
    return fn(t_ms, payload)

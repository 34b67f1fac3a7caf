"""A faster decoder of stored rows for the replay hot loop (same result as ``StoredEvent.event``).

:func:`rexnet.domain.codec.decode` is general (upcasting, keyword construction). Replay decodes
hundreds of thousands of rows of current-version events, so per type code (:data:`CODES`) this
module keeps the record class, its field count and a getter of the payload's values in field
order, and builds the record with ``tuple.__new__`` (no keyword matching). Old versions, unknown
types and payloads whose keys do not match the record exactly go through the codec, so a
malformed row fails the same way as anywhere else.

:func:`fold_coded` is the replay's inner loop over a column chunk of
:meth:`rexnet.store.EventStore.read_coded` (payloads already parsed, types as the codes of
:data:`CODES`); :func:`fold_rows` the same over a list of lean rows
(:meth:`rexnet.store.EventStore.read_chunks`), for reads bounded by time. The module is compiled
by mypyc, so its calls of :func:`decode_coded` and :func:`decode_fast` per event are native
calls, not Python ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, Final

import orjson

from rexnet.domain.codec import decode as codec_decode
from rexnet.domain.events import EVENT_TYPES

# (Final: compiled, module constants are C statics rather than lookups in the module's dict)
_loads: Final = orjson.loads
_new: Final = tuple.__new__


def _values_getter(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    # The getter looks the fields up by the very key objects orjson puts in the dicts it builds
    # (it keeps one str object per key in a cache), so a lookup matches by identity instead of
    # comparing the text, which saves work on every event. Should orjson hand out other
    # objects some day, the lookups compare the text and the result is the same.
    keys = tuple(_loads(orjson.dumps(dict.fromkeys(fields, 0))))
    if keys == fields:
        fields = keys
    if len(fields) > 1:
        return itemgetter(*fields)
    if len(fields) == 1:
        name = fields[0]
        return lambda data: (data[name],)
    return lambda data: ()


#: The types most runs are made of, commonest first (the store tests the codes in order).
_COMMON: Final = (
    "order_accepted",
    "trade",
    "order_cancelled",
    "order_shrunk",
    "order_expired",
    "order_rejected",
)
#: (type, current version) by type code: the codes of :meth:`rexnet.store.EventStore.read_coded`
CODES: Final[tuple[tuple[str, int], ...]] = tuple(
    (t, EVENT_TYPES[t].VERSION)  # type: ignore[attr-defined]
    for t in sorted(EVENT_TYPES, key=lambda t: (_COMMON.index(t) if t in _COMMON else len(_COMMON), t))
)
#: type -> its code
_CODE_OF: Final[dict[str, int]] = {t: code for code, (t, _) in enumerate(CODES)}
#: (record class, number of payload fields, payload -> values in field order) by type code
_BY_CODE: Final[list[tuple[type, int, Callable[[dict[str, Any]], tuple[Any, ...]]]]] = [
    (cls, len(cls._fields) - 1, _values_getter(cls._fields[1:]))  # type: ignore[attr-defined]
    for cls in (EVENT_TYPES[t] for t, _ in CODES)
]


def decode_fast(event_type: str, version: int, t_ms: Any, payload: Any) -> Any:
    """:func:`rexnet.domain.codec.decode`, faster for current-version events."""
    code = _CODE_OF.get(event_type)
    if code is not None and CODES[code][1] == version:
        return decode_coded(code, t_ms, payload)
    return codec_decode(event_type, version, t_ms, payload)


def decode_coded(code: Any, t_ms: Any, payload: Any) -> Any:
    """The event of one entry of a :class:`~rexnet.store.records.CodedChunk` (payload parsed or bytes).

    (``t_ms`` is typed ``Any`` so that the compiled code passes the parsed int object on instead
    of unboxing it and boxing a new one.)
    """
    if isinstance(code, int):
        cls, size, values_of = _BY_CODE[code]
        data = payload if isinstance(payload, dict) else _loads(payload)
        if len(data) == size:
            try:
                values: tuple[Any, ...] = values_of(data)
            except KeyError:
                pass
            else:
                return _new(cls, (t_ms,) + values)
        event_type, version = CODES[code]
        return codec_decode(event_type, version, t_ms, payload)
    event_type, _, version_text = str(code).rpartition("@")
    return codec_decode(event_type, int(version_text), t_ms, payload)


def type_of(code: Any) -> str:
    """The event type name of a type code of :meth:`~rexnet.store.EventStore.read_coded`."""
    return CODES[code][0] if isinstance(code, int) else str(code).rpartition("@")[0]


def fold_coded(chunk: Any, applies: Sequence[Callable[[Any], Any]]) -> None:
    """:func:`fold_rows` over a :class:`~rexnet.store.records.CodedChunk`.

    Raises:
        NotApplicable: an entry could not be decoded or ``apply`` raised (chained as ``__cause__``).
    """
    times: list[Any] = chunk.t_ms
    codes: list[Any] = chunk.codes
    payloads: list[Any] = chunk.payloads
    for i in range(len(payloads)):
        code = codes[i]
        try:
            event = decode_coded(code, times[i], payloads[i])
            for apply in applies:
                apply(event)
        except Exception as exc:  # noqa: BLE001 - a log the engine never wrote (forged or from a bug)
            raise NotApplicable(chunk.seqs[i], type_of(code)) from exc


def event_of(row: Any) -> Any:
    """The domain event of a stored row (a ``StoredEvent``)."""
    return decode_fast(row.type, row.version, row.t_ms, row.payload)


def fold_rows(rows: Iterable[tuple[Any, ...]], applies: Sequence[Callable[[Any], Any]]) -> None:
    """Give the event of every lean ``(seq, t_ms, type, version, payload)`` row, in order, to each
    function of ``applies`` in turn (the projections being rebuilt).

    Raises:
        NotApplicable: a row could not be decoded or ``apply`` raised (chained as ``__cause__``).
    """
    for seq, t_ms, kind, version, payload in rows:
        try:
            event = decode_fast(kind, version, t_ms, payload)
            for apply in applies:
                apply(event)
        except Exception as exc:  # noqa: BLE001 - a log the engine never wrote (forged or from a bug)
            raise NotApplicable(seq, kind) from exc


class NotApplicable(Exception):
    """The row at ``seq`` could not be decoded or applied to the state before it (see ``__cause__``)."""

    def __init__(self, seq: int, event_type: str) -> None:
        super().__init__(f"seq {seq} ({event_type}) cannot be applied to the state before it")
        self.seq = seq
        self.event_type = event_type

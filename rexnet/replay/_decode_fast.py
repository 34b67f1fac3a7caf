"""The replay decoder's speed path: the events and failures of :mod:`rexnet.replay.decode`,
shaped for mypyc.

Exists only for speed; ``tests/unit/exchange/test_fast_path.py`` holds it equal to the reference
on the same rows (current, older, unknown and malformed), and :mod:`rexnet.replay.decode` chooses
it at import when it is compiled. Replay decodes hundreds of thousands of rows of current-version
events, and :func:`rexnet.domain.codec.decode` is general (upcasting, keyword construction). The
tricks: per type code this module keeps the record class, its field count and a getter of the
payload's values in field order (:func:`_values_getter`, which looks fields up by orjson's own key
objects), and builds the record with ``tuple.__new__`` (no keyword matching); module constants
are ``Final`` (compiled, they are C statics rather than lookups in the module's dict), and the
folds' calls of :func:`decode_coded` are native calls. Old versions, unknown types and payloads
whose keys do not match the record exactly go through the codec, so a malformed row fails the
same way as in the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, Final

import orjson

from rexnet.domain.codec import decode as codec_decode
from rexnet.domain.events import EVENT_TYPES
from rexnet.replay.codes import CODES, NotApplicable, type_of

_loads: Final = orjson.loads
_new: Final = tuple.__new__
_CODES: Final[tuple[tuple[str, int], ...]] = CODES


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


#: type -> its code
_CODE_OF: Final[dict[str, int]] = {t: code for code, (t, _) in enumerate(_CODES)}
#: (record class, number of payload fields, payload -> values in field order) by type code
_BY_CODE: Final[list[tuple[type, int, Callable[[dict[str, Any]], tuple[Any, ...]]]]] = [
    (cls, len(cls._fields) - 1, _values_getter(cls._fields[1:]))  # type: ignore[attr-defined]
    for cls in (EVENT_TYPES[t] for t, _ in _CODES)
]


def decode_fast(event_type: str, version: int, t_ms: Any, payload: Any) -> Any:
    """:func:`rexnet.domain.codec.decode`, faster for current-version events."""
    code = _CODE_OF.get(event_type)
    if code is not None and _CODES[code][1] == version:
        return decode_coded(code, t_ms, payload)
    return codec_decode(event_type, version, t_ms, payload)


def decode_coded(code: Any, t_ms: Any, payload: Any) -> Any:
    """See :func:`rexnet.replay.decode.decode_coded` (the same event).

    (``t_ms`` is typed ``Any`` so that the compiled code passes the parsed int object on instead
    of unboxing it and boxing a new one.)
    """
    if isinstance(code, int):
        cls, size, values_of = _BY_CODE[code]
        if isinstance(payload, dict):
            data = payload
        elif isinstance(payload, (bytes, str)):
            data = _loads(payload)
        else:  # (a parsed chunk of a forged log can hold a list: the codec refuses it its own way)
            event_type, version = _CODES[code]
            return codec_decode(event_type, version, t_ms, payload)
        if len(data) == size:
            try:
                values: tuple[Any, ...] = values_of(data)
            except KeyError:
                pass
            else:
                return _new(cls, (t_ms,) + values)
        event_type, version = _CODES[code]
        return codec_decode(event_type, version, t_ms, payload)
    event_type, _, version_text = str(code).rpartition("@")
    return codec_decode(event_type, int(version_text), t_ms, payload)


def event_of(row: Any) -> Any:
    """See :func:`rexnet.replay.decode.event_of` (the same event)."""
    return decode_fast(row.type, row.version, row.t_ms, row.payload)


def fold_coded(chunk: Any, applies: Sequence[Callable[[Any], Any]]) -> None:
    """See :func:`rexnet.replay.decode.fold_coded` (the same events, the same failure)."""
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


def fold_rows(rows: Iterable[tuple[Any, ...]], applies: Sequence[Callable[[Any], Any]]) -> None:
    """See :func:`rexnet.replay.decode.fold_rows` (the same events, the same failure)."""
    for seq, t_ms, kind, version, payload in rows:
        try:
            event = decode_fast(kind, version, t_ms, payload)
            for apply in applies:
                apply(event)
        except Exception as exc:  # noqa: BLE001 - a log the engine never wrote (forged or from a bug)
            raise NotApplicable(seq, kind) from exc

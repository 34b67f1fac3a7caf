"""The append loop's speed path: :func:`chain_rows`, the same rows as the reference
:func:`rexnet.domain.codec.chain_rows`, shaped for mypyc.

Exists only for speed; ``tests/unit/exchange/test_fast_path.py`` holds it equal to the reference
on generated event streams, and :data:`rexnet.domain.codec.chain_rows` or this one is chosen at import
(this one when compiled). The tricks: per event class, the payload dict is built by a lambda
generated once with constant keys in sorted order (so orjson needs no key sorting), the
canonical-bytes piece ``b"|type|version|"`` is precomputed, and the hash is bound as a
``bytearray`` (Python's ``sqlite3`` looks every ``bytes`` parameter up in its adapter registry).
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Callable, Iterator
from typing import Any, Final

import orjson

_OPT: Final[int] = orjson.OPT_SORT_KEYS
_dumps: Final[Any] = orjson.dumps
_sha256: Final[Any] = hashlib.sha256
_bytearray: Final[Any] = bytearray


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
    generates its ``__new__``): one bytecode builds the dict, much faster than
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

    See :func:`rexnet.domain.codec.chain_rows` (the same rows).
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
        # == codec.chain_hash(prev, seq, t, event_type, version, payload), in one step
        prev = _sha256(b"%s%d|%d%s%s" % (prev, n, t, tail, payload)).digest()
        add((n, t, event_type, version, payload.decode(), _bytearray(prev)))
        if seq >= stop:
            return

"""The replay's decoder and folds: stored rows back into events, given in order to projections.

Every row is decoded by :func:`rexnet.domain.codec.decode` (upcasting, keyword construction) and
the event is handed to each ``apply`` function in turn. Two kinds of input:

* :func:`fold_coded`: a column chunk of :meth:`rexnet.store.EventStore.read_coded` (payloads
  parsed or bytes, types as the codes of :data:`~rexnet.replay.codes.CODES`), the replay's
  usual read;
* :func:`fold_rows`: lean ``(seq, t_ms, type, version, payload)`` rows of
  :meth:`rexnet.store.EventStore.read_chunks`, for reads bounded by time.

A row that cannot be decoded or applied stops the fold with
:class:`~rexnet.replay.codes.NotApplicable` naming its seq and type.

These are the plain reference. :mod:`rexnet.replay._decode_fast` gives the same events and the
same failures faster (for speed only; ``tests/unit/exchange/test_fast_path.py`` holds it to this
module), and :data:`FOLD_CODED`, :data:`FOLD_ROWS` and :data:`EVENT_OF` are the ones the build
uses: the speed path when it is compiled, else these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rexnet._compiled import is_compiled
from rexnet.domain.codec import decode
from rexnet.replay import _decode_fast
from rexnet.replay.codes import CODES, NotApplicable, type_and_version, type_of

Applies = Sequence[Callable[[Any], Any]]


def decode_coded(code: Any, t_ms: Any, payload: Any) -> Any:
    """The event of one entry of a :class:`~rexnet.store.records.CodedChunk`."""
    event_type, version = type_and_version(code)
    return decode(event_type, version, t_ms, payload)


def event_of(row: Any) -> Any:
    """The domain event of a stored row (a ``StoredEvent``)."""
    return decode(row.type, row.version, row.t_ms, row.payload)


def fold_coded(chunk: Any, applies: Applies) -> None:
    """Give the event of every entry of a :class:`~rexnet.store.records.CodedChunk`, in order, to
    each function of ``applies`` in turn (the projections being rebuilt).

    Raises:
        NotApplicable: an entry could not be decoded or ``apply`` raised (chained as ``__cause__``).
    """
    for seq, t_ms, code, payload in zip(chunk.seqs, chunk.t_ms, chunk.codes, chunk.payloads, strict=True):
        try:
            event = decode_coded(code, t_ms, payload)
            for apply in applies:
                apply(event)
        except Exception as exc:  # noqa: BLE001 - a log the engine never wrote (forged or from a bug)
            raise NotApplicable(seq, type_of(code)) from exc


def fold_rows(rows: Iterable[tuple[Any, ...]], applies: Applies) -> None:
    """:func:`fold_coded` over lean ``(seq, t_ms, type, version, payload)`` rows.

    Raises:
        NotApplicable: a row could not be decoded or ``apply`` raised (chained as ``__cause__``).
    """
    for seq, t_ms, event_type, version, payload in rows:
        try:
            event = decode(event_type, version, t_ms, payload)
            for apply in applies:
                apply(event)
        except Exception as exc:  # noqa: BLE001 - a log the engine never wrote (forged or from a bug)
            raise NotApplicable(seq, event_type) from exc


_FAST: bool = is_compiled(_decode_fast)

#: The folds and the row decoder the build uses: the speed path when it is compiled, else the
#: reference above (the same events and the same failures).
FOLD_CODED: Callable[[Any, Applies], None] = _decode_fast.fold_coded if _FAST else fold_coded
FOLD_ROWS: Callable[[Iterable[tuple[Any, ...]], Applies], None] = (
    _decode_fast.fold_rows if _FAST else fold_rows
)
EVENT_OF: Callable[[Any], Any] = _decode_fast.event_of if _FAST else event_of

__all__ = [
    "CODES",
    "EVENT_OF",
    "FOLD_CODED",
    "FOLD_ROWS",
    "NotApplicable",
    "decode_coded",
    "event_of",
    "fold_coded",
    "fold_rows",
    "type_of",
]

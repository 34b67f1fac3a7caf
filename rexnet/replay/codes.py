"""The type codes of coded reads, and the failure of a fold: shared by both replay decoders.

:meth:`rexnet.store.EventStore.read_coded` gives each event's ``(type, version)`` as its index in
:data:`CODES`, or as the text ``"type@version"`` for a pair not among them (an older version).
The reference decoder (:mod:`rexnet.replay.decode`) and its speed path
(:mod:`rexnet.replay._decode_fast`) read the same codes and fail with the same
:class:`NotApplicable`, so both import them from here (one definition).
"""

from __future__ import annotations

from typing import Any, Final

from rexnet.domain.events import EVENT_TYPES

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


def type_and_version(code: Any) -> tuple[str, int]:
    """The ``(type, version)`` of a type code of :meth:`~rexnet.store.EventStore.read_coded`.

    Raises:
        IndexError: an int code past :data:`CODES`.
        ValueError: a text code without ``@version``.
    """
    if isinstance(code, int):
        return CODES[code]
    event_type, _, version_text = str(code).rpartition("@")
    return event_type, int(version_text)


def type_of(code: Any) -> str:
    """The event type name of a type code (what :class:`NotApplicable` names; never raises for
    a text code)."""
    return CODES[code][0] if isinstance(code, int) else str(code).rpartition("@")[0]


class NotApplicable(Exception):
    """The row at ``seq`` could not be decoded or applied to the state before it (see ``__cause__``)."""

    def __init__(self, seq: int, event_type: str) -> None:
        super().__init__(f"seq {seq} ({event_type}) cannot be applied to the state before it")
        self.seq = seq
        self.event_type = event_type

"""The compact record of an ingested command stream, kept in the run's scenario record.

``rexnet ingest`` stores the *parsed* commands (after validation and conversion to the integer
grids) so that ``rexnet replay --verify`` and ``rexnet resume`` can re-execute an ingest run like
a simulated one. Each command is one JSON array ``[op, t_ms, agent, ...]`` with the command's
fields in order (e.g. ``["limit", 0, "a", "o1", "sell", 2, 4000, 15, "gtc"]``), which is about
as small as the JSONL it came from. The record is part of ``run_started`` and so of the hash
chain: the stream that was executed is tamper-evident like every event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Realize, RefuseAtEdge, Shrink

_OPS: dict[str, type] = {
    "limit": PlaceLimit,
    "market": PlaceMarket,
    "set": PlaceSet,
    "cancel": Cancel,
    "shrink": Shrink,
    "realize": Realize,
    "refuse": RefuseAtEdge,
}
_NAMES = {cls: op for op, cls in _OPS.items()}


def encode_commands(commands: Iterable[Any]) -> list[list[Any]]:
    """``[[op, field, ...], ...]`` for a list of command records (JSON-able: str, int, lists)."""
    out = []
    for command in commands:
        fields = [list(v) if isinstance(v, tuple) else (str(v) if isinstance(v, str) else v) for v in command]
        out.append([_NAMES[type(command)], *fields])
    return out


def decode_commands(rows: Iterable[list[Any]]) -> Iterator[Any]:
    """The command records back from :func:`encode_commands` rows."""
    for op, *fields in rows:
        cls = _OPS[op]
        yield cls(*(tuple(v) if isinstance(v, list) else v for v in fields))


def ingest_record(path: str | Path, commands: list[Any], lines: int) -> dict[str, Any]:
    """The scenario record of an ingest run of the file at ``path`` (parsed into ``commands``)."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {
        "kind": "ingest",
        "source": Path(path).name,
        "sha256": digest,
        "lines": lines,
        "commands": encode_commands(commands),
    }

"""The compact form of ingested commands, and the scenario record of an ingest run.

``rexnet ingest`` stores the *parsed* commands (after validation and conversion to the integer
grids) so that ``rexnet replay --verify`` and ``rexnet resume`` can re-execute an ingest run like
a simulated one. Each command is one JSON array ``[op, t_ms, agent, ...]`` with the command's
fields in order (e.g. ``["limit", 0, "a", "o1", "sell", 2, 4000, 15, "gtc"]``), which is about
as small as the JSONL it came from.

Where they are kept: in the run's input journal (:mod:`rexnet.ingest.chunks`), whose summary (chunks,
commands, head hash) is in the run's record and so in ``run_started`` and the hash chain. Runs
recorded before the journal embed the whole list as the record's ``commands``; those records are
still read (:func:`rexnet.replay.rerun.ingest_commands`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Realize, RefuseAtEdge, Shrink

_OPS: dict[str, Any] = {
    "limit": PlaceLimit,
    "market": PlaceMarket,
    "set": PlaceSet,
    "cancel": Cancel,
    "shrink": Shrink,
    "realize": Realize,
    "refuse": RefuseAtEdge,
}
#: op of a command record's class: ``[NAMES[type(c)], *c]`` is the row of ``c`` for orjson (which
#: writes a tuple as an array and a ``str`` enum as its value, the JSON :func:`encode_commands` gives)
NAMES = {cls: op for op, cls in _OPS.items()}


def encode_commands(commands: Iterable[Any]) -> list[list[Any]]:
    """``[[op, field, ...], ...]`` for a list of command records (JSON-able: str, int, lists)."""
    out = []
    for command in commands:
        fields = [list(v) if isinstance(v, tuple) else (str(v) if isinstance(v, str) else v) for v in command]
        out.append([NAMES[type(command)], *fields])
    return out


def decode_commands(rows: Iterable[list[Any]]) -> Iterator[Any]:
    """The command records back from :func:`encode_commands` rows."""
    for op, *fields in rows:
        cls = _OPS[op]
        yield cls(*(tuple(v) if isinstance(v, list) else v for v in fields))


_ARITY = {op: len(cls._fields) + 1 for op, cls in _OPS.items()}
_new = tuple.__new__  # a record from a list of its fields (the named tuples' __new__ is Python code)


def decode_rows(rows: list[list[Any]]) -> list[Any]:
    """:func:`decode_commands` of one journal chunk's rows, quickly (the journal's hot path).

    Raises:
        ValueError: a row of an unknown op or with the wrong number of fields.
    """
    out: list[Any] = []
    append = out.append
    for row in rows:
        op = row[0]
        if _ARITY.get(op) != len(row):
            raise ValueError(f"malformed command row {str(row)[:60]}")
        if op == "set":
            row[5] = tuple(row[5])
        append(_new(_OPS[op], row[1:]))
    return out


def ingest_record(source: str, sha256: str, lines: int, journal: dict[str, Any]) -> dict[str, Any]:
    """The scenario record of an ingest run: the source's name, digest and line count, and the
    summary of its input journal (:meth:`rexnet.ingest.chunks.JournalBuilder.summary`)."""
    return {"kind": "ingest", "source": source, "sha256": sha256, "lines": lines, "journal": journal}

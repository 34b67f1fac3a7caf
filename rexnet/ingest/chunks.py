"""The input journal of an ingest run: its commands in hash-chained chunks.

An ingest's inputs are what verify, resume and audit re-execute, so they are stored with the run.
They used to be one list inside ``run_started`` (a row that grows with the stream: 50 MB for a
million commands). Now they are a *journal*: chunks of up to :data:`CHUNK_COMMANDS` consecutive
commands, each chunk's ``body`` the compact JSON array of its commands
(:func:`~rexnet.domain.command_record.encode_commands` rows, built as ``[NAMES[type(c)], *c]``)
and its ``hash``::

    hash_i = sha256(hash_{i-1} || be64(i) || be64(first_line) || be64(commands) || body)

with ``hash_{-1}`` 32 zero bytes. ``run_started`` holds the journal's *summary* (chunks, commands
and head hash, :meth:`JournalBuilder.summary`) and is itself in the event chain, so a journal
edited, cut, reordered or extended by hand no longer matches the chain.

Why chunks, not command events in the log or a row per command: a chunk is one row and one hash
for thousands of commands, so the journal costs a few hundred rows per million commands (next to
the millions of event rows the engine writes), and reading it back is a stream of modest rows.
Why not the events: the log is the engine's *output*; keeping inputs beside it leaves the event
catalogue and every fold over the log unchanged.

The journal's summary is known before anything is written: the whole stream is validated and cut
into chunks first (pass 1, into a spool file), then the run is created and the spool copied into
the ledger (pass 2). :func:`read_journal` is the reading side: it checks the whole chain against
the summary *before* yielding any command, so a damaged journal is named
(:class:`JournalBroken`) and never executed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import orjson

from rexnet.domain.command_record import NAMES, decode_rows
from rexnet.errors import CheckFailed

#: Commands per chunk: large enough that the journal is a few rows per thousand events, small
#: enough that one chunk (a few hundred kB of JSON) is nothing next to the engine's open state.
CHUNK_COMMANDS = 4096
GENESIS = bytes(32)
_HEADER = struct.Struct(">qqq")


class JournalBroken(CheckFailed):
    """The stored journal of a run does not match its chain or its summary in ``run_started``."""


class Chunk(NamedTuple):
    """One row of the journal (``number``: the chunk's index, from 0)."""

    number: int
    first_line: int
    commands: int
    body: str
    hash: bytes


def chunk_hash(prev: bytes, index: int, first_line: int, commands: int, body: bytes) -> bytes:
    """The chain hash of a chunk (see the module docstring)."""
    digest = hashlib.sha256(prev)
    digest.update(_HEADER.pack(index, first_line, commands))
    digest.update(body)
    return digest.digest()


class JournalBuilder:
    """Cuts a command stream into chained chunks; each finished chunk goes to ``sink``.

    Memory is one chunk's encoded rows, whatever the stream's length.
    """

    def __init__(self, sink: Callable[[Chunk], None], size: int = CHUNK_COMMANDS) -> None:
        self.sink = sink
        self.size = size
        self.head = GENESIS
        self.chunks = 0
        self.commands = 0
        self._rows: list[list[Any]] = []
        self._first_line = 0

    def add(self, command: Any, line: int) -> None:
        rows = self._rows
        if not rows:
            self._first_line = line
        rows.append([NAMES[type(command)], *command])
        if len(rows) >= self.size:
            self._cut()

    def _cut(self) -> None:
        rows = self._rows
        body = orjson.dumps(rows)
        self.head = chunk_hash(self.head, self.chunks, self._first_line, len(rows), body)
        self.sink(Chunk(self.chunks, self._first_line, len(rows), body.decode("utf-8"), self.head))
        self.chunks += 1
        self.commands += len(rows)
        self._rows = []

    def close(self) -> dict[str, Any]:
        """Cut the last chunk; returns :meth:`summary`."""
        if self._rows:
            self._cut()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """What ``run_started`` records of the journal."""
        return {"chunks": self.chunks, "commands": self.commands, "head": self.head.hex()}


def check_journal(rows: Iterable[Any], summary: dict[str, Any], *, run: str) -> None:
    """Check stored chunks (``(index, first_line, commands, body, hash)`` rows in index order)
    against their chain and the summary of ``run_started``.

    Raises:
        JournalBroken: the first problem, naming the chunk.
    """
    prev = GENESIS
    expected = 0
    total = 0
    where = f"run {run}: input journal"
    for index, first_line, commands, body, stored in rows:
        if index != expected:
            what = "missing" if index > expected else "out of order"
            raise JournalBroken(f"{where}: chunk {expected} is {what} (found chunk {index} in its place)")
        computed = chunk_hash(prev, index, first_line, commands, body.encode("utf-8"))
        if bytes(stored) != computed:
            raise JournalBroken(
                f"{where}: chunk {index} (from line {first_line}) does not match its hash chain "
                "(edited, reordered or replaced)"
            )
        prev = computed
        expected += 1
        total += commands
    if expected != summary.get("chunks") or total != summary.get("commands"):
        raise JournalBroken(
            f"{where}: {expected} chunks with {total} commands stored, run_started records "
            f"{summary.get('chunks')} chunks with {summary.get('commands')} commands"
        )
    if prev.hex() != summary.get("head"):
        raise JournalBroken(f"{where}: head hash differs from the one run_started records")


def read_journal(rows: Callable[[], Iterable[Any]], summary: dict[str, Any], *, run: str) -> Iterator[Any]:
    """The commands of a journal, after checking it whole (:func:`check_journal`).

    ``rows`` is called twice (a check pass, then a decoding pass), each time returning the stored
    chunks in index order; neither pass holds more than one chunk. The decoding pass checks the
    chain again as it goes, so a journal changed between the passes is not executed either.

    Raises:
        JournalBroken: the journal is damaged (before any command is yielded), or a chunk's body
            is not what its count says (it cannot be when the chain holds).
    """
    check_journal(rows(), summary, run=run)
    prev = GENESIS
    for index, first_line, commands, body, stored in rows():
        prev = chunk_hash(prev, index, first_line, commands, body.encode("utf-8"))
        if bytes(stored) != prev:
            raise JournalBroken(f"run {run}: input journal: chunk {index} changed while it was read")
        try:
            decoded = decode_rows(orjson.loads(body))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
            decoded = None
        if decoded is None or len(decoded) != commands:
            raise JournalBroken(f"run {run}: input journal: chunk {index} cannot be decoded")
        yield from decoded


class MemoryJournal:
    """A journal held in memory, with the store's reading method (golden replays, tests)."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []

    def journal_rows(self, run_id: str | None) -> list[Chunk]:
        return self.chunks

"""Streaming ingest: a JSONL command stream read once, validated whole, staged as journal chunks.

``rexnet ingest`` must validate the whole stream before the run exists ("a malformed line writes
nothing", also the last line of a long stream) while holding memory independent of the stream's
length. So it works in two passes over *staged* data, not over the source:

1. :func:`stage` reads the source once (a file, or standard input for ``-``), line by line,
   hashing its bytes (``sha256``), validating every line into a command, and cutting the
   commands into the chained chunks of the input journal (:class:`rexnet.ingest.chunks.JournalBuilder`)
   written to a temporary spool file. A bad line raises :class:`~rexnet.errors.LineError`
   before anything reaches the ledger. The journal's summary (chunks, commands, head hash) is
   then known, so ``run_started`` can carry it.
2. The caller creates the run, copies the spool into the ledger's journal, and executes the
   spooled commands (decoded exactly as verify decodes the stored journal).

Staging the *validated* stream, not the raw one, means the source is read once (standard input
needs no copy of its own, and a file changed while it is ingested cannot make the two passes
disagree), and pass 2 decodes compact arrays instead of validating JSONL again.

The hot path. Most lines are plain: ASCII, one JSON object with exactly its op's fields, numbers
of at most 15 significant digits. :class:`FastLines` checks such a line with orjson and plain
comparisons; whenever it is in any doubt (an unusual character, a repeated key, a long number, a
value out of bounds, a refusal whose message quotes the line's text, time going backwards) it
returns ``None`` and the line goes to :class:`rexnet.ingest.parser.LineParser`, the strict path with
pydantic, which accepts or names the problem exactly as before. So the fast path only ever
accepts lines the strict path accepts, with the same command.

Why 15 significant digits: two decimals of at most 15 significant digits are different doubles
(IEEE 754 ``DBL_DIG``), so such a number parsed to a float and written back by ``repr`` (the
shortest round-trip) is the same decimal, and the exact :class:`~decimal.Decimal` arithmetic of
the grids gives the same result as from the text.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from rexnet.domain.command_record import decode_rows, ingest_record
from rexnet.domain.commands import Cancel, PlaceLimit, PlaceMarket, PlaceSet, Realize, Shrink
from rexnet.domain.limits import MAX_KW, MAX_PRICE, MAX_UNIT_INDEX, NAME_MAX
from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError, LineError
from rexnet.ingest import chunks as journal
from rexnet.ingest.chunks import Chunk, JournalBuilder
from rexnet.ingest.parser import LineParser, _agent_problem, _reserved

#: A line's bytes mapped to classes (digits and dots ``d``, ``e``/``E`` ``e``, the rest a space),
#: to find, with two substring searches, what the fast path leaves to the strict one: a run of
#: 16 or more digits (and dots), or an exponent (which can underflow a float to 0 or overflow it;
#: the text is neither). Measured several times faster than one regular expression.
_CLASSES = bytes(
    ord("d") if chr(b) in "0123456789." else ord("e") if chr(b) in "eE" else ord(" ") for b in range(256)
)
_LONG = b"d" * 16
_MAX_T = 10**10  # seconds: rexnet.domain.limits.MAX_TIME_S as an int
_TINY = 1e-300  # below: subnormal doubles, where fewer than 15 digits are exact
_SIDES = ("buy", "sell")
_CACHE = 1 << 16  # entries of each cache of FastLines
#: a command record from its fields (tuple.__new__: the named tuples' own __new__ is Python code)
_new = tuple.__new__
_MISS = object()
_TIFS = ("gtc", "ioc", "fok")

# the exact keys of each op (and how many of the values are strings: the quote count below)
_KEYS: dict[Any, tuple[int, frozenset[str]]] = {
    "limit": (4, frozenset({"t", "op", "agent", "ref", "side", "unit", "price", "qty"})),
    "market": (4, frozenset({"t", "op", "agent", "ref", "side", "unit", "qty"})),
    "cancel": (3, frozenset({"t", "op", "agent", "ref"})),
    "shrink": (3, frozenset({"t", "op", "agent", "ref", "qty"})),
    "set": (4, frozenset({"t", "op", "agent", "ref", "side", "units", "price", "qty"})),
    "realize": (2, frozenset({"t", "op", "agent", "unit", "qty"})),
}
_LIMIT_TIF = frozenset(_KEYS["limit"][1] | {"tif"})


class FastLines:
    """The fast path of one stream's lines (see the module docstring); ``None``: ask the strict path."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        # prices, quantities and agents repeat a lot in a stream: each distinct one is converted
        # or checked once (plain dicts: cheaper than lru_cache; cleared when large, so bounded)
        self._ticks: dict[int | float, int | None] = {}
        self._units: dict[int | float, int | None] = {}
        self._agents: dict[str, bool] = {}

    @staticmethod
    def _fill(value: int | float, cache: dict[Any, int | None], bound: Decimal, to_grid: Any) -> int | None:
        """``value`` (a JSON number seen for the first time) on a grid, or ``None`` for anything
        unusual; remembered in ``cache``."""
        d = _exact(value)
        out = None if d is None or not -bound <= d <= bound else to_grid(d)
        if len(cache) >= _CACHE:
            cache.clear()
        cache[value] = out
        return out

    def _agent_ok(self, agent: str) -> bool:
        """Whether an agent name seen for the first time is a plain one (remembered)."""
        ok = _agent_problem(agent) is None and not _reserved(agent)
        if len(self._agents) >= _CACHE:
            self._agents.clear()
        self._agents[agent] = ok
        return ok

    def command(self, raw: bytes, last_t: int) -> Any | None:  # noqa: C901 - one flat hot path
        """The command of a plain line, or ``None``."""
        if b"\\" in raw:
            return None
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if type(obj) is not dict:
            return None
        op = obj.get("op")
        shape = _KEYS.get(op) if type(op) is str else None
        if shape is None:
            return None
        strings, keys = shape
        tif = obj.get("tif")
        if tif is not None and op == "limit":
            if obj.keys() != _LIMIT_TIF or tif not in _TIFS or type(tif) is not str:
                return None
            strings += 1
        elif obj.keys() != keys:
            return None
        # a repeated key (orjson keeps the last) shows as quotes no key or string accounts for
        if raw.count(b'"') != 2 * (len(obj) + strings):
            return None
        classes = raw.translate(_CLASSES)
        if _LONG in classes or b"de" in classes:
            return None
        t = obj["t"]
        kind = type(t)
        if kind is int:
            if not 0 <= t <= _MAX_T:
                return None
            ms = t * 1000
        elif kind is float:
            if not 0.0 <= t <= _MAX_T:
                return None
            ms = round(t * 1000)
            if ms / 1000 != t:
                return None
        else:
            return None
        agent = obj["agent"]
        if ms < last_t or type(agent) is not str:
            return None
        known = self._agents.get(agent)
        if not (known or (known is None and self._agent_ok(agent))):
            return None
        if op != "realize":
            ref = obj["ref"]
            # printable ASCII without spaces is a name as it is (rexnet.domain.limits.name_problem)
            if type(ref) is not str or not (0 < len(ref) <= NAME_MAX and ref.isascii() and ref.isprintable()):
                return None
            if " " in ref:
                return None
            if op == "cancel":
                return _new(Cancel, (ms, agent, ref))
        # (the caches are read inline: this is the hot path; _fill converts a value seen first)
        value = obj["qty"]
        kind = type(value)
        if kind is not int and kind is not float:
            return None
        qty = self._units.get(value, _MISS)
        if qty is _MISS:
            qty = self._fill(value, self._units, MAX_KW, self.spec.qty_units)
        if qty is None:
            return None
        if op == "realize":
            unit = obj["unit"]
            if type(unit) is not int or not -MAX_UNIT_INDEX <= unit <= MAX_UNIT_INDEX:
                return None
            return _new(Realize, (ms, agent, unit, qty))
        if op == "shrink":
            return _new(Shrink, (ms, agent, ref, qty))
        side = obj["side"]
        if side not in _SIDES or type(side) is not str:
            return None
        if op == "market":
            unit = obj["unit"]
            if type(unit) is not int or not -MAX_UNIT_INDEX <= unit <= MAX_UNIT_INDEX:
                return None
            return _new(PlaceMarket, (ms, agent, ref, side, unit, qty))
        value = obj["price"]
        kind = type(value)
        if kind is not int and kind is not float:
            return None
        price = self._ticks.get(value, _MISS)
        if price is _MISS:
            price = self._fill(value, self._ticks, MAX_PRICE, self.spec.price_ticks)
        if price is None:
            return None
        if op == "set":
            units = obj["units"]
            if type(units) is not list:
                return None
            for unit in units:
                if type(unit) is not int or not -MAX_UNIT_INDEX <= unit <= MAX_UNIT_INDEX:
                    return None
            return _new(PlaceSet, (ms, agent, ref, side, tuple(units), price, qty))
        unit = obj["unit"]
        if type(unit) is not int or not -MAX_UNIT_INDEX <= unit <= MAX_UNIT_INDEX:
            return None
        return _new(PlaceLimit, (ms, agent, ref, side, unit, price, qty, "gtc" if tif is None else tif))


def _exact(value: int | float) -> Decimal | None:
    """The exact decimal a JSON number of at most 15 significant digits was written as."""
    if type(value) is int:
        return Decimal(value)
    if value != value or value in (float("inf"), float("-inf")) or (value != 0.0 and abs(value) < _TINY):
        return None
    return Decimal(repr(value))


@dataclass
class StreamLines:
    """What one read of a stream saw: non-blank lines and the digest of its bytes."""

    count: int = 0
    digest: Any = field(default_factory=hashlib.sha256)


def read_commands(name: str, spec: MarketSpec, on_command: Callable[[Any, int], None]) -> StreamLines:
    """Read the stream ``name`` (a path, or ``-`` for standard input) once, validating every line
    and calling ``on_command(command, line_number)`` in order.

    Raises:
        InputError: the source cannot be read (or is not UTF-8).
        LineError: a line is malformed or past a bound (its number is in the message).
    """
    if name == "-":
        return _read(sys.stdin.buffer, "-", spec, on_command)
    try:
        source = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc}") from None
    with source:
        return _read(source, name, spec, on_command)


def _read(
    source: IO[bytes], name: str, spec: MarketSpec, on_command: Callable[[Any, int], None]
) -> StreamLines:
    strict = LineParser(name, spec)
    check = strict.bounds.check
    fast = FastLines(spec).command
    seen = StreamLines()
    update = seen.digest.update
    number = 0
    count = 0
    offset = 0
    try:
        for raw in source:
            update(raw)
            start = offset
            offset += len(raw)
            body = raw[:-1] if raw.endswith(b"\n") else raw
            if body.endswith(b"\r"):
                body = body[:-1]
            # a line orjson accepts has no control character, so it is one line for splitlines too
            if body.isascii() and b"\r" not in body:
                command = fast(body, strict.last_t)
                if command is not None:
                    number += 1
                    count += 1
                    try:
                        check(command)  # (LineParser.accept, inline)
                    except ValueError as exc:
                        raise LineError(name, number, str(exc)) from None
                    strict.last_t = command.t
                    on_command(command, number)
                    continue
            # anything else goes the strict way, split into lines as str.splitlines splits a text
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"cannot read {name}: {_decode_problem(exc, start)}") from None
            for part in text.splitlines():
                number += 1
                if not part.strip():
                    continue
                count += 1
                on_command(strict.parse(part, number), number)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc}") from None
    seen.count = count
    return seen


def _decode_problem(exc: UnicodeDecodeError, offset: int) -> str:
    """What a whole-stream decode says of ``exc`` (a line's error, positions moved by ``offset``)."""
    start, end = exc.start + offset, exc.end + offset
    if exc.end - exc.start == 1:
        where = f"byte 0x{exc.object[exc.start]:02x} in position {start}"
    else:
        where = f"bytes in position {start}-{end - 1}"
    return f"'{exc.encoding}' codec can't decode {where}: {exc.reason}"


@dataclass
class StagedStream:
    """A validated stream staged as journal chunks in a spool file (pass 1 done)."""

    spool: IO[bytes]
    record: dict[str, Any]

    def chunks(self) -> Iterator[Chunk]:
        """The journal's chunks, in order (read from the spool, one at a time)."""
        self.spool.seek(0)
        for line in self.spool:
            index, first_line, commands, digest, body = line.rstrip(b"\n").split(b" ", 4)
            yield Chunk(
                int(index),
                int(first_line),
                int(commands),
                body.decode("utf-8"),
                bytes.fromhex(digest.decode()),
            )

    def commands(self) -> Iterator[Any]:
        """The commands, decoded from the chunks as verify decodes the stored journal."""
        for chunk in self.chunks():
            yield from decode_rows(orjson.loads(chunk.body))


@contextmanager
def stage(name: str, spec: MarketSpec, *, chunk_commands: int | None = None) -> Iterator[StagedStream]:
    """Pass 1 over the stream ``name`` (a path or ``-``): validate it whole and stage it.

    Raises:
        InputError, LineError: as :func:`read_commands`; nothing is staged then.
    """
    with tempfile.TemporaryFile(prefix="rexnet-ingest-") as spool:
        write = spool.write

        def put(chunk: Chunk) -> None:
            header = f"{chunk.number} {chunk.first_line} {chunk.commands} {chunk.hash.hex()} "
            write(header.encode() + chunk.body.encode("utf-8") + b"\n")

        builder = JournalBuilder(put, chunk_commands or journal.CHUNK_COMMANDS)
        seen = read_commands(name, spec, builder.add)
        summary = builder.close()
        spool.flush()
        source = "-" if name == "-" else Path(name).name
        yield StagedStream(spool, ingest_record(source, seen.digest.hexdigest(), seen.count, summary))


@dataclass
class ParsedStream:
    """A validated command stream: commands (and edge rejections) in time order."""

    commands: list[Any]
    lines: int


def parse_commands(path: str | Path, spec: MarketSpec) -> ParsedStream:
    """Parse and validate a whole JSONL command file into a list (small files: golden replays,
    tests; ``rexnet ingest`` streams with :func:`stage`).

    Raises:
        InputError: the file cannot be read.
        LineError: a line is malformed or past a bound (its number is in the message).
    """
    commands: list[Any] = []
    lines = read_commands(str(path), spec, lambda command, _number: commands.append(command))
    return ParsedStream(commands, lines.count)

"""Replay work done on the other core: reading and decoding the log, and checking its hash chain.

A replay is a sequential fold, but most of its cost is not: reading rows (the ``sqlite3`` module
releases the GIL and SQLite takes its mutexes for every row), parsing their JSON and checking the
hash chain need nothing from the fold. On a machine with more than one core they run in forked
child processes that read the log through their own connections:

* :func:`fold_history` folds a history into projections while a child reads and decodes it
  ahead: the child sends each chunk as ``marshal``-ed plain tuples (class index, values), which
  the parent turns into event records with one ``tuple.__new__`` each and folds (about a third
  of the work of reading and decoding them itself).
* :class:`ChainCheck` recomputes the chain in a child and reports one integer (the first bad
  seq, or none): each row is checked against its own stored bytes and the stored hash before it.

Children never use the parent's connections: they open a pool of their own on the same URL
(:meth:`~rexnet.store.EventStore.reopened`) and leave the inherited one alone (closing, or merely
garbage-collecting, an inherited connection could end the parent's session: libpq sends a
terminate message), and they leave by ``os._exit``, which runs no finalizers. Whenever forking
is not safe or not worth it (no ``fork`` on the platform, other threads alive in the parent, one
core, a short history) or a child fails, the work is done in the caller instead, with the same
result: the parent takes over from the first row a child did not deliver, so an error is raised
by the same code, naming the same seq, as without children.
"""

from __future__ import annotations

import gc
import marshal
import os
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rexnet.replay.decode import fold_rows, fold_values, values_of_rows
from rexnet.replay.history import check_chain, read_history_chunks

#: Below this many events forking costs more than the work it moves (a few ms either way).
MIN_EVENTS = 20_000
#: Rows per message from the decoding child (about 130 kB): small enough to fill the pipeline fast.
MESSAGE_ROWS = 2_000
_NONE = -1  # "intact", from the chain check
_FAILED = -2  # the child could not check: the parent checks itself

_LENGTH = struct.Struct("<q")


def may_fork(events: int, min_events: int | None = None) -> bool:
    """Whether work over ``events`` events may go to a forked child."""
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and events >= (MIN_EVENTS if min_events is None else min_events)
    )


class _Child:
    """A forked child running ``work(send)``; ``send(obj)`` hands the parent one marshal-able message."""

    def __init__(self, work: Callable[[Callable[[Any], None]], None]) -> None:
        read_fd, write_fd = os.pipe()
        # Copy-on-write: a garbage collection touches every object it scans, and each page it
        # touches is then copied. The child never collects (it is short-lived and makes no
        # cycles), and the parent's collections skip the objects that existed at the fork
        # until the child is reaped (gc.freeze; undone in close).
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            try:
                gc.disable()
                os.close(read_fd)

                def send(message: Any) -> None:
                    data = marshal.dumps(message)
                    _write_all(write_fd, _LENGTH.pack(len(data)) + data)

                work(send)
            finally:
                os._exit(0)  # whatever happened: the parent notices a short stream and takes over
        os.close(write_fd)
        self.pid: int | None = pid
        self._fd = read_fd

    def messages(self) -> Iterator[Any]:
        """The child's messages, until it exits (a truncated message ends the stream)."""
        while True:
            head = _read_exactly(self._fd, _LENGTH.size)
            if len(head) < _LENGTH.size:
                return
            (size,) = _LENGTH.unpack(head)
            data = _read_exactly(self._fd, size)
            if len(data) < size:
                return
            yield marshal.loads(data)

    def close(self, *, kill: bool = False) -> None:
        """Reap the child (killing it first when the parent no longer wants its work)."""
        if self.pid is None:
            return
        if kill:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
        os.close(self._fd)
        os.waitpid(self.pid, 0)
        self.pid = None
        gc.unfreeze()


def fold_history(
    store: Any,
    run: Any,
    applies: Sequence[Callable[[Any], Any]],
    *,
    to_seq: int | None = None,
    to_t_ms: int | None = None,
    min_events: int | None = None,
) -> None:
    """Fold ``run``'s full history (up to the bounds) into every function of ``applies``, in order,
    decoding in a child process ahead of the fold when :func:`may_fork` allows.

    Raises:
        NotApplicable: a row could not be decoded or applied (as :func:`~rexnet.replay.decode.fold_rows`).
    """
    bounds: dict[str, Any] = {"to_seq": to_seq, "to_t_ms": to_t_ms}
    last = run.head_seq if to_seq is None else min(to_seq, run.head_seq)
    next_seq = 0
    if may_fork(last + 1, min_events):
        reader = store.reopened

        def decode_ahead(send: Callable[[Any], None]) -> None:
            for rows in read_history_chunks(reader(), run, **bounds):
                # Small messages: the parent starts folding as soon as the first one is decoded.
                for start in range(0, len(rows), MESSAGE_ROWS):
                    seqs, kinds, values, bad = values_of_rows(rows[start : start + MESSAGE_ROWS])
                    if seqs:
                        send((seqs, kinds, values))
                    if bad >= 0:
                        return  # the parent folds from the bad row on, and raises there

        child = _Child(decode_ahead)
        done = False
        try:
            for seqs, kinds, values in child.messages():
                fold_values(seqs, kinds, values, applies)
                next_seq = seqs[-1] + 1
            done = True
        finally:
            child.close(kill=not done)
        if next_seq > last:
            return
    # Without a child, or from the first row the child did not deliver.
    for rows in read_history_chunks(store, run, from_seq=next_seq, **bounds):
        fold_rows(rows, applies)


class ChainCheck:
    """:func:`~rexnet.replay.history.check_chain` of ``run``, started now, its answer by :meth:`result`."""

    def __init__(self, store: Any, run: Any, *, min_events: int | None = None) -> None:
        """Args:
        store, run: the run whose full history (forks included) is checked.
        min_events: fork only for runs of at least this many events (default :data:`MIN_EVENTS`).
        """
        self._store = store
        self._run = run
        self._child: _Child | None = None
        if may_fork(run.head_seq + 1, min_events):
            reader = store.reopened

            def check(send: Callable[[Any], None]) -> None:
                bad = check_chain(reader(), run)
                send(_NONE if bad is None else bad)

            self._child = _Child(check)

    @property
    def forked(self) -> bool:
        """Whether the check runs in a child process (until :meth:`result` or :meth:`cancel`)."""
        return self._child is not None

    def result(self) -> int | None:
        """The first bad seq of the chain, or ``None`` when it is intact (waits for the child)."""
        code = _FAILED
        if self._child is not None:
            try:
                for message in self._child.messages():
                    code = message
            finally:
                self._child.close()
                self._child = None
        if code == _NONE:
            return None
        if code >= 0:
            return int(code)
        return check_chain(self._store, self._run)

    def cancel(self) -> None:
        """Stop the child, if any (the caller no longer wants the answer)."""
        if self._child is not None:
            self._child.close(kill=True)
            self._child = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes:
    parts = []
    while size > 0:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)

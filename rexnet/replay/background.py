"""The hash-chain check of ``rexnet replay`` on the other core, while the replay folds.

Replay reads the log twice over: once to fold it into the projections, once to recompute the
hash chain. The two need nothing from each other until the end, and the chain check is
embarrassingly separable (each row is checked against its own stored bytes and the stored hash
before it), so on a machine with more than one core it runs in a forked child process that reads
the log through its own connections, and the replay costs about what the fold alone costs.

The child only reads, and reports one integer (the first bad seq, or none) through a pipe. It
never uses the parent's connections: it opens a pool of its own on the same URL and leaves the
inherited one alone (closing, or merely garbage-collecting, an inherited connection could end the
parent's session: libpq sends a terminate message), and it exits without finalizers. Whenever
forking is not safe or not worth it (not Linux, other threads alive in the parent, one core, a
short run) or the child fails, the check runs in the caller instead, with the same result.

Why the fold itself does not read and decode in children too (tried and measured, then
removed, figures in CHANGELOG.md): after a fork every page of the parent's heap is
copy-on-write, and the fold writes to many of them (refcounts, reused memory pools), so the
parent's own part (building records, applying them) slowed down more than the children saved.
The chain check pays because the parent's fold costs the same with or without it.
"""

from __future__ import annotations

import gc
import os
import struct
import sys
import threading

from rexnet.replay.history import check_chain
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo

#: Below this many events forking costs more than the check it moves (a few ms either way).
MIN_EVENTS = 20_000
_NONE = -1  # "intact", on the pipe
_FAILED = -2  # the child could not check: the parent checks itself

_INT = struct.Struct("<q")


class ChainCheck:
    """:func:`~rexnet.replay.history.check_chain` of ``run``, started now, its answer by :meth:`result`."""

    def __init__(self, store: LedgerReader, run: RunInfo, *, min_events: int | None = None) -> None:
        """Args:
        store, run: the run whose full history (forks included) is checked.
        min_events: fork only for runs of at least this many events (default :data:`MIN_EVENTS`).
        """
        self._store = store
        self._run = run
        self._pid: int | None = None
        self._fd: int | None = None
        if _may_fork(run, MIN_EVENTS if min_events is None else min_events):
            self._start()

    @property
    def forked(self) -> bool:
        """Whether the check runs in a child process (until :meth:`result` or :meth:`cancel`)."""
        return self._pid is not None

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check, report, leave without running the parent's exit handlers
            code = _FAILED
            try:
                gc.disable()  # short-lived, no cycles: a collection would only copy shared pages
                os.close(read_fd)
                # A new pool: the inherited connections stay referenced and untouched (closing or
                # even garbage-collecting them could end the parent's sessions), and os._exit
                # below runs no finalizers.
                bad = check_chain(self._store.reopened(), self._run)
                code = _NONE if bad is None else bad
            except BaseException:  # noqa: BLE001 - the parent redoes the check and reports
                code = _FAILED
            finally:
                try:
                    os.write(write_fd, _INT.pack(code))
                finally:
                    os._exit(0)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def result(self) -> int | None:
        """The first bad seq of the chain, or ``None`` when it is intact (waits for the child)."""
        if self._pid is not None and self._fd is not None:
            try:
                data = _read_all(self._fd, _INT.size)
            finally:
                os.close(self._fd)
                os.waitpid(self._pid, 0)
                self._pid = self._fd = None
            if len(data) == _INT.size:
                (code,) = _INT.unpack(data)
                if code == _NONE:
                    return None
                if code >= 0:
                    return int(code)
        return check_chain(self._store, self._run)

    def cancel(self) -> None:
        """Stop the child, if any (the caller no longer wants the answer)."""
        if self._pid is not None and self._fd is not None:
            try:
                os.kill(self._pid, 9)
            except ProcessLookupError:
                pass
            os.close(self._fd)
            os.waitpid(self._pid, 0)
            self._pid = self._fd = None


def _may_fork(run: RunInfo, min_events: int) -> bool:
    # Linux only: on macOS a fork without exec may crash in system frameworks (Python itself
    # defaults multiprocessing to spawn there), and the check would only be redone inline.
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and run.head_seq + 1 >= min_events
    )


def _read_all(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = os.read(fd, size - len(data))
        if not part:
            break
        data += part
    return data

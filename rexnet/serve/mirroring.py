"""The explorer's analytics mirror, brought up to date off the request path.

The pages that aggregate (overview, fork vs parent, the trail's profile, the SQL console) read
DuckDB over the columnar mirror (:mod:`rexnet.analytics.mirror`), which must first hold every
event of the ledger. Who copies them? The mirror is a cache beside the ledger, not the ledger, so
the explorer may write it while it never writes the ledger (``test_read_only`` holds the ledger's
own files to that). It does so itself, rather than relying on ``rexnet run`` or ``rexnet mirror``
having run: a ledger filled by another tool, another machine or an older RexNet is served right
too, and a run recorded while the explorer is up is copied when a page next reads DuckDB (only its
new events: a refresh is incremental by seq). ``rexnet mirror`` still does it ahead of time.

A first copy costs about as much as a scan of the whole ledger, far more than a page should wait
for on a run of a million events. So :class:`MirrorKeeper` refreshes in a background thread, started
when the explorer starts (and again when the ledger's runs change); a page that needs DuckDB meanwhile
waits for it when few events are left to copy (at most ``progress_events``), and otherwise is
answered at once by a progress page (:class:`Preparing`: HTTP 503 with ``Retry-After`` and a page
that reloads itself) instead of a request that hangs. The pages that do not read DuckDB (runs,
book replay, audit) are served meanwhile.

Refreshing only the mirror's file needs DuckDB's write lock on it, which the explorer's own
sessions (attached read-only) would block: the keeper closes them before it refreshes and opens new
ones after, and a query holds the keeper's lock for as long as it uses a session.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from rexnet.errors import RexnetError

#: events still to copy above which a page gets the progress page instead of waiting
PROGRESS_EVENTS = 200_000
#: modules imported once in the background at start, so that no first page pays for them:
#: pandas (DuckDB's parameter binding imports it on the first query) and the profile libraries
#: of the trail's expected profile (issue 18)
WARM_IMPORTS = ("pandas", "demandlib", "pvlib", "windpowerlib")


class Preparing(RexnetError):
    """The mirror is being brought up to date and many events are left: a progress page (503)."""

    def __init__(self, pending: int, seconds: float) -> None:
        super().__init__(
            f"the analytics mirror is being brought up to date: about {pending:,} events to copy "
            f"into DuckDB (running for {seconds:.0f} s); this page reloads itself when it is ready"
        )
        self.pending = pending
        self.seconds = seconds


def own_events(runs: list[Any]) -> dict[str, int]:
    """Events each run holds itself (a fork's shared prefix is its parent's)."""
    return {r.run_id: r.head_seq - (-1 if r.fork_seq is None else r.fork_seq) for r in runs}


def mirrored_rows(url: Any) -> dict[str, int] | None:
    """Rows per run already in the mirror of the ledger at ``url`` (read-only; None: no readable
    mirror, e.g. none yet or another process is writing it)."""
    import duckdb

    from rexnet.analytics.mirror import mirror_path

    try:
        path = mirror_path(url)
        if not path.exists():
            return None
        con = duckdb.connect(str(path), read_only=True)
        try:
            return dict(con.execute("SELECT run_id, rows FROM mirror_runs").fetchall())
        finally:
            con.close()
    except (duckdb.Error, OSError):
        return None


def pending_events(runs: list[Any], url: Any) -> int:
    """Events of ``runs`` that the mirror of the ledger at ``url`` does not hold yet."""
    done = mirrored_rows(url) or {}
    return sum(max(0, n - done.get(run, 0)) for run, n in own_events(runs).items())


class MirrorKeeper:
    """The explorer's :class:`~rexnet.analytics.Analytics`, reopened (and its mirror refreshed, in a
    background thread) whenever the ledger's runs or heads change.

    Args:
        db_url: the ledger URL.
        list_runs: the ledger's runs now (the store's ``list_runs``).
        mirror: the mirror mode (``auto``, ``off``, ``require``; default: env ``REXNET_MIRROR``).
        progress_events: see :data:`PROGRESS_EVENTS`.
    """

    def __init__(
        self,
        db_url: str,
        list_runs: Callable[[], list[Any]],
        *,
        mirror: str | None = None,
        progress_events: int = PROGRESS_EVENTS,
    ) -> None:
        self.db_url = db_url
        self.list_runs = list_runs
        self.mirror = mirror
        self.progress_events = progress_events
        #: held while a session is used or the Analytics is replaced (one DuckDB statement at a time)
        self.lock = threading.Lock()
        self._state = threading.Lock()  # guards the fields below
        self._analytics: Any = None
        self._seen: tuple[tuple[str, int], ...] | None = None
        self._thread: threading.Thread | None = None
        self._importer: threading.Thread | None = None
        self._pending = 0
        self._started = 0.0
        self._error: BaseException | None = None

    def start(self, warm: Sequence[Callable[[], Any]] = ()) -> None:
        """Begin the first refresh now (the explorer's start) and, in a second thread, import
        :data:`WARM_IMPORTS`, build the SQL guard's catalogue and call ``warm`` (a page waiting
        for a short refresh does not wait for them)."""
        with self._state:
            self._begin(self._heads())
        self._importer = threading.Thread(target=_warm, args=(warm,), name="explorer-imports", daemon=True)
        self._importer.start()

    def wait(self) -> None:
        """Wait for the refresh under way, if any."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def close(self) -> None:
        """Wait for the background threads, then close the DuckDB side."""
        for thread in (self._thread, self._importer):
            if thread is not None:
                thread.join()
        with self.lock:
            if self._analytics is not None:
                self._analytics.close()
                self._analytics = None

    def _heads(self) -> tuple[tuple[str, int], ...]:
        return tuple((r.run_id, r.head_seq) for r in self.list_runs())

    def _begin(self, seen: tuple[tuple[str, int], ...]) -> None:
        """Start a refresh for the runs ``seen`` (``_state`` held; none may be running)."""
        from rexnet.analytics.api import _mirror_mode
        from rexnet.store.database import parse_url

        runs = self.list_runs()
        off = _mirror_mode(self.mirror) == "off"
        self._pending = 0 if off else pending_events(runs, parse_url(self.db_url))
        self._started = time.monotonic()
        self._error = None
        self._thread = threading.Thread(
            target=self._refresh, args=(seen,), name="explorer-mirror", daemon=True
        )
        self._thread.start()

    def _refresh(self, seen: tuple[tuple[str, int], ...]) -> None:
        from rexnet.analytics import Analytics

        try:
            with self.lock:
                if self._analytics is not None:
                    self._analytics.close()  # its sessions hold the mirror open: close them first
                    self._analytics = None
                analytics = Analytics(self.db_url, mirror=self.mirror)
                try:
                    analytics.uses_mirror  # noqa: B018 - refreshes the mirror, or notes why it cannot
                except BaseException:
                    analytics.close()
                    raise
                self._analytics, self._seen = analytics, seen
        except BaseException as error:  # shown by the page that waits for it
            self._error = error

    def analytics(self) -> Any:
        """The up-to-date Analytics (call with :attr:`lock` NOT held; then take it to query).

        Raises:
            Preparing: a refresh with more than ``progress_events`` events to copy is under way.
        """
        with self._state:
            thread = self._thread
            running = thread is not None and thread.is_alive()
            if not running:
                if self._error is not None:
                    error, self._error, self._thread = self._error, None, None
                    raise error
                seen = self._heads()
                if self._analytics is None or seen != self._seen:
                    self._begin(seen)
                    thread, running = self._thread, True
            pending, started = self._pending, self._started
        if running:
            assert thread is not None
            if pending > self.progress_events:
                raise Preparing(pending, time.monotonic() - started)
            thread.join()
            with self._state:
                if self._error is not None:
                    error, self._error, self._thread = self._error, None, None
                    raise error
        return self._analytics

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(analytics)`` with :attr:`lock` held, on the Analytics of the ledger as it is now."""
        for _ in range(5):
            analytics = self.analytics()
            with self.lock:
                if analytics is not None and analytics is self._analytics:
                    return fn(analytics)
        raise RexnetError("the analytics side kept changing under this request: try again")


def _warm(more: Sequence[Callable[[], Any]]) -> None:
    """What the first pages would otherwise pay for: imports, the guard's catalogue, ``more``."""
    from rexnet.analytics.guard import allowed_functions

    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    allowed_functions()  # a DuckDB built once per process to list the plain functions
    for fn in more:
        fn()

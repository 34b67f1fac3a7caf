"""The explorer's data: one ledger opened read-only for the pages, with its caches.

:class:`Explorer` is what the web routes call; it knows nothing of HTTP. It reads through the
library's read APIs only: the store's runs and history (:mod:`rexnet.replay`), the audit
(:func:`rexnet.app.audit.audit_run`), DuckDB sessions and named queries
(:class:`rexnet.analytics.Analytics`) and, for the SQL console, :meth:`Analytics.rows`, i.e. the
same guard as ``rexnet sql``. Nothing here writes to the ledger.

Caches (in memory, keyed by run id and head hash, so a run still being written is never served
stale): audit results, overview figures, and one :class:`~rexnet.serve.timeline.Timeline` per
run for the book replay. The DuckDB side and its mirror are kept up to date by a
:class:`~rexnet.serve.mirroring.MirrorKeeper` (in the background; see there why and how).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rexnet.app.audit import audit_run
from rexnet.errors import InputError
from rexnet.serve.fmt import Redactor, plain
from rexnet.serve.mirroring import PROGRESS_EVENTS, MirrorKeeper
from rexnet.serve.timeline import Timeline

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

#: runs audited while the runs page is built: up to this many events each, and this many in all
#: per request. The audit re-executes the run (the simulation again, as ``rexnet audit`` does), so
#: it costs about what recording the run did; larger runs are audited on demand from their
#: overview (``/runs/RUN/audit``)
AUDIT_INLINE_EVENTS = 10_000
AUDIT_INLINE_BUDGET = 20_000
#: runs whose timelines (book replay snapshots) are kept
TIMELINES = 4
#: rows of a SQL console answer shown in the page
SQL_ROWS = 500


@dataclass(frozen=True)
class Audit:
    ok: bool
    summary: str
    problems: tuple[str, ...]


class Explorer:
    """Read-only access to one ledger for the pages.

    Args:
        db_url: the ledger URL; opened (and migrated, as every command does) once, up front.
        mirror: the analytics mirror mode (``auto``, ``off``, ``require``; default: env
            ``REXNET_MIRROR``, else auto).
        progress_events: events left to copy into the mirror above which a page that reads DuckDB
            answers with a progress page instead of waiting (:mod:`rexnet.serve.mirroring`).
    """

    def __init__(
        self, db_url: str, *, mirror: str | None = None, progress_events: int = PROGRESS_EVENTS
    ) -> None:
        from rexnet.store import open_store
        from rexnet.store.database import parse_url

        self.db_url = db_url
        self.store = open_store(db_url, read_only=True)  # the explorer never writes
        # the URL as given and as opened (a read-only SQLite ledger is opened by another URL)
        self.redact = Redactor(parse_url(db_url), self.store.engine.url)
        self._lock = threading.Lock()
        self.duck = MirrorKeeper(db_url, self.store.list_runs, mirror=mirror, progress_events=progress_events)
        self._audits: dict[tuple[str, bytes], Audit] = {}
        self._timelines: OrderedDict[tuple[str, bytes], Timeline] = OrderedDict()
        self.cache: dict[tuple[str, str, bytes], Any] = {}

    def start(self, warm: Any = ()) -> None:
        """Bring the analytics mirror up to date in the background (the server's start), and call
        ``warm`` (callables) in another background thread."""
        self.duck.start(warm)

    def close(self) -> None:
        """Stop the timelines' background threads, then close the DuckDB side and the store."""
        with self._lock:
            timelines = list(self._timelines.values())
            self._timelines.clear()
        for timeline in timelines:
            timeline.stop()
        self.duck.close()
        self.store.close()

    # -- runs --------------------------------------------------------------------------------------
    def run(self, ref: str) -> RunInfo:
        """The run named by id or unique name (RunNotFound: a 404 page)."""
        return self.store.get_run(ref)

    def runs(self) -> list[dict[str, Any]]:
        """Every run as a row of the runs page, in fork-tree order (children under their parent)."""
        infos = self.store.list_runs()
        budget = AUDIT_INLINE_BUDGET
        children: dict[str | None, list[Any]] = {}
        ids = {r.run_id for r in infos}
        for info in infos:
            parent = info.parent_run_id if info.parent_run_id in ids else None
            children.setdefault(parent, []).append(info)
        rows: list[dict[str, Any]] = []

        def visit(parent: str | None, depth: int) -> None:
            nonlocal budget
            for info in children.get(parent, []):
                audit = self.cached_audit(info)
                if audit is None and info.events <= AUDIT_INLINE_EVENTS and info.events <= budget:
                    budget -= info.events
                    audit = self.audit(info)
                rows.append({**run_row(info), "depth": depth, "audit": audit})
                visit(info.run_id, depth + 1)

        visit(None, 0)
        return rows

    # -- audit -------------------------------------------------------------------------------------
    def cached_audit(self, run: RunInfo) -> Audit | None:
        return self._audits.get((run.run_id, run.head_hash))

    def audit(self, run: RunInfo) -> Audit:
        """The full audit of :func:`rexnet.app.audit.audit_run` (hash chain, reservations,
        settlements, conservation), cached by head hash."""
        key = (run.run_id, run.head_hash)
        found = self._audits.get(key)
        if found is None:
            result = audit_run(self.store, run)
            found = self._audits[key] = Audit(result.ok, result.summary, tuple(result.problems))
        return found

    # -- book replay -------------------------------------------------------------------------------
    def timeline(self, run: RunInfo) -> Timeline:
        key = (run.run_id, run.head_hash)
        with self._lock:
            timeline = self._timelines.get(key)
            if timeline is None:
                timeline = self._timelines[key] = Timeline(self.store, run)
                while len(self._timelines) > TIMELINES:
                    self._timelines.popitem(last=False)
            self._timelines.move_to_end(key)
        return timeline

    # -- DuckDB --------------------------------------------------------------------------------------
    def profile(self, run: RunInfo, agent: str, unit: int | None = None) -> dict[str, Any]:
        """The Plotly figure of ``agent``'s expected profile beside its reservations and
        realizations (:func:`rexnet.analytics.report.expected_profile` recomputes the profile from
        the scenario stored with the run). Both are kept per participant: the trail of another unit
        of the same participant only moves the unit's marker."""
        from rexnet.analytics.report import expected_profile
        from rexnet.serve.plots import participant_profile

        key = (f"profile:{agent}", run.run_id, run.head_hash)
        if key not in self.cache:
            rows = self.select(
                "SELECT unit, reserved, realized FROM settlements WHERE run_id = $run AND agent = $agent "
                "ORDER BY unit",
                [run.run_id],
                run=run.run_id,
                agent=agent,
            )
            self.cache[key] = (expected_profile(run, agent), rows)
        expected, rows = self.cache[key]
        return participant_profile(agent, expected, rows, unit)

    def named(self, name: str, run: RunInfo, **params: Any) -> list[dict[str, Any]]:
        """A named query of :mod:`rexnet.analytics.queries` as row dicts."""
        columns, rows = self.duck.run(lambda ax: ax.named_rows(name, run.run_id, **params))
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def select(self, sql: str, runs: list[str], **params: Any) -> list[dict[str, Any]]:
        """The explorer's own statements over the views of ``runs`` as row dicts (see :meth:`table`)."""
        columns, rows = self.table(sql, runs, **params)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def table(self, sql: str, runs: list[str], **params: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        """``(columns, rows)`` of one of the explorer's own statements over the views of ``runs``
        (run as the named queries are: RexNet's SQL, never the user's, so it needs no guard and
        never meets one that refuses catalogue functions)."""
        import duckdb

        from rexnet.analytics.duckdb_session import fetch, first_line
        from rexnet.analytics.errors import QueryError

        used = {k: v for k, v in params.items() if f"${k}" in sql}

        def query(analytics: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
            try:
                return fetch(analytics.session(runs), sql, used)
            except duckdb.Error as error:
                raise QueryError(first_line(error)) from None

        result: tuple[list[str], list[tuple[Any, ...]]] = self.duck.run(query)
        return result

    def has_column(self, view: str, column: str, runs: list[str]) -> bool:
        """Whether the catalogue has ``view`` with ``column`` (views other teams may add)."""
        found = self.select(
            "SELECT 1 AS found FROM duckdb_columns() WHERE table_name = $v AND column_name = $c",
            runs,
            v=view,
            c=column,
        )
        return bool(found)

    def sql(self, text: str, run_ref: str | None) -> dict[str, Any]:
        """The SQL console: ``text`` through :meth:`Analytics.rows`, the guard of ``rexnet sql``.

        Raises:
            ReadOnlyViolation, QueryError: shown as a 400 page with the guard's message.
        """
        if not text.strip():
            raise InputError("give a SQL query")
        columns, rows = self.duck.run(lambda ax: ax.rows(text, run=run_ref or None))
        shown = [[self.redact(plain(v)) for v in row] for row in rows[:SQL_ROWS]]
        return {"columns": columns, "rows": shown, "total": len(rows), "truncated": len(rows) > SQL_ROWS}


def run_row(info: RunInfo) -> dict[str, Any]:
    """What the pages show of a run (never the ledger's URL or path)."""
    scenario = info.scenario if isinstance(info.scenario, dict) else {}
    return {
        "run_id": info.run_id,
        "name": info.name,
        "status": info.status,
        "scenario": scenario.get("name") or scenario.get("kind") or "",
        "seed": info.seed,
        "events": info.events,
        "head_seq": info.head_seq,
        "head_hash": info.head_hash.hex(),
        "parent": info.parent_run_id,
        "fork_seq": info.fork_seq,
        "created_at": info.created_at,
        "code_version": info.code_version,
    }

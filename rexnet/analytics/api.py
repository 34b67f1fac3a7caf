"""The notebook/CLI entry point: :class:`Analytics`, read-only SQL over a ledger as DataFrames.

One :class:`Analytics` wraps one ledger URL. Sessions (DuckDB connections) are opened lazily,
one per run restriction, and closed with the object. Every user statement goes through
:func:`rexnet.analytics.guard.check_read_only` before it runs.

Sessions read the columnar mirror (:mod:`rexnet.analytics.mirror`), refreshed once when the first
session opens, unless it is switched off (``mirror="off"``, env ``REXNET_MIRROR=off``, the CLI's
``--no-mirror``) or cannot exist here, in which case they scan the ledger itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from rexnet.analytics import duckdb_session
from rexnet.analytics.catalogue import RUN_VIEWS, quote
from rexnet.analytics.errors import AnalyticsError, QueryError
from rexnet.analytics.guard import check_read_only

if TYPE_CHECKING:
    import pandas as pd

    from rexnet.store.records import RunInfo


#: row order of the exported views without a ``seq`` column
_EXPORT_ORDER = {"run_markets": "", "unit_prices": " ORDER BY unit", "imbalance": " ORDER BY unit"}


class Analytics:
    """Read-only analysis of one ledger.

    Args:
        db_url: the ledger URL (``sqlite:///PATH`` or ``postgresql://...``); migrated on first use.

    Example::

        with Analytics("sqlite:///rexnet.db") as ax:
            ax.query("SELECT unit, vwap FROM unit_prices WHERE run_id = $run", {"run": run_id})
            ax.named("system_balance", "demo")
    """

    def __init__(
        self, db_url: str, *, mirror: str | None = None, notify: Callable[[str], None] | None = None
    ) -> None:
        from rexnet.store import open_store
        from rexnet.store.database import parse_url

        self.mirror_mode = _mirror_mode(mirror)
        # checks reachability; a read-only SQLite ledger is opened without writing anything, an
        # out-of-date writable one is migrated (the views need revision 0003)
        self.store = open_store(db_url, read_only=True)
        self.url = parse_url(db_url)
        self._sessions: dict[tuple[str, ...] | None, duckdb.DuckDBPyConnection] = {}
        self._notify = notify or logging.getLogger(__name__).warning
        self._mirror: str | None = None
        self._mirror_tried = False

    @property
    def uses_mirror(self) -> bool:
        """Whether the sessions read the columnar mirror (refreshing it on first use)."""
        return self._mirror_file() is not None

    def _mirror_file(self) -> str | None:
        """The refreshed mirror's path, or None: scan the ledger (mode ``off`` or no mirror here)."""
        if self._mirror_tried:
            return self._mirror
        self._mirror_tried = True
        if self.mirror_mode == "off":
            return None
        from rexnet.analytics import mirror

        try:
            mirror.refresh(self.url, notify=self._notify)
            self._mirror = str(mirror.mirror_path(self.url))
        except mirror.MirrorUnavailable as error:
            self._mirror_unavailable(str(error))
        return self._mirror

    def _mirror_unavailable(self, reason: str) -> None:
        self._mirror = None
        if self.mirror_mode == "require":
            raise AnalyticsError(f"the analytics mirror cannot be used: {reason}")
        self._notify(f"the analytics mirror cannot be used ({reason}): reading the ledger directly")

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        for con in self._sessions.values():
            duckdb_session.close(con)
        self._sessions.clear()
        self.store.close()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- runs --------------------------------------------------------------------------------------
    def run(self, ref: str) -> RunInfo:
        """The :class:`~rexnet.store.RunInfo` named by id or unique name (RunNotFound: exit 2)."""
        return self.store.get_run(ref)

    def session(self, runs: Sequence[str] | None = None) -> duckdb.DuckDBPyConnection:
        """The locked DuckDB session whose views show only ``runs`` (all runs when None)."""
        key = None if runs is None else tuple(sorted(set(runs)))
        con = self._sessions.get(key)
        if con is None:
            con = self._sessions[key] = self._connect(key)
        return con

    def _connect(self, runs: Sequence[str] | None, *, locked: bool = True) -> duckdb.DuckDBPyConnection:
        mirror = self._mirror_file()
        if mirror is not None:
            from rexnet.analytics.mirror import MirrorUnavailable

            try:
                return duckdb_session.connect(self.url, runs=runs, locked=locked, mirror=mirror)
            except (AnalyticsError, MirrorUnavailable) as error:  # e.g. locked by a refresh meanwhile
                self._mirror_unavailable(str(error).removeprefix("cannot open the ledger in DuckDB: "))
        return duckdb_session.connect(self.url, runs=runs, locked=locked)

    # -- queries -----------------------------------------------------------------------------------
    def rows(
        self, sql: str, params: dict[str, Any] | None = None, *, run: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run read-only ``sql`` (several statements: the last one's result); ``(columns, rows)``.

        Args:
            sql: one or more queries over the views (``trades``, ``orders``, ...).
            params: DuckDB named parameters (``$name`` in the SQL).
            run: restrict the views to this run (id or name).

        Raises:
            ReadOnlyViolation: a statement is not a pure query.
            QueryError: DuckDB refused the SQL (its message).
        """
        statements = check_read_only(sql)
        con = self.session(None if run is None else [self.run(run).run_id])
        result: tuple[list[str], list[tuple[Any, ...]]] = ([], [])
        try:
            for statement in statements:
                result = duckdb_session.fetch(con, statement, params)
        except duckdb.Error as error:
            raise QueryError(duckdb_session.scrub(duckdb_session.first_line(error), self.url)) from None
        return result

    def query(
        self, sql: str, params: dict[str, Any] | None = None, *, run: str | None = None
    ) -> pd.DataFrame:
        """:meth:`rows` as a pandas DataFrame."""
        import pandas as pd

        columns, rows = self.rows(sql, params, run=run)
        return pd.DataFrame.from_records(rows, columns=columns)

    def named(self, name: str, run: str, **params: Any) -> pd.DataFrame:
        """A named query of :mod:`rexnet.analytics.queries` for ``run`` as a DataFrame."""
        import pandas as pd

        columns, rows = self.named_rows(name, run, **params)
        return pd.DataFrame.from_records(rows, columns=columns)

    def named_rows(self, name: str, run: str, **params: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        from rexnet.analytics.queries import run_named

        return run_named(self, name, self.run(run), params)

    # -- export ------------------------------------------------------------------------------------
    def export_parquet(
        self, run: str, out_dir: str | Path, *, views: Sequence[str] = RUN_VIEWS
    ) -> list[Path]:
        """Write one Parquet file per view with ``run``'s rows (full history for a fork).

        The files are written by RexNet's own ``COPY`` statements in an unlocked session that no
        user SQL ever reaches.
        """
        unknown = sorted(set(views) - set(RUN_VIEWS))
        if unknown:
            known = ", ".join(RUN_VIEWS)
            raise AnalyticsError(f"cannot export {', '.join(unknown)}: not a view (views: {known})")
        info = self.run(run)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        con = self._connect([info.run_id], locked=False)
        written = []
        try:
            for view in views:
                path = out / f"{view}.parquet"
                order = _EXPORT_ORDER.get(view, " ORDER BY seq")
                con.execute(
                    f"COPY (SELECT * FROM {view} WHERE run_id = {quote(info.run_id)}{order}) "
                    f"TO {quote(str(path))} (FORMAT parquet)"
                )
                written.append(path)
        except duckdb.Error as error:
            raise AnalyticsError(
                f"export of run {info.run_id} failed: {duckdb_session.first_line(error)}"
            ) from None
        finally:
            duckdb_session.close(con)
        return written


#: values of ``Analytics(mirror=...)`` and of the env variable ``REXNET_MIRROR``
MIRROR_MODES = ("auto", "off", "require")


def _mirror_mode(mode: str | None) -> str:
    """``auto`` (the mirror where it can exist), ``off`` (scan the ledger) or ``require`` (fail if
    the mirror cannot be used: for tests and benchmarks); default: env ``REXNET_MIRROR`` or auto."""
    value = (mode or os.environ.get("REXNET_MIRROR") or "auto").strip().lower()
    if value not in MIRROR_MODES:
        raise AnalyticsError(f"mirror mode {value!r} is not one of {', '.join(MIRROR_MODES)} (REXNET_MIRROR)")
    return value

"""Analysis across a sweep: one named query for every completed run, concatenated.

``rexnet sweep-query NAME SWEEP`` runs the named query ``NAME`` of :mod:`rexnet.analytics.queries`
(``rexnet query NAME RUN``) for each completed run of ``SWEEP`` and stacks the results with the
columns ``point``, ``seed`` and one column per grid key in front.

Where the runs are: a sweep into PostgreSQL keeps them all in the one ledger (one DuckDB session
serves every run). A sweep into SQLite keeps one file per run; their paths are in
``sweep_runs.db_url`` (``sqlite:///<absolute path>``), and each is a complete ledger that
``rexnet --db sqlite:///<path> ...`` and :class:`~rexnet.analytics.Analytics` open directly. Here
each file gets its own session; to read them together in plain DuckDB, attach them side by side::

    -- paths from: SELECT point_key, seed, run_id, db_url FROM sweep_runs WHERE sweep_id = '...'
    ATTACH '/data/sweep-x/settlement.penalty_price=1000.0-s1.db' AS r1 (TYPE sqlite, READ_ONLY);
    ATTACH '/data/sweep-x/settlement.penalty_price=3000.0-s1.db' AS r2 (TYPE sqlite, READ_ONLY);
    SELECT run_id, type, count(*) FROM (SELECT * FROM r1.event_log UNION ALL
                                        SELECT * FROM r2.event_log) GROUP BY ALL;

:func:`sweep_files` lists those files for tools that attach them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rexnet.errors import InputError
from rexnet.store import open_store
from rexnet.sweep.ledger import SweepLedger, SweepRun


def sweep_rows(db_url: str, sweep: str) -> tuple[dict[str, Any], list[SweepRun]]:
    """``(spec, runs)`` of the sweep called ``sweep`` (or named by a sweep file path).

    Raises:
        InputError: no such sweep.
    """
    name = _sweep_name(sweep)
    with open_store(db_url, read_only=True) as store:
        ledger = SweepLedger(store.engine)
        found = ledger.find(name)
        if found is None:
            known = [s["name"] for s in ledger.list_sweeps()]
            raise InputError(f"no sweep {name!r} in this ledger (have: {', '.join(known) or 'none'})")
        sweep_id, spec = found
        return spec, ledger.runs(sweep_id)


def _sweep_name(ref: str) -> str:
    """A sweep name, or the name inside a sweep file given by path."""
    path = Path(ref)
    if path.suffix == ".toml" and path.is_file():
        from rexnet.sweep.spec import load_sweep

        return load_sweep(path).name
    return ref


def sweep_files(db_url: str, sweep: str) -> list[dict[str, Any]]:
    """``[{"point", "seed", "run_id", "path"}]`` of a SQLite sweep's completed runs (path: the run's file)."""
    _, rows = sweep_rows(db_url, sweep)
    return [
        {
            "point": r.point_key,
            "seed": r.seed,
            "run_id": r.run_id,
            "path": r.db_url.removeprefix("sqlite:///") if r.db_url else None,
        }
        for r in rows
        if r.status == "completed"
    ]


def sweep_query(
    db_url: str, sweep: str, query: str, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]], list[SweepRun]]:
    """Named query ``query`` over every completed run of ``sweep``.

    Returns:
        ``(columns, rows, missing)``: ``point``, ``seed``, the grid keys, then the query's own
        columns; ``missing`` are the sweep's runs that are not completed (not queried).

    Raises:
        InputError: no such sweep, unknown query or parameter (from the analytics layer).
    """
    from rexnet.analytics import Analytics

    spec, runs = sweep_rows(db_url, sweep)
    grid = [key for key, _ in spec.get("grid", [])] or list(
        dict.fromkeys(key for point in spec.get("points", []) for key in point)
    )
    done = [r for r in runs if r.status == "completed" and r.run_id]
    missing = [r for r in runs if not (r.status == "completed" and r.run_id)]
    columns: list[str] | None = None
    out: list[tuple[Any, ...]] = []
    by_db: dict[str, list[SweepRun]] = {}
    for row in done:
        by_db.setdefault(row.db_url or db_url, []).append(row)
    for url, rows in by_db.items():
        with Analytics(url) as ax:
            for row in rows:
                cols, result = ax.named_rows(query, row.run_id, **params)
                if columns is None:
                    columns = cols
                front = (row.point_key, row.seed, *(row.params.get(k) for k in grid))
                out.extend(front + tuple(r) for r in result)
    order = {(r.point_key, r.seed): i for i, r in enumerate(done)}
    out.sort(key=lambda r: order[(r[0], r[1])])  # stable: each run's own row order is kept
    header = ["point", "seed", *grid, *(columns or [])]
    return header, out, missing

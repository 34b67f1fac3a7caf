"""Analysis of the ledger: SQL views, DuckDB sessions, named queries, Parquet export and reports.

Importing this package is cheap (the migrations import :mod:`rexnet.analytics.catalogue`);
DuckDB, pandas and matplotlib are imported only when a session, a query or a report needs them.

Example (a notebook)::

    from rexnet.analytics import Analytics

    with Analytics("sqlite:///rexnet.db") as ax:
        trades = ax.query("SELECT unit, price, qty FROM trades WHERE run_id = 'demo-id'")
        by_lead = ax.named("vwap_by_unit_lead", "demo", bucket=900)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Analytics", "AnalyticsError", "ReadOnlyViolation", "QueryError"]


def __getattr__(name: str) -> Any:
    if name == "Analytics":
        from rexnet.analytics.api import Analytics

        return Analytics
    if name in ("AnalyticsError", "ReadOnlyViolation", "QueryError"):
        from rexnet.analytics import errors

        return getattr(errors, name)
    raise AttributeError(name)

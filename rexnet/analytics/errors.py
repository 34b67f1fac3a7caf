"""Errors of the analytics package; all are bad user input (CLI exit code 2)."""

from __future__ import annotations

from rexnet.errors import InputError


class AnalyticsError(InputError):
    """A query or report cannot be done (unknown named query, missing extension, bad parameter)."""


class ReadOnlyViolation(AnalyticsError):
    """A statement would change something or reach outside the ledger: refused before it runs."""


class QueryError(AnalyticsError):
    """DuckDB refused the SQL (syntax, unknown column, type error); the message is DuckDB's."""

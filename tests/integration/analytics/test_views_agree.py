"""One definition, three engines: the ledger's SQLite views and the DuckDB session's views agree."""

from __future__ import annotations

import sqlite3

import pytest

from rexnet.analytics import Analytics
from rexnet.analytics.catalogue import RUN_VIEWS


def normalised(rows):
    out = []
    for row in rows:
        out.append(tuple(round(v, 9) if isinstance(v, float) else v for v in row))
    return sorted(out, key=repr)


@pytest.mark.parametrize("view", RUN_VIEWS)
def test_sqlite_views_and_duckdb_views_return_the_same_rows(forked, view):
    url, parent, fork = forked
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        cursor = con.execute(f"SELECT * FROM {view}")
        columns = [d[0] for d in cursor.description]
        expected = normalised(cursor.fetchall())
    finally:
        con.close()
    with Analytics(url) as ax:
        got_columns, got = ax.rows(f"SELECT * FROM {view}")
    assert got_columns == columns
    assert normalised(got) == expected

"""No page of the explorer shows a PostgreSQL password, whatever is asked of it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from serve_ledger import build

pytestmark = pytest.mark.pg

PASSWORD = "s3cr3t-Pw-9731"


def with_password(url: str) -> str:
    """The test URL with a password (the test server trusts local connections, so it is ignored)."""
    return sa.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def test_no_password_in_any_page(pg_url, tmp_path):
    from starlette.testclient import TestClient

    from rexnet.serve import create_app

    url = with_password(pg_url)
    runs = build(url, tmp_path)
    demo, p, f = (runs[n]["run_id"] for n in ("demo", "p", "f"))
    paths = [
        "/",
        f"/runs/{p}",
        f"/runs/{p}/book",
        f"/runs/{p}/book.json?seq=100",
        f"/runs/{demo}/trail?agent=a&unit=2",
        f"/runs/{f}/fork",
        f"/runs/{demo}/audit",
        "/runs/nope",
        "/runs/demo/book?seq=x",
        "/sql?q=SELECT+count(*)+FROM+events",
    ]
    probes = [
        "SELECT * FROM duckdb_databases()",
        "SELECT path FROM duckdb_databases()",
        "PRAGMA database_list",
        "SELECT * FROM postgres_query('ledger', 'SELECT 1')",
        "SELECT current_setting('pg_connection_limit')",
        "SELECT * FROM duckdb_settings()",
    ]
    with TestClient(create_app(url), raise_server_exceptions=False) as client:
        bodies = [(path, client.get(path)) for path in paths]
        bodies += [(sql, client.get("/sql", params={"q": sql})) for sql in probes]
    for what, response in bodies:
        assert response.status_code < 500, (what, response.text[:300])
        assert PASSWORD not in response.text, what
        assert url not in response.text, what
    # the pages did render real content from the PostgreSQL ledger
    assert any(f"{p}" in r.text for _, r in bodies[:1])

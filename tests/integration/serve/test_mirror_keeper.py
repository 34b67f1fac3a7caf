"""The explorer brings the analytics mirror up to date itself, in the background, never the ledger.

At start it copies what the mirror lacks; a page that reads DuckDB while many events are left to
copy is answered at once by a progress page (503, ``Retry-After``, a page that reloads itself),
while the pages that do not read DuckDB are served; a run recorded while the explorer is up is
copied when a page next reads DuckDB. Here a refresh is held back by holding the keeper's lock, and
``progress_events=0`` makes any copy count as a large one.
"""

from __future__ import annotations

import sqlite3
import threading

from serve_ledger import invoke_json

from rexnet.serve.mirroring import mirrored_rows, own_events, pending_events
from rexnet.store import open_store
from rexnet.store.database import parse_url


def _copy(ledger, tmp_path):
    """A copy of the test ledger without a mirror (``(url, path)``)."""
    path = tmp_path / "copy.db"
    con, out = sqlite3.connect(ledger[1]), sqlite3.connect(path)
    con.backup(out)
    con.close()
    out.close()
    return f"sqlite:///{path}", path


def _dump(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def _runs(url):
    with open_store(url) as store:
        return store.list_runs()


def test_the_explorer_fills_the_mirror_at_start(ledger, tmp_path):
    from starlette.testclient import TestClient

    from rexnet.serve import create_app

    url, path = _copy(ledger, tmp_path)
    before = _dump(path)
    assert mirrored_rows(parse_url(url)) is None
    assert pending_events(_runs(url), parse_url(url)) == sum(own_events(_runs(url)).values()) > 0
    app = create_app(url)
    with TestClient(app, raise_server_exceptions=False):
        keeper = app.state.explorer.duck
        keeper.wait()  # the refresh the start began, with no page asking
        assert mirrored_rows(parse_url(url)) == own_events(_runs(url))
        assert pending_events(_runs(url), parse_url(url)) == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("explorer-")]
    assert _dump(path) == before  # the ledger itself is untouched


def test_a_large_copy_answers_with_a_progress_page(ledger, tmp_path):
    from starlette.testclient import TestClient

    from rexnet.serve.app import create_app
    from rexnet.serve.explorer import Explorer

    url, _ = _copy(ledger, tmp_path)
    explorer = Explorer(url, progress_events=0)
    keeper = explorer.duck
    app = create_app(url, explorer=explorer)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            with keeper.lock:  # the refresh cannot begin copying
                for path in ("/runs/p", "/runs/f/fork", "/sql?q=SELECT+1"):
                    response = client.get(path)
                    assert response.status_code == 503, path
                    assert response.headers["retry-after"] == "2"
                    assert '<meta http-equiv="refresh" content="2">' in response.text
                    assert "being brought up to date" in response.text and "events to copy" in response.text
                assert client.get("/runs/p/book.json?seq=3").status_code == 200
                # what does not read DuckDB is served meanwhile
                assert client.get("/").status_code == 200
                assert client.get("/runs/p/book?seq=5").status_code == 200
            keeper.wait()
            page = client.get("/runs/p")
            assert page.status_code == 200 and 'id="summary"' in page.text
    finally:
        explorer.close()
    assert not [t for t in threading.enumerate() if t.name.startswith(("explorer-", "timeline-"))]


def test_a_run_recorded_later_is_copied_when_a_page_reads_duckdb(ledger, tmp_path):
    from starlette.testclient import TestClient

    from rexnet.serve import create_app

    url, _ = _copy(ledger, tmp_path)
    stream = tmp_path / "s.jsonl"
    stream.write_text(
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40, "qty": 1}\n'
    )
    app = create_app(url)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/runs/p").status_code == 200
        later = invoke_json(url, "ingest", str(stream), "--name", "later")
        assert later["run_id"] not in (mirrored_rows(parse_url(url)) or {})
        assert client.get(f"/runs/{later['run_id']}").status_code == 200
        assert mirrored_rows(parse_url(url)) == own_events(_runs(url))

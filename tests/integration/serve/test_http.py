"""The explorer over HTTP (Starlette's test client): every page answers, and it is safe by default.

Safe means: GET only (anything else is 405 and the ledger is unchanged), unknown runs and
participants are 404 pages, bad parameters 400 pages, never a stack trace, and no page shows the
database password or the server's ledger path (the PostgreSQL case is in ``test_secrets_pg``).
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from serve_ledger import invoke_json

from rexnet.analytics import Analytics


def pages(runs: dict[str, dict]) -> list[str]:
    demo, p, f = (runs[n]["run_id"] for n in ("demo", "p", "f"))
    return [
        "/",
        "/sql",
        "/sql?q=SELECT+unit%2C+vwap+FROM+unit_prices+ORDER+BY+unit",
        f"/sql?q=SELECT+count(*)+AS+n+FROM+trades&run={p}",
        *(f"/runs/{r}" for r in (demo, p, f)),
        *(f"/runs/{r}/book" for r in (demo, p, f)),
        f"/runs/{p}/book?seq=0",
        f"/runs/{p}/book?t=1800",
        f"/runs/{p}/book.json?seq=-1",
        "/runs/demo/book.json?seq=7",
        f"/runs/{demo}/trail",
        f"/runs/{demo}/trail?agent=a&unit=2",
        f"/runs/{demo}/audit",
        f"/runs/{f}/fork",
        "/static/plotly.min.js",
        "/static/book.js",
    ]


def ledger_dump(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_every_page_answers(client, ledger):
    for path in pages(ledger[2]):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "Traceback" not in response.text


def test_pages_are_local_only(client, ledger):
    p = ledger[2]["p"]["run_id"]
    page = client.get(f"/runs/{p}").text
    assert '<script src="/static/plotly.min.js"' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp


def test_only_get_no_route_writes(client, ledger):
    before = ledger_dump(ledger[1])
    for path in pages(ledger[2]):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert "read-only" in response.text or path.startswith("/static")
    assert ledger_dump(ledger[1]) == before


def test_sql_console_is_read_only(client, ledger):
    before = ledger_dump(ledger[1])
    for sql in (
        "DELETE FROM event_log",
        "UPDATE runs SET status = 'failed'",
        "ATTACH 'x.db' AS x",
        "COPY (SELECT 1) TO 'out.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "CREATE TABLE t AS SELECT 1",
    ):
        response = client.get("/sql", params={"q": sql})
        assert response.status_code == 400, (sql, response.text[:300])
        assert "read-only" in response.text or "refused" in response.text
    assert ledger_dump(ledger[1]) == before
    ok = client.get("/sql", params={"q": "SELECT count(*) AS n FROM trades", "run": "p"})
    with Analytics(ledger[0]) as ax:
        (n,), *_ = ax.rows("SELECT count(*) FROM trades", run="p")[1]
    assert f"<td>{n}</td>" in ok.text


@pytest.mark.parametrize(
    "path",
    ["/runs/nope", "/runs/nope/book", "/runs/nope/trail?agent=a&unit=2", "/runs/nope/fork", "/nothing/here"],
)
def test_unknown_things_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text or "Not Found" in response.text
    assert "Traceback" not in response.text


def test_unknown_participant_is_404(client):
    response = client.get("/runs/demo/trail", params={"agent": "zz", "unit": 2})
    assert response.status_code == 404
    assert "has no orders, trades, reservation or settlement in unit 2" in response.text


def test_book_json_errors_are_json(client):
    assert client.get("/runs/nope/book.json").json() == {"error": "no run 'nope'"}
    response = client.get("/runs/demo/book.json?seq=x")
    assert response.status_code == 400 and "must be an integer" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/runs/p/book?seq=abc", "parameter seq must be an integer"),
        ("/runs/p/book?seq=99999999", "has no seq 99999999"),
        ("/runs/p/book?seq=-5", "has no seq -5"),
        ("/runs/p/book?t=-1", "must be a time in seconds"),
        ("/runs/p/book?t=nan", "must be a time in seconds"),
        ("/runs/p/book?t=1e400", "must be a time in seconds"),
        ("/runs/p/book?seq=1&t=1", "give seq or t, not both"),
        ("/runs/p/book?seq=" + "9" * 40, "out of range"),
        ("/runs/demo/trail?agent=a&unit=two", "parameter unit must be an integer"),
        ("/runs/demo/trail?agent=a&unit=-1", "unit -1 is negative"),
        ("/runs/demo/trail?unit=2", "give a participant"),
        ("/runs/p/fork", "is not a fork"),
        ("/sql?q=SELEC+1", "syntax error"),
        ("/sql?q=+", "give a SQL query"),
        ("/sql?q=SELECT+1&run=nope", "no run"),
    ],
)
def test_bad_parameters_are_400_pages(client, path, message):
    response = client.get(path)
    expected = 404 if message == "no run" else 400
    assert response.status_code == expected, response.text[:500]
    assert message in response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_no_server_path_in_any_page(client, ledger):
    url, path, runs = ledger
    bodies = [client.get(p).text for p in pages(runs) if not p.startswith("/static")]
    bodies += [
        client.get(p).text
        for p in (
            "/runs/nope",
            "/sql?q=SELECT+*+FROM+ledger.event_log+LIMIT+1",
            "/sql?q=SELEC",
            "/runs/p/book?seq=x",
        )
    ]
    # what a user might try to learn the ledger's location with: refused or redacted, never shown
    for sql in (
        "SELECT * FROM duckdb_databases()",
        "PRAGMA database_list",
        "SELECT current_setting('temp_directory')",
    ):
        bodies.append(client.get("/sql", params={"q": sql}).text)
    for body in bodies:
        assert str(path) not in body
        assert str(path.parent) not in body
        assert url not in body


def test_trail_works_the_floor_rule_again(client):
    page = client.get("/runs/demo/trail", params={"agent": "a", "unit": 2}).text
    # a's settlement (worked by hand in serve_ledger): shortfall 0.1 kW, penalty 0.075, net -0.07
    for figure, value in (
        ("shortfall", "0.1 kW"),
        ("penalty", "0.075"),
        ("net cash", "-0.07"),
        ("trade cash", "0.005"),
    ):
        row = page.split(f'data-figure="{figure}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num value">{value}</td>' in row, (figure, row)
        assert '<span class="ok">=</span>' in row
    assert "differs" not in page
    assert "sold 0.5 kW at 40 (counterparty b)" in page


def test_a_run_recorded_later_shows_up(tmp_path):
    from starlette.testclient import TestClient

    from rexnet.serve import create_app

    url = f"sqlite:///{tmp_path / 'later.db'}"
    stream = tmp_path / "s.jsonl"
    stream.write_text(
        '{"t": 0, "op": "limit", "agent": "a", "ref": "o1", "side": "sell", "unit": 2, "price": 40, "qty": 1}\n'
    )
    first = invoke_json(url, "ingest", str(stream), "--name", "one")
    with TestClient(create_app(url), raise_server_exceptions=False) as client:
        count = "/sql?q=SELECT+count(*)+AS+n+FROM+runs"
        assert "<td>1</td>" in client.get(count).text
        second = invoke_json(url, "ingest", str(stream), "--name", "two")
        assert "<td>2</td>" in client.get(count).text
        page = client.get("/").text
        assert first["run_id"] in page and second["run_id"] in page
        assert client.get(f"/runs/{second['run_id']}").status_code == 200
        assert client.get(f"/runs/{second['run_id']}/book").status_code == 200  # starts a warm-up thread
    # shutting the explorer down ends its threads (the replay's chain check forks only when alone)
    assert not [t for t in threading.enumerate() if t.name.startswith("timeline-")]


def test_trail_shows_the_expected_profile_beside_reservations_and_realizations(client, ledger):
    import json

    from rexnet.analytics.report import expected_profile
    from rexnet.store import open_store

    url, _, runs = ledger
    run_id = runs["p"]["run_id"]
    with open_store(url) as store:
        run = store.get_run(run_id)
    agent = next(g for g in ("household-000", "household-001", "solar-000") if expected_profile(run, g))
    page = client.get(f"/runs/{run_id}/trail", params={"agent": agent, "unit": 9}).text
    figure = json.loads(
        page.split('<script type="application/json" id="fig-profile">', 1)[1].split("</script>")[0]
    )
    traces = {t["name"]: t for t in figure["data"]}
    expected = expected_profile(run, agent)
    assert traces["expected"]["x"] == [u for u, _ in expected]
    assert traces["expected"]["y"] == pytest.approx([kw for _, kw in expected])
    assert any(y for y in traces["expected"]["y"])  # the profile models give a non-zero shape
    assert traces["reservation e"]["x"] and traces["realization x"]["x"]

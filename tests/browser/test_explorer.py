"""The explorer in a real browser: each page of a small recorded run, checked against the ledger.

One headless Chromium and one explorer serve every test of the module. The checks read the
ledger through the library (the fold for books, the SQL views for trades and settlements) and
compare with what the page shows; the scrubber test moves the time slider and steps by an event
and sees the book change to the ledger's state at the new point.
"""

from __future__ import annotations

import pytest
from browser_helpers import REQUESTS, screenshot
from playwright.sync_api import expect

from rexnet.analytics import Analytics
from rexnet.replay.projection import book_view, engine_as_of
from rexnet.serve.fmt import plain
from rexnet.serve.timeline import seq_at, t_ms_of
from rexnet.store import open_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def store(ledger):
    store = open_store(ledger[0])
    yield store
    store.close()


def rows(url: str, sql: str, run: str) -> list[tuple]:
    with Analytics(url) as ax:
        return ax.rows(sql, run=run)[1]


def shown_books(page) -> dict[int, list[tuple[str, str]]]:
    """Unit -> [(best bid, best ask)] rows of the book tables as shown."""
    out = {}
    for table in page.locator("table.book").all():
        unit = int(table.get_attribute("data-unit"))
        out[unit] = [
            (r.locator("td.bid").inner_text(), r.locator("td.ask").inner_text())
            for r in table.locator("tbody tr").all()
        ]
    return out


def ledger_books(store, run, seq: int) -> dict[int, list[tuple[str, str]]]:
    engine = engine_as_of(store, run, at_seq=seq)
    out = {}
    for unit in sorted(engine.open_units()):
        view = book_view(engine, unit)
        bids, asks = view["bids"][:10], view["asks"][:10]
        out[unit] = [
            (
                plain(bids[i]["price"]) if i < len(bids) else "",
                plain(asks[i]["price"]) if i < len(asks) else "",
            )
            for i in range(max(len(bids), len(asks), 1))
        ]
    return out


def test_runs_page(page, site, ledger, store, shots):
    page.goto(site + "/")
    for name, summary in ledger[1].items():
        row = page.locator(f"tr[data-run='{summary['run_id']}']")
        assert row.locator("td").nth(1).inner_text() == name
        assert row.locator("code").get_attribute("title") == store.get_run(name).head_hash.hex()
        assert row.locator("td.audit").inner_text().strip() == "ok"
    fork = page.locator(f"tr[data-run='{ledger[1]['f']['run_id']}']")
    assert fork.locator("td.tree").inner_text().startswith("└")
    assert fork.locator("td").nth(7).inner_text() == ledger[1]["p"]["run_id"]
    screenshot(page, shots, "runs")


def test_overview_draws_every_plot(page, site, ledger, shots):
    page.goto(f"{site}/runs/p")
    for key in ("heatmap", "vwap_lead", "reservation", "balance", "costs"):
        page.wait_for_selector(f"#plot-{key} .main-svg")
    (trades,) = rows(ledger[0], "SELECT count(*) FROM trades", "p")[0]
    assert page.locator("#summary td").first.inner_text() == str(trades)
    assert page.locator("#plot-heatmap .heatmaplayer").count() == 1
    screenshot(page, shots, "overview")


def test_book_scrubber_follows_the_ledger(page, site, store, shots):
    run = store.get_run("p")
    seq = seq_at(store, run, 2_700_000)
    page.goto(f"{site}/runs/p/book?seq={seq}")
    before = shown_books(page)
    assert before == ledger_books(store, run, seq)
    assert any(bid for levels in before.values() for bid, _ in levels), "no resting bid to compare"
    # the tape's last trade at or before the point is the ledger's
    (last,) = [r for r in store.read(run.run_id, to_seq=seq, types={"trade"})][-1:]
    tape = page.locator("#tape tbody tr:not(.after)").last
    assert tape.locator("td").first.inner_text() == str(last.seq)
    assert tape.locator("td").nth(3).inner_text() == plain(run_spec_price(run, last.event().price))
    screenshot(page, shots, "book-before")

    target = t_ms_of(store, run, seq) // 1000 + 1800  # half an hour on: gates closed, units opened
    page.evaluate(
        "t => { const s = document.getElementById('time'); s.value = t; s.dispatchEvent(new Event('input')); }",
        target,
    )
    moved = seq_at(store, run, target * 1000)
    expect(page.locator("#seq")).to_have_text(str(moved))
    after = shown_books(page)
    assert after == ledger_books(store, run, moved)
    assert after != before
    assert f"?seq={moved}" in page.url
    screenshot(page, shots, "book-after")

    page.click("#next")
    expect(page.locator("#seq")).to_have_text(str(moved + 1))
    assert shown_books(page) == ledger_books(store, run, moved + 1)


def run_spec_price(run, ticks):
    from rexnet.replay.projection import run_spec

    return run_spec(run).price_display(ticks)


def test_settlement_trail_against_the_ledger(page, site, ledger, shots):
    # the hand-worked demo: a pays a penalty of 0.075 in unit 2
    page.goto(f"{site}/runs/demo/trail?agent=a&unit=2")
    penalty = page.locator("tr[data-figure='penalty']")
    assert penalty.locator("td.recorded").inner_text() == "0.075"
    assert page.locator("#arithmetic .bad").count() == 0
    assert page.locator("#arithmetic .ok").count() == 8
    screenshot(page, shots, "trail-demo")
    # a simulated participant with a shortfall: every figure as the settlements view has it
    agent, unit, shortfall, pen, net = rows(
        ledger[0],
        "SELECT agent, unit, shortfall, penalty, net_cash FROM settlements "
        "WHERE agent <> 'system' AND penalty > 0 ORDER BY seq LIMIT 1",
        "p",
    )[0]
    page.goto(f"{site}/runs/p/trail?agent={agent}&unit={unit}")
    figure = {
        name: page.locator(f"tr[data-figure='{name}'] td.recorded").inner_text()
        for name in ("shortfall", "penalty", "net cash")
    }
    assert float(figure["shortfall"].removesuffix(" kW")) == shortfall
    assert float(figure["penalty"]) == pen and float(figure["net cash"]) == net
    assert page.locator("#arithmetic .bad").count() == 0
    # each line links to its seq: follow the first trade to the book at that seq
    link = page.locator("#trail tbody tr").first.locator("a")
    seq = link.inner_text()
    link.click()
    page.wait_for_selector("#scrubber")
    assert page.locator("#seq").inner_text() == seq
    screenshot(page, shots, "trail-sim")


def test_fork_vs_parent(page, site, store, shots):
    fork, parent = store.get_run("f"), store.get_run("p")
    diverge = next(
        a.seq
        for a, b in zip(
            store.read(fork.run_id), store.read(parent.run_id, from_seq=fork.fork_seq + 1), strict=False
        )
        if a.hash != b.hash
    )
    page.goto(f"{site}/runs/f/fork")
    assert f"They diverge at seq {diverge}" in page.locator("#divergence").inner_text()
    page.wait_for_selector("#plot-fork .main-svg")
    assert page.locator("#fork-costs tbody tr").count() >= 1
    screenshot(page, shots, "fork")


def test_sql_console(page, site, ledger, shots):
    page.goto(f"{site}/sql")
    page.fill("textarea[name=q]", "SELECT count(*) AS n FROM settlements WHERE agent = 'system'")
    page.fill("input[name=run]", "p")
    page.click("#sql-form button")
    page.wait_for_selector("#sql-result")
    (n,) = rows(ledger[0], "SELECT count(*) FROM settlements WHERE agent = 'system'", "p")[0]
    assert page.locator("#sql-result tbody td").first.inner_text() == str(n)
    page.fill("textarea[name=q]", "DELETE FROM event_log")
    page.click("#sql-form button")
    assert "read-only" in page.locator("#error-message").inner_text()
    screenshot(page, shots, "sql")


def test_error_pages(page, site, shots):
    response = page.goto(f"{site}/runs/nope/book")
    assert response.status == 404
    response = page.goto(f"{site}/runs/p/book?seq=oops")
    assert response.status == 400 and "must be an integer" in page.locator("#error-message").inner_text()
    screenshot(page, shots, "error")


def test_the_browser_asked_only_the_explorer(site):
    assert REQUESTS, "no request recorded"
    outside = [
        u for u in REQUESTS if not u.startswith(site) and not u.startswith(("data:", "blob:", "about:"))
    ]
    assert not outside, outside

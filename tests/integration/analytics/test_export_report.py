"""``rexnet export --parquet`` and ``rexnet report``: files that exist and read back."""

from __future__ import annotations

import duckdb
from analytics_helpers import ingest, invoke

from rexnet.analytics.catalogue import RUN_VIEWS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_export_writes_one_parquet_file_per_view_for_the_run(ledger, tmp_path):
    url, run = ledger
    ingest(url, tmp_path, name="other")  # must not leak into the export
    out = tmp_path / "pq"
    result = invoke(url, "export", "demo", "--parquet", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{v}.parquet" for v in RUN_VIEWS)
    con = duckdb.connect()
    runs = con.execute(
        f"SELECT DISTINCT run_id FROM read_parquet('{out}/*.parquet', union_by_name=true)"
    ).fetchall()
    assert runs == [(run,)]
    trades = con.execute(
        f"SELECT unit, price, qty, buyer FROM read_parquet('{out / 'trades.parquet'}')"
    ).fetchall()
    assert trades == [(2, 40.0, 0.5, "b")]
    settled = con.execute(
        f"SELECT agent, net_cash FROM read_parquet('{out / 'settlements.parquet'}') "
        "WHERE unit = 2 ORDER BY agent"
    ).fetchall()
    assert settled == [("a", -0.07), ("b", -0.005), ("system", 0.075)]
    events = con.execute(
        f"SELECT COUNT(*), MIN(seq), MAX(seq) FROM read_parquet('{out / 'events.parquet'}')"
    ).fetchone()
    assert events[0] == events[2] + 1 and events[1] == 0


def check_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert len(data) > 5000, (path, len(data))


def test_report_writes_html_and_valid_pngs(ledger, tmp_path):
    url, run = ledger
    out = tmp_path / "report"
    result = invoke(url, "report", "demo", "--out", str(out), "--depth-time", "2")
    assert result.exit_code == 0, result.output
    index = out / "index.html"
    html = index.read_text()
    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} == {
        "price_heatmap.png",
        "reservation_vs_realization.png",
        "costs_by_type.png",
        "depth_profile.png",
        "system_balance.png",
    }
    for png in pngs:
        check_png(png)
        assert f"src='{png.name}'" in html
    assert run in html and "Depth profile at t = 2 s" in html


def test_report_of_a_fork_compares_with_its_parent(forked, tmp_path):
    url, parent, fork = forked
    out = tmp_path / "report"
    result = invoke(url, "report", "fork", "--out", str(out))
    assert result.exit_code == 0, result.output
    check_png(out / "fork_vs_parent.png")
    html = (out / "index.html").read_text()
    assert "Fork vs parent" in html and parent in html


def test_report_of_an_unknown_run_is_exit_2(ledger, tmp_path):
    url, _ = ledger
    result = invoke(url, "report", "nope", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "nope" in result.output

"""Groups and attributes end to end: a labelled scenario, its agent_registered events, the
``agents`` view on SQLite, DuckDB and PostgreSQL, and the registrations a fork adds."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

from rexnet.analytics import Analytics
from rexnet.app.simulate import run_scenario
from rexnet.sim.scenario import parse_scenario
from rexnet.store import open_store

SCENARIO = {
    "name": "labelled",
    "run": {"units": 2},
    "population": [
        {
            "kind": "household",
            "count": 2,
            "annual_kwh": 4380.0,
            "group": "estate",
            "attributes": {"income": "low", "size": 2},
        },
        {"kind": "household", "count": 1, "annual_kwh": 7008.0},
        {"kind": "wind", "count": 1, "capacity_kw": 3.0},
        {"kind": "zi_buyer", "count": 1, "value": 95.5, "max_kw": 0.5},
        {"kind": "storage", "count": 1, "energy_kwh": 5.0, "power_kw": 2.0},
    ],
    "tariff": {"flat": 250.0},
}

EXPECTED = [
    # agent, kind, group, attributes, strategy, capacity, demand, mean load, cost, value, storage kWh
    (
        "household-001",
        "household",
        "estate",
        {"income": "low", "size": 2},
        "target",
        None,
        None,
        0.5,
        None,
        None,
        None,
    ),
    (
        "household-002",
        "household",
        "estate",
        {"income": "low", "size": 2},
        "target",
        None,
        None,
        0.5,
        None,
        None,
        None,
    ),
    ("household-003", "household", "household", {}, "target", None, None, 0.8, None, None, None),
    ("storage-001", "storage", "storage", {}, "target", 2.0, 2.0, None, None, None, 5.0),
    ("wind-001", "wind", "wind", {}, "target", 3.0, None, None, None, None, None),
    ("zi_buyer-001", "zi_buyer", "zi_buyer", {}, "zi", None, 0.5, None, None, 95.5, None),
]
COLUMNS = "agent, kind, group_name, attributes, strategy, capacity_kw, demand_kw, mean_load_kw, cost, value, storage_kwh"


def simulate(url):
    store = open_store(url)
    try:
        return run_scenario(store, parse_scenario(SCENARIO, source="test")).run_id
    finally:
        store.close()


def normal(rows):
    return sorted((r[0], *r[1:3], json.loads(r[3]), *r[4:]) for r in rows)


def test_registrations_follow_run_started(sqlite_url):
    run = simulate(sqlite_url)
    with open_store(sqlite_url) as store:
        head = [row.event() for row in store.read(run, to_seq=6)]
    assert head[0].TYPE == "run_started" and head[0].scenario["tariff"] == {"flat": 250.0, "tou": []}
    assert [e.agent for e in head[1:]] == [row[0] for row in EXPECTED]
    assert {e.t for e in head[1:]} == {0}


def test_agents_view_on_sqlite_and_duckdb(sqlite_url):
    run = simulate(sqlite_url)
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        direct = con.execute(f"SELECT {COLUMNS} FROM agents WHERE run_id = ?", (run,)).fetchall()
    finally:
        con.close()
    with Analytics(sqlite_url) as ax:
        _, duck = ax.rows(f"SELECT {COLUMNS} FROM agents WHERE run_id = $r", {"r": run})
    assert normal(direct) == normal(duck) == EXPECTED


@pytest.mark.pg
def test_agents_view_and_a_metric_on_postgresql(pg_url):
    run = simulate(pg_url)
    libpq = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq) as con:
        direct = con.execute(f"SELECT {COLUMNS} FROM agents WHERE run_id = %s", (run,)).fetchall()
    assert normal(direct) == EXPECTED
    with Analytics(pg_url) as ax:
        columns, rows = ax.named_rows("tariff_comparison", run)
    bills = {r[columns.index("agent")]: r for r in rows}
    for row in bills.values():  # flat 250 currency/MWh = 0.25 currency/kWh for every consumer
        assert row[columns.index("flat_per_kwh")] == pytest.approx(0.25)
    assert "household-001" in bills


def test_a_fork_registers_the_members_it_adds_and_changes(sqlite_url):
    from rexnet.app.operations import fork_run, verify_run

    run = simulate(sqlite_url)
    with open_store(sqlite_url) as store:
        sets = ["population[3].count=2", "population[3].value=80.0"]
        fork_id = fork_run(store, store.get_run(run), at_time=600.0, sets=sets, name="more").run_id
        verify_run(store, store.get_run(fork_id))  # re-execution gives the same registrations
    with Analytics(sqlite_url) as ax:
        _, rows = ax.rows(
            "SELECT agent, t, value FROM agents WHERE run_id = $r AND kind = 'zi_buyer' ORDER BY agent",
            {"r": fork_id},
        )
    # the changed member re-registered at the fork time, the new one joined then
    assert rows == [("zi_buyer-001", 600.0, 80.0), ("zi_buyer-002", 600.0, 80.0)]

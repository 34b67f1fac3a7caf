"""A participant's expected profile comes back from the ledger alone (the stored scenario) and
shows in ``rexnet report`` beside its reservations and realizations."""

from __future__ import annotations

import pytest

from rexnet.analytics.report import expected_profile, write_report
from rexnet.app.operations import fork_run
from rexnet.app.simulate import run_scenario, with_overrides
from rexnet.sim.profiles import expected_kw
from rexnet.sim.scenario import load_scenario
from rexnet.store import open_store

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('profiles') / 'rexnet.db'}"
    store = open_store(url)
    scenario = with_overrides(load_scenario("winter_day"), units=12, seed=3)
    summary = run_scenario(store, scenario, name="winter")
    return url, store, scenario, summary.run_id


def test_expected_profile_is_recomputed_from_the_stored_scenario(ledger):
    _, store, scenario, run_id = ledger
    run = store.get_run(run_id)
    for agent in ("household-001", "solar-003", "wind-002"):
        got = expected_profile(run, agent)
        assert got == expected_kw(scenario, agent)
        assert [u for u, _ in got] == list(range(scenario.first_unit(), scenario.first_unit() + 12))
    assert all(kw < 0 for _, kw in expected_profile(run, "household-001"))
    assert all(kw == 0.0 for _, kw in expected_profile(run, "solar-001"))  # 02:00-05:00 in January
    assert expected_profile(run, "storage-001") == [] and expected_profile(run, "nobody") == []


def test_a_fork_changes_the_expected_profile_of_the_changed_group(ledger):
    _, store, scenario, run_id = ledger
    parent = store.get_run(run_id)
    fork = fork_run(store, parent, at_time=4000, sets=["population.household.annual_kwh=8000.0"])
    child = store.get_run(fork.run_id)
    before = dict(expected_profile(parent, "household-002"))
    after = dict(expected_profile(child, "household-002"))
    assert after.keys() == before.keys()
    assert all(after[u] == pytest.approx(2 * before[u]) for u in before)


def test_report_plots_expected_profiles_for_a_simulated_run(ledger, tmp_path):
    from rexnet.analytics.api import Analytics

    url, _, _, run_id = ledger
    with Analytics(url) as analytics:
        index = write_report(analytics, run_id, tmp_path / "r")
    png = tmp_path / "r" / "profiles.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert "profiles.png" in index.read_text()

"""Expected profiles from demandlib, pvlib and windpowerlib (rexnet.sim.profiles), checked
against the libraries' own data and definitions rather than against RexNet's numbers."""

from __future__ import annotations

import datetime as dt
import math
import os
import re

import numpy as np
import pandas as pd
import pytest

from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError
from rexnet.sim.profiles import shape_for, turbine, turbine_types
from rexnet.sim.scenario import HouseholdGroup, SiteSection, SolarGroup, WindGroup, parse_scenario
from rexnet.sim.simulation import build_client

SPEC = MarketSpec()
KASSEL = SiteSection(latitude=51.32, longitude=9.5, timezone="Europe/Berlin", date=dt.date(2026, 1, 14))


def _bdew_raw() -> pd.DataFrame:
    """The BDEW table as demandlib ships it: kW of a 1,000 kWh/a consumer per quarter-hour, by
    season ("winter", "summer", "transition") and weekday (1 = Monday .. 7 = Sunday)."""
    from demandlib.bdew._profiles25 import _bdew_datapath

    return pd.read_csv(os.path.join(_bdew_datapath, "selp_series.csv"))


def _season(day: dt.date) -> str:
    # the BDEW seasons: winter 1 Nov - 20 Mar, summer 15 May - 14 Sep, transition between
    md = (day.month, day.day)
    if md >= (11, 1) or md <= (3, 20):
        return "winter"
    if (5, 15) <= md <= (9, 14):
        return "summer"
    return "transition"


def _dynamisation(day: dt.date) -> float:
    """BDEW's dynamisation function of the H0 profile, t = day of the year."""
    t = day.timetuple().tm_yday
    return -3.92e-10 * t**4 + 3.2e-7 * t**3 - 7.02e-5 * t**2 + 2.1e-3 * t + 1.24


def _bdew_day_factor(profile: str, day: dt.date) -> float:
    """Share of the annual energy that the BDEW profile puts on ``day``: the day's energy of the
    table (times the dynamisation factor for H0) over the sum of every day of that year."""
    raw = _bdew_raw()
    column = profile.removeprefix("bdew_")
    daily = raw.groupby(["period", "weekday"])[column].sum()  # 96 quarter-hours each

    def energy(d: dt.date) -> float:
        return daily[(_season(d), d.isoweekday())] * (_dynamisation(d) if profile == "bdew_h0" else 1.0)

    first = dt.date(day.year, 1, 1)
    year = [first + dt.timedelta(days=i) for i in range((dt.date(day.year + 1, 1, 1) - first).days)]
    return energy(day) / sum(energy(d) for d in year)


def _client(group, site, spec=SPEC):
    return build_client(group, f"{group.kind}-001", spec, 0, (), site=site)


def _kw(client, unit: int, spec=SPEC) -> float:
    """A client's expected output (kW; consumption negative)."""
    return client.scale(unit) * client.level(unit) * float(spec.meter_kw)


@pytest.mark.parametrize(
    ("profile", "day"),
    [
        ("bdew_h0", dt.date(2026, 1, 14)),  # winter Wednesday
        ("bdew_h0", dt.date(2026, 6, 20)),  # summer Saturday
        ("bdew_h0", dt.date(2026, 10, 4)),  # transition Sunday
        ("bdew_h0", dt.date(2028, 12, 30)),  # leap year, last days
        ("bdew_g0", dt.date(2026, 4, 15)),
        ("bdew_l0", dt.date(2026, 7, 1)),
    ],
)
def test_household_daily_energy_is_annual_kwh_times_the_bdew_day_factor(profile, day):
    annual = 3500.0
    group = HouseholdGroup(kind="household", profile=profile, annual_kwh=annual)
    client = _client(group, KASSEL.model_copy(update={"date": day}))
    hours = SPEC.unit_seconds / 3600
    energy = -sum(_kw(client, u) for u in range(96)) * hours
    expected = annual * _bdew_day_factor(profile, day)
    assert energy == pytest.approx(expected, rel=0.01)


def test_household_daily_energy_is_the_same_with_hourly_units():
    group = HouseholdGroup(kind="household", annual_kwh=3500.0)
    hourly = MarketSpec(unit_seconds=3600)
    client = _client(group, KASSEL, hourly)
    energy = -sum(_kw(client, u, hourly) for u in range(24))
    assert energy == pytest.approx(3500.0 * _bdew_day_factor("bdew_h0", KASSEL.date), rel=0.01)


def _sun(site: SiteSection):
    import pvlib

    midnight = pd.DatetimeIndex([pd.Timestamp(site.date).tz_localize(site.timezone)])
    table = pvlib.solarposition.sun_rise_set_transit_spa(midnight, site.latitude, site.longitude)
    return table["sunrise"].iloc[0], table["sunset"].iloc[0], table["transit"].iloc[0]


@pytest.mark.parametrize(
    ("site", "azimuth", "unit_seconds"),
    [
        (KASSEL, 180.0, 900),
        (KASSEL.model_copy(update={"date": dt.date(2026, 6, 17)}), 180.0, 900),
        (KASSEL.model_copy(update={"date": dt.date(2026, 6, 17)}), 180.0, 3600),
        # southern hemisphere, panels facing north, another time zone
        (
            SiteSection(
                latitude=-33.87, longitude=151.21, timezone="Australia/Sydney", date=dt.date(2026, 12, 21)
            ),
            0.0,
            900,
        ),
    ],
)
def test_pv_is_zero_between_sunset_and_sunrise_and_peaks_near_solar_noon(site, azimuth, unit_seconds):
    spec = MarketSpec(unit_seconds=unit_seconds)
    client = _client(SolarGroup(kind="solar", pv_kwp=5.0, azimuth=azimuth), site, spec)
    sunrise, sunset, transit = _sun(site)
    midnight = pd.Timestamp(site.date).tz_localize(site.timezone)
    per_day = 86400 // unit_seconds
    starts = [midnight + pd.Timedelta(seconds=u * unit_seconds) for u in range(per_day)]
    kw = [_kw(client, u, spec) for u in range(per_day)]
    for u, start in enumerate(starts):
        end = start + pd.Timedelta(seconds=unit_seconds)
        if end <= sunrise or start >= sunset:
            assert kw[u] == 0.0, (u, start)
            assert not client.trades(u)  # nothing to sell at night
    assert max(kw) > 0.3 * 5.0
    best = int(np.argmax(kw))
    middle = starts[best] + pd.Timedelta(seconds=unit_seconds / 2)
    assert abs((middle - transit).total_seconds()) <= max(2700, unit_seconds)


def test_pv_output_is_higher_in_summer_than_in_winter_and_scales_with_kwp():
    summer = KASSEL.model_copy(update={"date": dt.date(2026, 6, 17)})
    day = [
        sum(_kw(_client(SolarGroup(kind="solar", pv_kwp=k), s), u) for u in range(96))
        for s, k in ((KASSEL, 3.0), (summer, 3.0), (summer, 6.0))
    ]
    assert day[0] < day[1] / 2
    assert day[2] == pytest.approx(2 * day[1])


def test_wind_follows_the_turbine_power_curve_and_never_exceeds_its_rating():
    """One sub-sample per 5-minute unit: each unit is the curve at that instant's hub-height speed."""
    spec = MarketSpec(unit_seconds=300)
    name, hub = "E-82/2300", 98.0
    t = turbine(name, hub)
    curve_v = t.power_curve["wind_speed"].to_numpy()
    curve_p = t.power_curve["value"].to_numpy()
    rated = curve_p.max()  # the top of the curve (windpowerlib's name plate says 2,300 kW)
    assert rated >= float(t.nominal_power)
    seen_rated = False
    for speed in (3.0, 5.5, 9.0, 14.0, 30.0):
        client = _client(
            WindGroup(kind="wind", capacity_kw=4.0, turbine=name, hub_height=hub, wind_speed=speed),
            KASSEL,
            spec,
        )
        for u in range(0, 288, 7):
            hour = (u + 0.5) * 300 / 3600
            at_hub = speed * (1 + 0.15 * math.cos(2 * math.pi * (hour - 3) / 24)) * (hub / 10.0) ** (1 / 7)
            on_curve = np.interp(at_hub, curve_v, curve_p, left=0.0, right=0.0) / rated
            kw = _kw(client, u, spec)
            assert kw == pytest.approx(4.0 * on_curve, abs=1e-9)
            assert 0.0 <= kw <= 4.0
            seen_rated |= kw == pytest.approx(4.0)
    assert seen_rated


def test_realized_wind_never_exceeds_the_rated_capacity():
    group = WindGroup(kind="wind", capacity_kw=4.0, wind_speed=12.0, sigma=0.5)
    cap = 4.0 / float(SPEC.meter_kw)
    for seed in range(3):
        client = build_client(group, "wind-001", SPEC, seed, (), site=KASSEL)
        assert all(0 <= client.realize(u) <= cap for u in range(200))


def test_shapes_are_shared_per_parameters_not_per_agent():
    a = HouseholdGroup(kind="household", annual_kwh=3000.0, count=5)
    b = HouseholdGroup(kind="household", annual_kwh=9000.0, sigma=0.4)
    assert shape_for(a, KASSEL, 900) is shape_for(b, KASSEL, 900)
    assert shape_for(a, KASSEL, 900) is not shape_for(a, KASSEL.model_copy(update={"latitude": 48.0}), 900)
    assert shape_for(HouseholdGroup(kind="household", profile="stylized"), KASSEL, 900) is None
    c1, c2 = _client(a, KASSEL), build_client(a, "household-002", SPEC, 0, (), site=KASSEL)
    assert c1.shape is c2.shape


def test_demandlib_leaves_the_warning_filters_as_they_were():
    import warnings

    from rexnet.sim.profiles import bdew_year

    before = list(warnings.filters)
    bdew_year.cache_clear()
    bdew_year(2027)
    assert warnings.filters == before


def test_an_unknown_turbine_is_refused_naming_the_key_and_close_names():
    assert "E-82/2300" in turbine_types()
    data = {"population": [{"kind": "household"}, {"kind": "wind", "turbine": "E-82/230"}]}
    with pytest.raises(InputError) as err:
        parse_scenario(data, source="s.toml")
    msg = str(err.value)
    assert msg.startswith("s.toml: population[1].turbine: unknown windpowerlib turbine 'E-82/230'")
    assert "E-82/2300" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"site": {"timezone": "Mars/Olympus"}}, "site.timezone: unknown time zone 'Mars/Olympus'"),
        ({"site": {"latitude": 95}}, "site.latitude"),
        ({"site": {"date": "2026-02-30"}}, "site.date"),
        ({"population": [{"kind": "household", "profile": "bdew_x9"}]}, "population[0].profile"),
        ({"population": [{"kind": "solar", "tilt": 120}]}, "population[0].tilt"),
    ],
)
def test_bad_site_and_profile_keys_are_one_line_errors(data, where):
    with pytest.raises(InputError, match="^s.toml: " + re.escape(where)):
        parse_scenario(data, source="s.toml")


def test_stylized_profiles_remain_available():
    sc = parse_scenario(
        {
            "population": [
                {"kind": "wind", "profile": "stylized", "mean_cf": 0.3},
                {"kind": "solar", "profile": "stylized"},
            ]
        },
        source="s.toml",
    )
    wind = _client(sc.population[0], sc.site)
    solar = _client(sc.population[1], sc.site)
    assert wind.shape is None and solar.shape is None
    assert _kw(solar, 0) == 0.0 and _kw(solar, 48) > 0  # the half sine: night at 00:00, sun at noon
    assert 0.25 < _kw(wind, 48) / 4.0 < 0.35


def test_site_date_round_trips_through_the_record():
    sc = parse_scenario({"site": {"date": dt.date(2026, 1, 14), "timezone": "Asia/Tokyo"}}, source="s.toml")
    record = sc.to_record()
    assert record["site"]["date"] == "2026-01-14"
    assert type(sc).from_record(record) == sc


_MIXED = """
name = "profiles_mix"
[run]
units = 8
start_unit = 40
[site]
latitude = -33.87
longitude = 151.21
timezone = "Australia/Sydney"
date = 2026-12-21
[[population]]
kind = "household"
count = 3
profile = "bdew_g0"
annual_kwh = 9000.0
[[population]]
kind = "household"
count = 3
[[population]]
kind = "solar"
count = 3
azimuth = 0.0
[[population]]
kind = "wind"
count = 2
turbine = "E-53/800"
hub_height = 73.0
wind_speed = 7.0
[[population]]
kind = "storage"
count = 1
[[population]]
kind = "zi_seller"
count = 1
"""


def _run_in_process(path, db, hash_seed: str) -> dict:
    import json
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-m", "rexnet.cli", "--db", db, "run", str(path), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.slow
def test_runs_with_library_profiles_are_identical_across_processes_and_hash_seeds(tmp_path):
    path = tmp_path / "mix.toml"
    path.write_text(_MIXED)
    a = _run_in_process(path, f"sqlite:///{tmp_path / 'a.db'}", "0")
    b = _run_in_process(path, f"sqlite:///{tmp_path / 'b.db'}", "4242")
    assert a["trades"] > 0
    assert (a["events"], a["head_hash"]) == (b["events"], b["head_hash"])


def test_an_unknown_turbine_in_a_file_exits_2_with_one_line(tmp_path):
    from click.testing import CliRunner

    from rexnet.cli import cli

    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\n[[population]]\nkind = "wind"\nturbine = "E-82/230"\n')
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "run", str(bad)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "population[0].turbine" in line and "E-82/2300" in line

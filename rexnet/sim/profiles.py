"""Expected production and consumption per delivery unit, from the field's own libraries.

The uncontrollable clients (:mod:`rexnet.sim.client`) realize a stochastic process around an
*expected* profile. This module computes those profiles at a site (``[site]`` of a scenario:
latitude, longitude, altitude, time zone, date; delivery unit 0 starts at local midnight of the
date) with the libraries energy researchers use, all working offline from their installed data:

* load: the BDEW standard load profiles of ``demandlib`` (H0 households, with the BDEW
  dynamisation function for the day of the year; G0 businesses; L0 farms). Value: average kW of
  a consumer of 8,760 kWh a year (mean 1 kW), so a client scales it by ``annual_kwh / 8760``.
* solar: ``pvlib`` solar position (NREL SPA), Ineichen clear-sky irradiance with the Linke
  turbidity climatology that pvlib ships, Hay-Davies transposition to the module plane, Faiman
  cell temperature (20 degC air, 1 m/s wind) and the PVWatts DC, loss and inverter models.
  Value: clear-sky AC kW per kWp (cloudiness is the client's stochastic part).
* wind: a ``windpowerlib`` turbine's power curve applied to a mean wind speed at 10 m with a mild
  diurnal cycle (maximum at 03:00, as the stylized shape had), brought to hub height by the
  Hellman power law (exponent 1/7). Value: output per rated power (capacity factor, 0..1; the
  rated power is the top of the curve, see :func:`rated_power`), so a member's ``capacity_kw``
  is its share of the turbine.

A profile is a :class:`UnitShape`: computed a day of units at a time by the library calls, then
held as a plain ``array`` of floats and read by index. Shapes are cached per (kind, parameters,
site, unit length), not per agent (see :func:`shape_for`), so ten thousand households share one;
each day of units is also kept on disk (:mod:`rexnet.sim.profile_cache`, bit for bit), so a later
process reads it back without importing the libraries.

Only the expectation comes from here. The noise (cloudiness, wind and load fluctuations) and the
forecast evolution stay RexNet's (:mod:`rexnet.sim.forecast`), seeded per agent, so a run stays a
function of its scenario and seed. The libraries (and pandas) are imported on first use, never by
``import rexnet.sim``.
"""

from __future__ import annotations

import json
import math
import threading
import warnings
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

#: sub-samples per delivery unit are at most this far apart (s); a unit's value is their mean
SUBSTEP_S = 300
#: BDEW profile columns of demandlib's ``ElecSlp`` by scenario ``profile`` name
BDEW_COLUMNS = {"bdew_h0": "h0_dyn", "bdew_g0": "g0", "bdew_l0": "l0"}
#: height of the scenario's ``wind_speed`` above ground (m)
WIND_REF_HEIGHT_M = 10.0
#: PVWatts assumptions: inverter nominal efficiency, air temperature and wind for the cell model
_ETA_INV = 0.96
_TEMP_AIR_C = 20.0
_WIND_PV_MS = 1.0
_GAMMA_PDC = -0.004


class Site(NamedTuple):
    """Where and when (hashable, the cache key); see ``SiteSection`` of the scenario."""

    latitude: float
    longitude: float
    altitude: float
    timezone: str
    date: str  # ISO date of unit 0's local midnight

    @classmethod
    def of(cls, section: Any) -> Site:
        return cls(
            float(section.latitude),
            float(section.longitude),
            float(section.altitude),
            str(section.timezone),
            section.date.isoformat() if hasattr(section.date, "isoformat") else str(section.date),
        )


class UnitShape:
    """Expected value per delivery unit, filled a day of units at a time and then read by index.

    Args:
        compute: ``compute(first_unit, n)`` -> the values of units ``first_unit..first_unit+n-1``.
        unit_seconds: length of a delivery unit.
    """

    def __init__(
        self,
        compute: Callable[[int, int], np.ndarray],
        unit_seconds: int,
        *,
        key: tuple[Any, ...] | None = None,
    ) -> None:
        self._compute = compute
        self._per_chunk = max(1, 86400 // unit_seconds)
        self._chunks: dict[int, array] = {}
        #: the shape's cache key (:func:`shape_key`): days of units are kept on disk under it
        self.key = key

    def at(self, unit: int) -> float:
        """The expected value of ``unit``."""
        chunk, row = divmod(unit, self._per_chunk)
        values = self._chunks.get(chunk)
        if values is None:
            values = self._fill(chunk)
        return values[row]

    def _fill(self, chunk: int) -> array:
        from rexnet.sim import profile_cache

        if self.key is not None:
            cached = profile_cache.load(self.key, chunk, self._per_chunk)
            if cached is not None:
                self._chunks[chunk] = cached
                return cached
        values = np.asarray(self._compute(chunk * self._per_chunk, self._per_chunk), dtype=float)
        out = self._chunks[chunk] = array("d", values.tobytes())
        if self.key is not None:
            profile_cache.store(self.key, chunk, out)
        return out

    def warm(self, first_unit: int, last_unit: int) -> None:
        """Compute every unit of ``first_unit..last_unit`` now (at scenario build, off the hot path)."""
        for chunk in range(first_unit // self._per_chunk, last_unit // self._per_chunk + 1):
            if chunk not in self._chunks:
                self._fill(chunk)

    def values(self, first_unit: int, last_unit: int) -> list[float]:
        """The values of units ``first_unit..last_unit``."""
        return [self.at(u) for u in range(first_unit, last_unit + 1)]


# -- time grid ---------------------------------------------------------------------------------
def sample_times(site: Site, unit_seconds: int, first_unit: int, n: int) -> tuple[Any, int]:
    """Sub-sample instants of units ``first_unit..first_unit+n-1`` (tz-aware, site time zone).

    Returns the ``pandas.DatetimeIndex`` (``n * per_unit`` instants, unit by unit) and ``per_unit``.
    Unit 0 starts at local midnight of ``site.date``; units then follow in absolute time (a day
    with a daylight-saving change still has 24 h of units).
    """
    import pandas as pd

    per_unit = max(1, math.ceil(unit_seconds / SUBSTEP_S))
    step = unit_seconds / per_unit
    midnight = pd.Timestamp(site.date).tz_localize(
        site.timezone, nonexistent="shift_forward", ambiguous=False
    )
    offsets = first_unit * unit_seconds + (np.arange(n * per_unit) + 0.5) * step
    return midnight + pd.to_timedelta(offsets, unit="s"), per_unit


def _unit_means(samples: np.ndarray, per_unit: int) -> np.ndarray:
    return np.asarray(samples, dtype=float).reshape(-1, per_unit).mean(axis=1)


# -- load: BDEW standard load profiles (demandlib) -----------------------------------------------
_DEMANDLIB_LOCK = threading.Lock()


@contextmanager
def _demandlib_warnings() -> Iterator[None]:
    """Run demandlib 0.2.2's ``ElecSlp`` under pandas >= 3.1 without changing anyone's warnings.

    ``ElecSlp`` calls ``warnings.simplefilter("error")`` (process-wide, never undone) and then
    ``sort_index(inplace=True)``, which pandas 3.1 deprecates with a warning: the warning becomes
    an exception and ``ElecSlp`` fails (and under older pandas every later warning of the process
    would). Inside ``catch_warnings`` (which restores the filters on exit) the library's
    ``simplefilter`` call is made a no-op and deprecation warnings are ignored; the profiles
    themselves are unaffected. A lock keeps two threads from swapping the function at once.
    """
    with _DEMANDLIB_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        original = warnings.simplefilter
        warnings.simplefilter = lambda *args, **kwargs: None  # type: ignore[assignment]
        try:
            yield
        finally:
            warnings.simplefilter = original  # type: ignore[assignment]


@lru_cache(maxsize=4)
def bdew_year(year: int) -> Any:
    """demandlib's BDEW profiles of ``year`` (``h0_dyn``, ``g0``, ``l0``; 15 min, local time).

    Each column sums to 1 over the year (a quarter-hour's share of the annual energy). No public
    holidays are set: weekdays follow the calendar.
    """
    from demandlib.bdew import ElecSlp

    with _demandlib_warnings():
        frame = ElecSlp(year).get_profiles("h0_dyn", "g0", "l0")
    return frame.copy()


def bdew_values(profile: str, times: Any) -> np.ndarray:
    """kW of a consumer of 8,760 kWh/a at each of ``times`` (local wall-clock quarter-hour)."""
    column = BDEW_COLUMNS[profile]
    wall = times.tz_localize(None).floor("15min")
    out = np.empty(len(wall))
    years = wall.year.to_numpy()
    for year in np.unique(years):
        mask = years == year
        share = bdew_year(int(year))[column].reindex(wall[mask]).to_numpy()
        out[mask] = share * 4.0 * 8760.0  # quarter-hour energy share -> kW per 8,760 kWh/a
    return out


def _load_compute(profile: str, site: Site, unit_seconds: int) -> Callable[[int, int], np.ndarray]:
    def compute(first_unit: int, n: int) -> np.ndarray:
        times, per_unit = sample_times(site, unit_seconds, first_unit, n)
        return _unit_means(bdew_values(profile, times), per_unit)

    return compute


# -- solar: pvlib clear sky and PVWatts -----------------------------------------------------------
def pv_values(site: Site, tilt: float, azimuth: float, times: Any) -> np.ndarray:
    """Clear-sky AC output (kW per kWp) at each of ``times``; exactly 0 while the sun is down."""
    import pvlib

    # pvlib 0.16 still calls pandas APIs that pandas 3.1 deprecates: its warnings, not ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _pv_values(pvlib, site, tilt, azimuth, times)


def _pv_values(pvlib: Any, site: Site, tilt: float, azimuth: float, times: Any) -> np.ndarray:
    loc = pvlib.location.Location(site.latitude, site.longitude, tz=site.timezone, altitude=site.altitude)
    sun = loc.get_solarposition(times)
    # Ineichen-Perez with pvlib's shipped Linke turbidity climatology (offline lookup)
    sky = loc.get_clearsky(times, model="ineichen", solar_position=sun)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        sun["apparent_zenith"],
        sun["azimuth"],
        sky["dni"],
        sky["ghi"],
        sky["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        model="haydavies",
    )["poa_global"].fillna(0.0)
    cell = pvlib.temperature.faiman(poa, _TEMP_AIR_C, _WIND_PV_MS)
    dc = pvlib.pvsystem.pvwatts_dc(poa, cell, 1.0, _GAMMA_PDC)
    dc = dc * (1.0 - pvlib.pvsystem.pvwatts_losses() / 100.0)
    ac = np.asarray(pvlib.inverter.pvwatts(dc, 1.0 / _ETA_INV, eta_inv_nom=_ETA_INV), dtype=float)
    return np.where(sun["apparent_elevation"].to_numpy() > 0.0, np.clip(ac, 0.0, None), 0.0)


def _pv_compute(
    site: Site, tilt: float, azimuth: float, unit_seconds: int
) -> Callable[[int, int], np.ndarray]:
    def compute(first_unit: int, n: int) -> np.ndarray:
        times, per_unit = sample_times(site, unit_seconds, first_unit, n)
        return _unit_means(pv_values(site, tilt, azimuth, times), per_unit)

    return compute


# -- wind: windpowerlib power curve -----------------------------------------------------------------
@lru_cache(maxsize=1)
def turbine_types() -> tuple[str, ...]:
    """windpowerlib's turbine types that have a power curve (from its installed library; kept in
    the profile cache, so validating a scenario does not import windpowerlib and pandas)."""
    from rexnet.sim import profile_cache

    cached = profile_cache.load_bytes(("turbine_types",))
    if cached is not None:
        try:
            names = tuple(json.loads(cached))
            if names and all(isinstance(n, str) for n in names):
                return names
        except ValueError:
            pass
    from windpowerlib import get_turbine_types

    table = get_turbine_types(print_out=False)
    names = tuple(sorted(str(n) for n in table.loc[table["has_power_curve"], "turbine_type"]))
    profile_cache.store_bytes(("turbine_types",), json.dumps(names).encode())
    return names


@lru_cache(maxsize=64)
def turbine(turbine_type: str, hub_height: float) -> Any:
    """The ``windpowerlib.WindTurbine`` of that type (its power curve and rated power)."""
    from windpowerlib import WindTurbine

    with warnings.catch_warnings():  # windpowerlib 0.2.2 uses pandas APIs that 3.1 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        return WindTurbine(turbine_type=turbine_type, hub_height=hub_height)


def rated_power(turbine_type: str) -> float:
    """A turbine's rated power (W): the top of its power curve.

    windpowerlib's ``nominal_power`` is the type's name plate, which some curves pass (the
    E-82/2300 curve tops out at 2,350 kW); the curve's own maximum keeps a member's output
    within its ``capacity_kw`` while following the curve's shape exactly.
    """
    return float(turbine(turbine_type, 100.0).power_curve["value"].max())


def hub_wind_speed(wind_speed: float, hub_height: float, hours: np.ndarray) -> np.ndarray:
    """Mean wind speed at hub height at local ``hours`` of day (m/s)."""
    from windpowerlib import wind_speed as ws

    at_ref = wind_speed * (1.0 + 0.15 * np.cos(2.0 * np.pi * (np.asarray(hours) - 3.0) / 24.0))
    return np.asarray(ws.hellman(at_ref, WIND_REF_HEIGHT_M, hub_height), dtype=float)


def wind_power(turbine_type: str, hub_height: float, speed: np.ndarray) -> np.ndarray:
    """Output per rated power at hub-height wind ``speed`` (the turbine's power curve, 0..1)."""
    from windpowerlib import power_output

    t = turbine(turbine_type, hub_height)
    curve = t.power_curve
    power = power_output.power_curve(
        np.asarray(speed, dtype=float), curve["wind_speed"].to_numpy(), curve["value"].to_numpy()
    )
    return np.clip(np.asarray(power, dtype=float) / rated_power(turbine_type), 0.0, 1.0)


def _wind_compute(
    site: Site, turbine_type: str, hub_height: float, wind_speed: float, unit_seconds: int
) -> Callable[[int, int], np.ndarray]:
    def compute(first_unit: int, n: int) -> np.ndarray:
        times, per_unit = sample_times(site, unit_seconds, first_unit, n)
        hours = (times.hour + times.minute / 60.0 + times.second / 3600.0).to_numpy()
        speed = hub_wind_speed(wind_speed, hub_height, hours)
        return _unit_means(wind_power(turbine_type, hub_height, speed), per_unit)

    return compute


# -- the cache ------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _shape(key: tuple[Any, ...]) -> UnitShape:
    kind, site, unit_seconds, *params = key
    if kind == "household":
        return UnitShape(_load_compute(params[0], site, unit_seconds), unit_seconds, key=key)
    if kind == "solar":
        return UnitShape(_pv_compute(site, params[0], params[1], unit_seconds), unit_seconds, key=key)
    if kind == "wind":
        compute = _wind_compute(site, params[0], params[1], params[2], unit_seconds)
        return UnitShape(compute, unit_seconds, key=key)
    raise ValueError(f"no library profile for kind {kind!r}")


def shape_key(group: Any, site: Any, unit_seconds: int) -> tuple[Any, ...] | None:
    """What a group's expected profile depends on (``None``: the stylized shapes of the client)."""
    profile = getattr(group, "profile", "stylized")
    if profile == "stylized":
        return None
    s = Site.of(site)
    if group.kind == "household":
        return ("household", s, unit_seconds, profile)
    if group.kind == "solar":
        return ("solar", s, unit_seconds, float(group.tilt), float(group.azimuth))
    if group.kind == "wind":
        return ("wind", s, unit_seconds, group.turbine, float(group.hub_height), float(group.wind_speed))
    return None


def shape_for(group: Any, site: Any, unit_seconds: int) -> UnitShape | None:
    """The shared expected shape of a population group's members (``None`` when stylized)."""
    key = shape_key(group, site, unit_seconds)
    return None if key is None else _shape(key)


# -- for reports: a participant's expected profile, recomputed from its run's scenario ----------------
def group_of(groups: Any, agent: str) -> Any | None:
    """The population group whose member ``agent`` is, numbering members as the simulation does
    (per kind, in group order). A member that a fork added to one of several groups of its kind
    may be attributed to a neighbouring group of that kind."""
    kind, _, number = agent.rpartition("-")
    if not number.isdigit():
        return None
    n = int(number)
    seen = 0
    for group in groups:
        if group.kind == kind:
            if seen < n <= seen + group.count:
                return group
            seen += group.count
    return None


def expected_kw(scenario: Any, agent: str, *, groups: Any = None) -> list[tuple[int, float]]:
    """``[(unit, kW)]`` of ``agent``'s expected net injection over the run's units (consumption
    negative): the profile its stochastic output varies around, before shocks and noise.

    ``groups`` overrides ``scenario.population`` (e.g. the groups after a fork's changes). Empty
    for an unknown agent or one that follows its reservations (storage, dispatchable, ...).
    """
    from rexnet.sim.simulation import build_client

    group = group_of(scenario.population if groups is None else groups, agent)
    if group is None or group.kind not in ("household", "solar", "wind"):
        return []
    spec = scenario.to_spec()
    client: Any = build_client(group, agent, spec, scenario.run.seed, (), site=scenario.site)
    first = scenario.first_unit()
    meter_kw = float(spec.meter_kw)
    return [
        (u, client.scale(u) * client.level(u) * meter_kw) for u in range(first, first + scenario.run.units)
    ]

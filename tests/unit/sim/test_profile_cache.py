"""The disk cache of expected profiles: bit-for-bit values, sound files only, same runs."""

from __future__ import annotations

from array import array

import pytest

from rexnet.sim import profile_cache, profiles
from rexnet.sim.profiles import UnitShape


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REXNET_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("REXNET_PROFILE_CACHE", raising=False)
    profiles._shape.cache_clear()
    yield
    profiles._shape.cache_clear()


def _counting(calls):
    def compute(first, n):
        calls.append(first)
        return [first + i / 7.0 for i in range(n)]

    return compute


def test_a_day_of_units_is_read_back_bit_for_bit_without_computing():
    key = ("household", "somewhere", 900, "bdew_h0")
    calls: list[int] = []
    cold = UnitShape(_counting(calls), 900, key=key).values(0, 200)
    assert calls == [0, 96, 192]
    again: list[int] = []
    warm = UnitShape(_counting(again), 900, key=key).values(0, 200)
    assert again == [] and array("d", warm).tobytes() == array("d", cold).tobytes()
    other: list[int] = []
    UnitShape(_counting(other), 900, key=("household", "elsewhere", 900, "bdew_h0")).values(0, 10)
    assert other == [0]  # another key is another file


def test_a_damaged_file_is_recomputed_and_rewritten(tmp_path):
    key = ("solar", "here", 900, 30.0, 180.0)
    UnitShape(_counting([]), 900, key=key).values(0, 5)
    (path,) = (tmp_path / "profiles").glob("*.bin")
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF  # one flipped bit of a value: the digest no longer matches
    path.write_bytes(bytes(blob))
    calls: list[int] = []
    values = UnitShape(_counting(calls), 900, key=key).values(0, 5)
    assert calls == [0] and values == [i / 7.0 for i in range(6)]
    path.write_bytes(b"RXPC")  # truncated
    calls.clear()
    UnitShape(_counting(calls), 900, key=key).values(0, 5)
    assert calls == [0]
    assert profile_cache.load(key, 0, 96) is not None  # rewritten whole


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("REXNET_PROFILE_CACHE", "0")
    UnitShape(_counting([]), 900, key=("wind", "x", 900, "E-82/2300", 98.0, 5.5)).values(0, 5)
    assert not (tmp_path / "profiles").exists()


def test_an_unwritable_cache_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("REXNET_CACHE_DIR", str(blocker))  # a file, not a directory
    assert UnitShape(_counting([]), 900, key=("k",)).values(0, 2) == [0.0, 1 / 7.0, 2 / 7.0]


def test_a_run_gives_the_same_events_with_a_cold_and_a_warm_cache(monkeypatch):
    from rexnet.app.simulate import with_overrides
    from rexnet.sim.measure import simulate
    from rexnet.sim.scenario import load_scenario

    scenario = with_overrides(load_scenario("default"), units=4, seed=1)
    _, cold = simulate(scenario, 1)
    profiles._shape.cache_clear()

    def no_library(*args, **kw):
        raise AssertionError("a warm cache computes no profile")

    for name in ("bdew_values", "pv_values", "wind_power"):
        monkeypatch.setattr(profiles, name, no_library)
    _, warm = simulate(scenario, 1)
    assert warm == cold


def test_turbine_types_are_kept_too():
    profiles.turbine_types.cache_clear()
    try:
        names = profiles.turbine_types()
        assert "E-82/2300" in names
        assert profile_cache.load_bytes(("turbine_types",)) is not None
        profiles.turbine_types.cache_clear()
        assert profiles.turbine_types() == names  # read back from the file
    finally:
        profiles.turbine_types.cache_clear()

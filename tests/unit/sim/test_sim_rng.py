"""Per-agent streams: stable across processes, independent of the rest of the population."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from simfake import FakeMarket

from rexnet.sim.rng import agent_rng, stable_key, stream
from rexnet.sim.scenario import parse_scenario
from rexnet.sim.simulation import Simulation


def test_stable_key_is_sha256_prefix():
    assert stable_key("wind-001") == int.from_bytes(hashlib.sha256(b"wind-001").digest()[:8], "big")


def test_streams_do_not_depend_on_other_draws():
    a1 = agent_rng(7, "a").random(5)
    agent_rng(7, "b").random(1000)
    a2 = agent_rng(7, "a").random(5)
    assert (a1 == a2).all()
    assert not (agent_rng(7, "a").random(5) == agent_rng(8, "a").random(5)).any()
    assert not (stream(7, "a", 2, 10).random(3) == stream(7, "a", 2, 11).random(3)).any()


def test_draws_are_the_same_under_any_hash_seed():
    code = "from rexnet.sim.rng import agent_rng; print(list(agent_rng(3, 'wind-001').integers(0, 10**9, 4)))"
    outs = set()
    for hash_seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        outs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert len(outs) == 1


def _sim(groups: list[dict]) -> Simulation:
    sc = parse_scenario({"run": {"units": 8, "seed": 5}, "population": groups}, source="test")
    return Simulation(sc, None, FakeMarket(sc.to_spec()))


def test_adding_an_agent_does_not_perturb_another():
    small = _sim([{"kind": "wind", "count": 1}])
    big = _sim(
        [{"kind": "solar", "count": 3}, {"kind": "wind", "count": 2}, {"kind": "household", "count": 2}]
    )
    a, b = small.clients["wind-001"], big.clients["wind-001"]
    assert [a.realize(u) for u in range(20, 60)] == [b.realize(u) for u in range(20, 60)]
    assert [a.forecast(u, 1000 * 900 * 10) for u in range(20, 30)] == [
        b.forecast(u, 1000 * 900 * 10) for u in range(20, 30)
    ]
    assert (small.brokers["wind-001"].rng.random(4) == big.brokers["wind-001"].rng.random(4)).all()

"""Per-agent random streams, independent of each other and of the interpreter.

Every stochastic choice of the simulator draws from a :class:`numpy.random.Generator` built from
``numpy.random.SeedSequence(run_seed, spawn_key=(stable_key(name), *stream))`` (the Mesa habit
of explicit generators, NumPy's recommended way to get independent parallel streams). The
spawn key comes from a SHA-256 of the agent id, never from Python's ``hash()`` (salted per
process by ``PYTHONHASHSEED``) nor from an agent's position in a list, so adding or removing an
agent leaves every other agent's draws unchanged, on any machine.

Streams are further split by purpose (broker decisions, the generation process of one block of
delivery units, see :mod:`rexnet.sim.forecast`, ...) so that, e.g., a realization does not depend
on how many wake-ups came before it.
"""

from __future__ import annotations

import hashlib

import numpy as np

#: stream ids (the second element of the spawn key)
STREAM_BROKER = 1
STREAM_PROCESS = 2


def stable_key(name: str) -> int:
    """A 64-bit integer derived from ``name`` that is the same in every process and machine."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def seed_sequence(run_seed: int, name: str, *stream: int) -> np.random.SeedSequence:
    """The seed sequence of stream ``stream`` of ``name`` (an agent id or a shared driver label)."""
    if run_seed < 0:
        raise ValueError(f"run seed must be non-negative, got {run_seed}")
    return np.random.SeedSequence(run_seed, spawn_key=(stable_key(name), *stream))


def stream(run_seed: int, name: str, *key: int) -> np.random.Generator:
    """A fresh generator for stream ``key`` of ``name`` under ``run_seed``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(run_seed, name, *key)))


def agent_rng(run_seed: int, agent_id: str) -> np.random.Generator:
    """The generator an agent's broker draws its decisions from (wake times, ZI prices, ...)."""
    return stream(run_seed, agent_id, STREAM_BROKER)

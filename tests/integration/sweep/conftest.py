"""Sweep fixtures: one local Dask cluster (2 worker processes) shared by the sweep tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="session")
def scheduler():
    """Address of a LocalCluster(2 processes, 1 thread each), set up like `rexnet sweep`'s own."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(
        {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
    ):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    yield cluster.scheduler_address
    cluster.close()

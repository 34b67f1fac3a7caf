"""The Dask client of a sweep: an existing scheduler by address, or a local cluster of processes.

Dask is an optional dependency (``pip install "rexnet[sweep]"``); it is imported only here, when a
sweep has runs to do.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rexnet.errors import InputError

#: How long to wait for a scheduler given by address.
CONNECT_TIMEOUT_S = 10

#: The client of an enclosing :func:`shared_dask_client` (an experiment runs a sweep, forks and
#: metric reads on one cluster instead of starting one per stage).
_SHARED: ContextVar[Any] = ContextVar("rexnet_shared_dask_client", default=None)


def _distributed() -> Any:
    try:
        import dask
        import distributed
    except ImportError:
        raise InputError('sweeps run on Dask, which is not installed: pip install "rexnet[sweep]"') from None
    return dask, distributed


@contextmanager
def dask_client(*, workers: int | None, scheduler: str | None, jobs: int) -> Iterator[Any]:
    """A connected ``distributed.Client``, closed (and its local cluster shut down) on exit.

    Args:
        workers: worker processes of a local cluster (default: the CPU count, at most ``jobs``).
        scheduler: address of an existing scheduler (``tcp://host:8786``); its workers need
            RexNet installed and must reach the database (and, for SQLite, the run files' folder).
        jobs: number of runs to do (a local cluster never starts more workers than that).

    Raises:
        InputError: Dask missing, or the scheduler cannot be reached.
    """
    shared = _SHARED.get()
    if shared is not None:
        yield shared
        return
    dask, distributed = _distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = max(1, min(workers or os.cpu_count() or 1, jobs))
    settings = {
        # a task whose worker died is retried once elsewhere (it then resumes its run); a second
        # death fails it with KilledWorker, recorded in sweep_runs, and the next sweep redoes it
        "distributed.scheduler.allowed-failures": 1,
        # one run per worker at a time: no task waits queued on a worker that might die
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings), warnings.catch_warnings():
        # the scheduler's HTTP endpoint moves to a free port if 8787 is taken: nothing to report
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


@contextmanager
def shared_dask_client(*, workers: int | None, scheduler: str | None, jobs: int) -> Iterator[Any]:
    """A :func:`dask_client` that every :func:`dask_client` inside the ``with`` block reuses."""
    with dask_client(workers=workers, scheduler=scheduler, jobs=jobs) as client:
        token = _SHARED.set(client)
        try:
            yield client
        finally:
            _SHARED.reset(token)

"""Parameter sweeps: a scenario x a grid of parameter values x seeds, run in parallel on Dask.

DESIGN.md section 7: one process simulates one run; a sweep fans its runs out on Dask (a local
cluster of worker processes by default, or an existing scheduler) into one PostgreSQL ledger or
into one SQLite file per run. The sweep itself is recorded in the main ledger database
(``sweeps``, ``sweep_runs``), so running it again skips what is complete and redoes the rest.

* :mod:`rexnet.sweep.spec` reads and expands the sweep file;
* :mod:`rexnet.sweep.orchestrate` records, plans and runs it (:func:`run_sweep`);
* :mod:`rexnet.sweep.task` is one run inside a Dask worker;
* :mod:`rexnet.sweep.summary` averages run summaries per grid point;
* :mod:`rexnet.sweep.query` runs a named query across the sweep's runs.

Example::

    from rexnet.sweep import load_sweep, run_sweep

    outcome = run_sweep("postgresql://localhost/rexnet", load_sweep("penalties.toml"), workers=4)
    for point in outcome["points"]:
        print(point["point"], point["trades"], point["penalties"])
"""

from rexnet.sweep.orchestrate import run_sweep
from rexnet.sweep.spec import SweepSpec, load_sweep

__all__ = ["SweepSpec", "load_sweep", "run_sweep"]

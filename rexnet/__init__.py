"""RexNet: a reservation exchange for prosumers, an event-sourced market ledger and its simulator.

The public API for notebooks and scripts is small: :class:`Ledger` (a ledger by URL and every use
case on it: ``run``, ``ingest``, ``fork``, ``resume``, ``runs``, ``book``, ``accounts``,
``replay``, ``verify``, ``audit``, ``analytics``) and the dataclasses it returns
(:class:`RunSummary`, :class:`ForkResult`, :class:`ReplaySummary`, :class:`VerifyResult`).
They are imported on first use, so ``import rexnet`` stays cheap::

    import rexnet

    with rexnet.Ledger("sqlite:///rexnet.db") as ledger:
        summary = ledger.run("default", seed=7, units=2)
"""

import warnings as _warnings
from pathlib import Path as _Path
from typing import TYPE_CHECKING as _TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["ForkResult", "Ledger", "ReplaySummary", "RunSummary", "VerifyResult", "__version__"]

if _TYPE_CHECKING:
    from rexnet.app.facade import Ledger
    from rexnet.app.results import ForkResult, ReplaySummary, RunSummary, VerifyResult

_LAZY = {
    "Ledger": "rexnet.app.facade",
    "RunSummary": "rexnet.app.results",
    "ForkResult": "rexnet.app.results",
    "ReplaySummary": "rexnet.app.results",
    "VerifyResult": "rexnet.app.results",
}


def __getattr__(name: str) -> object:
    """The public names, imported on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rexnet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _warn_if_compiled_modules_are_stale() -> None:
    """Warn when a mypyc-compiled module is older than its source (an editable install edited
    after its build): the compiled code, not the edited source, would run."""
    from rexnet._compiled import stale_modules

    for compiled, source in stale_modules(_Path(__file__).parent):
        _warnings.warn(
            f"{compiled} is older than {source}: the compiled module runs, not your edit; "
            "rebuild with `pip install -e .` (or REXNET_PURE=1 for pure Python)",
            stacklevel=2,
        )


_warn_if_compiled_modules_are_stale()

"""RexNet: a reservation exchange for prosumers, an event-sourced market ledger and its simulator."""

import warnings as _warnings
from pathlib import Path as _Path

__version__ = "0.1.0"


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

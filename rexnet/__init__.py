"""RexNet: a reservation exchange for prosumers, an event-sourced market ledger and its simulator."""

import warnings as _warnings
from pathlib import Path as _Path

__version__ = "0.1.0"


def _warn_if_compiled_modules_are_stale() -> None:
    """Warn when a mypyc-compiled module is older than its source (an editable install edited
    after its build): the compiled code, not the edited source, would run."""
    root = _Path(__file__).parent
    for compiled in [*root.glob("exchange/*.so"), *root.glob("domain/*.so")]:
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            _warnings.warn(
                f"{compiled.name} is older than {source.name}: the compiled module runs, not your edit; "
                "rebuild with `pip install -e .` (or REXNET_PURE=1 for pure Python)",
                stacklevel=2,
            )


_warn_if_compiled_modules_are_stale()

"""Which modules mypyc compiles, and whether the running build is the compiled one.

The one list of compiled modules: ``setup.py`` compiles exactly :data:`COMPILED`, the stale-build
warning of :mod:`rexnet` checks exactly these, and the fast paths choose their implementation with
:func:`is_compiled` (the way SQLAlchemy's ``_has_cython`` tells which of its ``_cy`` modules run).
This module imports nothing of rexnet: ``setup.py`` runs it as a plain file.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

#: Source paths (relative to the project root) of the modules mypyc compiles: the exchange's
#: decide/apply path, the event encoder of the append loop and the replay's decoder and folds.
#: Keep the list short: each module must type-check cleanly under mypy, and native classes
#: cannot be monkeypatched or subclassed from interpreted code.
COMPILED = (
    "rexnet/exchange/book.py",
    "rexnet/exchange/state.py",
    "rexnet/exchange/matching.py",
    "rexnet/exchange/_matching_fast.py",
    "rexnet/exchange/auction.py",
    "rexnet/exchange/decision.py",
    "rexnet/exchange/exchange.py",
    "rexnet/exchange/_fast.py",
    "rexnet/domain/codec.py",
    "rexnet/domain/_codec_fast.py",
    "rexnet/settlement/floor_rule.py",
    "rexnet/settlement/settlement.py",
    "rexnet/market_engine.py",
    "rexnet/replay/decode.py",
    "rexnet/replay/_decode_fast.py",
    "rexnet/replay/accounts.py",
    "rexnet/replay/stats.py",
)


def is_compiled(module: ModuleType) -> bool:
    """Whether ``module`` runs as a compiled extension (not from its ``.py`` source)."""
    return not str(getattr(module, "__file__", "") or "").endswith(".py")


def stale_modules(package_root: Path) -> list[tuple[str, str]]:
    """``(compiled file, source file)`` names of compiled modules older than their source: after
    an edit to an editable install, the compiled code (not the edit) would run. An installed
    copy (under ``site-packages``) is never stale: its files are as the wheel made them."""
    if "site-packages" in package_root.parts:
        return []
    stale = []
    for source_path in COMPILED:
        source = package_root.parent / source_path
        for compiled in source.parent.glob(source.stem + ".*.so"):
            if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
                stale.append((compiled.name, source.name))
    return stale

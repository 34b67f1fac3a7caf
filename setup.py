"""Optional mypyc compilation of the hot modules (the matching engine and the append encoder).

Everything else about the package is declared in ``pyproject.toml``; this file only adds
``ext_modules``. The modules listed in ``COMPILED`` are ordinary, fully typed Python: when mypyc is
importable (it is in ``[build-system] requires``, so ``pip install .`` and ``pip install -e .``
have it) they are compiled to C extensions that sit next to their ``.py`` files and are imported in
their place. With ``REXNET_PURE=1`` set at install time, or without mypyc (e.g. a
``--no-build-isolation`` install into an environment lacking it), nothing is compiled and the
same sources run as pure Python. Both builds must behave identically; the test suite runs on
either.

Note for an editable install: the compiled ``.so`` files shadow the ``.py`` files, so after
editing a compiled module rebuild (``pip install -e .``) or reinstall with ``REXNET_PURE=1``.
"""

from __future__ import annotations

import os
import runpy

from setuptools import setup

#: The modules compiled by mypyc: the one list, kept in ``rexnet/_compiled.py`` (read here as a
#: plain file, so the build does not import the package).
COMPILED = list(
    runpy.run_path(os.path.join(os.path.dirname(__file__) or ".", "rexnet", "_compiled.py"))["COMPILED"]
)


def _ext_modules() -> list:
    if os.environ.get("REXNET_PURE"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    # Errors in the modules the compiled ones import (pydantic models and the like) are not ours
    # to fix here: only the compiled modules themselves must type-check.
    # group_name: the shared library of the compiled modules is ``rexnet__mypyc`` (a top-level
    # module, as mypyc requires) rather than a hash of the module list.
    # --config-file with no file: the [tool.mypy] table of pyproject.toml is for developers (its
    # pydantic plugin is not installed in the isolated build environment).
    return mypycify(
        [
            "--config-file=",
            "--ignore-missing-imports",
            "--follow-imports=silent",
            "--python-version=3.11",
            *COMPILED,
        ],
        opt_level="3",
        debug_level="0",
        group_name="rexnet",
    )


setup(ext_modules=_ext_modules())

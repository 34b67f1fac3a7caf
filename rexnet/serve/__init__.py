"""``rexnet serve``: a read-only web explorer of the ledger (runs, overview, book replay, trails,
forks, SQL).

The web stack (Starlette, Jinja2, uvicorn, and plotly for its JavaScript) is the optional extra
``serve``; nothing in the rest of RexNet imports this package. :func:`create_app` builds the
application; :mod:`rexnet.serve.explorer` is its data layer, free of HTTP.
"""

from __future__ import annotations

from typing import Any

#: the modules the explorer needs beyond RexNet's own dependencies (the ``serve`` extra)
REQUIRED = ("starlette", "jinja2", "uvicorn", "plotly")


def missing() -> list[str]:
    """The modules of the ``serve`` extra that are not installed."""
    import importlib.util

    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def create_app(db_url: str) -> Any:
    """The explorer's ASGI application over the ledger at ``db_url``."""
    from rexnet.serve.app import create_app as build

    return build(db_url)


__all__ = ["REQUIRED", "create_app", "missing"]

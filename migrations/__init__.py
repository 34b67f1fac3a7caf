"""Alembic migrations of the RexNet ledger, shipped inside the package as ``rexnet._migrations``.

The folder lives at the top of the repository (``migrations/``) and is mapped into the package by
``pyproject.toml``; :mod:`rexnet.store.migrate` finds it with ``importlib.resources`` and runs it
programmatically, passing its SQLAlchemy connection through ``Config.attributes``.
"""

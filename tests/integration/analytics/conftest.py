"""Fixtures of the analytics tests (the runs are described in ``analytics_helpers``).

Every test that reads through DuckDB runs twice: over the columnar mirror (``REXNET_MIRROR=require``:
a test fails rather than silently falling back to the scanner) and over the ledger itself
(``REXNET_MIRROR=off``), so both paths give the same answers to the same assertions.
"""

from __future__ import annotations

import pytest
from analytics_helpers import ingest, make_fork

_MODES = {"mirror": "require", "scanner": "off", "auto": "auto"}


def pytest_generate_tests(metafunc):
    if "analytics_path" in metafunc.fixturenames:
        module = metafunc.module.__name__.rpartition(".")[2]
        if module.startswith("test_mirror"):
            paths = ["auto"]  # the mirror's own tests choose their path per call
        elif module in ("test_views_sqlite", "test_metrics"):  # test_metrics: module-scoped runs
            paths = ["scanner"]  # reads the ledger with sqlite3 only
        else:
            paths = ["mirror", "scanner"]
        metafunc.parametrize("analytics_path", paths, indirect=True)


@pytest.fixture(autouse=True)
def analytics_path(request, monkeypatch, tmp_path_factory):
    """``mirror``, ``scanner`` (or ``auto``): how ``Analytics`` and the CLI read the ledger here."""
    monkeypatch.setenv("REXNET_MIRROR", _MODES[request.param])
    # mirrors of PostgreSQL ledgers are cache files: keep them out of the home folder
    monkeypatch.setenv("REXNET_MIRROR_DIR", str(tmp_path_factory.mktemp("mirrors")))
    return request.param


@pytest.fixture
def ledger(sqlite_url, tmp_path):
    """``(url, run_id)`` of a SQLite ledger holding the demo run."""
    return sqlite_url, ingest(sqlite_url, tmp_path)


@pytest.fixture
def forked(ledger):
    """``(url, parent_id, fork_id)``."""
    url, parent = ledger
    return url, parent, make_fork(url, parent)


@pytest.fixture(scope="module", autouse=True)
def _module_path(request):
    """test_metrics keeps one Analytics open for the module and records a run after it opened:
    the mirror is refreshed once per Analytics, so that module reads the ledger (scanner)."""
    patch = pytest.MonkeyPatch()
    if request.module.__name__.endswith("test_metrics"):
        patch.setenv("REXNET_MIRROR", "off")
    yield
    patch.undo()

"""Fixtures of the browser tests: the small ledger, the explorer on a local port, headless Chromium.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it when it is
missing), driven by Playwright's own driver; no browser is ever downloaded. Under ``CI=true`` a
missing browser or driver fails the tests instead of skipping them.

The explorer and the browser live for one test module: no thread of theirs outlives it (the
replay's forked chain check only forks a single-threaded process).

Screenshots go to ``$REXNET_SCREENSHOTS`` (default: a temporary folder); their paths are listed at
the end of the test session.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from browser_helpers import REQUESTS, SHOTS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# the ledger builder shared with the HTTP tests of the explorer
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "serve"))


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, but CI=true: the browser tests must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """``(db_url, runs by name)``: demo, p and its fork f (see ``serve_ledger``)."""
    from serve_ledger import build

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'ledger.db'}"
    return url, build(url, folder)


@pytest.fixture(scope="module")
def site(ledger):
    """The base URL of the explorer, served by uvicorn on a free local port in a thread."""
    import uvicorn

    from rexnet.serve import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ledger[0]), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the explorer did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A headless Chromium with a fresh profile; :data:`REQUESTS` lists every URL it asked for."""
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(30_000)
        context.on("request", lambda request: REQUESTS.append(request.url))
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("REXNET_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_terminal_summary(terminalreporter):
    if SHOTS:
        terminalreporter.write_sep("-", "explorer screenshots")
        for path in SHOTS:
            terminalreporter.write_line(str(path))

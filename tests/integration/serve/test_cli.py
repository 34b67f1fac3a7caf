"""``rexnet serve`` from the command line: the missing extra, the printed URL, and ``report``'s pointer."""

from __future__ import annotations

import socket
import subprocess
import sys

from click.testing import CliRunner

from rexnet.cli import cli


def test_serve_without_the_extra_says_which_to_install(monkeypatch, ledger):
    import rexnet.serve

    monkeypatch.setattr(rexnet.serve, "missing", lambda: ["starlette", "uvicorn"])
    result = CliRunner().invoke(cli, ["--db", ledger[0], "serve"])
    assert result.exit_code == 2
    assert "pip install 'rexnet[serve]'" in result.stderr
    assert "starlette, uvicorn missing" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_its_url_and_serves_locally(ledger):
    import httpx2

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rexnet.cli", "--db", ledger[0], "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"RexNet explorer on http://127.0.0.1:{port}/"), line + proc.stderr.read()
        for _ in range(200):  # uvicorn binds right after the line is printed
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx2.TransportError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read()) from None
                import time

                time.sleep(0.05)
        assert response.status_code == 200 and "<h1>Runs</h1>" in response.text
        assert httpx2.post(f"http://127.0.0.1:{port}/", timeout=5).status_code == 405
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_report_points_to_serve(ledger, tmp_path):
    result = CliRunner().invoke(cli, ["--db", ledger[0], "report", "demo", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "rexnet serve, then open /runs/" in result.stderr

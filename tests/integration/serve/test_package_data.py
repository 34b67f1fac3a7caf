"""Every template and static file of the explorer ships in the package (pyproject's package-data)."""

import fnmatch
import tomllib
from pathlib import Path

TOP = Path(__file__).resolve().parents[3]


def test_templates_and_static_files_are_package_data():
    globs = tomllib.loads((TOP / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "rexnet.serve"
    ]
    root = TOP / "rexnet" / "serve"
    files = [
        p.relative_to(root).as_posix()
        for folder in ("templates", "static")
        for p in (root / folder).rglob("*")
    ]
    assert files
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert not unshipped, f"add to [tool.setuptools.package-data] rexnet.serve: {unshipped}"

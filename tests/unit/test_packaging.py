"""pyproject.toml lists every package (setuptools cannot find the mapped migrations otherwise)."""

import tomllib
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def test_every_package_is_listed():
    config = tomllib.loads((TOP / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(init.parent.relative_to(TOP).parts) for init in (TOP / "rexnet").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"
    assert config["package-dir"]["rexnet._migrations"] == "migrations"
    assert (TOP / "migrations" / "env.py").exists()

"""The layering of DESIGN.md section 6, checked by walking every module's imports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "rexnet"

# package -> rexnet packages it must not import
FORBIDDEN = {
    "domain": {
        "exchange",
        "settlement",
        "sim",
        "store",
        "replay",
        "analytics",
        "cli",
        "engine",
        "recording",
        "ingest",
    },
    "exchange": {"settlement", "sim", "store", "replay", "analytics", "cli", "engine", "recording", "ingest"},
    "settlement": {"exchange", "sim", "store", "replay", "analytics", "cli", "engine", "recording", "ingest"},
    "store": {"exchange", "settlement", "sim", "replay", "analytics", "cli", "engine", "recording", "ingest"},
    "sim": {"store", "replay", "analytics", "cli", "recording", "ingest"},
}
THIRD_PARTY_FORBIDDEN = {
    "domain": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg"},
    "exchange": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg", "numpy"},
    "settlement": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg", "numpy"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(package):
    base = ROOT / package
    files = list(base.rglob("*.py")) if base.is_dir() else []
    for path in files:
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "rexnet" and len(parts) > 1:
                assert parts[1] not in FORBIDDEN[package], f"{path.relative_to(ROOT)} imports {name}"
            assert parts[0] not in THIRD_PARTY_FORBIDDEN.get(package, set()), (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_every_module_has_a_docstring():
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"

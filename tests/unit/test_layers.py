"""The layering of DESIGN.md section 6, checked by walking every module's imports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "rexnet"

TOP = ROOT.parent

#: Every package and top-level module of rexnet (and the migrations) -> the rexnet units it may
#: import, lowest layer first (DESIGN.md section 6). A unit missing here fails the test: a new
#: package or module gets its rule when it is added.
_BASE = {"errors", "_compiled", "gc_tuning"}
ALLOWED: dict[str, set[str]] = {
    "_compiled": set(),
    "errors": set(),
    "gc_tuning": set(),
    "domain": _BASE,
    "exchange": _BASE | {"domain"},
    "settlement": _BASE | {"domain"},
    "market_engine": _BASE | {"domain", "exchange", "settlement"},
    "store": _BASE | {"domain"},
    "ingest": _BASE | {"domain"},
    "sim": _BASE | {"domain", "market_engine"},
    # projections: folds of the log, the recorder of live runs, deterministic re-execution
    "replay": _BASE | {"domain", "exchange", "settlement", "market_engine", "store", "ingest", "sim"},
    "analytics": _BASE | {"domain", "market_engine", "store", "sim", "replay"},
    # the use cases (run, ingest, replay, verify, fork, resume, audit, digest, book, accounts)
    "app": _BASE
    | {"domain", "exchange", "settlement", "market_engine", "store", "ingest", "sim", "replay"}
    | {"analytics"},
    # batch use cases over the app layer: many runs at once
    "sweep": _BASE | {"domain", "market_engine", "store", "sim", "replay", "analytics", "app"},
    "experiment": _BASE | {"domain", "market_engine", "store", "sim", "replay", "analytics", "app", "sweep"},
    "serve": _BASE | {"domain", "settlement", "market_engine", "store", "sim", "replay", "analytics", "app"},
    "cli": _BASE
    | {"domain", "exchange", "settlement", "market_engine", "store", "ingest", "sim", "replay"}
    | {"analytics", "app", "sweep", "experiment", "serve"},
    "__init__": _BASE | {"app", "store", "analytics"},  # the notebook facade (lazy imports)
    "migrations": {"store"},  # the schema constants only; never live catalogues (frozen SQL)
}
THIRD_PARTY_FORBIDDEN = {
    "domain": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg"},
    "exchange": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg", "numpy"},
    "settlement": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg", "numpy"},
    "market_engine": {"sqlalchemy", "duckdb", "pandas", "click", "alembic", "psycopg"},
    "sim": {"sqlalchemy", "duckdb", "click", "alembic", "psycopg"},
    "store": {"click", "duckdb", "pandas"},
    "replay": {"click"},
    "app": {"click"},
}


def units() -> dict[str, list[Path]]:
    """Each unit (package, top-level module, the migrations) and its files."""
    out: dict[str, list[Path]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        out.setdefault(rel.parts[0] if len(rel.parts) > 1 else rel.stem, []).append(path)
    out["migrations"] = list((TOP / "migrations").rglob("*.py"))
    return out


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_unit_has_a_layer_rule():
    assert set(units()) <= set(ALLOWED), f"add a rule to ALLOWED for {sorted(set(units()) - set(ALLOWED))}"


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_lower_layers_do_not_import_higher_ones(unit):
    for path in units().get(unit, []):
        for name in imports_of(path):
            parts = name.split(".")
            where = path.relative_to(TOP)
            if parts[0] == "rexnet" and len(parts) > 1 and parts[1] != unit:
                assert parts[1] in ALLOWED[unit], f"{where} imports {name}"
            assert parts[0] not in THIRD_PARTY_FORBIDDEN.get(unit, set()), f"{where} imports {name}"


def test_every_module_has_a_docstring():
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"

"""The command line loads a command's module only when that command runs (rexnet.cli.COMMAND_MODULES)."""

import importlib
import subprocess
import sys

from rexnet.cli import COMMAND_MODULES, cli


def test_the_map_names_every_command_and_its_module():
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"rexnet.cli.{module}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert command.callback.__module__ == f"rexnet.cli.{COMMAND_MODULES[name]}", name


def test_importing_the_cli_loads_no_command_and_no_heavy_library():
    code = (
        "import sys, rexnet.cli\n"
        "heavy = ['duckdb', 'dask', 'pandas', 'starlette', 'sqlalchemy', 'rexnet.cli.analytics', 'rexnet.sim']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_a_command_loads_only_its_module():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from rexnet.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--db', 'sqlite:///' + sys.argv[1], 'runs'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('rexnet.cli.'))))"
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "x.db")
        out = subprocess.run(
            [sys.executable, "-c", code, db], capture_output=True, text=True, check=True
        ).stdout
    assert out.strip().split(",") == ["rexnet.cli.ledger", "rexnet.cli.output"]

"""The README's two set-up commands stay true: CI runs the test command word for word."""

from pathlib import Path

from click.testing import CliRunner

from rexnet.cli import cli

TOP = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (TOP / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_install_run_and_test_commands():
    run_cmd, test_cmd = readme_commands()
    assert "pip install" in run_cmd and run_cmd.endswith("rexnet run")
    assert '".[test]"' in test_cmd and "pytest" in test_cmd


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (TOP / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()
    assert "REXNET_TEST_PG_URL" in ci


def test_every_command_has_help_text():
    def walk(group, path):
        for name, command in group.commands.items():
            assert command.help, f"rexnet {' '.join(path + [name])} has no help text"
            result = CliRunner().invoke(cli, [*path, name, "--help"])
            assert result.exit_code == 0, result.output
            if hasattr(command, "commands"):
                walk(command, path + [name])

    walk(cli, [])

"""Golden replays (replays/*.toml): re-executed, they must give the pinned head hash and count."""

from __future__ import annotations

import pytest
from replay_cli import invoke_json

from rexnet import __version__
from rexnet.app import golden

FILES = golden.golden_files()


def test_there_are_golden_files():
    assert len(FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_replay(path):
    outcome = golden.check(path)
    assert outcome.ok, (
        f"{path.name}: history changed ({outcome.events} events, head {outcome.head_hash}; expected "
        f"{outcome.expected_events}, {outcome.expected_head_hash}). If intended, re-bless with "
        "`python -m rexnet.app.golden --bless` (see replays/README.md)."
    )


def test_golden_default_through_the_cli(tmp_path):
    """The in-memory re-execution and `rexnet run` into a database agree."""
    import tomllib

    spec = tomllib.loads((golden.REPLAYS / "default_8.toml").read_text())
    if spec["code_version"] != __version__:
        pytest.skip("code version bumped since the golden file was blessed")
    db = f"sqlite:///{tmp_path / 'g.db'}"
    s = invoke_json(db, "run", "--units", str(spec["units"]), "--seed", str(spec["seed"]))
    assert (s["events"], s["head_hash"]) == (spec["events"], spec["head_hash"])


def test_bless_rewrites_only_the_expected_lines(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('# keep me\ningest = "x.jsonl"\ncode_version = "0"\nevents = 1\nhead_hash = "ab"\n')
    golden.bless(golden.Outcome(path, 5, "cd", 1, "ab"))
    assert (
        path.read_text()
        == '# keep me\ningest = "x.jsonl"\ncode_version = "0"\nevents = 5\nhead_hash = "cd"\n'
    )

"""Golden replays: small runs whose head hash is pinned in ``replays/*.toml``.

Each file names what to run and what it must give::

    scenario = "wind_drop"        # a built-in name or a TOML path relative to the file
    # ingest = "small.jsonl"      # ...or a command stream (with optional market = "x.toml")
    seed = 0
    units = 8
    code_version = "0.1.0"        # the version recorded in run_started (part of the hash)
    events = 3098
    head_hash = "1fd9..."

:func:`check` re-executes it in memory (no database; the same :class:`~rexnet.replay.rerun.Rerun`
and hash chain as ``verify``), so any change of code that alters history fails the golden test.
When a change of history is intended, re-bless on purpose and commit the new hashes::

    python -m rexnet.app.golden --bless        # rewrite events/head_hash in replays/*.toml
    python -m rexnet.app.golden                # check only (exit 1 on a mismatch)

``code_version`` is pinned in the file, so bumping ``rexnet.__version__`` alone is not a change
of history.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from rexnet.app.simulate import with_overrides
from rexnet.ingest.chunks import MemoryJournal
from rexnet.ingest.parser import load_market
from rexnet.ingest.stream import stage
from rexnet.replay.rerun import Rerun, Sink
from rexnet.sim.scenario import load_scenario

#: ``replays/`` at the repository root
REPLAYS = Path(__file__).resolve().parents[2] / "replays"


class Outcome(NamedTuple):
    path: Path
    events: int
    head_hash: str
    expected_events: int | None
    expected_head_hash: str | None

    @property
    def ok(self) -> bool:
        return (self.events, self.head_hash) == (self.expected_events, self.expected_head_hash)


class _Discard:
    """A writer that only counts (golden runs need the chain, not the rows)."""

    def append(self, events: list[Any]) -> None:
        pass


def run_of(path: Path) -> tuple[dict[str, Any], int, str, dict[str, Any], MemoryJournal | None]:
    """``(scenario record, seed, code_version, market record, input journal)`` of a golden file
    (the journal of an ingest is staged as ``rexnet ingest`` stages it, and held in memory)."""
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    here = path.parent
    if "ingest" in spec:
        market_file = here / spec["market"] if "market" in spec else None
        market_spec, market = load_market(market_file)
        journal = MemoryJournal()
        with stage(str(here / spec["ingest"]), market_spec) as staged:
            journal.chunks.extend(staged.chunks())
            record = staged.record
        return record, 0, spec["code_version"], market, journal
    name = spec["scenario"]
    source = here / name if name.endswith(".toml") else name
    scenario = with_overrides(load_scenario(source), seed=spec.get("seed"), units=spec.get("units"))
    return scenario.to_record(), scenario.run.seed, spec["code_version"], scenario.to_spec().to_record(), None


def check(path: Path) -> Outcome:
    """Re-execute one golden file in memory."""
    record, seed, version, market, journal = run_of(path)
    rerun = Rerun(record, seed, version, market)
    rerun.store, rerun.run_id = journal, "golden"  # an in-memory journal: any id reads it
    rerun.run(Sink(iter(()), -1, writer=_Discard()))
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    return Outcome(path, rerun.seq + 1, rerun.hash.hex(), spec.get("events"), spec.get("head_hash"))


def bless(outcome: Outcome) -> None:
    """Rewrite the ``events`` and ``head_hash`` lines of the file (comments are kept)."""
    text = outcome.path.read_text(encoding="utf-8")
    for key, value in (("events", str(outcome.events)), ("head_hash", f'"{outcome.head_hash}"')):
        line = f"{key} = {value}"
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", line, text)
        if n == 0:
            text = text.rstrip("\n") + f"\n{line}\n"
    outcome.path.write_text(text, encoding="utf-8")


def golden_files(folder: Path = REPLAYS) -> list[Path]:
    return sorted(folder.glob("*.toml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rexnet.app.golden", description=__doc__.split("\n")[0])
    parser.add_argument("--bless", action="store_true", help="rewrite the expected events and head hashes")
    parser.add_argument("files", nargs="*", type=Path, help="golden files (default: replays/*.toml)")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.files or golden_files():
        outcome = check(path)
        if args.bless:
            bless(outcome)
            print(f"blessed {path.name}: {outcome.events} events, head {outcome.head_hash}")
        elif outcome.ok:
            print(f"ok      {path.name}: {outcome.events} events, head {outcome.head_hash}")
        else:
            failed += 1
            print(
                f"CHANGED {path.name}: {outcome.events} events, head {outcome.head_hash} "
                f"(expected {outcome.expected_events}, {outcome.expected_head_hash})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

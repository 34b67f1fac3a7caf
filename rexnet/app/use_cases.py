"""RexNet's use cases: run, ingest, replay, verify, fork, resume, audit, digest, book, accounts.

Thin on purpose: each validates its arguments through the modules that own the rules, calls the
module of this layer that does the work (:mod:`~rexnet.app.simulate`, :mod:`~rexnet.app.operations`,
:mod:`~rexnet.app.audit`, :mod:`~rexnet.app.digest`) or a projection (:mod:`rexnet.replay`), and
returns a typed result. Bad input raises :class:`rexnet.errors.InputError` (the CLI turns it into
one line and exit 2); nothing is written before every input is checked. Experiments and sweeps,
which compose many runs, are batch use cases one layer up (:mod:`rexnet.experiment.study`,
:mod:`rexnet.sweep`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rexnet.app.results import ForkResult, ReplaySummary, RunSummary, VerifyResult
from rexnet.store.recorder import LedgerReader, Recorder
from rexnet.store.records import RunInfo

if TYPE_CHECKING:
    from rexnet.app.audit import AuditResult
    from rexnet.app.digest import Digest
    from rexnet.sim.scenario import Scenario

Progress = Callable[[int, int], None]


def run(
    store: Recorder,
    scenario: Scenario | str | Path | None = None,
    *,
    seed: int | None = None,
    units: int | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Simulate ``scenario`` (a :class:`~rexnet.sim.scenario.Scenario`, a built-in name or a TOML
    path; ``None``: the default scenario) into a new run (``rexnet run``)."""
    from rexnet.app.simulate import run_scenario, with_overrides
    from rexnet.sim.scenario import Scenario, load_scenario

    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    chosen = with_overrides(chosen, seed=seed, units=units)
    return run_scenario(store, chosen, name=name, progress=progress)


def ingest(
    store: Recorder, commands: str | Path, *, market: str | Path | None = None, name: str | None = None
) -> RunSummary:
    """Run an external JSONL command stream (``-``: standard input) through the exchange into a new
    run (``rexnet ingest``). Pass 1 validates the whole stream (and stages it as input-journal
    chunks) before anything is written; pass 2 stores the journal with the new run and executes
    it, so memory does not grow with the stream."""
    from rexnet.ingest.parser import load_market
    from rexnet.ingest.stream import stage
    from rexnet.replay.recording import check_new_name, record_commands

    spec, _ = load_market(market)
    check_new_name(store, name)  # before pass 1 reads what may be a long stream
    with stage(str(commands), spec) as staged:
        raw = record_commands(
            store,
            staged.commands(),
            spec=spec,
            name=name,
            scenario=staged.record,
            journal=staged.chunks(),
        )
    return RunSummary(raw["run_id"], name, raw["events"], raw["head_hash"])


def replay(store: LedgerReader, run: RunInfo, *, verify_first: bool = False) -> ReplaySummary:
    """Rebuild ``run``'s projections from its log, recomputing its hash chain (``rexnet replay``;
    ``CheckFailed`` on a broken chain). ``verify_first`` re-executes the run first (``Divergence``
    names the first forged seq before any fold trips on it). The chain check runs in a child
    process through its own connections (:meth:`LedgerReader.reopened`)."""
    from rexnet.app.operations import replay_run

    checked = verify(store, run) if verify_first else None
    return replace(replay_run(store, run), verify=checked)


def verify(store: LedgerReader, run: RunInfo) -> VerifyResult:
    """Re-execute ``run`` and compare it with its stored history (``Divergence`` on a mismatch)."""
    from rexnet.app.operations import verify_run

    return verify_run(store, run)


def fork(
    store: Recorder,
    parent: RunInfo,
    *,
    at_seq: int | None = None,
    at_time: float | None = None,
    sets: Sequence[str] = (),
    shock_file: str | None = None,
    name: str | None = None,
) -> ForkResult:
    """Fork ``parent`` at a seq or a time (one of them) with changed values and shocks."""
    from rexnet.app.operations import fork_run

    return fork_run(
        store, parent, at_seq=at_seq, at_time=at_time, sets=sets, shock_file=shock_file, name=name
    )


def resume(store: Recorder, run: RunInfo) -> RunSummary:
    """Continue a run cut short to its end (``stats["resumed"]`` is False when it was complete)."""
    from rexnet.app.operations import resume_run

    return resume_run(store, run)


def audit(store: LedgerReader, run: RunInfo, *, limit: int = 10) -> AuditResult:
    """The chain, replay and settlement audit of ``run`` (forged history is named, not raised)."""
    from rexnet.app.audit import audit_run

    return audit_run(store, run, limit=limit)


def book(
    store: LedgerReader, run: RunInfo, unit: int, *, at_seq: int | None = None, at_time: float | None = None
) -> dict[str, Any]:
    """Depth of one unit's book in display units, best level first, as of a seq or a time."""
    from rexnet.replay.projection import book_view, engine_as_of

    return book_view(engine_as_of(store, run, at_seq=at_seq, at_time=at_time), unit)


def accounts(
    store: LedgerReader, run: RunInfo, *, at_seq: int | None = None, at_time: float | None = None
) -> list[dict[str, Any]]:
    """Cash, positions, reservations and penalties per participant, as of a seq or a time."""
    from rexnet.replay.projection import run_spec, state_as_of

    # from the nearest persisted snapshot at or before the point (rexnet.replay.persisted)
    return state_as_of(store, run, at_seq=at_seq, at_time=at_time)[1].rows(run_spec(run))


def digest(store: LedgerReader, run: RunInfo, *, key_path: str | None) -> Digest:
    """A signed (or MACed) :class:`~rexnet.app.digest.Digest` of ``run``'s head, after checking
    its chain (``CheckFailed`` on a broken one); ``key_path`` as ``--key`` (``None``: the default)."""
    from rexnet.app.digest import load_key, make_digest

    return make_digest(store, run, load_key(key_path))

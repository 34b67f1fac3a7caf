"""The typed results of the use cases (what the CLI renders and the notebook facade returns)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSummary:
    """A run just recorded (simulated, ingested or resumed): its identity, head and statistics.

    Attributes:
        run_id: the new (or resumed) run's id.
        name: its unique name, if any.
        events: events in its history.
        head_hash: the chain hash of its last event (hex).
        stats: the run's statistics (trades, volume, prices, settlement; keys as ``rexnet run
            --format json`` prints them), empty for an ingest.
    """

    run_id: str
    name: str | None
    events: int
    head_hash: str
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The flat JSON object the CLI prints (identity first, then the statistics)."""
        out = {"run_id": self.run_id, "name": self.name, "events": self.events, "head_hash": self.head_hash}
        return {**out, **self.stats}


@dataclass(frozen=True)
class ForkResult(RunSummary):
    """A fork just recorded: a :class:`RunSummary` plus where it branched off.

    Attributes:
        parent: the parent run's id.
        fork_seq: the last seq of the parent's history the fork shares.
        fork_t: the fork time (sim seconds).
    """

    parent: str = ""
    fork_seq: int = -1
    fork_t: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "parent": self.parent, "fork_seq": self.fork_seq, "fork_t": self.fork_t}


@dataclass(frozen=True)
class VerifyResult:
    """A run re-executed and compared with its stored history (a mismatch raises instead).

    Attributes:
        run_id: the run.
        verified: events compared.
        head_hash: the run's head hash (hex).
        complete: whether the re-execution reached the run's end.
    """

    run_id: str
    verified: int
    head_hash: str
    complete: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReplaySummary:
    """A run's projections rebuilt from its log (``rexnet replay``), its chain recomputed.

    Attributes:
        run_id: the run.
        name: its unique name, if any.
        status: ``complete``, ``running`` or ``failed``.
        parent: the parent run's id (a fork), else ``None``.
        fork_seq: the last seq shared with the parent (a fork), else ``None``.
        events: events in its history.
        head_hash: the chain hash of its last event (hex), recomputed from the stored bytes.
        figures: the fold's figures: open units and orders, participants, accounts total,
            trades, volume, prices, settlement (keys as ``rexnet replay --format json`` prints them).
        verify: the re-execution's result, when one was asked for.
    """

    run_id: str
    name: str | None
    status: str
    parent: str | None
    fork_seq: int | None
    events: int
    head_hash: str
    figures: dict[str, Any] = field(default_factory=dict)
    verify: VerifyResult | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "parent": self.parent,
            "fork_seq": self.fork_seq,
            "events": self.events,
            "head_hash": self.head_hash,
            **self.figures,
        }
        if self.verify is not None:
            out["verify"] = self.verify.as_dict()
        return out

"""The notebook facade: :class:`Ledger`, one object for a ledger and every use case on it.

``import rexnet`` exposes it as ``rexnet.Ledger`` (imported lazily, so ``import rexnet`` stays
cheap). Example::

    import rexnet

    with rexnet.Ledger("sqlite:///rexnet.db") as ledger:
        summary = ledger.run("default", seed=7, units=2)
        print(summary.run_id, summary.events, summary.head_hash)
        book = ledger.book(summary.run_id, unit=8, at_time=3600)
        table = ledger.analytics.query("SELECT count(*) AS n FROM trades")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rexnet.app import use_cases
from rexnet.app.audit import AuditResult
from rexnet.app.results import ForkResult, ReplaySummary, RunSummary, VerifyResult
from rexnet.store.recorder import Recorder
from rexnet.store.records import RunInfo

if TYPE_CHECKING:
    from rexnet.analytics.api import Analytics


class Ledger:
    """A RexNet ledger (SQLite or PostgreSQL URL, or ``"memory://"``) and its use cases.

    Runs are named by id or unique name wherever a ``run`` argument is taken. Results are the
    dataclasses of :mod:`rexnet.app.results` (and plain rows for the book and the accounts).

    Args:
        url: ``sqlite:///PATH``, ``postgresql://...`` (migrated on first use) or ``memory://``
            (an in-memory ledger, gone with the object; no analytics).
    """

    def __init__(self, url: str) -> None:
        if url == "memory://":
            from rexnet.store.memory import MemoryStore

            self.store: Recorder = MemoryStore()
        else:
            from rexnet.store import open_store

            self.store = open_store(url)
        self.url = url
        self._analytics: Analytics | None = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections (and the analytics session, if one was opened)."""
        if self._analytics is not None:
            self._analytics.close()
        self.store.close()

    def __repr__(self) -> str:
        return f"Ledger({self.store.url!r})"

    # -- recording ---------------------------------------------------------------------------------
    def run(
        self,
        scenario: Any = None,
        seed: int | None = None,
        *,
        units: int | None = None,
        name: str | None = None,
    ) -> RunSummary:
        """Simulate a scenario (built-in name, TOML path or ``Scenario``; default: ``"default"``)."""
        return use_cases.run(self.store, scenario, seed=seed, units=units, name=name)

    def ingest(
        self, path: str | Path, *, market: str | Path | None = None, name: str | None = None
    ) -> RunSummary:
        """Run an external JSONL command stream through the exchange into a new run."""
        return use_cases.ingest(self.store, path, market=market, name=name)

    def fork(
        self,
        run: str,
        *,
        at_seq: int | None = None,
        at_time: float | None = None,
        sets: Sequence[str] = (),
        shock_file: str | None = None,
        name: str | None = None,
    ) -> ForkResult:
        """Re-simulate ``run`` to a seq or a time and continue it, changed (``sets`` as ``--set``)."""
        parent = self.store.get_run(run)
        return use_cases.fork(
            self.store, parent, at_seq=at_seq, at_time=at_time, sets=sets, shock_file=shock_file, name=name
        )

    def resume(self, run: str) -> RunSummary:
        """Continue a run that was cut short."""
        return use_cases.resume(self.store, self.store.get_run(run))

    # -- reading -----------------------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        """Every run, in creation order."""
        return self.store.list_runs()

    def get(self, run: str) -> RunInfo:
        """One run by id or unique name."""
        return self.store.get_run(run)

    def book(
        self, run: str, *, unit: int, at_seq: int | None = None, at_time: float | None = None
    ) -> dict[str, Any]:
        """Depth of one unit's book (display units, best level first) as of a seq or a time."""
        return use_cases.book(self.store, self.store.get_run(run), unit, at_seq=at_seq, at_time=at_time)

    def accounts(
        self, run: str, *, at_seq: int | None = None, at_time: float | None = None
    ) -> list[dict[str, Any]]:
        """Cash, positions, reservations and penalties per participant, as of a seq or a time."""
        return use_cases.accounts(self.store, self.store.get_run(run), at_seq=at_seq, at_time=at_time)

    def replay(self, run: str, *, verify: bool = False) -> ReplaySummary:
        """Rebuild ``run``'s projections from its log, recomputing its hash chain (``verify``:
        re-execute it first and compare every event, as ``rexnet replay --verify``)."""
        return use_cases.replay(self.store, self.store.get_run(run), verify_first=verify)

    def verify(self, run: str) -> VerifyResult:
        """Re-execute ``run`` and compare hash chains (``Divergence`` on a mismatch)."""
        return use_cases.verify(self.store, self.store.get_run(run))

    def audit(self, run: str, *, limit: int = 10) -> AuditResult:
        """The chain, replay and settlement audit of ``run`` (``.ok``, ``.verdict``, ``.problems``)."""
        return use_cases.audit(self.store, self.store.get_run(run), limit=limit)

    @property
    def analytics(self) -> Analytics:
        """The SQL analytics of this ledger (:class:`rexnet.analytics.Analytics`), opened on first use."""
        if self._analytics is None:
            from rexnet.analytics.api import Analytics

            self._analytics = Analytics(self.url)
        return self._analytics

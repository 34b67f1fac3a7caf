"""Recording a run into the ledger: the live engine's events streamed to a store writer.

:class:`RunRecorder` owns the bracket every run has (``run_started`` first, ``run_completed``
with the head hash last) and batches the engine's events into the store as they come, so memory
is bounded by the writer's batch, not by the length of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rexnet import __version__
from rexnet.domain.events import RunCompleted, RunStarted
from rexnet.domain.market import MarketSpec
from rexnet.engine import MarketEngine


class RunRecorder:
    """Creates a run, streams events into it and closes it with ``run_completed``."""

    def __init__(
        self,
        store: Any,
        *,
        name: str | None,
        scenario: dict[str, Any],
        seed: int,
        spec: MarketSpec,
        batch_size: int = 5000,
    ) -> None:
        self.store = store
        self.spec = spec
        self.run = store.create_run(
            name=name, scenario=scenario, seed=seed, code_version=__version__, market=spec.to_record()
        )
        self.writer = store.writer(self.run.run_id, batch_size=batch_size)
        self.engine = MarketEngine(spec)
        self.events = 0
        self.record([RunStarted(0, scenario, seed, __version__, spec.to_record())])

    @property
    def run_id(self) -> str:
        return str(self.run.run_id)

    def record(self, events: list[Any]) -> None:
        if events:
            self.writer.append(events)
            self.events += len(events)

    def submit(self, command: Any) -> list[Any]:
        events = self.engine.submit(command)
        self.record(events)
        return events

    def complete(self) -> tuple[int, str]:
        """Append ``run_completed`` (head hash of everything before it), flush, mark completed."""
        done = RunCompleted(self.engine.now_ms, self.writer.head_hash.hex(), self.writer.seq + 1)
        self.record([done])
        self.writer.flush()
        self.store.set_status(self.run.run_id, "completed")
        return self.writer.seq + 1, self.writer.head_hash.hex()


def record_commands(
    store: Any,
    commands: Iterable[Any],
    *,
    spec: MarketSpec,
    name: str | None,
    scenario: dict[str, Any],
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run an order/realization stream through a fresh engine into a new run; returns a summary."""
    rec = RunRecorder(store, name=name, scenario=scenario, seed=seed, spec=spec)
    rec.record(rec.engine.advance(0))
    for i, command in enumerate(commands):
        rec.submit(command)
        if progress is not None:
            progress(i)
    rec.record(rec.engine.finish())
    events, head = rec.complete()
    return {"run_id": rec.run_id, "events": events, "head_hash": head}

"""Recording a run into the ledger: the live engine's events streamed to a store writer.

:class:`RunRecorder` owns the bracket every run has (``run_started`` first, ``run_completed``
with the head hash last) and batches the engine's events into the store as they come, so memory
is bounded by the writer's batch, not by the length of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rexnet import __version__
from rexnet.domain.events import RunCompleted, RunStarted
from rexnet.domain.limits import run_name_problem
from rexnet.domain.market import MarketSpec
from rexnet.errors import InputError, RunNotFound
from rexnet.market_engine import MarketEngine
from rexnet.store.recorder import Recorder


def check_new_name(store: Recorder, name: str | None) -> None:
    """Refuse a name for a new run that is malformed, shaped like a run id, or taken (as a name
    or as an id): ``RUN`` arguments resolve ids and names alike, so either would be ambiguous.

    Raises:
        InputError: the message says which.
    """
    if name is None:
        return
    problem = run_name_problem(name, typed=False)  # (--name itself is checked as it is typed)
    if problem is not None:
        raise InputError(f"run name {name!r}: {problem}")
    try:
        store.get_run(name)
    except RunNotFound as exc:
        if "ambiguous" not in str(exc):
            return
    raise InputError(f"a run named {name!r} already exists")


def _out_of_range(error: BaseException) -> bool:
    """An integer too large for the ledger (orjson's and the drivers' words for it)."""
    return isinstance(error, OverflowError) or (isinstance(error, TypeError) and "64-bit" in str(error))


def failure_reason(error: BaseException) -> str:
    """The one-line reason recorded for a run that stopped with ``error``."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextmanager
def marked_failed(store: Recorder, run_id: str) -> Iterator[None]:
    """Mark the run ``failed`` when the block raises (never leave it ``running``), and re-raise.

    What was written is a valid prefix that ``rexnet resume`` can try to finish. A number that
    leaves the 64-bit range (which the edge checks should make impossible) becomes an
    :class:`~rexnet.errors.InputError` naming the run, rather than a traceback.
    """
    try:
        yield
    except BaseException as error:
        try:
            store.set_status(run_id, "failed", reason=failure_reason(error))
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        if _out_of_range(error):
            raise InputError(
                f"run {run_id} stopped and is marked failed: a figure exceeds the 64-bit range ({error})"
            ) from None
        raise


class RunRecorder:
    """Creates a run, streams events into it and closes it with ``run_completed``."""

    def __init__(
        self,
        store: Recorder,
        *,
        name: str | None,
        scenario: dict[str, Any],
        seed: int,
        spec: MarketSpec,
        batch_size: int = 5000,
    ) -> None:
        self.store = store
        self.spec = spec
        check_new_name(store, name)
        self.run = store.create_run(
            name=name, scenario=scenario, seed=seed, code_version=__version__, market=spec.to_record()
        )
        with self.guard():
            self.writer = store.writer(self.run.run_id, batch_size=batch_size)
            self.engine = MarketEngine(spec)
            self.events = 0
            from rexnet.replay.persisted import SnapshotTaker  # (replay builds on this module)

            #: persisted snapshots of the live state, every so many events
            self.snapshots = SnapshotTaker(self.writer, self.engine)
            self.record([RunStarted(0, scenario, seed, __version__, spec.to_record())])

    @property
    def run_id(self) -> str:
        return str(self.run.run_id)

    def guard(self) -> Any:
        """A ``with`` block after which the run is never left ``running`` (see :func:`marked_failed`)."""
        return marked_failed(self.store, self.run_id)

    def record(self, events: list[Any]) -> None:
        if events:
            writer = self.writer
            writer.append(events)
            self.events += len(events)
            self.snapshots.feed(events, writer.seq, writer.head_hash)

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


#: Events handed to the writer at once by :func:`record_commands`.
_HANDOFF = 1024


def record_commands(
    store: Recorder,
    commands: Iterable[Any],
    *,
    spec: MarketSpec,
    name: str | None,
    scenario: dict[str, Any],
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    journal: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Run an order/realization stream through a fresh engine into a new run; returns a summary.

    ``journal``: the input-journal chunks of ``commands`` (an ingest), stored with the run before
    any command is executed, so a run that stops part-way still has all its inputs (resume).
    """
    rec = RunRecorder(store, name=name, scenario=scenario, seed=seed, spec=spec)
    with rec.guard():
        if journal is not None:
            store.append_journal(rec.run_id, journal)
        rec.record(rec.engine.advance(0))
        # events go to the writer by the thousand, not command by command (the same rows and
        # transactions: the writer cuts its batches by seq)
        submit = rec.engine.submit
        pending: list[Any] = []
        for i, command in enumerate(commands):
            pending += submit(command)
            if len(pending) >= _HANDOFF:
                rec.record(pending)
                pending = []
            if progress is not None:
                progress(i)
        rec.record(pending)
        rec.record(rec.engine.finish())
        events, head = rec.complete()
    return {"run_id": rec.run_id, "events": events, "head_hash": head}

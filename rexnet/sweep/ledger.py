"""The sweep record in the main ledger database: ``sweeps`` and ``sweep_runs`` reads and writes.

Only the client (the process that runs ``rexnet sweep``) writes these rows, so a sweep into
SQLite files never has two writers on the main file; the workers write only their runs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rexnet.errors import InputError
from rexnet.store.database import translated
from rexnet.sweep.tables import ensure_schema, sweep_runs, sweeps


@dataclass
class SweepRun:
    """One row of ``sweep_runs``."""

    point_key: str
    seed: int
    point_index: int
    params: dict[str, Any]
    run_id: str | None
    db_url: str | None
    status: str
    error: str | None
    attempts: int
    head_hash: str | None
    summary: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Any) -> SweepRun:
        m = row._mapping
        return cls(
            m["point_key"],
            int(m["seed"]),
            m["point_index"],
            json.loads(m["params"]),
            m["run_id"],
            m["db_url"],
            m["status"],
            m["error"],
            m["attempts"],
            m["head_hash"],
            None if m["summary"] is None else json.loads(m["summary"]),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class SweepLedger:
    """The sweep tables of one database (an :class:`~rexnet.store.EventStore`'s engine)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def _write(self) -> sa.Connection:
        """A connection whose transactions take the write lock up front (SQLite)."""
        return self.engine.connect().execution_options(rexnet_write=True)

    # -- sweeps --------------------------------------------------------------------------------
    def find(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """``(sweep_id, spec)`` of the sweep called ``name``, or None."""
        with translated(self.engine.url, "cannot read sweeps"), self.engine.connect() as conn:
            query = sa.select(sweeps.c.sweep_id, sweeps.c.spec).where(sweeps.c.name == name)
            row = conn.execute(query).first()
        return None if row is None else (row[0], json.loads(row[1]))

    def list_sweeps(self) -> list[dict[str, Any]]:
        """Every sweep with its run counts by status, oldest first."""
        counts = sa.select(sweep_runs.c.sweep_id, sweep_runs.c.status, sa.func.count().label("n")).group_by(
            sweep_runs.c.sweep_id, sweep_runs.c.status
        )
        with translated(self.engine.url, "cannot read sweeps"), self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(sweeps.c.sweep_id, sweeps.c.name, sweeps.c.created_at).order_by(sweeps.c.created_at)
            ).all()
            by: dict[str, dict[str, int]] = {}
            for sweep_id, status, n in conn.execute(counts):
                by.setdefault(sweep_id, {})[status] = n
        return [
            {
                "sweep_id": r[0],
                "name": r[1],
                "created_at": r[2],
                **{s: by.get(r[0], {}).get(s, 0) for s in ("completed", "failed", "running", "pending")},
            }
            for r in rows
        ]

    def register(self, name: str, spec_json: str) -> str:
        """The id of sweep ``name``, recording it on first use.

        Raises:
            InputError: a sweep of that name was recorded with a different spec.
        """
        found = self.find(name)
        if found is not None:
            sweep_id, stored = found
            if stored != json.loads(spec_json):
                raise InputError(
                    f"sweep {name!r} was recorded with a different scenario, grid, seeds or units: "
                    'give this one another name (name = "..." in the sweep file)'
                )
            return sweep_id
        sweep_id = uuid.uuid4().hex[:12]
        with translated(self.engine.url, "cannot record the sweep"), self._write() as conn, conn.begin():
            conn.execute(
                sa.insert(sweeps).values(sweep_id=sweep_id, name=name, spec=spec_json, created_at=_now())
            )
        return sweep_id

    # -- runs ----------------------------------------------------------------------------------
    def runs(self, sweep_id: str) -> list[SweepRun]:
        """The sweep's runs in grid order (point, then seed)."""
        with translated(self.engine.url, "cannot read sweep runs"), self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(sweep_runs)
                .where(sweep_runs.c.sweep_id == sweep_id)
                .order_by(sweep_runs.c.point_index, sweep_runs.c.seed)
            ).all()
        return [SweepRun.from_row(r) for r in rows]

    def add_missing(self, sweep_id: str, wanted: list[SweepRun]) -> None:
        """Insert the rows of ``wanted`` that the sweep does not have yet (as given)."""
        have = {(r.point_key, r.seed) for r in self.runs(sweep_id)}
        new = [r for r in wanted if (r.point_key, r.seed) not in have]
        if not new:
            return
        stamp = _now()
        values = [
            {
                "sweep_id": sweep_id,
                "point_key": r.point_key,
                "seed": r.seed,
                "point_index": r.point_index,
                "params": json.dumps(r.params, sort_keys=True),
                "run_id": r.run_id,
                "db_url": r.db_url,
                "status": r.status,
                "error": r.error,
                "attempts": r.attempts,
                "head_hash": None,
                "summary": None,
                "updated_at": stamp,
            }
            for r in new
        ]
        with translated(self.engine.url, "cannot record sweep runs"), self._write() as conn, conn.begin():
            conn.execute(sa.insert(sweep_runs), values)

    def update(self, sweep_id: str, point_key: str, seed: int, **values: Any) -> None:
        """Set columns of one sweep run (``summary`` as a dict); ``attempts=+1`` increments."""
        if "summary" in values and values["summary"] is not None:
            values["summary"] = json.dumps(values["summary"], sort_keys=True)
        if values.pop("bump", False):
            values["attempts"] = sweep_runs.c.attempts + 1
        values["updated_at"] = _now()
        where = sa.and_(
            sweep_runs.c.sweep_id == sweep_id, sweep_runs.c.point_key == point_key, sweep_runs.c.seed == seed
        )
        with translated(self.engine.url, "cannot record a sweep run"), self._write() as conn, conn.begin():
            conn.execute(sa.update(sweep_runs).where(where).values(**values))

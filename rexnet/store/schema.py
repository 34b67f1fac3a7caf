"""The ledger's tables as SQLAlchemy Core metadata: ``runs``, ``events``, ``input_journal``,
``snapshots`` and the sweep bookkeeping.

This metadata is the reference the Alembic migrations must produce (a test compares them with
autogenerate). The append-only triggers are not expressible as metadata; they live in the
migrations (``migrations/versions/0001_ledger.py``: no UPDATE or DELETE; ``0005_tamper.py``:
no event after ``run_completed``, of an unknown run or out of seq order) and are checked by the
contract suite and ``tests/hostile``.

Column conventions: integers are exact (ticks, meter units, money units, ms); ``payload`` is the
canonical JSON text of :func:`rexnet.domain.codec.encode_payload` and ``hash`` the 32-byte chain
hash over exactly that text encoded as UTF-8 (identical on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

RUN_STATUSES = ("running", "completed", "failed")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("parent_run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=True),
    sa.Column("fork_seq", sa.BigInteger, nullable=True),
    sa.Column("scenario", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("code_version", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("price_scale", sa.Text, nullable=False),
    sa.Column("qty_scale", sa.Text, nullable=False),
    sa.Column("money_scale", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("head_seq", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.LargeBinary, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    #: the one-line reason of a ``failed`` run (migration 0007)
    sa.Column("failure", sa.Text, nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name="status"),
    sa.CheckConstraint("(parent_run_id IS NULL) = (fork_seq IS NULL)", name="fork"),
    sa.Index("ix_runs_name", "name", unique=True),
)

#: The physical log. Users read the ``events`` view (migration 0003), which adds forks' inherited prefixes.
event_log = sa.Table(
    "event_log",
    metadata,
    # The foreign key refuses rows of unknown runs, which append-only would make permanent. It is
    # not free (a per-row check on every append; benchmarks/bench_append.py), but the writer alone
    # cannot stop a stray INSERT from a SQL console. (SQLite
    # enforces it only on connections that ask; migration 0005 adds a trigger that always does.)
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("t_ms", sa.BigInteger, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    # A clustered (run_id, seq) key: appends land at the end of one run's range and reads by seq
    # are range scans (measured faster than a rowid table plus a separate key index).
    sqlite_with_rowid=False,
)


#: The input journal of ingest runs (migration 0008; see :mod:`rexnet.ingest.chunks`): chunks of
#: consecutive commands, each hash chained from the previous one. Append-only like the log.
input_journal = sa.Table(
    "input_journal",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("chunk", sa.BigInteger, primary_key=True, autoincrement=False),
    #: line number (1-based, in the source file) of the chunk's first command
    sa.Column("first_line", sa.BigInteger, nullable=False),
    sa.Column("commands", sa.BigInteger, nullable=False),
    #: compact JSON array of the chunk's commands, ``[[op, field, ...], ...]``
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)


#: Persisted snapshots of the market state (migration 0009; :mod:`rexnet.replay.persisted`): the
#: fold's state (engine and accounts, :mod:`rexnet.replay.state_codec`) after event ``seq`` of the
#: run's history, so that as-of reads start near their point. Not history, a cache: ``hash`` is the
#: chain hash of event ``seq`` (a snapshot is used only where the log still has it), ``digest`` a
#: sha256 over the row's fields and ``state``; ``rexnet audit`` re-derives every one from the log.
snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("t_ms", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Column("format", sa.Integer, nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.LargeBinary, nullable=False),
)

#: Sweep bookkeeping (migration 0004; see :mod:`rexnet.sweep`): a sweep's spec and the status of
#: each of its runs. Not history: a status moves on when a run is redone.
sweeps = sa.Table(
    "sweeps",
    metadata,
    sa.Column("sweep_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("ix_sweeps_name", "name", unique=True),
)

SWEEP_RUN_STATUSES = ("pending", "running", "completed", "failed")

sweep_runs = sa.Table(
    "sweep_runs",
    metadata,
    sa.Column("sweep_id", sa.Text, sa.ForeignKey("sweeps.sweep_id"), primary_key=True),
    sa.Column("point_key", sa.Text, primary_key=True),
    sa.Column("seed", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("point_index", sa.Integer, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, nullable=True),
    sa.Column("db_url", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.Text, nullable=True),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name="status"),
)

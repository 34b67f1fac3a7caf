"""Plain records the store hands out: :class:`RunInfo` (a row of ``runs``) and :class:`StoredEvent`."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from rexnet.domain import codec
from rexnet.domain.market import MarketSpec

#: Significant digits of the ``money_scale`` column (currency per money unit).
MONEY_SCALE_DIGITS = 20


class StoredEvent(NamedTuple):
    """One row of ``events``, exactly as stored.

    ``payload`` is the canonical JSON text (``t`` excluded) and ``hash`` the 32-byte chain hash
    over ``hash[seq - 1]`` and the canonical bytes of this row.
    """

    run_id: str
    seq: int
    t_ms: int
    type: str
    version: int
    payload: str
    hash: bytes

    def event(self) -> Any:
        """The domain event record, upcast to the current schema version."""
        return codec.decode(self.type, self.version, self.t_ms, self.payload)


class CodedChunk(NamedTuple):
    """Consecutive events of one run, column by column (:meth:`EventStore.read_coded`).

    ``payloads[i]`` is the parsed payload (a dict) or, in a chunk read row by row, its bytes.
    ``codes[i]`` is the index of the event's ``(type, version)`` in the codes asked for, or the
    text ``"type@version"`` for a pair not among them.
    """

    seqs: Sequence[int]
    t_ms: list[int]
    codes: list[Any]
    payloads: list[Any]


@dataclass(frozen=True)
class RunInfo:
    """A run as recorded in ``runs``.

    Attributes:
        run_id: 12 hex characters, random.
        name: optional unique label (the CLI accepts it wherever a run id goes).
        parent_run_id: the run this one was forked from, if any.
        fork_seq: last seq of the parent's history this run shares (its own events start after it).
        scenario: the scenario record (JSON object).
        seed: the run seed.
        code_version: version of the code that produced the run.
        market: :meth:`MarketSpec.to_record` of the run's market.
        status: ``"running"``, ``"completed"`` or ``"failed"``.
        created_at: ISO 8601 UTC timestamp.
        head_seq: seq of the last event of the run's history (``-1`` when empty; a fork starts at
            ``fork_seq``).
        head_hash: chain hash at ``head_seq`` (``GENESIS`` when empty; a fork starts with the
            parent's hash at ``fork_seq``).
        events: number of events in the run's history, a fork's shared prefix included (always
            ``head_seq + 1``).
        price_scale: currency/MWh per price tick (decimal string).
        qty_scale: kW per quantity unit (decimal string).
        money_scale: currency per money unit (decimal string, 20 significant digits).
    """

    run_id: str
    name: str | None
    parent_run_id: str | None
    fork_seq: int | None
    scenario: dict[str, Any]
    seed: int
    code_version: str
    market: dict[str, Any]
    status: str
    created_at: str
    head_seq: int
    head_hash: bytes
    events: int
    price_scale: str
    qty_scale: str
    money_scale: str
    #: why a ``failed`` run failed (one line), else None
    failure: str | None = None

    def identity(self) -> dict[str, Any]:
        """What names the run and where its history stands: the row of ``rexnet runs`` (and the
        head of ``rexnet replay``'s summary)."""
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "parent": self.parent_run_id,
            "fork_seq": self.fork_seq,
            "events": self.events,
            "head_hash": self.head_hash.hex(),
        }

    @classmethod
    def from_row(cls, row: Any) -> RunInfo:
        m = row._mapping
        return cls(
            run_id=m["run_id"],
            name=m["name"],
            parent_run_id=m["parent_run_id"],
            fork_seq=m["fork_seq"],
            scenario=orjson.loads(m["scenario"]),
            seed=m["seed"],
            code_version=m["code_version"],
            market=orjson.loads(m["market"]),
            status=m["status"],
            created_at=m["created_at"],
            head_seq=m["head_seq"],
            head_hash=bytes(m["head_hash"]),
            events=m["events"],
            price_scale=m["price_scale"],
            qty_scale=m["qty_scale"],
            money_scale=m["money_scale"],
            failure=m.get("failure"),
        )


def scales(market: dict[str, Any]) -> dict[str, str]:
    """The display scales of a market record: ``price_scale``, ``qty_scale``, ``money_scale``.

    SQL users multiply the stored integers by these to get currency/MWh, kW and currency.
    """
    spec = MarketSpec.from_record(market)
    exact = spec.money_scale
    ctx = decimal.Context(prec=MONEY_SCALE_DIGITS, rounding=decimal.ROUND_HALF_EVEN)
    money = ctx.divide(Decimal(exact.numerator), Decimal(exact.denominator))
    return {"price_scale": str(spec.tick), "qty_scale": str(spec.meter_kw), "money_scale": str(money)}


_BIGINT = 1 << 63


def check_new_run(parent_run_id: str | None, fork_seq: int | None, seed: int) -> None:
    """The rules of a new run's arguments that every recorder keeps (``ValueError``): a fork
    gives both its parent and ``fork_seq``, and the seed fits in 64 bits."""
    if (parent_run_id is None) != (fork_seq is None):
        raise ValueError("parent_run_id and fork_seq go together")
    if not -_BIGINT <= seed < _BIGINT:
        raise ValueError(f"seed {seed} does not fit in 64 bits")


def check_fork_seq(parent: RunInfo, fork_seq: int) -> None:
    """A fork shares ``-1`` (nothing) up to the parent's head (``ValueError`` otherwise)."""
    if not -1 <= fork_seq <= parent.head_seq:
        raise ValueError(f"fork_seq {fork_seq} is outside run {parent.run_id} (head {parent.head_seq})")

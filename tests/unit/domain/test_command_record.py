"""The compact command record of ingest runs round-trips every command type."""

from __future__ import annotations

import json

from rexnet.domain.command_record import decode_commands, encode_commands
from rexnet.domain.commands import (
    Cancel,
    PlaceLimit,
    PlaceMarket,
    PlaceSet,
    Realize,
    Reason,
    RefuseAtEdge,
    Shrink,
    TimeInForce,
)

COMMANDS = [
    PlaceLimit(0, "a", "o1", "sell", 2, 4000, 15, TimeInForce.FOK),
    PlaceMarket(1000, "b", "o2", "buy", 2, 5),
    PlaceSet(1500, "c", "s", "buy", (3, 4), 5500, 10),
    Cancel(2000, "a", "o1"),
    Shrink(3000, "a", "o3", 2),
    Realize(1_900_000, "a", 2, 11),
    RefuseAtEdge(4000, "d", "o9", Reason.OFF_TICK, "price 40.001 is not a multiple of the tick 0.01"),
]


def test_round_trip_through_json():
    rows = json.loads(json.dumps(encode_commands(COMMANDS)))
    assert rows[0] == ["limit", 0, "a", "o1", "sell", 2, 4000, 15, "fok"]
    assert list(decode_commands(rows)) == COMMANDS

"""Canonical encoding, hash chain and upcasting of events."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from rexnet.domain import codec
from rexnet.domain.events import EVENT_TYPES, GateClosed, OrderAccepted, TradeExecuted, pydantic_model


def test_payload_is_sorted_compact_json_without_t():
    e = TradeExecuted(5, 1, 3, 4000, 1500, 1, 2, "a", "b", "buy")
    assert codec.encode_payload(e) == (
        b'{"aggressor":"buy","buy_order_id":1,"buyer":"a","price":4000,"qty":1500,'
        b'"sell_order_id":2,"seller":"b","trade_id":1,"unit":3}'
    )


def test_round_trip_every_type_through_payload():
    samples = {
        "order_accepted": OrderAccepted(7, 1, "o1", "a", "sell", 2, 4000, 1500, "gtc", None),
        "trade": TradeExecuted(5, 1, 3, 4000, 1500, 1, 2, "a", "b", None),
        "gate_closed": GateClosed(900000, 1, 0, None, 0),
    }
    for name, event in samples.items():
        payload = codec.encode_payload(event)
        assert codec.decode(name, event.VERSION, event.t, payload) == event


def test_hash_chain_links_previous_hash():
    e = TradeExecuted(5, 1, 3, 4000, 1500, 1, 2, "a", "b", "buy")
    p = codec.encode_payload(e)
    h0 = codec.chain_hash(codec.GENESIS, 0, e.t, e.TYPE, e.VERSION, p)
    h1 = codec.chain_hash(h0, 1, e.t, e.TYPE, e.VERSION, p)
    import hashlib

    assert h0 == hashlib.sha256(codec.GENESIS + b"0|5|trade|1|" + p).digest()
    assert h1 == hashlib.sha256(h0 + b"1|5|trade|1|" + p).digest()
    assert h1 != codec.chain_hash(codec.GENESIS, 1, e.t, e.TYPE, e.VERSION, p)


def test_v1_gate_closed_written_by_older_shape_is_upcast():
    # DESIGN.md's first catalogue wrote gate_closed with volume and vwap only (version 1)
    old_payload = b'{"unit":4,"volume":3000,"vwap":4000}'
    event = codec.decode("gate_closed", 1, 3600000, old_payload)
    assert event == GateClosed(3600000, 4, 3000, 4000, 12_000_000)
    assert event.VERSION == 2


def test_unknown_type_is_a_key_error():
    with pytest.raises(KeyError):
        codec.decode("no_such_event", 1, 0, b"{}")


def test_pydantic_models_are_frozen_and_strict():
    model = pydantic_model(TradeExecuted)
    m = model(
        t=5,
        trade_id=1,
        unit=3,
        price=4000,
        qty=1500,
        buy_order_id=1,
        sell_order_id=2,
        buyer="a",
        seller="b",
        aggressor="buy",
    )
    with pytest.raises(ValidationError):
        m.price = 1  # frozen
    with pytest.raises(ValidationError):
        model(**{**m.model_dump(), "extra": 1})  # extra="forbid"
    for cls in EVENT_TYPES.values():
        assert pydantic_model(cls).model_fields.keys() == set(cls._fields)


def test_canonical_bytes_identical_across_processes_and_hash_seeds():
    script = (
        "from rexnet.domain import codec; from rexnet.domain.events import RunStarted;"
        "e = RunStarted(0, {'z': 1, 'a': {'y': [1, 2], 'b': None}}, 7, '0.1.0', {'tick': '0.01'});"
        "print(codec.chain_hash(codec.GENESIS, 0, 0, e.TYPE, 1, codec.encode_payload(e)).hex())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outs) == 1

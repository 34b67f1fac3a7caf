"""The replay decoder, the reference and its speed path alike: the records they build equal the
codec's, whatever shape a chunk comes in."""

from __future__ import annotations

import orjson
import pytest

from rexnet.domain import codec
from rexnet.domain.events import GateClosed, OrderCancelled, TradeExecuted
from rexnet.replay import _decode_fast, decode
from rexnet.replay.codes import CODES, NotApplicable, type_of
from rexnet.store.records import CodedChunk

TRADE = TradeExecuted(5_000, 7, 3, 4_000, 100, 1, 2, "bøb", "alice", "buy")
TRADE_CODE = CODES.index(("trade", TRADE.VERSION))
BOTH = pytest.mark.parametrize("impl", [decode, _decode_fast], ids=["reference", "fast"])


def test_every_current_type_has_a_code_and_the_commonest_come_first():
    assert sorted(CODES) == sorted((t, cls.VERSION) for t, cls in codec.EVENT_TYPES.items())
    assert CODES[0] == ("order_accepted", 1) and CODES[1] == ("trade", 1)


@BOTH
@pytest.mark.parametrize("shape", ["dict", "bytes"])
def test_a_coded_entry_decodes_to_the_codec_record(impl, shape):
    payload = codec.encode_payload(TRADE)
    entry = orjson.loads(payload) if shape == "dict" else payload
    event = impl.decode_coded(TRADE_CODE, TRADE.t, entry)
    assert event == TRADE == codec.decode("trade", 1, TRADE.t, payload)
    assert type(event) is TradeExecuted
    assert _decode_fast.decode_fast("trade", 1, TRADE.t, payload) == TRADE


@BOTH
def test_an_older_version_is_upcast(impl):
    event = impl.decode_coded("gate_closed@1", 3_600_000, b'{"unit":4,"volume":3000,"vwap":4000}')
    assert event == GateClosed(3_600_000, 4, 3000, 4000, 12_000_000)
    assert type_of("gate_closed@1") == "gate_closed" and type_of(TRADE_CODE) == "trade"


@BOTH
def test_a_payload_that_does_not_fit_its_record_fails_as_in_the_codec(impl):
    with pytest.raises(TypeError):
        impl.decode_coded(
            TRADE_CODE,
            0,
            {"unit": 3, "qty": 1, "price": 2, "nonsense": 0, "a": 1, "b": 2, "c": 3, "d": 4, "e": 5},
        )
    with pytest.raises(orjson.JSONDecodeError):
        impl.decode_coded(TRADE_CODE, 0, b'{"unit": 1')


@BOTH
def test_fold_names_the_seq_of_the_entry_that_fails(impl):
    good = codec.encode_payload(TRADE)
    cancel = OrderCancelled(6_000, 99, "nobody", 3, 0, "requested")
    chunk = CodedChunk(
        [10, 11, 13],  # (a chunk read row by row: a gap at 12)
        [TRADE.t, cancel.t, 7_000],
        [TRADE_CODE, CODES.index(("order_cancelled", 1)), TRADE_CODE],
        [orjson.loads(good), codec.encode_payload(cancel), b'{"broken"'],
    )
    seen: list = []
    with pytest.raises(NotApplicable) as failed:
        impl.fold_coded(chunk, (seen.append,))
    assert (failed.value.seq, failed.value.event_type) == (13, "trade")
    assert seen == [TRADE, cancel]

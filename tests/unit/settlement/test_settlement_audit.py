"""The audit's recomputation on hand-made logs: clean, forged, missing and misplaced rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rexnet.domain.events import GateClosed, Realized, ReservationFixed, Settled, TradeExecuted
from rexnet.domain.market import MarketSpec
from rexnet.settlement import AuditReport, Discrepancy, audit_events

U = 4


@pytest.fixture
def ledger(spec, ledger_for):
    """Two units: unit 4 (a sells 1.5 kW to b, c sells 0.5 kW to b) and unit 5 (b sells to a)."""
    led = ledger_for(spec)
    led.trade(U, seller="a", buyer="b", price=4000, qty=1500)
    led.trade(U, seller="c", buyer="b", price=4100, qty=500)
    led.trade(U + 1, seller="b", buyer="a", price=3900, qty=300)
    led.close_gate(U)
    led.realize(U, "a", 1200)
    led.realize(U, "b", -2100)
    led.realize(U, "d", -50)
    led.close_gate(U + 1)
    led.settle_through(U)
    led.realize(U + 1, "b", 300)
    led.settle_through(U + 1)
    return led


def seq_of(log, cls, **match) -> int:
    for seq, ev in enumerate(log):
        if isinstance(ev, cls) and all(getattr(ev, k) == v for k, v in match.items()):
            return seq
    raise LookupError(match)


def test_clean_log_is_ok_and_counted(ledger, spec):
    report = audit_events(iter(ledger.seqd()), spec)  # streams: any iterable, read once
    assert report.ok, report.discrepancies
    assert (report.events, report.trades, report.units_settled) == (len(ledger.log), 3, 2)
    assert report.participants == 4 + 2  # unit 4: a, b, c, d; unit 5: a, b
    assert report.summary() == (
        f"audit ok: {len(ledger.log)} events, 3 trades, 2 units settled, 6 participant rows"
    )


def test_forged_penalty_is_reported_once_at_its_row(ledger, spec):
    log = ledger.log
    seq = seq_of(log, Settled, agent="a", unit=U)
    assert log[seq].penalty == 300 * 300_000
    log[seq] = log[seq]._replace(penalty=log[seq].penalty - 1)
    report = audit_events(enumerate(log), spec)
    assert report.discrepancies == [Discrepancy(seq, "a", U, "penalty", 90_000_000, 89_999_999)]
    assert not report.ok
    assert report.summary().startswith("audit FAILED: 1 discrepancies")
    assert f"seq {seq} unit {U} a penalty expected 90000000 found 89999999" in report.summary()


def test_forged_net_cash_breaks_conservation(ledger, spec):
    log = ledger.log
    seq = seq_of(log, Settled, agent="b", unit=U)
    log[seq] = log[seq]._replace(net_cash=log[seq].net_cash + 7)
    last = seq_of(log, Settled, agent="system", unit=U)
    report = audit_events(enumerate(log), spec)
    assert report.discrepancies == [
        Discrepancy(seq, "b", U, "net_cash", log[seq].net_cash - 7, log[seq].net_cash),
        Discrepancy(last, None, U, "net_cash_sum", 0, 7),
    ]


def test_forged_reservation_is_reported_with_conservation(ledger, spec):
    log = ledger.log
    seq = seq_of(log, ReservationFixed, agent="c", unit=U)
    log[seq] = log[seq]._replace(qty=600)
    report = audit_events(enumerate(log), spec)
    last_res = max(i for i, ev in enumerate(log) if isinstance(ev, ReservationFixed) and ev.unit == U)
    assert report.discrepancies == [
        Discrepancy(seq, "c", U, "qty", 500, 600),
        Discrepancy(last_res, None, U, "reservation_sum", 0, 100),
    ]


def test_missing_and_extra_rows(ledger, spec):
    log = ledger.log
    res_seq = seq_of(log, ReservationFixed, agent="a", unit=U)
    row_seq = seq_of(log, Settled, agent="d", unit=U)
    dropped = {res_seq, row_seq}
    kept = [(seq, ev) for seq, ev in enumerate(log) if seq not in dropped]
    sys5 = seq_of(log, Settled, agent="system", unit=U + 1)
    extra = Settled(log[sys5].t, "zed", U + 1, 0, 0, 0, 0, 0, 0, 0, 0)
    kept.insert([s for s, _ in kept].index(sys5), (999, extra))
    report = audit_events(kept, spec)
    found = set(report.discrepancies)
    assert Discrepancy(None, "a", U, "reservation_fixed", 1500, None) in found
    assert Discrepancy(None, "d", U, "settled", log[row_seq].net_cash, None) in found
    assert Discrepancy(999, "zed", U + 1, "settled", None, 0) in found
    assert {d.field for d in found} == {"reservation_fixed", "reservation_sum", "settled", "net_cash_sum"}


def test_forged_gate_closed(ledger, spec):
    log = ledger.log
    seq = seq_of(log, GateClosed, unit=U)
    log[seq] = log[seq]._replace(notional=log[seq].notional + 1, vwap=1)
    report = audit_events(enumerate(log), spec)
    assert report.discrepancies == [
        Discrepancy(seq, None, U, "notional", 8_050_000, 8_050_001),
        Discrepancy(seq, None, U, "vwap", 4025, 1),
    ]


def test_events_out_of_place_in_time(ledger, spec):
    log = list(ledger.log)
    late_trade = TradeExecuted(spec.gate_ms(U), 77, U, 4000, 100, 1, 2, "b", "a", "buy")
    gate = seq_of(log, GateClosed, unit=U)
    log.insert(gate + 1, late_trade)
    log.append(Realized(spec.delivery_end_ms(U) + 5, "e", U, 3))
    report = audit_events(enumerate(log), spec)
    fields = [(d.seq, d.field) for d in report.discrepancies]
    assert (gate + 1, "trade_after_gate") in fields
    assert (len(log) - 1, "realized_after_settlement") in fields


def test_duplicate_realization_and_realization_outside_delivery(spec, ledger_for):
    led = ledger_for(spec)
    led.realize(U, "a", 5)
    led.log.append(Realized(spec.delivery_start_ms(U) + 1, "a", U, 9))
    led.log.append(Realized(spec.delivery_end_ms(U), "b", U, 9))
    report = audit_events(enumerate(led.log), spec)
    assert report.discrepancies == [
        Discrepancy(1, "a", U, "duplicate_realized", None, 9),
        Discrepancy(2, "b", U, "realized_outside_delivery", None, spec.delivery_end_ms(U)),
    ]


def test_unsettled_units_are_left_open_but_reservations_checked(spec, ledger_for):
    led = ledger_for(spec)
    led.trade(U, seller="a", buyer="b", price=4000, qty=100)
    led.close_gate(U)
    led.log[-1] = led.log[-1]._replace(qty=-99)  # b's row
    report = audit_events(enumerate(led.log), spec)
    assert report.units_settled == 0
    assert Discrepancy(len(led.log) - 1, "b", U, "qty", -100, -99) in report.discrepancies


def test_audit_uses_the_spec_rules(ledger, spec):
    """Auditing with other penalty rules than the run's flags every penalty-dependent figure."""
    report = audit_events(enumerate(ledger.log), MarketSpec(penalty_price=Decimal("100")))
    assert {d.field for d in report.discrepancies} == {"penalty", "net_cash"}


def test_empty_report():
    report = AuditReport()
    assert (
        report.ok and report.summary() == "audit ok: 0 events, 0 trades, 0 units settled, 0 participant rows"
    )

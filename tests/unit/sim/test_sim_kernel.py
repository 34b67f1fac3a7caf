"""The kernel's total order (time, priority, insertion), cancellation and clock merging."""

from __future__ import annotations

import pytest

from rexnet.sim.kernel import PRIORITY_AGENT, PRIORITY_MARKET, PRIORITY_REALIZE, Kernel


def test_orders_by_time_then_priority_then_insertion():
    k = Kernel()
    log: list[str] = []
    k.schedule(20, lambda t: log.append("t20"))
    k.schedule(10, lambda t: log.append("agent-a"), priority=PRIORITY_AGENT)
    k.schedule(10, lambda t: log.append("realize"), priority=PRIORITY_REALIZE)
    k.schedule(10, lambda t: log.append("agent-b"), priority=PRIORITY_AGENT)
    k.schedule(10, lambda t: log.append("market"), priority=PRIORITY_MARKET)
    k.schedule(5, lambda t: log.append("t5"))
    k.run()
    assert log == ["t5", "market", "realize", "agent-a", "agent-b", "t20"]
    assert k.now == 20


def test_cancel_and_actions_scheduling_more():
    k = Kernel()
    log: list[int] = []
    h = k.schedule(3, lambda t: log.append(-1))

    def chain(t: int) -> None:
        log.append(t)
        if t < 4:
            k.schedule(t + 1, chain)

    k.schedule(1, chain)
    k.cancel(h)
    k.run()
    assert log == [1, 2, 3, 4]


def test_run_until_stops_and_sets_the_clock():
    k = Kernel()
    log: list[int] = []
    for t in (1, 5, 9):
        k.schedule(t, log.append)
    k.run(6)
    assert log == [1, 5] and k.now == 6
    with pytest.raises(ValueError):
        k.schedule(2, log.append)
    k.run(stop=lambda: len(log) == 3)
    assert log == [1, 5, 9]


def test_external_clock_is_merged_and_rearmed():
    """The market's happenings run first at their instant; a change of its next time re-arms."""
    due = [4, 8]
    log: list[str] = []

    def on_due(t: int) -> None:
        log.append(f"market@{t}")
        due.pop(0)

    k = Kernel()
    k.schedule(4, lambda t: log.append("agent@4"))

    def insert_earlier(t: int) -> None:
        log.append("agent@6")
        due.insert(0, 7)  # e.g. a command made a settlement due

    k.schedule(6, insert_earlier)
    k.attach_clock(lambda: due[0] if due else None, on_due)
    k.run()
    assert log == ["market@4", "agent@4", "agent@6", "market@7", "market@8"]

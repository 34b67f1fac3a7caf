"""decide() is pure, apply() takes the whole catalogue, and the exchange imports only the domain."""

from __future__ import annotations

import ast
import pathlib

import pytest
from exchange_helpers import LOT, Recorder, U, cancel, limit, market, place_set, shrink

import rexnet.exchange
from rexnet.domain.commands import Realize
from rexnet.domain.events import (
    EVENT_CLASSES,
    Realized,
    RunCompleted,
    RunStarted,
    Settled,
    ShockApplied,
)
from rexnet.exchange import Exchange, ExchangeError


def busy() -> Recorder:
    r = Recorder()
    r(limit("a", "a1", "sell", 4000, 2))
    r(limit("a", "a2", "sell", 4001, 2))
    r(limit("b", "b1", "buy", 3990, 3))
    r(place_set("c", "S", "buy", [3, 4], 3000, 1))
    return r


@pytest.mark.parametrize(
    "cmd",
    [
        limit("x", "x", "buy", 4001, 3),
        limit("a", "x", "buy", 4001, 3),  # self-trade
        limit("x", "x", "buy", 4001, 3, tif="ioc"),
        limit("x", "x", "buy", 4001, 9, tif="fok"),
        limit("x", "x", "sell", 3000, 9),
        market("x", "x", "buy", 9),
        cancel("a", "a1"),
        cancel("c", "S"),
        shrink("b", "b1", 1),
        place_set("x", "T", "sell", [U, 3, 4], 3000, 1),
    ],
)
def test_decide_does_not_mutate(cmd):
    r = busy()
    before = r.ex.state.snapshot()
    first = r.ex.decide(cmd)
    assert r.ex.state.snapshot() == before
    assert r.ex.decide(cmd) == first  # and is repeatable
    assert r(cmd) == first  # handle applies exactly what decide said (no clock due)
    r.check_replay()


def test_apply_accepts_every_event_type_and_ignores_foreign_ones():
    r = busy()
    before = r.ex.state.snapshot()
    for e in (
        RunStarted(0, {}, 1, "x", {}),
        Realized(5, "a", 1, 100),
        Settled(5, "a", 1, 0, 0, 0, 0, 0, 0, 0, 0),
        ShockApplied(5, "wind", "wind", 1, 2, "0.4"),
        RunCompleted(9, "00", 3),
    ):
        r.ex.apply(e)
    assert r.ex.state.snapshot() == before
    handled = set(Exchange(r.ex.spec)._appliers)
    assert set(EVENT_CLASSES) <= handled
    with pytest.raises(ExchangeError):
        r.ex.apply(("trade", 1))
    with pytest.raises(ExchangeError):  # not even a tuple: the same error from the compiled build
        r.ex.apply(None)
    with pytest.raises(ExchangeError):
        Exchange(r.ex.spec).apply(None)


def test_decide_refuses_commands_it_does_not_take():
    with pytest.raises(ExchangeError):
        Exchange(busy().ex.spec).decide(Realize(1, "a", 1, LOT))


def test_exchange_imports_only_stdlib_and_domain():
    allowed_rexnet = ("rexnet.domain", "rexnet.exchange", "rexnet.errors", "rexnet._compiled")
    forbidden = {"sqlalchemy", "click", "pandas", "duckdb", "numpy", "orjson", "random", "time", "datetime"}
    root = pathlib.Path(rexnet.exchange.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
                if name.startswith("rexnet"):
                    assert name.startswith(allowed_rexnet), f"{path.name} imports {name}"


def test_handle_refuses_commands_it_does_not_take():
    with pytest.raises(ExchangeError):
        busy().ex.handle(Realize(1, "a", 1, LOT))

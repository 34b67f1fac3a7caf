"""Deterministic long command streams for ``rexnet ingest`` (benchmarks and memory tests share it).

``write_stream(path, n_commands, seed=1)`` writes ``n_commands`` valid JSONL lines for the default
market (15-minute units, 8 units ahead, tick 0.01, lot 0.1 kW, meter 0.001 kW): a realistic mix
of limit orders (gtc, some ioc/fok) around a drifting price, market orders, cancels of recent and
of long-ago orders (by ref: the engine resolves them, many are already gone and become
rejections), shrinks, occasional order sets over adjacent units, and, each time a delivery unit
begins, realizations of that unit (within its delivery period) by some of the agents that ordered
in it. Time advances by about
``unit_seconds / commands_per_unit`` per line, so a 1M-command stream spans about 2,000 units
(well inside the default ``max_units``) and the engine's open state stays bounded: books close at
their gate and only the last horizon's orders rest.

The generator itself holds bounded state (a ring of recent refs, one unit's traders), so writing a
10M-command stream needs no more memory than writing a small one. Same ``seed`` and
``n_commands`` -> byte-identical file.

Usage::

    python benchmarks/streams.py OUT.jsonl N [--seed S]
"""

from __future__ import annotations

import argparse
import random
from collections import deque
from pathlib import Path

UNIT_MS = 900_000  # the default market's unit_seconds, in ms
HORIZON = 8  # the default market's horizon
COMMANDS_PER_UNIT = 500
AGENTS = 200
REALIZING = 0.3  # share of a unit's traders that report a realization
RECENT = 4096  # refs remembered for cancels and shrinks (bounded, whatever the stream's length)


def _price(ticks: int) -> str:
    """A price in currency/MWh from ticks of 0.01 (exact decimal text, never a float repr)."""
    return f"{ticks // 100}.{ticks % 100:02d}"


def _kw(lots: int) -> str:
    """A quantity in kW from lots of 0.1 kW."""
    return f"{lots // 10}.{lots % 10}"


def _meter(units: int) -> str:
    """A realization in kW from meter units of 0.001 kW (may be negative)."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    return f"{sign}{units // 1000}.{units % 1000:03d}"


def _t(ms: int) -> str:
    """Seconds with millisecond resolution."""
    return f"{ms // 1000}.{ms % 1000:03d}"


def iter_stream(n_commands: int, seed: int = 1):
    """The ``n_commands`` JSONL lines (without newline) of the stream for ``seed``."""
    rng = random.Random(seed)
    step = UNIT_MS // COMMANDS_PER_UNIT  # mean ms between lines
    t = 0
    mid = 5000  # ticks: 50.00 /MWh, drifting
    recent: deque[str] = deque(maxlen=RECENT)
    traders: dict[int, set[int]] = {}  # unit -> agents that placed orders on it (bounded: open units)
    pending: list[str] = []  # realization lines waiting to be emitted
    serial = 0
    emitted = 0
    unit_now = 0
    while emitted < n_commands:
        if pending:
            yield pending.pop()
            emitted += 1
            continue
        t += rng.randint(step // 2, step + step // 2)
        unit = t // UNIT_MS
        if unit != unit_now:
            # the unit now in delivery: its traders report measured output (within the period)
            for skipped in range(unit_now, unit):
                traders.pop(skipped, None)
            for agent in sorted(traders.pop(unit, ())):
                if rng.random() >= REALIZING:
                    continue
                qty = rng.randint(-20_000, 20_000)
                pending.append(
                    f'{{"t":{_t(t)},"op":"realize","agent":"a{agent}","unit":{unit},"qty":{_meter(qty)}}}'
                )
            unit_now = unit
            pending.reverse()
            continue
        mid = max(1000, min(20000, mid + rng.randint(-3, 3)))
        agent = rng.randrange(AGENTS)
        roll = rng.random()
        ts = _t(t)
        if roll < 0.10 and recent:
            # cancel: mostly recent orders, sometimes one from long ago (by then filled or closed)
            ref = recent[-rng.randint(1, min(len(recent), 64))] if rng.random() < 0.8 else recent[0]
            owner = ref.split("-")[0]
            yield f'{{"t":{ts},"op":"cancel","agent":"{owner}","ref":"{ref}"}}'
        elif roll < 0.13 and recent:
            ref = recent[-rng.randint(1, min(len(recent), 32))]
            owner = ref.split("-")[0]
            yield f'{{"t":{ts},"op":"shrink","agent":"{owner}","ref":"{ref}","qty":{_kw(rng.randint(1, 5))}}}'
        else:
            serial += 1
            ref = f"a{agent}-{serial}"
            side = "buy" if rng.random() < 0.5 else "sell"
            target = unit + rng.randint(1, HORIZON)
            traders.setdefault(target, set()).add(agent)
            lots = rng.randint(1, 50)
            if roll < 0.21:
                yield (
                    f'{{"t":{ts},"op":"market","agent":"a{agent}","ref":"{ref}","side":"{side}",'
                    f'"unit":{target},"qty":{_kw(lots)}}}'
                )
            elif roll < 0.22 and target < unit + HORIZON:
                price = mid + (rng.randint(-40, 10) if side == "buy" else rng.randint(-10, 40))
                yield (
                    f'{{"t":{ts},"op":"set","agent":"a{agent}","ref":"{ref}","side":"{side}",'
                    f'"units":[{target},{target + 1}],"price":{_price(price)},"qty":{_kw(lots)}}}'
                )
                recent.append(ref)
            else:
                # limits: passive on their side of the mid, some crossing it (they trade)
                spread = rng.randint(-15, 60)
                price = mid - spread if side == "buy" else mid + spread
                tif = rng.random()
                extra = ',"tif":"ioc"' if tif < 0.05 else (',"tif":"fok"' if tif < 0.07 else "")
                yield (
                    f'{{"t":{ts},"op":"limit","agent":"a{agent}","ref":"{ref}","side":"{side}",'
                    f'"unit":{target},"price":{_price(price)},"qty":{_kw(lots)}{extra}}}'
                )
                recent.append(ref)
        emitted += 1


def write_stream(path: str | Path, n_commands: int, seed: int = 1) -> Path:
    """Write the ``n_commands``-line stream for ``seed`` to ``path`` (JSONL); returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        buf: list[str] = []
        for line in iter_stream(n_commands, seed):
            buf.append(line)
            if len(buf) >= 10_000:
                out.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            out.write("\n".join(buf) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_stream(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()

"""The sweep's summary table: key outputs of each grid point, averaged over its seeds.

Computed from the run summaries recorded in ``sweep_runs`` (no history is read). Means are over
the completed runs of a point; the price range is the lowest and highest trade price of any of
them. Values stay exact decimals, rounded for display.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

#: summary field -> display quantum of its mean
MEANS = {
    "trades": Decimal("0.1"),
    "volume_kwh": Decimal("0.001"),
    "penalties": Decimal("0.000001"),
    "deficit_kwh": Decimal("0.001"),
    "surplus_kwh": Decimal("0.001"),
}

COLUMNS = ("point", "completed", "runs", *MEANS, "min_price", "max_price")


def _trim(value: Decimal, quantum: Decimal) -> Decimal:
    """Rounded to ``quantum``, trailing zeros dropped, never in exponent notation."""
    text = format(value.quantize(quantum), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def point_table(rows: list[Any]) -> list[dict[str, Any]]:
    """One row per grid point: ``point``, ``params``, ``runs``, ``completed``, means, price range.

    Args:
        rows: :class:`~rexnet.sweep.ledger.SweepRun` rows of one sweep, in grid order.
    """
    points: dict[str, list[Any]] = {}
    for row in rows:
        points.setdefault(row.point_key, []).append(row)
    out = []
    for key, runs in points.items():
        done = [r.summary for r in runs if r.status == "completed" and r.summary]
        entry: dict[str, Any] = {
            "point": key,
            "params": runs[0].params,
            "runs": len(runs),
            "completed": len(done),
        }
        for name, quantum in MEANS.items():
            values = [Decimal(str(s[name])) for s in done if s.get(name) is not None]
            entry[name] = _trim(sum(values, Decimal(0)) / len(values), quantum) if values else None
        lows = [Decimal(s["min_price"]) for s in done if s.get("min_price") is not None]
        highs = [Decimal(s["max_price"]) for s in done if s.get("max_price") is not None]
        entry["min_price"] = min(lows) if lows else None
        entry["max_price"] = max(highs) if highs else None
        out.append(entry)
    return out

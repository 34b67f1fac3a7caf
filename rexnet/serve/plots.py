"""Plotly figures of the explorer as plain dicts (``{"data": [...], "layout": {...}}``).

The browser draws them with the plotly.min.js that the ``plotly`` package ships, served by the
explorer itself; nothing here imports plotly. Trades are binned by DuckDB (:data:`HEAT_SQL`,
:data:`LEAD_SQL`): a run of a million events sends a page of a few hundred kilobytes and its
trades never cross into Python one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: system fonts only: the explorer works offline
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
#: cells of the heat map at most (units are grouped into bands beyond it)
HEAT_CELLS = 60_000


def _layout(title: str, x: str, y: str, **more: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "font": {"family": FONT, "size": 12},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "margin": {"l": 60, "r": 70 if "yaxis2" in more else 20, "t": 40, "b": 50},
        "height": 380,
        **more,
    }


def _empty(title: str, message: str) -> dict[str, Any]:
    layout = _layout(title, "", "")
    layout["annotations"] = [{"text": message, "showarrow": False, "font": {"size": 14, "color": "grey"}}]
    layout["xaxis"] = {"visible": False}
    layout["yaxis"] = {"visible": False}
    return {"data": [], "layout": layout}


def _f(values: Any) -> list[float | None]:
    """JSON-ready floats (NaN and None as null); an array goes through ``tolist`` (C speed)."""
    if isinstance(values, np.ndarray):
        return [None if v != v else v for v in values.astype(float).tolist()]  # v != v: NaN
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in values]


@dataclass(frozen=True)
class HeatGrid:
    """The heat map's cells: ``bins`` trading-time bins of ``span`` hours from ``t0`` (hours) by
    bands of ``band`` target units from ``u0`` (``bands`` of them).

    The run's trades are binned by DuckDB into these cells (:data:`HEAT_SQL`): only the cells
    come back, never a million trades.
    """

    t0: float
    span: float
    bins: int
    u0: int
    band: int
    bands: int

    @classmethod
    def of(cls, t_min: float, t_max: float, u_min: int, u_max: int, unit_seconds: int) -> HeatGrid:
        """The grid of trades traded from ``t_min`` to ``t_max`` (seconds) for units ``u_min..u_max``:
        about four time bins per unit traded through (10 to 240), units in bands so that the grid
        has at most :data:`HEAT_CELLS` cells."""
        t0 = t_min / 3600.0
        span = max(t_max / 3600.0 - t0, unit_seconds / 3600.0)
        n_units = u_max - u_min + 1
        bins = int(min(240, max(10, span * 3600.0 / unit_seconds * 4)))
        band = max(1, int(np.ceil(n_units * bins / HEAT_CELLS)))
        bands = len(range(u_min, u_max + band + 1, band)) - 1
        return cls(t0, span, bins, u_min, band, bands)

    def params(self) -> dict[str, Any]:
        return {"t0": self.t0, "span": self.span, "bins": self.bins, "u0": self.u0, "band": self.band}


#: the heat map's cells (band, time bin) with their volume and notional, over the trades view
HEAT_SQL = """
SELECT (unit - $u0) // $band AS band,
       GREATEST(0, LEAST($bins - 1, CAST(FLOOR((t / 3600.0 - $t0) / $span * $bins) AS BIGINT))) AS bin,
       SUM(qty) AS volume, SUM(price * qty) AS notional
FROM trades WHERE run_id = $run GROUP BY ALL
"""
#: volume and notional of the trades by lead-time bucket (gate closure - trade time) of $width s
LEAD_SQL = """
SELECT CAST(FLOOR(lead / $width) AS BIGINT) AS bucket, SUM(qty) AS volume, SUM(price * qty) AS notional
FROM trades WHERE run_id = $run GROUP BY ALL ORDER BY bucket
"""


def heat_map(grid: HeatGrid | None, cells: list[tuple[int, int, float, float]]) -> dict[str, Any]:
    """Forward price heat map: target unit x trading time, colour = VWAP of the cell's trades.

    ``cells``: ``(band, bin, volume, notional)`` of the cells that have trades (:data:`HEAT_SQL`).
    """
    title = "Forward price heat map"
    if grid is None or not cells:
        return _empty(title, "no trades")
    notional = np.zeros((grid.bands, grid.bins))
    volume = np.zeros((grid.bands, grid.bins))
    for band, b, vol, cash in cells:
        volume[band, b] += vol
        notional[band, b] += cash
    t_edges = np.linspace(grid.t0, grid.t0 + grid.span, grid.bins + 1)
    u_edges = grid.u0 + np.arange(grid.bands + 1) * grid.band - 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(volume > 0, notional / volume, np.nan)
    z = [_f(np.round(row, 4)) for row in vwap]
    trace = {
        "type": "heatmap",
        "x": _f(np.round((t_edges[:-1] + t_edges[1:]) / 2, 4)),
        "y": _f((u_edges[:-1] + u_edges[1:]) / 2),
        "z": z,
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": "currency/MWh"}},
        "hovertemplate": "t %{x:.2f} h<br>unit %{y}<br>VWAP %{z:.2f}<extra></extra>",
    }
    y = "target unit" + (f" (bands of {grid.band})" if grid.band > 1 else "")
    return {"data": [trace], "layout": _layout(title, "trading time (h)", y)}


def lead_width(unit_seconds: int) -> float:
    """The width (seconds) of the lead-time buckets: a quarter of a unit."""
    return unit_seconds / 4


def vwap_by_lead(rows: list[tuple[int, float, float]], unit_seconds: int) -> dict[str, Any]:
    """VWAP and volume of all trades by lead time (gate closure - trade time), in bins of a unit/4.

    ``rows``: ``(bucket, volume, notional)`` by bucket (:data:`LEAD_SQL`), ascending.
    """
    title = "VWAP by lead time"
    if not rows:
        return _empty(title, "no trades")
    width = lead_width(unit_seconds)
    keys = np.array([r[0] for r in rows], dtype=float)
    volume = np.array([r[1] for r in rows], dtype=float)
    notional = np.array([r[2] for r in rows], dtype=float)
    lead_min = (keys + 0.5) * width / 60.0
    vwap = notional / np.where(volume > 0, volume, np.nan)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "VWAP",
                "x": _f(lead_min),
                "y": _f(np.round(vwap, 4)),
            },
            {
                "type": "bar",
                "name": "volume (kW x units)",
                "x": _f(lead_min),
                "y": _f(np.round(volume, 4)),
                "yaxis": "y2",
                "opacity": 0.3,
            },
        ],
        "layout": _layout(
            title,
            "lead time before gate closure (min)",
            "VWAP (currency/MWh)",
            yaxis2={"overlaying": "y", "side": "right", "title": {"text": "volume"}, "showgrid": False},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def reservation_vs_realization(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Reserved vs realized energy per participant (kWh), one colour per type; the diagonal is x = e."""
    title = "Reservation vs realization (per participant)"
    if not rows:
        return _empty(title, "no settlements")
    traces = []
    for kind in sorted({r["agent_type"] for r in rows}):
        mine = [r for r in rows if r["agent_type"] == kind]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": kind,
                "x": _f(r["reserved_kwh"] for r in mine),
                "y": _f(r["realized_kwh"] for r in mine),
                "text": [r["agent"] for r in mine],
                "hovertemplate": "%{text}<br>reserved %{x} kWh<br>realized %{y} kWh<extra></extra>",
            }
        )
    lo = min(min(r["reserved_kwh"], r["realized_kwh"]) for r in rows)
    hi = max(max(r["reserved_kwh"], r["realized_kwh"]) for r in rows)
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "x = e (floor)",
            "x": [lo, hi],
            "y": [lo, hi],
            "line": {"dash": "dash", "color": "black", "width": 1},
        }
    )
    return {"data": traces, "layout": _layout(title, "reserved e (kWh)", "realized x (kWh)")}


def system_balance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """System balance (sum of x) and deficit per unit."""
    title = "System balance per unit"
    if not rows:
        return _empty(title, "no settled units")
    units = [r["unit"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "system balance (sum x, kW)",
                "x": units,
                "y": _f(r["system_balance"] for r in rows),
                "marker": {"color": "#2ca02c"},
            },
            {
                "type": "bar",
                "name": "- deficit (kW)",
                "x": units,
                "y": _f(-(r["deficit"] or 0) for r in rows),
                "marker": {"color": "#d62728"},
            },
        ],
        "layout": _layout(title, "unit", "kW", barmode="relative", legend={"orientation": "h", "y": -0.25}),
    }


def costs(rows: list[dict[str, Any]], *, by_group: bool) -> dict[str, Any]:
    """Net cost (-net cash) and penalties by prosumer type (and group when the ledger has groups)."""
    title = "Costs by type" + (" and group" if by_group else "")
    if not rows:
        return _empty(title, "no settlements")
    labels = [f"{r['agent_type']} / {r['group']}" if by_group else r["agent_type"] for r in rows]
    return {
        "data": [
            {"type": "bar", "name": "net cost (currency)", "x": labels, "y": _f(r["cost"] for r in rows)},
            {
                "type": "bar",
                "name": "penalties (currency)",
                "x": labels,
                "y": _f(r["penalties"] for r in rows),
            },
        ],
        "layout": _layout(
            title, "", "currency (< 0: revenue)", barmode="group", legend={"orientation": "h", "y": -0.3}
        ),
    }


def fork_vs_parent(rows: list[dict[str, Any]], diverge_unit: int | None) -> dict[str, Any]:
    """Per unit: VWAP of parent and fork (lines), volume and penalty deltas (bars, right axis)."""
    title = "Fork vs parent per unit"
    if not rows:
        return _empty(title, "no units")
    units = [r["unit"] for r in rows]
    layout = _layout(
        title,
        "unit",
        "VWAP (currency/MWh)",
        yaxis2={"overlaying": "y", "side": "right", "title": {"text": "delta"}, "showgrid": False},
        legend={"orientation": "h", "y": -0.25},
    )
    if diverge_unit is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": diverge_unit,
                "x1": diverge_unit,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "color": "grey"},
            }
        ]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "parent VWAP",
                "x": units,
                "y": _f(r["parent_vwap"] for r in rows),
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "fork VWAP",
                "x": units,
                "y": _f(r["fork_vwap"] for r in rows),
            },
            {
                "type": "bar",
                "name": "volume delta (kW)",
                "x": units,
                "y": _f(r["volume_delta"] for r in rows),
                "yaxis": "y2",
                "opacity": 0.4,
            },
            {
                "type": "bar",
                "name": "penalty delta (currency)",
                "x": units,
                "y": _f(r["penalty_delta"] for r in rows),
                "yaxis": "y2",
                "opacity": 0.4,
            },
        ],
        "layout": layout,
    }


def participant_profile(
    agent: str, expected: list[tuple[int, float]], rows: list[dict[str, Any]], unit: int | None = None
) -> dict[str, Any]:
    """A participant's expected net injection per unit (the field's profile models, issue 18)
    beside its reservations ``e`` and realizations ``x`` (kW), the trail's unit marked."""
    title = f"{agent}: expected profile, reservations and realizations"
    if not expected and not rows:
        return _empty(title, "no profile and no settlements")
    traces: list[dict[str, Any]] = []
    if expected:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "expected",
                "x": [u for u, _ in expected],
                "y": _f(kw for _, kw in expected),
                "line": {"color": "black", "width": 1.5},
            }
        )
    if rows:
        units = [r["unit"] for r in rows]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hvh", "color": "#1f77b4"},
                "name": "reservation e",
                "x": units,
                "y": _f(r["reserved"] for r in rows),
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "marker": {"size": 5, "color": "#ff7f0e"},
                "name": "realization x",
                "x": units,
                "y": _f(r["realized"] for r in rows),
            }
        )
    more: dict[str, Any] = {}
    if unit is not None:
        more["shapes"] = [
            {
                "type": "line",
                "x0": unit,
                "x1": unit,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "color": "grey", "width": 1},
            }
        ]
    return {"data": traces, "layout": _layout(title, "delivery unit", "kW (net injection)", **more)}

"""Plotly figures of the explorer as plain dicts (``{"data": [...], "layout": {...}}``).

The browser draws them with the plotly.min.js that the ``plotly`` package ships, served by the
explorer itself; nothing here imports plotly. Binning is done here with numpy so that a run of a
million events still sends a page of a few hundred kilobytes.
"""

from __future__ import annotations

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
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in values]


def heat_map(trades: dict[str, np.ndarray], unit_seconds: int) -> dict[str, Any]:
    """Forward price heat map: target unit x trading time, colour = VWAP of the cell's trades."""
    title = "Forward price heat map"
    if len(trades["t"]) == 0:
        return _empty(title, "no trades")
    t_h = trades["t"] / 3600.0
    units = trades["unit"].astype(np.int64)
    span = max(float(t_h.max() - t_h.min()), unit_seconds / 3600.0)
    n_units = int(units.max() - units.min() + 1)
    bins = int(min(240, max(10, span * 3600.0 / unit_seconds * 4)))
    band = max(1, int(np.ceil(n_units * bins / HEAT_CELLS)))
    t_edges = np.linspace(float(t_h.min()), float(t_h.min()) + span, bins + 1)
    u_edges = np.arange(int(units.min()), int(units.max()) + band + 1, band) - 0.5
    notional, _, _ = np.histogram2d(units, t_h, [u_edges, t_edges], weights=trades["price"] * trades["qty"])
    volume, _, _ = np.histogram2d(units, t_h, [u_edges, t_edges], weights=trades["qty"])
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
    y = "target unit" + (f" (bands of {band})" if band > 1 else "")
    return {"data": [trace], "layout": _layout(title, "trading time (h)", y)}


def vwap_by_lead(trades: dict[str, np.ndarray], unit_seconds: int) -> dict[str, Any]:
    """VWAP and volume of all trades by lead time (gate closure - trade time), in bins of a unit/4."""
    title = "VWAP by lead time"
    if len(trades["t"]) == 0:
        return _empty(title, "no trades")
    width = unit_seconds / 4
    bucket = np.floor(trades["lead"] / width).astype(np.int64)
    keys, inverse = np.unique(bucket, return_inverse=True)
    volume = np.bincount(inverse, weights=trades["qty"])
    notional = np.bincount(inverse, weights=trades["price"] * trades["qty"])
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

"""``rexnet report``: one HTML page with PNG plots (matplotlib, Agg) for a run, files side by side.

Plots: the forward price heat map (target unit x trading time, colour = VWAP of the trades in the
cell), reservation vs realization per participant and unit (the floor x >= e is the diagonal),
penalties and costs by prosumer type, the depth profile at a time, the system balance per unit,
the expected profile of one participant per uncontrollable kind beside its reservations and
realizations (recomputed from the run's stored scenario, see :func:`expected_profile`), and for a
fork the per-unit comparison with its parent. Tables of the named queries follow the plots. A
plot with no data says so instead of failing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rexnet.analytics.book_history import middle_time

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

Progress = Callable[[str], None]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def heat_map(ax: Any, trades: Any, unit_seconds: int) -> None:
    """Forward price heat map: rows = target units, columns = trading-time bins, colour = VWAP."""
    import numpy as np

    if trades.empty:
        _empty(ax, "no trades")
        return
    t_h = trades["t"].to_numpy() / 3600.0
    units = trades["unit"].to_numpy()
    span = max(t_h.max() - t_h.min(), unit_seconds / 3600.0)
    bins = int(min(120, max(10, span * 3600.0 / unit_seconds * 4)))
    t_edges = np.linspace(t_h.min(), t_h.min() + span, bins + 1)
    u_edges = np.arange(units.min(), units.max() + 2) - 0.5
    notional, _, _ = np.histogram2d(units, t_h, [u_edges, t_edges], weights=trades["price"] * trades["qty"])
    volume, _, _ = np.histogram2d(units, t_h, [u_edges, t_edges], weights=trades["qty"])
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(volume > 0, notional / volume, np.nan)
    mesh = ax.pcolormesh(t_edges, u_edges, np.ma.masked_invalid(vwap), cmap="viridis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="trade price (currency/MWh)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("trading time (h)")
    ax.set_ylabel("target unit")
    ax.set_title("Forward price heat map")


def reservation_scatter(ax: Any, settlements: Any) -> None:
    if settlements.empty:
        _empty(ax, "no settlements")
        return
    for kind, group in settlements.groupby("agent_type"):
        ax.scatter(group["reserved"], group["realized"], s=14, alpha=0.7, label=str(kind))
    lo = float(min(settlements["reserved"].min(), settlements["realized"].min()))
    hi = float(max(settlements["reserved"].max(), settlements["realized"].max()))
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--", label="x = e (floor)")
    ax.set_xlabel("reservation e (kW)")
    ax.set_ylabel("realization x (kW)")
    ax.set_title("Reservation vs realization (below the line: shortfall)")
    ax.legend(fontsize=7, loc="best")


def costs_bars(axes: Any, costs: Any) -> None:
    left, right = axes
    if costs.empty:
        _empty(left, "no settlements")
        _empty(right, "no settlements")
        return
    kinds = costs["agent_type"].astype(str)
    left.bar(kinds, costs["penalties"], color="tab:red")
    left.set_title("Penalties by prosumer type (currency)")
    right.bar(kinds, costs["cost_per_kwh"].fillna(0), color="tab:blue")
    right.set_title("Net cost per kWh (currency/kWh; < 0: revenue)")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)


def depth_plot(ax: Any, depth: Any, time: float) -> None:
    if depth.empty:
        _empty(ax, f"all books empty at t = {time:g} s")
        return
    for unit, group in list(depth.groupby("unit"))[:4]:  # the 4 units nearest their gate
        for side, style in (("bid", "-"), ("ask", "--")):
            levels = group[group["side"] == side]
            if not levels.empty:
                ax.step(
                    levels["price"], levels["cum_qty"], where="post", ls=style, label=f"unit {unit} {side}s"
                )
    ax.set_xlabel("price (currency/MWh)")
    ax.set_ylabel("cumulative quantity (kW)")
    ax.set_title(f"Depth profile at t = {time:g} s")
    ax.legend(fontsize=7)


def balance_plot(ax: Any, balance: Any) -> None:
    if balance.empty:
        _empty(ax, "no settled units")
        return
    ax.bar(balance["unit"], balance["system_balance"], color="tab:green", label="system balance (sum x)")
    ax.bar(balance["unit"], -balance["deficit"], color="tab:red", alpha=0.6, label="- deficit (shortfall)")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("unit")
    ax.set_ylabel("kW")
    ax.set_title("System balance per unit")
    ax.legend(fontsize=7)


def fork_plot(axes: Any, diff: Any) -> None:
    top, bottom = axes
    width = 0.4
    units = diff["unit"]
    top.bar(units - width / 2, diff["parent_vwap"].fillna(0), width, label="parent")
    top.bar(units + width / 2, diff["fork_vwap"].fillna(0), width, label="fork")
    top.set_ylabel("VWAP (currency/MWh)")
    top.set_title("Fork vs parent")
    top.legend(fontsize=7)
    bottom.bar(units, diff["penalty_delta"], color="tab:red")
    bottom.axhline(0, color="black", lw=0.6)
    bottom.set_xlabel("unit")
    bottom.set_ylabel("penalty delta (currency)")


#: the kinds whose output follows an expected profile (rexnet.sim.profiles)
PROFILE_KINDS = ("household", "solar", "wind")


def expected_profile(run: RunInfo, agent: str) -> list[tuple[int, float]]:
    """``[(unit, kW)]``: ``agent``'s expected net injection in ``run`` (a ``RunInfo``).

    Recomputed from the scenario stored with the run (with a fork's group changes applied), so
    the ledger alone gives it back; empty for ingested runs and for agents without a profile.
    """
    from rexnet.replay.fork import current_groups
    from rexnet.replay.rerun import is_ingest, split_record
    from rexnet.sim.profiles import expected_kw
    from rexnet.sim.scenario import Scenario

    record = run.scenario
    if not isinstance(record, dict) or is_ingest(record):
        return []
    scenario = Scenario.from_record(split_record(record)[0])
    return expected_kw(scenario, agent, groups=current_groups(record))


def profile_plot(axes: Any, profiles: list[tuple[str, list[tuple[int, float]], Any]]) -> None:
    """One panel per participant: expected profile (line), reservations (steps), realizations."""
    for ax, (agent, expected, rows) in zip(axes, profiles, strict=False):
        if expected:
            units, kw = zip(*expected, strict=True)
            ax.plot(units, kw, color="black", lw=1.2, label="expected")
        if not rows.empty:
            ax.step(rows["unit"], rows["reserved"], where="mid", color="tab:blue", label="reservation e")
            ax.scatter(rows["unit"], rows["realized"], s=8, color="tab:orange", label="realization x")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel("kW")
        ax.set_title(f"{agent}: expected profile, reservations, realizations", fontsize=9)
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xlabel("unit")


def _profiles(run: RunInfo, settlements: Any) -> list[tuple[str, list[tuple[int, float]], Any]]:
    """The first participant of each kind with a profile, its profile and its settled rows."""
    out: list[tuple[str, list[tuple[int, float]], Any]] = []
    for kind in PROFILE_KINDS:
        agents = sorted(a for a in set(settlements["agent"]) if str(a).rpartition("-")[0] == kind)
        if agents:
            rows = settlements[settlements["agent"] == agents[0]].sort_values("unit")
            out.append((agents[0], expected_profile(run, agents[0]), rows))
    return out


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(
    analytics: Any,
    run_ref: str,
    out_dir: str | Path,
    *,
    depth_time: float | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``index.html`` and its PNGs for ``run_ref`` into ``out_dir``; returns the index path."""
    say = progress or (lambda _msg: None)
    plt = _pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = analytics.run(run_ref)
    rid = run.run_id
    params = {"run": rid}
    unit_seconds = int(run.market.get("unit_seconds", 900))
    say(f"report of run {rid}: reading trades and settlements")
    trades = analytics.query("SELECT unit, t, price, qty FROM trades WHERE run_id = $run", params, run=rid)
    settlements = analytics.query(
        "SELECT agent_type(agent) AS agent_type, agent, unit, reserved, realized FROM settlements "
        "WHERE run_id = $run AND agent <> 'system'",
        params,
        run=rid,
    )
    costs = analytics.named("costs_by_type", rid)
    balance = analytics.named("system_balance", rid)
    time = depth_time if depth_time is not None else middle_time(analytics, run)
    say(f"replaying the books up to t = {time:g} s")
    depth = analytics.named("depth_at", rid, time=time)
    figures: list[tuple[str, Path]] = []

    say("plotting")
    fig, ax = plt.subplots(figsize=(10, 5))
    heat_map(ax, trades, unit_seconds)
    figures.append(("Forward price heat map", _save(plt, fig, out / "price_heatmap.png")))
    fig, ax = plt.subplots(figsize=(7, 6))
    reservation_scatter(ax, settlements)
    figures.append(("Reservation vs realization", _save(plt, fig, out / "reservation_vs_realization.png")))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    costs_bars(axes, costs)
    figures.append(("Penalties and costs by prosumer type", _save(plt, fig, out / "costs_by_type.png")))
    fig, ax = plt.subplots(figsize=(9, 5))
    depth_plot(ax, depth, time)
    figures.append((f"Depth profile at t = {time:g} s", _save(plt, fig, out / "depth_profile.png")))
    fig, ax = plt.subplots(figsize=(10, 4))
    balance_plot(ax, balance)
    figures.append(("System balance per unit", _save(plt, fig, out / "system_balance.png")))
    profiles = _profiles(run, settlements) if not settlements.empty else []
    if profiles:  # simulated runs only: an ingested stream has no scenario to recompute from
        fig, axes = plt.subplots(len(profiles), 1, figsize=(10, 2.6 * len(profiles)), squeeze=False)
        profile_plot(axes[:, 0], profiles)
        figures.append(
            ("Expected profiles, reservations and realizations", _save(plt, fig, out / "profiles.png"))
        )
    tables = [
        ("Costs by prosumer type", costs),
        ("System balance per unit", balance),
        ("Reservation vs realization", analytics.named("reservation_vs_realization", rid)),
        ("Order-to-trade ratios", analytics.named("order_to_trade", rid)),
    ]
    if run.parent_run_id is not None:
        say(f"comparing with parent {run.parent_run_id}")
        diff = analytics.named("fork_diff", rid)
        fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
        fork_plot(axes, diff)
        figures.append(("Fork vs parent", _save(plt, fig, out / "fork_vs_parent.png")))
        tables.insert(0, ("Fork vs parent", diff))
    index = out / "index.html"
    index.write_text(_html(run, figures, tables), encoding="utf-8")
    say(f"wrote {index}")
    say(f"to explore it interactively (book replay, trails, SQL): rexnet serve, then open /runs/{rid}")
    return index


def _html(run: RunInfo, figures: list[tuple[str, Path]], tables: list[tuple[str, Any]]) -> str:
    title = f"RexNet run {run.run_id}" + (f" ({run.name})" if run.name else "")
    parts = [
        "<!DOCTYPE html>",
        "<html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>status {html.escape(run.status)}, {run.events} events, head "
        f"<code>{run.head_hash.hex()}</code>"
        + (
            f", fork of <code>{html.escape(run.parent_run_id)}</code> at seq {run.fork_seq}"
            if run.parent_run_id
            else ""
        )
        + "</p>",
    ]
    for caption, path in figures:
        parts += [
            f"<h2>{html.escape(caption)}</h2>",
            f"<img src='{html.escape(path.name)}' alt='{html.escape(caption)}'>",
        ]
    for caption, frame in tables:
        parts += [f"<h2>{html.escape(caption)}</h2>", frame.to_html(index=False, na_rep="", border=0)]
    parts.append("</body></html>")
    return "\n".join(parts)

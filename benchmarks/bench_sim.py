"""Simulator scaling: persisted events/s and peak memory for growing populations over one day.

Each size runs in its own process (so peak RSS is that run's own) against a fresh SQLite ledger:
the default scenario's population mix scaled to N prosumers, 96 quarter-hour units, seed 0.
Prints one row per size and how wall time grows with size (goal: 10,000 prosumers x 96 units in
under 5 minutes on 2 cores).

The expected profiles come from a private profile cache (rexnet.sim.profile_cache) warmed by an
untimed small run first, as on any machine that ran the scenario before; ``--cold-profiles``
switches the cache off, so every run imports pandas, pvlib and demandlib and builds its profiles.

    python benchmarks/bench_sim.py [--sizes 100 1000 10000] [--units 96] [--cold-profiles]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import OWN_PEAK  # noqa: E402

CHILD = (
    OWN_PEAK
    + r"""
import json, sys, time
from rexnet.app.simulate import run_scenario, with_overrides
from rexnet.sim.scenario import load_scenario
from rexnet.store import open_store

size, units, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = load_scenario("default")
total = sum(g.count for g in base.population)
groups, assigned = [], 0
for i, g in enumerate(base.population):
    # keep the mix: every group scaled, rounding so that the counts add up to `size`
    count = round(size * (sum(x.count for x in base.population[: i + 1])) / total) - assigned
    assigned += count
    groups.append(g.model_copy(update={"count": count}))
scenario = with_overrides(base.model_copy(update={"population": tuple(groups)}), units=units, seed=0)
store = open_store(url)
start = time.perf_counter()
summary = run_scenario(store, scenario)
wall = time.perf_counter() - start
rss = _own_peak_kb() / 1024
print(json.dumps({"size": size, "units": units, "events": summary.events, "trades": summary.stats["trades"],
                  "wall_s": wall, "rss_mb": rss}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--units", type=int, default=96)
    parser.add_argument(
        "--cold-profiles", action="store_true", help="no profile cache: build profiles in every run"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REXNET_CACHE_DIR": str(Path(tmp) / "cache")}
        if args.cold_profiles:
            env["REXNET_PROFILE_CACHE"] = "0"
        else:  # warm the private cache (profiles depend on the units, not on the size)
            warm = f"sqlite:///{Path(tmp) / 'warm.db'}"
            subprocess.run(
                [sys.executable, "-c", CHILD, "20", str(args.units), warm],
                env=env,
                check=True,
                capture_output=True,
            )
        print(
            "profiles:",
            "built in every run (no cache)" if args.cold_profiles else "from a warm profile cache",
        )
        for size in args.sizes:
            url = f"sqlite:///{Path(tmp) / f'sim-{size}.db'}"
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(size), str(args.units), url],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{row['size']:>7,} prosumers x {row['units']} units: {row['events']:>10,} events "
                f"({row['trades']:,} trades) in {row['wall_s']:8.1f} s = "
                f"{row['events'] / row['wall_s']:>9,.0f} events/s, peak RSS {row['rss_mb']:7.1f} MB",
                flush=True,
            )
    base = rows[0]
    print("\ngrowth relative to the smallest size:")
    for row in rows:
        k = row["size"] / base["size"]
        print(
            f"  x{k:<6g} prosumers -> x{row['wall_s'] / base['wall_s']:<7.2f} time, "
            f"x{row['events'] / base['events']:<7.2f} events, x{row['rss_mb'] / base['rss_mb']:.2f} memory"
        )
    big = [r for r in rows if r["size"] >= 10000 and r["units"] >= 96]
    for r in big:
        verdict = "meets" if r["wall_s"] < 300 else "misses"
        print(f"goal 10,000 x 96 in < 300 s: {r['wall_s']:.0f} s ({verdict})")


if __name__ == "__main__":
    main()

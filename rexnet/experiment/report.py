"""The output folder of an experiment: tidy results, interval summary, figures and an index page.

* ``results.csv``: one row per run and metric (experiment, condition, factor, level, seed,
  run_id, metric, value): every number traces back to a run id;
* ``summary.csv``: per factor level and metric the mean, standard deviation, n and 95% interval,
  and for the paired design the difference from the factor's first level (design ``levels``) or
  from the unshocked run (design ``fork``) with its own interval;
* ``*.png``: one figure per requested metric, means with interval bars or bands;
* ``index.html``: the question, the design, the headline numbers, the figures and the commands
  that reproduce them. No database password or server path appears in it.
"""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path
from typing import Any

from rexnet.experiment.conduct import Result
from rexnet.experiment.stats import Interval, interval, paired

RESULT_COLUMNS = ["experiment", "condition", "factor", "level", "seed", "run_id", "metric", "value"]
#: the columns of a headline table (the CLI's and index.html's)
HEADLINE_COLUMNS = (
    "factor",
    "level",
    "metric",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "diff_mean",
    "diff_low",
    "diff_high",
)
SUMMARY_COLUMNS = [
    "experiment",
    "factor",
    "level",
    "metric",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "baseline",
    "diff_n",
    "diff_mean",
    "diff_low",
    "diff_high",
]


def summarize(result: Result) -> list[dict[str, Any]]:
    """The rows of ``summary.csv`` (see the module docstring), in factor, level, metric order."""
    # (factor, level, metric) -> seed -> value
    cells: dict[tuple[str, str, str], dict[int, float]] = {}
    order: list[tuple[str, str, str]] = []
    for row in result.rows:
        key = (row["factor"], row["level"], row["metric"])
        if key not in cells:
            cells[key] = {}
            order.append(key)
        if row["value"] is not None:
            cells[key][row["seed"]] = float(row["value"])
    baselines = _baselines(result)
    out = []
    for factor, level, metric in order:
        values = cells[(factor, level, metric)]
        stat = interval(list(values.values()))
        base_level = baselines.get(factor)
        diff = Interval(0, None, None, None, None)
        if base_level is not None and base_level != level:
            diff = paired(values, cells.get((factor, base_level, metric), {}))
        out.append(
            {
                "experiment": result.spec.name,
                "factor": factor,
                "level": level,
                "metric": metric,
                "n": stat.n,
                "mean": stat.mean,
                "sd": stat.sd,
                "ci_low": stat.low,
                "ci_high": stat.high,
                "baseline": base_level if base_level != level else None,
                "diff_n": diff.n if base_level != level else None,
                "diff_mean": diff.mean,
                "diff_low": diff.low,
                "diff_high": diff.high,
            }
        )
    return out


def _baselines(result: Result) -> dict[str, str]:
    """factor -> the level its paired differences are taken against."""
    from rexnet.experiment.conduct import UNSHOCKED, level_text

    if result.spec.design == "fork":
        return {t.name: UNSHOCKED for t in result.spec.treatments}
    return {f.key: level_text(f.levels[0]) for f in result.spec.factors}


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return "" if value is None else value


def figures(result: Result, summary: list[dict[str, Any]], out: Path) -> list[tuple[str, Path]]:
    """One PNG per figure of the spec (default: per headline metric); ``[(title, path)]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wanted = [(f.metric, f.title) for f in result.spec.figures] or [(m, "") for m in result.spec.headline]
    made = []
    for metric, title in wanted:
        rows = [r for r in summary if r["metric"] == metric and r["mean"] is not None]
        if not rows:
            continue
        factors = list(dict.fromkeys(r["factor"] for r in rows))
        fig, axes = plt.subplots(1, len(factors), figsize=(4.2 * len(factors), 3.4), squeeze=False)
        for ax, factor in zip(axes[0], factors, strict=True):
            cell = [r for r in rows if r["factor"] == factor]
            if all(_is_number(str(r["level"])) for r in cell):  # a curve runs left to right
                cell.sort(key=lambda r: float(r["level"]))
            labels = [str(r["level"]) for r in cell]
            means = [r["mean"] for r in cell]
            lows = [r["mean"] - (r["ci_low"] if r["ci_low"] is not None else r["mean"]) for r in cell]
            highs = [(r["ci_high"] if r["ci_high"] is not None else r["mean"]) - r["mean"] for r in cell]
            numeric = all(_is_number(label) for label in labels)
            if numeric and len(cell) > 2:
                xs = [float(label) for label in labels]
                ax.plot(xs, means, marker="o")
                ax.fill_between(
                    xs,
                    [m - lo for m, lo in zip(means, lows, strict=True)],
                    [m + hi for m, hi in zip(means, highs, strict=True)],
                    alpha=0.25,
                    label="95% interval",
                )
                ax.legend(fontsize=7)
            else:
                ax.bar(range(len(cell)), means, yerr=[lows, highs], capsize=4, color="#4c72b0")
                ax.set_xticks(range(len(cell)), labels, rotation=20, fontsize=8)
            ax.set_xlabel(_factor_label(result, factor), fontsize=8)
            ax.set_ylabel(metric, fontsize=8)
        fig.suptitle(title or f"{metric}: mean and 95% interval over {len(result.seeds)} seeds", fontsize=9)
        fig.tight_layout()
        path = out / f"{_safe(metric)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append((title or metric, path))
    return made


def _factor_label(result: Result, factor: str) -> str:
    for f in result.spec.factors:
        if f.key == factor:
            return f.label or f.key
    for t in result.spec.treatments:
        if t.name == factor:
            return t.label or t.name
    return factor


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def index_html(
    result: Result, summary: list[dict[str, Any]], made: list[tuple[str, Path]], commands: list[str]
) -> str:
    """The page of the experiment (see the module docstring)."""
    spec = result.spec
    e = html.escape
    design = (
        "".join(
            f"<li>{e(f.label or f.key)} (<code>{e(f.key)}</code>): {e(', '.join(map(str, f.levels)))}; "
            f"paired against {e(str(f.levels[0]))}</li>"
            for f in spec.factors
        )
        if spec.design == "levels"
        else "".join(
            f"<li>{e(t.label or t.name)}: <code>{e(str(t.shock))}</code>, each unshocked run forked when "
            "the shock becomes known; paired against the unshocked run</li>"
            for t in spec.treatments
        )
    )
    head = [r for r in summary if r["metric"] in (spec.headline or spec.metrics[:3])]
    headline_rows = "".join(
        "<tr>" + "".join(f"<td>{e(_fmt(r[c]))}</td>" for c in HEADLINE_COLUMNS) + "</tr>" for r in head
    )
    images = "".join(
        f'<figure><img src="{e(p.name)}" alt="{e(t)}"><figcaption>{e(t)}</figcaption></figure>'
        for t, p in made
    )
    cmds = "\n".join(e(c) for c in commands)
    failed = "".join(f"<li>{e(f)}</li>" for f in result.failed)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(spec.title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:.85em}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:right}}
figure{{display:inline-block;margin:.5em}}img{{max-width:100%}}pre{{background:#f4f4f4;padding:.6em;overflow:auto}}</style>
</head><body>
<h1>{e(spec.title)}</h1>
<p>Question {e(spec.question)} of the seed. {e(spec.description)}</p>
<h2>Design</h2>
<p>Base scenario <code>{e(spec.scenario)}</code>, scale <code>{e(result.scale)}</code>,
seeds {e(", ".join(map(str, result.seeds)))} (the same for every condition: a paired design),
{len(result.runs)} runs. Intervals are two-sided 95% Student-t intervals over seeds.</p>
<ul>{design}</ul>
<h2>Headline numbers</h2>
<table><tr><th>factor</th><th>level</th><th>metric</th><th>n</th><th>mean</th>
<th>95% low</th><th>95% high</th>
<th>paired diff</th><th>diff low</th><th>diff high</th></tr>{headline_rows}</table>
<p>All numbers: <a href="summary.csv">summary.csv</a>; per run: <a href="results.csv">results.csv</a>
(each row names its run id).</p>
<h2>Figures</h2>{images}
<h2>Reproduce</h2><pre>{cmds}</pre>
{"<h2>Runs that did not complete</h2><ul>" + failed + "</ul>" if failed else ""}
</body></html>
"""


def write_outputs(result: Result, out: Path, commands: list[str]) -> dict[str, Any]:
    """Write every file of the output folder; what was written and the summary rows."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", result.rows, RESULT_COLUMNS)
    summary = summarize(result)
    write_csv(out / "summary.csv", summary, SUMMARY_COLUMNS)
    made = figures(result, summary, out)
    (out / "index.html").write_text(index_html(result, summary, made, commands), encoding="utf-8")
    return {"out": str(out), "summary": summary, "figures": [str(p) for _, p in made]}

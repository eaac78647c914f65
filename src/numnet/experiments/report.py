"""From a sweep's runs to ``results.csv``, ``summary.csv``, plots and ``report.md``.

Everything in the report is computed from the runs' numbers: the table of
means and standard deviations over seeds per setting (:func:`aggregate`),
and the sentences that say what each factor did (:func:`analyse`): where
more data stopped helping (the first step up in ``n_samples`` whose
improvement is within two standard errors), which learning rates diverged,
how the error moved with the parameter count (with the rank correlation),
and, when the same study runs on several networks, which was better where.

The report is written from ``results.csv`` as read back from disk, so
:func:`report_from_csv` regenerates the same ``report.md`` from the files
alone. Needs pandas and matplotlib: ``pip install 'numnet[plots]'``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .grid import Grid, canonical_json

# a pandas.DataFrame: pandas is an optional extra (plots), imported when a report is made
Frame = Any

__all__ = ["results_frame", "aggregate", "analyse", "write_report", "report_from_csv",
           "require_report_extras", "Study"]

_METRICS = ("final_loss", "train_error", "validation_error", "test_error", "epochs_run",
            "wall_time")
_FIRST = ["key", "status", "seed"]
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "epochs_run", "diverged", "stop_reason", "wall_time", "error", "worker", "settings",
         "loss_curve"]
_NAMES = {"hidden_layers": "hidden layers", "n_samples": "training samples (N)",
          "learning_rate": "learning rate", "batch_size": "batch size"}


def require_report_extras() -> None:
    """Raise an ImportError naming the extra when pandas or matplotlib is missing."""
    missing = []
    for module in ("pandas", "matplotlib"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"sweep reports need {' and '.join(missing)}: "
                          f"pip install 'numnet[plots]'")


def _pd():
    require_report_extras()
    import pandas as pd
    return pd


# --- labels ------------------------------------------------------------------------


def label(factor: str, value: Any) -> str:
    """How a factor's value is shown: ``(3, 2)`` for hidden layers, ``default`` for None."""
    if factor == "hidden_layers" and isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + (",)" if len(value) == 1 else ")")
    if value is None:
        return "default"
    return str(value)


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def _pm(mean: float, std: float) -> str:
    if mean is None or math.isnan(mean):
        return "–"
    return f"{_fmt(mean)} ± {_fmt(std, 2) if not math.isnan(std) else '–'}"


# --- tables ------------------------------------------------------------------------


def results_frame(runs: Sequence[dict[str, Any]]) -> Frame:
    """One row per run: its key, status, seed, one column per factor (as shown), the
    measurements, and its settings and loss curve as JSON text."""
    pd = _pd()
    factors: list[str] = []
    for r in runs:
        factors += [k for k in r["settings"] if k not in factors]
    rows = []
    for r in runs:
        row = {k: r.get(k) for k in _FIRST}
        row.update({f: (label(f, r["settings"][f]) if f in r["settings"] else "")
                    for f in factors})
        row.update({k: r.get(k) for k in _LAST})
        row["settings"] = canonical_json(r["settings"])
        row["loss_curve"] = json.dumps(r.get("loss_curve"))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_FIRST + factors + _LAST)
    for name in ("final_loss", "train_error", "validation_error", "test_error", "wall_time"):
        frame[name] = frame[name].astype(float)
    return frame


def aggregate(frame):
    """Mean and standard deviation over seeds of each setting's measurements.

    Parameters
    ----------
    frame : DataFrame
        From :func:`results_frame`.

    Returns
    -------
    DataFrame
        One row per setting, in first-seen order: ``settings`` (JSON), the
        factor columns, ``runs``, ``failed``, ``diverged``, ``num_parameters``
        and ``<metric>_mean`` / ``<metric>_std`` (sample std, ddof=1) for
        :data:`_METRICS`, over the runs that finished.
    """
    pd = _pd()
    factor_cols = [c for c in frame.columns if c not in _FIRST + _LAST]
    rows = []
    for settings, group in frame.groupby("settings", sort=False):
        ok = group[group["status"] == "ok"]
        row: dict[str, Any] = {"settings": settings}
        row.update({c: group[c].iloc[0] for c in factor_cols})
        row["runs"] = len(group)
        row["failed"] = int((group["status"] == "failed").sum())
        row["diverged"] = int(ok["diverged"].astype(bool).sum())
        row["num_parameters"] = (int(ok["num_parameters"].iloc[0]) if len(ok) else None)
        for m in _METRICS:
            values = ok[m].astype(float).dropna()
            row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- studies -----------------------------------------------------------------------


@dataclass
class Study:
    """Grids that vary the same factors over the same values, one per variant."""

    factors: list[str]
    variants: list[tuple[str, Grid]]

    @property
    def title(self) -> str:
        return " × ".join(_NAMES.get(f, f.replace("_", " ")) for f in self.factors) or "fixed"

    @property
    def slug(self) -> str:
        return "_".join(self.factors) or "fixed"


def studies(grids: Sequence[Grid]) -> list[Study]:
    """Group joined grids into studies: same varying factors and values, different fixed ones."""
    groups: dict[str, list[Grid]] = {}
    for g in grids:
        k = canonical_json([[f, g.factors[f]] for f in g.varying])
        groups.setdefault(k, []).append(g)
    out = []
    for members in groups.values():
        out.append(Study(members[0].varying, [(_variant_label(g, members), g) for g in members]))
    return out


def _variant_label(g: Grid, members: list[Grid]) -> str:
    if g.label:
        return g.label
    if len(members) == 1:
        return ""
    differ = sorted({k for m in members for k, v in m.fixed.items()
                     if any(o.fixed.get(k, "\0") != v for o in members)})
    return ", ".join(f"{k}={label(k, g.fixed.get(k))}" for k in differ) or "grid"


def _primary_metric(summary: Frame) -> str:
    for m in ("test_error", "validation_error", "train_error"):
        if summary[f"{m}_mean"].notna().any():
            return m
    return "final_loss"


_METRIC_NAMES = {"test_error": "test error", "validation_error": "validation error",
                 "train_error": "training error", "final_loss": "final training loss"}


def _rows_for(summary: Frame, grid: Grid) -> Frame:
    """The summary rows of ``grid``'s settings, in grid order."""
    index = {s: i for i, s in enumerate(summary["settings"])}
    keys = [canonical_json(s) for s in grid.settings()]
    return summary.iloc[[index[k] for k in keys if k in index]]


def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    pd = _pd()
    rx, ry = pd.Series(list(x)).rank(), pd.Series(list(y)).rank()
    if rx.nunique() < 2 or ry.nunique() < 2:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def analyse(summary: Frame, study: Study, metric: str, frame: Frame | None = None
            ) -> list[str]:
    """Sentences, computed from ``summary``, that say what ``study``'s factors did.

    With two or more factors, each factor is also described averaged over the
    others (its marginal: mean ± std over all runs at each of its values),
    which needs the runs' ``frame``.
    """
    name = _METRIC_NAMES[metric]
    lines: list[str] = []
    per_variant = [(v, _rows_for(summary, g), g) for v, g in study.variants]
    for variant, rows, grid in per_variant:
        prefix = f"**{variant}**: " if variant else ""
        rows = rows[rows[f"{metric}_mean"].notna()]
        if len(rows) == 0:
            lines.append(f"{prefix}no run finished.")
            continue
        if len(study.factors) == 1:
            lines.append(prefix + _factor_sentence(rows, study.factors[0], metric, name))
            continue
        best = rows.loc[rows[f"{metric}_mean"].idxmin()]
        cell = ", ".join(f"{f} = {best[f]}" for f in study.factors)
        lines.append(f"{prefix}lowest mean {name} {_fmt(best[f'{metric}_mean'])} at {cell}.")
        if frame is None:
            continue
        for factor in study.factors:
            others = ", ".join(_NAMES.get(f, f) for f in study.factors if f != factor)
            marginal = marginal_rows(frame, grid, factor)
            marginal = marginal[marginal[f"{metric}_mean"].notna()]
            if len(marginal):
                lines.append(f"{prefix}{_NAMES.get(factor, factor)}, averaged over {others}: "
                             + _factor_sentence(marginal, factor, metric, name))
    if len(per_variant) >= 2:
        lines.append(_variant_sentence([(v, r) for v, r, _ in per_variant], study, metric,
                                       name))
    return lines


def _factor_sentence(rows: Frame, factor: str, metric: str, name: str) -> str:
    if factor == "n_samples":
        return _data_sentence(rows, metric, name)
    if factor == "learning_rate":
        return _rate_sentence(rows, metric, name)
    if rows["num_parameters"].notna().all() and rows["num_parameters"].nunique() > 1:
        return _size_sentence(rows, factor, metric, name)
    return _generic_sentence(rows, factor, metric, name)


def marginal_rows(frame: Frame, grid: Grid, factor: str) -> Frame:
    """One row per value of ``factor``: ``metric`` mean ± std over every run of ``grid``
    with that value, whatever its other factors (columns as in :func:`aggregate`)."""
    pd = _pd()
    wanted = {canonical_json(s): s[factor] for s in grid.settings()}
    runs = frame[frame["settings"].isin(wanted)]
    value_of = runs["settings"].map(wanted)
    rows = []
    for value in grid.factors[factor]:
        group = runs[[v == value for v in value_of]]
        ok = group[group["status"] == "ok"]
        params = ok["num_parameters"].dropna().unique()
        row: dict[str, Any] = {factor: label(factor, value), "runs": len(group),
                               "failed": int((group["status"] == "failed").sum()),
                               "diverged": int(ok["diverged"].astype(bool).sum()),
                               "num_parameters": int(params[0]) if len(params) == 1 else None}
        for m in _METRICS:
            values = ok[m].astype(float).dropna()
            row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _data_sentence(rows: Frame, metric: str, name: str) -> str:
    rows = rows.assign(_n=rows["n_samples"].astype(int)).sort_values("_n")
    n, mean = rows["_n"].tolist(), rows[f"{metric}_mean"].tolist()
    std = rows[f"{metric}_std"].fillna(0.0).tolist()
    count = (rows["runs"] - rows["failed"]).tolist()
    path = " → ".join(f"{_fmt(m)} (N = {k})" for k, m in zip(n, mean, strict=True))
    for i in range(len(n) - 1):
        gain = mean[i] - mean[i + 1]
        noise = 2.0 * math.sqrt(std[i] ** 2 / count[i] + std[i + 1] ** 2 / count[i + 1])
        if not gain > noise:
            change = "fell" if gain > 0 else "rose"
            later = [n[j + 1] for j in range(i + 1, len(n) - 1)
                     if mean[j] - mean[j + 1] > 2.0 * math.sqrt(
                         std[j] ** 2 / count[j] + std[j + 1] ** 2 / count[j + 1])]
            again = (f"; it helped again at N = {', '.join(map(str, later))}" if later else "")
            return (f"more data stopped helping at N = {n[i]}: from N = {n[i]} to {n[i + 1]} "
                    f"the mean {name} {change} by {_fmt(abs(gain))}, within two standard "
                    f"errors ({_fmt(noise, 2)}){again}. Mean {name}: {path}.")
    return (f"more data helped at every step, up to the largest N = {n[-1]} (each step more "
            f"than two standard errors). Mean {name}: {path}.")


def _rate_sentence(rows: Frame, metric: str, name: str) -> str:
    rows = rows.assign(_lr=rows["learning_rate"].astype(float)).sort_values("_lr")
    diverged = [(lr, d, r - f) for lr, d, r, f in
                zip(rows["learning_rate"], rows["diverged"], rows["runs"], rows["failed"],
                    strict=True) if d]
    if diverged:
        div = "diverged at " + ", ".join(f"{lr} ({d} of {n} runs)" for lr, d, n in diverged)
    else:
        div = "no learning rate diverged (no run's loss became NaN/inf or exploded)"
    best = rows.loc[rows[f"{metric}_mean"].idxmin()]
    edge = ""
    if len(rows) > 1 and best["_lr"] == rows["_lr"].max():
        edge = " (the largest rate tried: a larger one may do better still)"
    elif len(rows) > 1 and best["_lr"] == rows["_lr"].min():
        edge = " (the smallest rate tried: a smaller one may do better still)"
    path = " → ".join(f"{_fmt(m)} (lr = {lr})" for lr, m in
                      zip(rows["learning_rate"], rows[f"{metric}_mean"], strict=True))
    return (f"{div}; lowest mean {name} at lr = {best['learning_rate']}{edge}. "
            f"Mean {name}: {path}.")


def _size_sentence(rows: Frame, factor: str, metric: str, name: str) -> str:
    rows = rows.sort_values("num_parameters", kind="stable")
    params, mean = rows["num_parameters"].tolist(), rows[f"{metric}_mean"].tolist()
    rho = _spearman(params, mean)
    if rho <= -0.5:
        trend = "fell as the parameter count grew"
    elif rho >= 0.5:
        trend = "rose as the parameter count grew"
    else:
        trend = "did not move steadily with the parameter count"
    best = rows.loc[rows[f"{metric}_mean"].idxmin()]
    path = " → ".join(f"{_fmt(m)} ({v}, {p} parameters)"
                      for v, p, m in zip(rows[factor], params, mean, strict=True))
    return (f"the mean {name} {trend} (Spearman rank correlation {rho:+.2f}); lowest with "
            f"{best[factor]} ({int(best['num_parameters'])} parameters). "
            f"Mean {name}: {path}.")


def _generic_sentence(rows: Frame, factor: str, metric: str, name: str) -> str:
    best = rows.loc[rows[f"{metric}_mean"].idxmin()]
    worst = rows.loc[rows[f"{metric}_mean"].idxmax()]
    return (f"lowest mean {name} {_fmt(best[f'{metric}_mean'])} at {factor} = {best[factor]}, "
            f"highest {_fmt(worst[f'{metric}_mean'])} at {worst[factor]}.")


def _variant_sentence(per_variant: Frame, study: Study, metric: str, name: str) -> str:
    (va, ra), (vb, rb) = per_variant[0], per_variant[1]
    a, b = ra[f"{metric}_mean"].to_numpy(), rb[f"{metric}_mean"].to_numpy()
    if len(a) != len(b):
        return f"{va} and {vb} ran different settings; compare them in the table."
    ok = ~(np.isnan(a) | np.isnan(b))
    b_better = int((b[ok] < a[ok]).sum())
    ratio = float(np.median(a[ok] / b[ok])) if ok.any() else math.nan
    return (f"**{vb}** had the lower mean {name} than **{va}** in {b_better} of {int(ok.sum())} "
            f"settings (median ratio {va} / {vb}: {_fmt(ratio)}).")


def _table(summary: Frame, study: Study, metric: str) -> str:
    per_variant = [(v, _rows_for(summary, g)) for v, g in study.variants]
    factors = study.factors
    head = [_NAMES.get(f, f) for f in factors]
    for v, _ in per_variant:
        tag = f" ({v})" if v else ""
        head += [f"parameters{tag}", f"{_METRIC_NAMES[metric]}{tag}", f"final loss{tag}",
                 f"diverged{tag}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = per_variant[0][1]
    for i in range(len(base)):
        cells = [str(base.iloc[i][f]) for f in factors]
        for _, rows in per_variant:
            if i >= len(rows):
                cells += ["–"] * 4
                continue
            r = rows.iloc[i]
            cells += [str(r["num_parameters"]) if r["num_parameters"] is not None else "–",
                      _pm(r[f"{metric}_mean"], r[f"{metric}_std"]),
                      _pm(r["final_loss_mean"], r["final_loss_std"]),
                      f"{r['diverged']}/{r['runs'] - r['failed']}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _summary_table(summary: Frame, metric: str) -> str:
    factor_cols = [c for c in summary.columns if c not in ("settings", "runs", "failed",
                   "diverged", "num_parameters") and not c.endswith(("_mean", "_std"))]
    head = [*factor_cols, "runs", "failed", "diverged", "parameters", _METRIC_NAMES[metric],
            "training error", "final loss", "epochs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in summary.iterrows():
        cells = [str(r[c]) for c in factor_cols]
        cells += [str(r["runs"]), str(r["failed"]), str(r["diverged"]),
                  str(r["num_parameters"]) if r["num_parameters"] is not None else "–",
                  _pm(r[f"{metric}_mean"], r[f"{metric}_std"]),
                  _pm(r["train_error_mean"], r["train_error_std"]),
                  _pm(r["final_loss_mean"], r["final_loss_std"]), _fmt(r["epochs_run_mean"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------------


def _pyplot():
    require_report_extras()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _numeric_axis(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def plot_factor(per_variant: Frame, factor: str, values: list[Any], metric: str, path: Path,
                subtitle: str = "") -> None:
    """Mean ``metric`` ± std against ``factor``, one line per ``(variant, rows)``."""
    plt = _pyplot()
    numeric = _numeric_axis(values)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (variant, rows) in enumerate(per_variant):
        x = np.array(values, dtype=float) if numeric else np.arange(len(values)) + 0.06 * i
        ax.errorbar(x[:len(rows)], rows[f"{metric}_mean"], yerr=rows[f"{metric}_std"].fillna(0),
                    marker="o", capsize=4, label=variant or None)
    if numeric and min(values) > 0 and max(values) / min(values) >= 10:
        ax.set_xscale("log")
    ticks = values if numeric else list(np.arange(len(values)))
    ax.set_xticks(ticks, [label(factor, v) for v in values])
    means = _finite_means(per_variant, metric)
    if len(means) and means.min() > 0 and means.max() / means.min() > 20:
        ax.set_yscale("log")
    ax.set_xlabel(_NAMES.get(factor, factor))
    ax.set_ylabel(f"{_METRIC_NAMES[metric]} (mean ± std)")
    ax.set_title(f"{_METRIC_NAMES[metric]} against {_NAMES.get(factor, factor)}{subtitle}")
    if any(v for v, _ in per_variant):
        ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _finite_means(per_variant: Frame, metric: str) -> np.ndarray:
    means = np.concatenate([rows[f"{metric}_mean"].to_numpy(dtype=float)
                            for _, rows in per_variant]) if per_variant else np.array([])
    return means[np.isfinite(means)]


def plot_heatmap(summary: Frame, study: Study, metric: str, path: Path) -> None:
    """Mean ``metric`` over two factors (or one factor × the variants), annotated."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm
    if len(study.factors) == 2:
        panels = []
        f1, f2 = study.factors
        for variant, g in study.variants:
            rows = _rows_for(summary, g)
            v1, v2 = g.factors[f1], g.factors[f2]
            grid = rows[f"{metric}_mean"].to_numpy().reshape(len(v1), len(v2))
            panels.append((variant, grid, [label(f1, v) for v in v1],
                           [label(f2, v) for v in v2], f1, f2))
    else:
        f = study.factors[0]
        values = study.variants[0][1].factors[f]
        grid = np.array([_rows_for(summary, g)[f"{metric}_mean"].to_numpy()
                         for _, g in study.variants])
        panels = [("", grid, [v for v, _ in study.variants], [label(f, v) for v in values],
                   "", f)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 1.2 + 0.7 *
                             max(len(p[2]) for p in panels) + 1.5), squeeze=False)
    for ax, (variant, grid, rows_lab, cols_lab, f1, f2) in zip(axes[0], panels, strict=True):
        finite = grid[np.isfinite(grid)]
        norm = (LogNorm(finite.min(), finite.max()) if len(finite) and finite.min() > 0
                and finite.max() / finite.min() > 20 else None)
        im = ax.imshow(grid, cmap="viridis_r", norm=norm, aspect="auto")
        ax.set_xticks(range(len(cols_lab)), cols_lab)
        ax.set_yticks(range(len(rows_lab)), rows_lab)
        ax.set_xlabel(_NAMES.get(f2, f2))
        if f1:
            ax.set_ylabel(_NAMES.get(f1, f1))
        for (i, j), v in np.ndenumerate(grid):
            dark = np.isfinite(v) and float(im.norm(v)) > 0.5     # viridis_r: high is dark
            ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
        ax.set_title(f"mean {_METRIC_NAMES[metric]}" + (f": {variant}" if variant else ""))
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_loss_curves(frame: Frame, summary: Frame, metric: str, path: Path
                     ) -> tuple[str, str] | None:
    """The mean loss curve (± std over seeds) of the best and the worst setting."""
    ranked = summary[summary[f"{metric}_mean"].notna()]
    if len(ranked) == 0:
        return None
    best = ranked.loc[ranked[f"{metric}_mean"].idxmin()]
    worst = ranked.loc[ranked[f"{metric}_mean"].idxmax()]
    sb, sw = json.loads(best["settings"]), json.loads(worst["settings"])
    differ = {k for k in {*sb, *sw} if sb.get(k, "\0") != sw.get(k, "\0")}
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for tag, row in (("best", best), ("worst", worst)):
        runs = frame[(frame["settings"] == row["settings"]) & (frame["status"] == "ok")]
        curves = [json.loads(c) for c in runs["loss_curve"]]
        length = max(len(c) for c in curves)
        padded = np.full((len(curves), length), np.nan)
        for i, c in enumerate(curves):
            padded[i, :len(c)] = c
        mean, std = np.nanmean(padded, axis=0), np.nanstd(padded, axis=0)
        epochs = np.arange(1, length + 1)
        text = _setting_text(row["settings"], only=differ)
        line, = ax.plot(epochs, mean, label=f"{tag}: {text}")
        ax.fill_between(epochs, np.maximum(mean - std, 1e-12), mean + std,
                        color=line.get_color(), alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (mean ± std over seeds)")
    ax.set_title("loss curves of the best and the worst setting")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return best["settings"], worst["settings"]


def _setting_text(settings_json: str, only: set[str] | None = None) -> str:
    s = json.loads(settings_json)
    return ", ".join(f"{k}={label(k, v)}" for k, v in s.items() if only is None or k in only)


# --- the report --------------------------------------------------------------------


def write_report(runs: Sequence[dict[str, Any]], grids: Sequence[Grid], out: str | os.PathLike,
                 *, title: str | None = None, notes: dict[str, Any] | None = None
                 ) -> list[Path]:
    """Write ``results.csv``, ``sweep.json``, ``summary.csv``, plots and ``report.md``.

    Parameters
    ----------
    runs : list of dict
        The sweep's runs (:attr:`SweepResults.runs`).
    grids : list of Grid
        The grids they came from: they define the studies of the report.
    out : path
        Folder to write into (created if missing).
    title : str, optional
    notes : dict, optional
        The fixed ``fit`` arguments, data and seeds, stated in the report.

    Returns
    -------
    list of Path
        The files written.
    """
    pd = _pd()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "results.csv"
    results_frame(runs).to_csv(csv, index=False)
    meta = out / "sweep.json"
    meta.write_text(json.dumps({"title": title, "grids": [g.to_dict() for g in grids],
                                "notes": notes or {}}, indent=1) + "\n")
    frame = pd.read_csv(csv, keep_default_na=False,
                        na_values={c: [""] for c in _LAST})
    return [csv, meta, *_write_from_frame(frame, list(grids), out, title, notes or {})]


def report_from_csv(folder: str | os.PathLike, out: str | os.PathLike | None = None
                    ) -> list[Path]:
    """Regenerate ``summary.csv``, plots and ``report.md`` from ``results.csv`` and
    ``sweep.json`` in ``folder`` (into ``out``, default the same folder)."""
    pd = _pd()
    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text())
    grids = [Grid.from_dict(g) for g in meta["grids"]]
    frame = pd.read_csv(folder / "results.csv",
                        keep_default_na=False, na_values={c: [""] for c in _LAST})
    target = Path(out) if out is not None else folder
    target.mkdir(parents=True, exist_ok=True)
    return _write_from_frame(frame, grids, target, meta.get("title"), meta.get("notes", {}))


def _write_from_frame(frame: Frame, grids: list[Grid], out: Path, title: str | None,
                      notes: dict[str, Any]) -> list[Path]:
    for col in ("final_loss", "train_error", "validation_error", "test_error", "wall_time"):
        frame[col] = frame[col].astype(float)
    summary = aggregate(frame)
    metric = _primary_metric(summary)
    files = [out / "summary.csv"]
    summary.to_csv(files[0], index=False)

    n_ok = int((frame["status"] == "ok").sum())
    n_failed = len(frame) - n_ok
    n_div = int(frame.loc[frame["status"] == "ok", "diverged"].astype(bool).sum())
    seeds = sorted(set(frame["seed"].astype(int)))
    md = [f"# {title or 'Sweep report'}", ""]
    if notes.get("description"):
        md += [notes["description"], ""]
    md.append(f"{len(frame)} runs: {len(summary)} settings × {len(seeds)} seed(s) "
              f"({_seed_text(seeds)}); {n_ok} finished, {n_failed} failed, {n_div} diverged.")
    md.append("")
    md += _notes_text(notes, metric, frame)
    md.append("")

    taken: set[str] = set()

    def unique(stem: str) -> Path:
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}_{k}"
        taken.add(name)
        return out / f"{name}.png"

    for study in studies(grids):
        if not study.factors:
            continue
        md += [f"## {study.title[0].upper() + study.title[1:]}", ""]
        fixed = _fixed_text(study)
        if fixed:
            md += [fixed, ""]
        md += [f"- {line}" for line in analyse(summary, study, metric, frame)]
        epochs = (notes.get("fit") or {}).get("epochs")
        if "n_samples" in study.factors and isinstance(epochs, int):
            md.append(f"- Every run trains for {epochs} epochs, so N also sets the number of "
                      f"examples seen ({epochs} × N): part of what more data does here is "
                      f"more training.")
        md += ["", _table(summary, study, metric), ""]
        for factor in study.factors:
            one = len(study.factors) == 1
            per_variant = [(v, _rows_for(summary, g) if one else marginal_rows(frame, g, factor))
                           for v, g in study.variants]
            path = unique(f"error_vs_{factor}")
            others = ", ".join(_NAMES.get(f, f) for f in study.factors if f != factor)
            plot_factor(per_variant, factor, study.variants[0][1].factors[factor], metric, path,
                        "" if one else f"\n(averaged over {others})")
            files.append(path)
            md += [f"![{_METRIC_NAMES[metric]} against {_NAMES.get(factor, factor)}]"
                   f"({path.name})", ""]
        if len(study.factors) == 2 or len(study.variants) >= 2:
            path = unique(f"heatmap_{study.slug}")
            plot_heatmap(summary, study, metric, path)
            files.append(path)
            md += [f"![heatmap of {study.title}]({path.name})", ""]

    curves = out / "loss_curves.png"
    picked = plot_loss_curves(frame, summary, metric, curves)
    if picked is not None:
        files.append(curves)
        md += ["## Loss curves of the best and the worst setting", ""]
        for tag, s in zip(("best", "worst"), picked, strict=True):
            row = summary[summary["settings"] == s].iloc[0]
            md.append(f"- {tag}: {_setting_text(s)}: mean {_METRIC_NAMES[metric]} "
                      f"{_pm(row[f'{metric}_mean'], row[f'{metric}_std'])}")
        md += ["", f"![loss curves]({curves.name})", ""]

    failed = frame[frame["status"] == "failed"]
    if len(failed):
        md += ["## Failed runs", "", "| settings | seed | error |", "|---|---|---|"]
        for _, r in failed.iterrows():
            md.append(f"| {_setting_text(r['settings'])} | {r['seed']} | "
                      f"{str(r['error']).replace('|', '/')} |")
        md.append("")

    md += ["## Every setting", "", _summary_table(summary, metric), "",
           "Mean ± sample standard deviation over the seeds that finished. One row per run "
           "in [results.csv](results.csv), these means in [summary.csv](summary.csv).", ""]
    report = out / "report.md"
    report.write_text("\n".join(md))
    files.append(report)
    return files


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def _fixed_text(study: Study) -> str:
    common = None
    for _, g in study.variants:
        items = {k: canonical_json(v) for k, v in g.fixed.items()}
        common = items if common is None else {k: v for k, v in common.items()
                                               if items.get(k) == v}
    g0 = study.variants[0][1]
    shown = [f"{k} = {label(k, g0.fixed[k])}" for k in (common or {}) if k != "lr_scale"]
    return ("Fixed: " + ", ".join(shown) + ".") if shown else ""


def _notes_text(notes: dict[str, Any], metric: str, frame: Frame) -> list[str]:
    lines = []
    data = notes.get("data", {})
    if "name" in data:
        lines.append(f"- Data: `{data['name']}`; each run draws its training set from its seed; "
                     f"validation ({data.get('n_validation')} samples) and test "
                     f"({data.get('n_test')} samples) sets are the same for every run.")
    elif data:
        lines.append("- Data: arrays given to the sweep (digest "
                     f"`{data.get('arrays', '?')}`).")
    fit = notes.get("fit")
    if fit:
        lines.append("- Fixed fit arguments: " + ", ".join(f"{k}={v}" for k, v in fit.items())
                     + ".")
    lines.append(f"- Errors are the loss each network trained on (the mean squared error "
                 f"unless a loss is set; the misclassification rate for class labels), measured "
                 f"after training on the training, validation and test sets; the conclusions "
                 f"use the {_METRIC_NAMES[metric]}. \"Final loss\" is "
                 f"the last epoch's running training loss, the tutorial's printed `Error`. "
                 f"\"Diverged\" counts runs whose loss became NaN/inf or exploded (numnet's "
                 f"divergence guard stopped them).")
    if frame["settings"].str.contains('"lr_scale":"tutorial"').any():
        lines.append("- Learning rates are on the tutorial's scale: its rate `lr` on "
                     "`E = 0.5 * sum((t - o) ** 2)` is SGD on the mean squared error at "
                     "`lr * num_outputs / 2`, which is what ran.")
    return lines

"""What each factor did, in sentences computed from a sweep's tables.

The report states only what its numbers show; each statement has its rule:

* **data** (``n_samples``): more data *stopped helping* at the first step up
  in N whose fall in the mean error is not more than two standard errors
  of the difference, ``2 * sqrt(s1**2 / n1 + s2**2 / n2)`` (sample std
  ``s``, ``n`` finished runs per setting); later steps that helped again
  are named.
* **learning rate**: the rates at which some run *diverged* (its loss
  became NaN/inf or exploded, and numnet's guard stopped it), the rate with
  the lowest mean error, and whether it is at the edge of the rates tried.
* **network size** (any factor that changes the parameter count): how the
  mean error moved with the parameter count, by the sign and size of the
  Spearman rank correlation (``|rho| >= 0.5`` is a steady trend).
* **variants** (the same study on several networks): which had the lower
  mean error in how many settings, and the median ratio.

With two or more factors, each factor is also described averaged over the
others (:func:`~numnet.experiments.tables.marginal_rows`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .formatting import METRIC_NAMES, factor_name, fmt
from .grid import Grid
from .studies import Study
from .tables import highest, lowest, marginal_rows, rows_for

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["analyse"]


def analyse(summary: pd.DataFrame, study: Study, metric: str,
            frame: pd.DataFrame | None = None) -> list[str]:
    """Sentences, computed from ``summary``, that say what ``study``'s factors did.

    Parameters
    ----------
    summary : DataFrame
        From :func:`~numnet.experiments.tables.aggregate`.
    study : Study
        The grids to describe; with several variants, each variant's
        sentences start with its label in bold.
    metric : str
        The measurement to judge by (``"test_error"`` ...).
    frame : DataFrame, optional
        The runs (:func:`~numnet.experiments.tables.results_frame`). With two
        or more factors, each factor is then also described averaged over
        the others (its marginal: mean ± std over all runs at each value).

    Returns
    -------
    list of str
        One markdown sentence (or a few) per finding, in study order.
    """
    per_variant = [(v, rows_for(summary, g), g) for v, g in study.variants]
    lines: list[str] = []
    for variant, rows, grid in per_variant:
        prefix = f"**{variant}**: " if variant else ""
        found = _variant_findings(rows, grid, study.factors, metric, frame)
        lines += [prefix + sentence for sentence in found]
    if len(per_variant) >= 2:
        lines.append(_variant_sentence([(v, r) for v, r, _ in per_variant], metric))
    return lines


def _variant_findings(rows: pd.DataFrame, grid: Grid, factors: list[str], metric: str,
                      frame: pd.DataFrame | None) -> list[str]:
    """The findings of one grid of a study (``rows``: its summary rows)."""
    rows = rows[rows[f"{metric}_mean"].notna()]
    if len(rows) == 0:
        return ["no run finished."]
    if len(factors) == 1:
        return [_factor_sentence(rows, factors[0], metric)]
    best = lowest(rows, f"{metric}_mean")
    cell = ", ".join(f"{f} = {best[f]}" for f in factors)
    found = [f"lowest mean {METRIC_NAMES[metric]} {fmt(best[f'{metric}_mean'])} at {cell}."]
    if frame is not None:
        found += _marginal_sentences(frame, grid, factors, metric)
    return found


def _marginal_sentences(frame: pd.DataFrame, grid: Grid, factors: list[str],
                        metric: str) -> list[str]:
    """Each factor of a grid of several, averaged over the others."""
    found = []
    for factor in factors:
        others = ", ".join(factor_name(f) for f in factors if f != factor)
        marginal = marginal_rows(frame, grid, factor)
        marginal = marginal[marginal[f"{metric}_mean"].notna()]
        if len(marginal):
            found.append(f"{factor_name(factor)}, averaged over {others}: "
                         + _factor_sentence(marginal, factor, metric))
    return found


def _factor_sentence(rows: pd.DataFrame, factor: str, metric: str) -> str:
    """What one factor did, by the rule of its kind (see the module's docstring)."""
    if factor == "n_samples":
        return _data_sentence(rows, metric)
    if factor == "learning_rate":
        return _rate_sentence(rows, metric)
    if rows["num_parameters"].notna().all() and rows["num_parameters"].nunique() > 1:
        return _size_sentence(rows, factor, metric)
    return _generic_sentence(rows, factor, metric)


def _data_sentence(rows: pd.DataFrame, metric: str) -> str:
    """Where more data stopped helping: the first step up in N within two standard errors."""
    name = METRIC_NAMES[metric]
    rows = rows.assign(_n=rows["n_samples"].astype(int)).sort_values("_n")
    n, mean = rows["_n"].tolist(), rows[f"{metric}_mean"].tolist()
    std = rows[f"{metric}_std"].fillna(0.0).tolist()
    count = (rows["runs"] - rows["failed"]).tolist()
    path = " → ".join(f"{fmt(m)} (N = {k})" for k, m in zip(n, mean, strict=True))
    # step i is N = n[i] -> n[i + 1]: the fall in the mean error, and two standard errors
    steps = [(mean[i] - mean[i + 1],
              2.0 * math.sqrt(std[i] ** 2 / count[i] + std[i + 1] ** 2 / count[i + 1]))
             for i in range(len(n) - 1)]
    helped = [gain > noise for gain, noise in steps]
    if all(helped):
        return (f"more data helped at every step, up to the largest N = {n[-1]} (each step "
                f"more than two standard errors). Mean {name}: {path}.")
    i = helped.index(False)
    gain, noise = steps[i]
    later = [n[j + 1] for j in range(i + 1, len(steps)) if helped[j]]
    again = f"; it helped again at N = {', '.join(map(str, later))}" if later else ""
    return (f"more data stopped helping at N = {n[i]}: from N = {n[i]} to {n[i + 1]} "
            f"the mean {name} {'fell' if gain > 0 else 'rose'} by {fmt(abs(gain))}, within two "
            f"standard errors ({fmt(noise, 2)}){again}. Mean {name}: {path}.")


def _rate_sentence(rows: pd.DataFrame, metric: str) -> str:
    """Which learning rates diverged, and which did best (and whether at an edge)."""
    name = METRIC_NAMES[metric]
    rows = rows.assign(_lr=rows["learning_rate"].astype(float)).sort_values("_lr")
    best = lowest(rows, f"{metric}_mean")
    edge = ""
    if len(rows) > 1 and best["_lr"] == rows["_lr"].max():
        edge = " (the largest rate tried: a larger one may do better still)"
    elif len(rows) > 1 and best["_lr"] == rows["_lr"].min():
        edge = " (the smallest rate tried: a smaller one may do better still)"
    path = " → ".join(f"{fmt(m)} (lr = {lr})" for lr, m in
                      zip(rows["learning_rate"], rows[f"{metric}_mean"], strict=True))
    return (f"{_divergence_text(rows)}; lowest mean {name} at lr = {best['learning_rate']}"
            f"{edge}. Mean {name}: {path}.")


def _divergence_text(rows: pd.DataFrame) -> str:
    """The rates at which runs diverged, with how many of the finished runs."""
    diverged = [(lr, d, r - f) for lr, d, r, f in
                zip(rows["learning_rate"], rows["diverged"], rows["runs"], rows["failed"],
                    strict=True) if d]
    if not diverged:
        return "no learning rate diverged (no run's loss became NaN/inf or exploded)"
    return "diverged at " + ", ".join(f"{lr} ({d} of {n} runs)" for lr, d, n in diverged)


def _size_sentence(rows: pd.DataFrame, factor: str, metric: str) -> str:
    """How the mean error moved with the parameter count (Spearman rank correlation)."""
    name = METRIC_NAMES[metric]
    rows = rows.sort_values("num_parameters", kind="stable")
    rho = _spearman(rows["num_parameters"], rows[f"{metric}_mean"])
    if rho <= -0.5:
        trend = "fell as the parameter count grew"
    elif rho >= 0.5:
        trend = "rose as the parameter count grew"
    else:
        trend = "did not move steadily with the parameter count"
    best = lowest(rows, f"{metric}_mean")
    path = " → ".join(f"{fmt(m)} ({v}, {p} parameters)" for v, p, m in
                      zip(rows[factor], rows["num_parameters"], rows[f"{metric}_mean"],
                          strict=True))
    return (f"the mean {name} {trend} (Spearman rank correlation {rho:+.2f}); lowest with "
            f"{best[factor]} ({int(best['num_parameters'])} parameters). "
            f"Mean {name}: {path}.")


def _spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation (ties get their mean rank); NaN if either is constant."""
    rx, ry = x.astype(float).rank(), y.astype(float).rank()
    if rx.nunique() < 2 or ry.nunique() < 2:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _generic_sentence(rows: pd.DataFrame, factor: str, metric: str) -> str:
    """The values of ``factor`` with the lowest and the highest mean error."""
    name = METRIC_NAMES[metric]
    best = lowest(rows, f"{metric}_mean")
    worst = highest(rows, f"{metric}_mean")
    return (f"lowest mean {name} {fmt(best[f'{metric}_mean'])} at {factor} = {best[factor]}, "
            f"highest {fmt(worst[f'{metric}_mean'])} at {worst[factor]}.")


def _variant_sentence(per_variant: list[tuple[str, pd.DataFrame]], metric: str) -> str:
    """Which of the first two variants had the lower mean error, in how many settings."""
    name = METRIC_NAMES[metric]
    (va, ra), (vb, rb) = per_variant[0], per_variant[1]
    a, b = ra[f"{metric}_mean"].to_numpy(), rb[f"{metric}_mean"].to_numpy()
    if len(a) != len(b):
        return f"{va} and {vb} ran different settings; compare them in the table."
    ok = ~(np.isnan(a) | np.isnan(b))
    b_better = int((b[ok] < a[ok]).sum())
    ratio = float(np.median(a[ok] / b[ok])) if ok.any() else math.nan
    return (f"**{vb}** had the lower mean {name} than **{va}** in {b_better} of {int(ok.sum())} "
            f"settings (median ratio {va} / {vb}: {fmt(ratio)}).")

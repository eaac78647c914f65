"""What each factor of a sweep did, in sentences and tables computed from its numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grid import Grid, canonical_json
from .tables import _METRICS, _NAMES, Frame, _fmt, _pd, _pm, label

__all__ = ["Study", "studies", "analyse", "marginal_rows"]


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

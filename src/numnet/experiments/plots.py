"""The sweep report's pictures: a factor's effect, heatmaps, loss curves (matplotlib, Agg)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import _METRIC_NAMES, Study, _rows_for
from .tables import _NAMES, Frame, _fmt, label, require_report_extras

__all__ = ["plot_factor", "plot_heatmap", "plot_loss_curves"]


# --- plots -------------------------------------------------------------------------


def _pyplot() -> Any:
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

"""The sweep's plots: error against each factor, heatmaps, the best and worst loss curves.

Every plot is a :class:`matplotlib.figure.Figure` drawn on the Agg canvas
and written to a PNG; pyplot is never used, so plotting a report neither
picks nor changes the backend of the program that asked for it. An axis
turns logarithmic when its values span a wide range (the sizes N = 10 ...
1000, errors from a diverged rate to a good one).

Needs matplotlib: ``pip install 'numnet[plots]'``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

try:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
except ImportError as exc:
    raise ImportError("sweep plots need matplotlib: pip install 'numnet[plots]'") from exc

from .formatting import METRIC_NAMES, factor_name, fmt, label, setting_text
from .studies import Study
from .tables import best_and_worst, mean_loss_curve, rows_for

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_factor", "plot_heatmap", "plot_loss_curves"]

_DPI = 110
# a color scale or an error axis turns logarithmic when max / min of its values exceeds this
_LOG_RATIO = 20.0


def _new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` × ``height`` inches on its own Agg canvas."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)


def _wide(values: np.ndarray) -> bool:
    """Whether positive ``values`` span more than :data:`_LOG_RATIO` (worth a log scale)."""
    values = values[np.isfinite(values)]
    return bool(len(values) and values.min() > 0 and values.max() / values.min() > _LOG_RATIO)


def _numeric_axis(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def plot_factor(per_variant: list[tuple[str, pd.DataFrame]], factor: str, values: list[Any],
                metric: str, path: Path, subtitle: str = "") -> None:
    """Mean ``metric`` ± std against ``factor``, one line per variant.

    Parameters
    ----------
    per_variant : list of (str, DataFrame)
        Each variant's label and its rows, one per value of ``factor`` in the
        order of ``values`` (summary or marginal rows, with
        ``<metric>_mean`` and ``<metric>_std``).
    factor : str
    values : list
        The factor's values: a numeric axis (log-scaled over a decade or
        more) when they are numbers, else one evenly spaced tick each.
    metric : str
    path : Path
        The PNG to write.
    subtitle : str, optional
        Appended to the title (e.g. what the rows are averaged over).
    """
    numeric = _numeric_axis(values)
    fig = _new_figure(6.4, 4.2)
    ax = fig.subplots()
    for i, (variant, rows) in enumerate(per_variant):
        x = np.array(values, dtype=float) if numeric else np.arange(len(values)) + 0.06 * i
        ax.errorbar(x[:len(rows)], rows[f"{metric}_mean"], yerr=rows[f"{metric}_std"].fillna(0),
                    marker="o", capsize=4, label=variant or None)
    if numeric and min(values) > 0 and max(values) / min(values) >= 10:
        ax.set_xscale("log")
    ticks = values if numeric else list(np.arange(len(values)))
    ax.set_xticks(ticks, [label(factor, v) for v in values])
    if per_variant and _wide(np.concatenate([rows[f"{metric}_mean"].to_numpy(dtype=float)
                                             for _, rows in per_variant])):
        ax.set_yscale("log")
    ax.set_xlabel(factor_name(factor))
    ax.set_ylabel(f"{METRIC_NAMES[metric]} (mean ± std)")
    ax.set_title(f"{METRIC_NAMES[metric]} against {factor_name(factor)}{subtitle}")
    if any(v for v, _ in per_variant):
        ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)


class _Panel(NamedTuple):
    """One heatmap: mean errors of shape (len(row_labels), len(col_labels))."""

    title: str
    means: np.ndarray
    row_labels: list[str]
    col_labels: list[str]
    row_factor: str         # "" when the rows are the study's variants
    col_factor: str


def plot_heatmap(summary: pd.DataFrame, study: Study, metric: str, path: Path) -> None:
    """Mean ``metric`` over two factors (one panel per variant), or over one factor × the
    variants (one panel), each cell annotated with its value."""
    panels = _heatmap_panels(summary, study, metric)
    height = 1.2 + 0.7 * max(len(p.row_labels) for p in panels) + 1.5
    fig = _new_figure(6.4 * len(panels), height)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        _draw_heatmap(fig, ax, panel, metric)
    _save(fig, path)


def _heatmap_panels(summary: pd.DataFrame, study: Study, metric: str) -> list[_Panel]:
    if len(study.factors) == 2:
        f1, f2 = study.factors
        panels = []
        for variant, g in study.variants:
            v1, v2 = g.factors[f1], g.factors[f2]
            means = rows_for(summary, g)[f"{metric}_mean"].to_numpy().reshape(len(v1), len(v2))
            panels.append(_Panel(variant, means, [label(f1, v) for v in v1],
                                 [label(f2, v) for v in v2], f1, f2))
        return panels
    f = study.factors[0]
    values = study.variants[0][1].factors[f]
    means = np.array([rows_for(summary, g)[f"{metric}_mean"].to_numpy()
                      for _, g in study.variants])
    return [_Panel("", means, [v for v, _ in study.variants], [label(f, v) for v in values],
                   "", f)]


def _draw_heatmap(fig: Figure, ax: Axes, panel: _Panel, metric: str) -> None:
    finite = panel.means[np.isfinite(panel.means)]
    norm = LogNorm(finite.min(), finite.max()) if _wide(finite) else None
    im = ax.imshow(panel.means, cmap="viridis_r", norm=norm, aspect="auto")
    ax.set_xticks(range(len(panel.col_labels)), panel.col_labels)
    ax.set_yticks(range(len(panel.row_labels)), panel.row_labels)
    ax.set_xlabel(factor_name(panel.col_factor))
    if panel.row_factor:
        ax.set_ylabel(factor_name(panel.row_factor))
    for (i, j), v in np.ndenumerate(panel.means):
        dark = np.isfinite(v) and float(np.asarray(im.norm(v))) > 0.5     # viridis_r: high is dark
        ax.text(j, i, fmt(v), ha="center", va="center", fontsize=9,
                color="white" if dark else "black")
    ax.set_title(f"mean {METRIC_NAMES[metric]}" + (f": {panel.title}" if panel.title else ""))
    fig.colorbar(im, ax=ax)


def plot_loss_curves(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, path: Path
                     ) -> tuple[str, str] | None:
    """The mean loss curve (± std over seeds) of the best and the worst setting.

    Returns
    -------
    (str, str) or None
        The settings (JSON) of the best and the worst setting by mean
        ``metric``; None, and no plot, when no setting has one.
    """
    picked = best_and_worst(summary, metric)
    if picked is None:
        return None
    best, worst = picked
    sb, sw = json.loads(best["settings"]), json.loads(worst["settings"])
    differ = {k for k in {*sb, *sw} if sb.get(k, "\0") != sw.get(k, "\0")}
    fig = _new_figure(6.4, 4.2)
    ax = fig.subplots()
    for tag, row in (("best", best), ("worst", worst)):
        mean, std = mean_loss_curve(frame, row["settings"])
        epochs = np.arange(1, len(mean) + 1)
        line, = ax.plot(epochs, mean, label=f"{tag}: {setting_text(row['settings'], differ)}")
        ax.fill_between(epochs, np.maximum(mean - std, 1e-12), mean + std,
                        color=line.get_color(), alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (mean ± std over seeds)")
    ax.set_title("loss curves of the best and the worst setting")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    _save(fig, path)
    return best["settings"], worst["settings"]

"""The report's plots, drawn (their words come from :mod:`~numnet.experiments.report`).

Figures on their own Agg canvas, never pyplot, so a report neither picks nor
changes the caller's backend. An axis turns logarithmic when its values span
more than :data:`_LOG_RATIO`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
except ImportError as exc:
    raise ImportError("sweep plots need matplotlib: pip install 'numnet[plots]'") from exc

_DPI = 110
_LOG_RATIO = 20.0


class Line(NamedTuple):
    """One line of a plot: its legend (``""`` for none), means and stds, shape ``(n,)``."""

    legend: str
    mean: np.ndarray
    std: np.ndarray


class Panel(NamedTuple):
    """One heatmap: ``means`` of shape ``(len(rows), len(columns))`` and its words."""

    title: str
    means: np.ndarray
    rows: list[str]
    columns: list[str]
    ylabel: str
    xlabel: str


def _figure(width: float, height: float) -> Figure:
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


def plot_lines(lines: list[Line], values: list[Any], ticks: list[str], path: Path,
               xlabel: str, ylabel: str, title: str) -> None:
    """Means ± std against ``values``: a numeric axis (log over a decade or more) when they
    are numbers, else one evenly spaced tick each."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    for i, line in enumerate(lines):
        x = np.array(values, dtype=float) if numeric else np.arange(len(values)) + 0.06 * i
        ax.errorbar(x[:len(line.mean)], line.mean, yerr=np.nan_to_num(line.std), marker="o",
                    capsize=4, label=line.legend or None)
    if numeric and min(values) > 0 and max(values) / min(values) >= 10:
        ax.set_xscale("log")
    ax.set_xticks(values if numeric else list(np.arange(len(values))), ticks)
    if lines and _wide(np.concatenate([line.mean for line in lines])):
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if any(line.legend for line in lines):
        ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)


def plot_heatmaps(panels: list[Panel], path: Path) -> None:
    """The panels side by side, each cell annotated with its value."""
    fig = _figure(6.4 * len(panels), 1.2 + 0.7 * max(len(p.rows) for p in panels) + 1.5)
    for ax, panel in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        finite = panel.means[np.isfinite(panel.means)]
        norm = LogNorm(finite.min(), finite.max()) if _wide(finite) else None
        im = ax.imshow(panel.means, cmap="viridis_r", norm=norm, aspect="auto")
        ax.set_xticks(range(len(panel.columns)), panel.columns)
        ax.set_yticks(range(len(panel.rows)), panel.rows)
        ax.set_xlabel(panel.xlabel)
        if panel.ylabel:
            ax.set_ylabel(panel.ylabel)
        for (i, j), v in np.ndenumerate(panel.means):
            dark = np.isfinite(v) and float(np.asarray(im.norm(v))) > 0.5   # viridis_r: dark
            ax.text(j, i, "–" if np.isnan(v) else f"{v:.3g}", ha="center", va="center",
                    fontsize=9, color="white" if dark else "black")
        ax.set_title(panel.title)
        fig.colorbar(im, ax=ax)
    _save(fig, path)


def plot_curves(lines: list[Line], path: Path, ylabel: str, title: str) -> None:
    """Curves against the epoch (log scale), each with a ± std band."""
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    for line in lines:
        epochs = np.arange(1, len(line.mean) + 1)
        drawn, = ax.plot(epochs, line.mean, label=line.legend)
        ax.fill_between(epochs, np.maximum(line.mean - line.std, 1e-12), line.mean + line.std,
                        color=drawn.get_color(), alpha=0.2)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    _save(fig, path)

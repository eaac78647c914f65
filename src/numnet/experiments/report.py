"""The report: ``results.csv``, ``summary.csv``, plots and ``report.md``, every word of it.

The numbers are pandas tables: per run (``results.csv``), per setting (``summary.csv``:
mean and sample std over seeds) and per value of one factor. ``report.md`` is written
from ``results.csv`` as read back, so :func:`report_from_csv` regenerates it from the
files alone. The findings follow these rules:

* **data** (``n_samples``): a larger N *did better* than a smaller one when its
  mean error is lower by more than two standard errors of the difference,
  ``2 * sqrt(s1**2 / n1 + s2**2 / n2)`` (the spread of the seeds at those two
  settings). Each setting of the other factors is compared with itself, never
  pooled with them (their spread says nothing about the data): with other
  factors, a larger N did better when it did so in most of their combinations.
  More data *stopped helping* at the smallest N that no larger N did better
  than; if that is the largest N, more data helped up to it (at every step, or
  not, as the sentence says). So "stopped helping" is never said where a later
  N is clearly better.
* **learning rate**: the rates where some run *diverged*, and the best rate, and
  whether it is at the edge of the rates tried, or at the edge of those that
  learned while a rate beyond it (tried) learned nothing.
* **network size** (a factor that changes the parameter count): the sign and
  size of the Spearman correlation of error and count (``|rho| >= 0.5``: steady).
* **other factors**: the lowest and highest mean error.
* **variants**: which had the lower mean error in how many settings.

Where fewer than two values of a factor have runs to compare, or every value has the
same mean error, the report says so rather than naming a best and a worst.

With two or more factors each is also described averaged over the others; with three
or more, each factor's share of the variance (:func:`importance`) is tabled.

Every run carries its **baseline** (the constant prediction fitted on its own training
split, :mod:`numnet.baselines`) and ``learned_nothing``; the findings above describe only
the runs that learned (:func:`learned`) and name the others first; every table has the
baseline and the count that learned nothing, and every plot draws the baseline. Runs
stored before the baselines were recorded say "baseline not recorded". Line plots draw
the median over seeds with a 25–75% band (a quantile of a positive error is positive), a
line per value of a second factor and a panel per value of a third (never an average
over them), legends outside the axes; heatmaps only where exactly two factors vary.

Plots are drawn on their own Agg canvas, never pyplot, so a report neither picks nor changes the
caller's backend. pandas and matplotlib (``numnet[plots]``) are imported when a table
or a plot is made: the words (:func:`tutorial_description`) need neither.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from numnet import fit
from numnet._files.atomic import atomic_write
from numnet.baselines import MARGIN
from numnet.plots import save_png
from numnet.terminal import printable

from .grid import FACTOR_NAMES, Grid, canonical_json, factor_name, label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

METRIC_NAMES = {"test_error": "test error", "validation_error": "validation error",
                "train_error": "training error", "final_loss": "final training loss"}
#: The measurements averaged over seeds: ``<metric>_mean`` and ``<metric>_std`` columns.
METRICS = ("final_loss", "train_error", "validation_error", "test_error", "epochs_run",
           "wall_time")
_FIRST = ["key", "status", "seed"]        # results.csv: these, the factors, then _LAST
#: Each error's baseline: the constant fitted on the run's training targets, scored alike.
BASELINES = {"test_error": "test_baseline", "validation_error": "validation_baseline",
             "train_error": "train_baseline", "final_loss": "loss_baseline"}
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "test_baseline", "validation_baseline", "train_baseline", "loss_baseline",
         "learned_nothing", "epochs_run", "diverged", "stop_reason", "wall_time",
         "train_rows", "augmented_rows", "validation_rows", "test_rows", "error",
         "worker", "settings", "loss_curve"]
_REAL = ("final_loss", "train_error", "validation_error", "test_error", "wall_time",
         *BASELINES.values())
#: The errors whose spread over seeds is kept as quantiles (``_q25``, ``_median``, ``_q75``).
_SPREAD = ("final_loss", "train_error", "validation_error", "test_error")
_STATS = ("_mean", "_std", "_q25", "_median", "_q75")
#: A factor explains this share of the variance or more: it is named as mattering.
_IMPORTANT = 0.1
#: A trend with the parameter count is called over this many settings or more.
_TREND_POINTS = 4
_LOG_RATIO = 20.0           # an axis turns logarithmic when its values span more than this
Lines = list[str]


def require_report_extras() -> None:
    """An ImportError naming ``numnet[plots]`` when pandas or matplotlib is missing: asked
    before a sweep's first run, not after its last."""
    missing = []
    for module in ("pandas", "matplotlib"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"sweep reports need {' and '.join(missing)}: "
                          f"pip install 'numnet[plots]'")


def _pandas() -> Any:
    require_report_extras()
    import pandas
    return pandas


# --- the tutorial preset, in words -------------------------------------------------------------


TUTORIAL_NETWORK, NUMNET_DEFAULTS = "tutorial's network", "numnet's defaults"
#: The tutorial's three explorations, and how its description words each.
EXPLORATIONS: list[tuple[dict[str, list[Any]], str]] = [
    ({"hidden_layers": [[1], [3], [3, 2], [9, 6], [32, 16]], "n_samples": [100],
      "learning_rate": [0.1]},
     "hidden layers (1,), (3,), (3, 2), (9, 6), (32, 16) at N = 100 and learning rate 0.1"),
    ({"hidden_layers": [[3]], "n_samples": [10, 100, 500, 1000], "learning_rate": [0.1]},
     "N = 10, 100, 500, 1000 with (3,) at rate 0.1"),
    ({"hidden_layers": [[3]], "n_samples": [100], "learning_rate": [0.1, 0.3, 1.0, 3.0]},
     "learning rates 0.1, 0.3, 1.0, 3.0 with (3,) at N = 100"),
]
_NETWORK_FACTORS = ("bias", "init", "lr_scale")     # said once, after the explorations
_FIT_DEFAULTS = {name: p.default for name, p in inspect.signature(fit).parameters.items()
                 if p.default is not inspect.Parameter.empty}
_NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _plural(n: int, word: str) -> str:
    return f"{word}{'s' if n != 1 else ''}"


def tutorial_description(grids: Sequence[Grid], data: str, n_seeds: int,
                         fit_kwargs: Mapping[str, Any]) -> str:
    """What the tutorial preset runs, in words, every figure from what runs (so ``--epochs
    5`` says 5 epochs); an exploration left as the tutorial's keeps the tutorial's words."""
    def values(name: str, fixed: Mapping[str, Any] = fit_kwargs) -> list[Any]:
        out: list[Any] = []
        for g in grids:
            for v in g.factors.get(name, [fixed.get(name, _FIT_DEFAULTS.get(name))]):
                if v not in out:
                    out.append(v)
        return out

    explorations = _exploration_texts(grids)
    n = len(explorations)
    count = _NUMBERS[n] if n < len(_NUMBERS) else str(n)
    kind = "one-factor exploration" if all(len(g.varying) == 1 for g in grids) else "exploration"
    on = ("`1 - x` (inputs `x / N` for `x < N`, shuffled)" if data == "one_minus_x_grid"
          else f"`{data}`")
    epochs, optimizers, batches = values("epochs"), values("optimizer"), values("batch_size")
    epochs_text = (f"{epochs[0]} {_plural(epochs[0], 'epoch')}" if len(epochs) == 1
                   else "epochs " + ", ".join(map(str, epochs)))
    names = "SGD" if optimizers == ["sgd"] else " / ".join(map(str, optimizers))
    training = (f"per-example {names}" if batches == [1]
                else f"{names} with batch size " + ", ".join(map(str, batches)))
    text = (f"The tutorial's own answer to its challenge: {count} {_plural(n, kind)} on {on}, "
            f"{epochs_text} of {training}, {n_seeds} {_plural(n_seeds, 'network')} per "
            f"setting: {'; '.join(explorations)}.")
    if {TUTORIAL_NETWORK, NUMNET_DEFAULTS} <= {g.label for g in grids}:
        activations = values("activation", {})
        activations = ["sigmoid"] if activations == [None] else activations
        everywhere = (f"{activations[0]} everywhere" if len(activations) == 1 else
                      "activations " + ", ".join(map(str, activations))
                      + " (hidden and output alike)")
        text += (" Each runs on the tutorial's exact network (no biases, weights uniform on "
                 "[0, 1): `bias=False, init=\"uniform\"`) and on numnet's defaults (biases, "
                 f"Glorot initialisation), {everywhere} in both.")
    if batches == [1] and optimizers == ["sgd"] and values("shuffle") == [False]:
        text += (" Training is the tutorial's `train`: the examples in the shuffled data's "
                 "order, one SGD step each.")
    return text


def _exploration_texts(grids: Sequence[Grid]) -> list[str]:
    """One phrase per exploration (grids that differ only in the network are one)."""
    texts: list[str] = []
    for g in grids:
        factors = {k: v for k, v in g.factors.items() if k not in _NETWORK_FACTORS}
        words = next((w for f, w in EXPLORATIONS if canonical_json(f) == canonical_json(factors)),
                     None)
        if words is None:
            varying = [f"{factor_name(k)} " + ", ".join(label(k, v) for v in values)
                       for k, values in factors.items() if len(values) > 1]
            fixed = [f"{factor_name(k)} {label(k, values[0])}"
                     for k, values in factors.items() if len(values) == 1]
            words = " × ".join(varying) or "one setting"
            if fixed:
                words += " with " + ", ".join(fixed)
        if words not in texts:
            texts.append(words)
    return texts


# --- studies, and the files they make ----------------------------------------------------------


@dataclass
class Study:
    """Grids that vary the same factors over the same values: one section of a report,
    each grid a variant, ``(label, grid)``, set side by side; ``plots``: its plots' paths,
    one per factor, then the heatmap (two factors, or several variants)."""

    factors: list[str]
    variants: list[tuple[str, Grid]]
    plots: list[Path]

    @property
    def heatmap(self) -> bool:
        """A heatmap only where exactly two factors vary (one factor: the lines say it)."""
        return len(self.factors) == 2

    def shared_fixed(self) -> dict[str, Any]:
        """The fixed factors every variant sets to the same value, and that value."""
        first = self.variants[0][1].fixed
        return {k: v for k, v in first.items() if all(
            k in g.fixed and canonical_json(g.fixed[k]) == canonical_json(v)
            for _, g in self.variants)}


def studies(grids: Sequence[Grid], out: Path) -> list[Study]:
    """Joined grids grouped into studies (same varying factors and values, different fixed
    ones), each with the paths of its plots in ``out``, no name taken twice."""
    groups: dict[str, list[Grid]] = {}
    for g in grids:
        groups.setdefault(canonical_json([[f, g.factors[f]] for f in g.varying]), []).append(g)
    taken: set[str] = set()

    def png(stem: str) -> Path:
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}_{k}"
        taken.add(name)
        return out / f"{name}.png"

    found = []
    for members in groups.values():
        study = Study(members[0].varying, [(_variant_label(g, members), g) for g in members], [])
        if study.factors:
            study.plots = [png(f"error_vs_{factor}") for factor in study.factors]
            study.plots += [png(f"heatmap_{'_'.join(study.factors)}")] if study.heatmap else []
        found.append(study)
    return found


def _variant_label(g: Grid, members: list[Grid]) -> str:
    """``g``'s own label, else the fixed factors that tell it from the other members."""
    if g.label or len(members) == 1:
        return g.label or ""
    differ = sorted({k for m in members for k, v in m.fixed.items()
                     if any(o.fixed.get(k, "\0") != v for o in members)})
    return ", ".join(f"{k}={label(k, g.fixed.get(k))}" for k in differ) or "grid"


def report_files(grids: Sequence[Grid], out: str | os.PathLike) -> list[Path]:
    """Every file the report of ``grids`` may write in ``out``, known before any run (in
    the order :func:`write_report` names them)."""
    out = Path(out)
    plots = [p for study in studies(list(grids), out) for p in study.plots]
    return [out / "results.csv", out / "sweep.json", out / "summary.csv", *plots,
            out / "loss_curves.png", out / "report.md"]


# --- the numbers --------------------------------------------------------------------------


def results_frame(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``results.csv``: one row per run, a column per factor (its value as shown, empty
    where unset), the measurements, and ``settings``/``loss_curve`` as JSON text."""
    factors: list[str] = []
    for r in runs:
        factors += [k for k in r["settings"] if k not in factors]
    rows = [{**{k: r.get(k) for k in _FIRST},
             **{f: label(f, r["settings"][f]) if f in r["settings"] else "" for f in factors},
             **{k: r.get(k) for k in _LAST}, "settings": canonical_json(r["settings"]),
             "loss_curve": json.dumps(r.get("loss_curve"))} for r in runs]
    return _real_columns(_pandas().DataFrame(rows, columns=_FIRST + factors + _LAST))


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """``results.csv`` read back as written: an empty factor stays ``""``, an empty
    measurement is NaN; a file from before the baselines gets them empty (not recorded)."""
    frame = _pandas().read_csv(path, keep_default_na=False, na_values={c: [""] for c in _LAST})
    for name in (*BASELINES.values(), "learned_nothing"):
        if name not in frame.columns:
            frame[name] = math.nan
    return _real_columns(frame)


def _real_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for name in _REAL:
        frame[name] = frame[name].astype(float)
    frame["learned_nothing"] = [_mark(v) for v in frame["learned_nothing"]]
    return frame


def _mark(value: Any) -> bool | None:
    """A ``learned_nothing`` cell as True, False or None (not recorded)."""
    if isinstance(value, str):
        return {"True": True, "False": False}.get(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def learned(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs of ``frame`` not marked ``learned_nothing`` (unmarked ones kept: a run
    stored before the baselines were recorded, or one that failed)."""
    return frame[[v is not True for v in frame["learned_nothing"]]]


def factor_columns(table: pd.DataFrame) -> list[str]:
    """The factor columns of a :func:`results_frame` or an :func:`aggregate` table."""
    known = {*_FIRST, *_LAST, "runs", "failed", "judged"}
    return [c for c in table.columns if c not in known and not c.endswith(_STATS)]


def _measure(group: pd.DataFrame) -> dict[str, Any]:
    """Counts of a group of runs, its parameter count (when its finished runs share one),
    and ``<metric>_mean``/``_std`` (ddof=1) of :data:`METRICS` over its finished runs."""
    ok = group[group["status"] == "ok"]
    params = ok["num_parameters"].dropna().unique()
    marks = [v for v in ok["learned_nothing"] if v is not None]
    row: dict[str, Any] = {"runs": len(group),
                           "failed": int((group["status"] == "failed").sum()),
                           "diverged": int(ok["diverged"].astype(bool).sum()),
                           "num_parameters": int(params[0]) if len(params) == 1 else None,
                           "learned_nothing": int(sum(marks)), "judged": len(marks)}
    for m in (*METRICS, *BASELINES.values()):
        values = ok[m].astype(float).dropna()
        row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
        row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        if m in _SPREAD:
            for tag, q in (("q25", 0.25), ("median", 0.5), ("q75", 0.75)):
                row[f"{m}_{tag}"] = float(values.quantile(q)) if len(values) else math.nan
    return row


def _with_counts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a table whose ``num_parameters`` stays integer (nullable ``Int64``)."""
    table = _pandas().DataFrame(rows)
    table["num_parameters"] = table["num_parameters"].astype("Int64")
    return table


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv``: one row per setting, in first-seen order: ``settings``, the factors
    and :func:`_measure`'s columns over its seeds."""
    factors = factor_columns(frame)
    return _with_counts([{"settings": settings, **{c: group[c].iloc[0] for c in factors},
                          **_measure(group)}
                         for settings, group in frame.groupby("settings", sort=False)])


def marginal_rows(frame: pd.DataFrame, grid: Grid, factor: str) -> pd.DataFrame:
    """``factor`` of ``grid`` averaged over its other factors: one row per value, in grid
    order, measured over every run of ``grid`` with that value."""
    wanted = {canonical_json(s): s[factor] for s in grid.settings()}
    runs = frame[frame["settings"].isin(wanted)]
    value_of = runs["settings"].map(wanted)
    return _with_counts([{factor: label(factor, value),
                          **_measure(runs[[v == value for v in value_of]])}
                         for value in grid.factors[factor]])


def rows_for(summary: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """The rows of an :func:`aggregate` table that are ``grid``'s settings, in grid order."""
    index = {s: i for i, s in enumerate(summary["settings"])}
    keys = [canonical_json(s) for s in grid.settings()]
    return summary.iloc[[index[k] for k in keys if k in index]]


def primary_metric(summary: pd.DataFrame) -> str:
    """The measurement conclusions use: the test, validation or training error (the first
    some run has), else the final training loss."""
    for m in ("test_error", "validation_error", "train_error"):
        if summary[f"{m}_mean"].notna().any():
            return m
    return "final_loss"


def lowest(rows: pd.DataFrame, column: str, pick: Callable[..., Any] = np.nanargmin
           ) -> pd.Series:
    """The first of ``rows`` with the smallest ``column`` (NaN skipped; ``pick=np.nanargmax``:
    the largest)."""
    return rows.iloc[int(pick(rows[column].to_numpy(dtype=float)))]


def loss_curve_band(frame: pd.DataFrame, settings: str
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 25% and 75% quantiles, shapes ``(n_epochs,)``, of one setting's finished loss
    curves, each epoch over the runs that reached it."""
    runs = frame[(frame["settings"] == settings) & (frame["status"] == "ok")]
    curves = [json.loads(c) for c in runs["loss_curve"]]
    padded = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        padded[i, :len(c)] = c
    with np.errstate(all="ignore"):
        low, mid, high = np.nanquantile(padded, [0.25, 0.5, 0.75], axis=0)
    return mid, low, high


# --- how numbers are written ------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits; a dash for None or NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def plus_minus(row: pd.Series, measure: str) -> str:
    """``mean ± std`` of ``measure`` in ``row`` (the std to two digits), a dash for a
    missing part."""
    mean, std = row[f"{measure}_mean"], row[f"{measure}_std"]
    if mean is None or math.isnan(mean):
        return "–"
    return f"{fmt(mean)} ± {fmt(std, 2) if not math.isnan(std) else '–'}"


def _count_text(value: Any) -> str:
    """A parameter count, or a dash where no run finished to have one (None, NA)."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return "–"


def setting_text(settings_json: str, only: set[str] | None = None) -> str:
    """A setting's JSON as ``factor=value, ...`` (only the factors in ``only``, if given)."""
    return ", ".join(f"{k}={label(k, v)}" for k, v in json.loads(settings_json).items()
                     if only is None or k in only)


def _markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


# --- the plots --------------------------------------------------------------------------------


class Line(NamedTuple):
    """One line of a plot: its legend (``""`` for none), its middle (the median over seeds)
    and its band (the 25% and 75% quantiles), each of shape ``(n,)``; quantiles of a
    positive error stay positive."""

    legend: str
    mid: np.ndarray
    low: np.ndarray
    high: np.ndarray


class Panel(NamedTuple):
    """One heatmap: ``means`` of shape ``(len(rows), len(columns))`` and its words."""

    title: str
    means: np.ndarray
    rows: list[str]
    columns: list[str]
    ylabel: str
    xlabel: str
    baseline: float = math.nan


class Chart(NamedTuple):
    """One panel of a line plot: its title, lines, and the baseline at each x (NaN: none)."""

    title: str
    lines: list[Line]
    baseline: np.ndarray


def _figure(width: float, height: float) -> Figure:
    require_report_extras()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    save_png(fig, path, dpi=110, bbox_inches="tight")  # legends outside the axes included


def _wide(values: np.ndarray) -> bool:
    """Whether positive ``values`` span more than :data:`_LOG_RATIO` (worth a log scale)."""
    values = values[np.isfinite(values)]
    return bool(len(values) and values.min() > 0 and values.max() / values.min() > _LOG_RATIO)


BASELINE_LEGEND = "baseline: constant prediction"


def _legend_outside(ax: Any, fig: Figure, fontsize: float = 8) -> None:
    """The legend to the right of the axes, where it covers no line."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, fontsize=fontsize, frameon=False)


def plot_lines(charts: list[Chart], values: list[Any], ticks: list[str], path: Path,
               xlabel: str, ylabel: str, title: str,
               marks: Sequence[tuple[float, str]] = ()) -> None:
    """Each chart a panel: its lines (median, 25–75% band over seeds) and its baseline
    (dashed) against ``values``: a numeric axis (log over a decade or more) when they are
    numbers, else one evenly spaced tick each; the legend outside the axes. ``marks``:
    ``(x, legend)`` drawn as dotted vertical lines (a numeric axis only)."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    fig = _figure(5.6 * len(charts) + 2.4, 4.2)
    axes = fig.subplots(1, len(charts), squeeze=False, sharey=True)[0]
    everything = np.concatenate([np.concatenate([line.mid, line.low, line.high, c.baseline])
                                 for c in charts for line in c.lines] or [np.array([])])
    for k, (ax, chart) in enumerate(zip(axes, charts, strict=True)):
        for i, line in enumerate(chart.lines):
            x = np.array(values, dtype=float) if numeric else np.arange(len(values)) + 0.04 * i
            n = len(line.mid)
            drawn, = ax.plot(x[:n], line.mid, marker="o", label=line.legend or None)
            ax.fill_between(x[:n], line.low, line.high, color=drawn.get_color(), alpha=0.18,
                            linewidth=0)
        if np.isfinite(chart.baseline).any():
            x = np.array(values, dtype=float) if numeric else np.arange(len(values))
            ax.plot(x[:len(chart.baseline)], chart.baseline, color="black", linestyle="--",
                    linewidth=1.2, label=BASELINE_LEGEND)
        for x_mark, words in marks if numeric else ():
            ax.axvline(x_mark, color="grey", linestyle=":", linewidth=1.5, label=words)
        if numeric and min(values) > 0 and max(values) / min(values) >= 10:
            ax.set_xscale("log")
        ax.set_xticks(values if numeric else list(np.arange(len(values))), ticks)
        if _wide(everything):
            ax.set_yscale("log")
        ax.set(xlabel=xlabel, title=chart.title or None)
        if k == 0:
            ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    _legend_outside(axes[-1], fig)
    _save(fig, path)


def plot_heatmaps(panels: list[Panel], path: Path) -> None:
    """The panels side by side, each cell annotated with its value."""
    fig = _figure(6.4 * len(panels), 1.2 + 0.7 * max(len(p.rows) for p in panels) + 1.5)
    from matplotlib.colors import LogNorm

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
            above = math.isfinite(panel.baseline) and not v < panel.baseline * (1 - MARGIN)
            ax.text(j, i, "–" if np.isnan(v) else f"{v:.3g}" + ("*" if above else ""),
                    ha="center", va="center", fontsize=9, color="white" if dark else "black")
        ax.set_title(panel.title + (f"\nbaseline {panel.baseline:.3g}; *: mean not below it"
                                    if math.isfinite(panel.baseline) else ""))
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    _save(fig, path)


def plot_curves(lines: list[Line], baselines: list[float], path: Path, ylabel: str,
                title: str) -> None:
    """Curves against the epoch (log scale), each its median with a 25–75% band over seeds,
    and its baseline (dashed, the same colour); the legend below the axes."""
    fig = _figure(6.4, 4.6)
    ax = fig.subplots()
    finite = [b for b in baselines if math.isfinite(b)]
    shared = len(finite) == len(baselines) > 1 and max(finite) - min(finite) <= 0.01 * abs(
        max(finite))        # one line, not one drawn over the other
    if shared:
        ax.axhline(float(np.mean(finite)), color="black", linestyle="--", linewidth=1.0,
                   label=f"baseline of both settings: {np.mean(finite):.3g}")
        baselines = [math.nan] * len(baselines)
    for line, base in zip(lines, baselines, strict=True):
        epochs = np.arange(1, len(line.mid) + 1)
        drawn, = ax.plot(epochs, line.mid, label=line.legend)
        ax.fill_between(epochs, line.low, line.high, color=drawn.get_color(), alpha=0.2,
                        linewidth=0)
        if math.isfinite(base):
            ax.axhline(base, color=drawn.get_color(), linestyle="--", linewidth=1.0,
                       label=f"baseline of the {line.legend.split(':')[0]} setting: {base:.3g}")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize=8,
              frameon=False)
    _save(fig, path)


# --- writing the files -------------------------------------------------------------------


def write_report(runs: Sequence[dict[str, Any]], grids: Sequence[Grid], out: str | os.PathLike,
                 *, title: str | None = None, notes: dict[str, Any] | None = None
                 ) -> list[Path]:
    """Write ``results.csv``, ``sweep.json``, ``summary.csv``, plots and ``report.md`` in
    ``out``; ``notes`` (fixed fit arguments, data, seeds) are stated. Returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv, meta = out / "results.csv", out / "sweep.json"
    _write_csv(results_frame(runs), csv)
    _write_text(meta, json.dumps({"title": title, "grids": [g.to_dict() for g in grids],
                                  "notes": notes or {}}, indent=1) + "\n")
    return [csv, meta, *_write_from_csv(csv, list(grids), out, title, notes or {})]


def report_from_csv(folder: str | os.PathLike, out: str | os.PathLike | None = None
                    ) -> list[Path]:
    """Regenerate ``summary.csv``, plots and ``report.md`` from ``results.csv`` and
    ``sweep.json`` in ``folder`` (into ``out``, default the same folder)."""
    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    target = Path(out) if out is not None else folder
    target.mkdir(parents=True, exist_ok=True)
    return _write_from_csv(folder / "results.csv", [Grid.from_dict(g) for g in meta["grids"]],
                           target, meta.get("title"), meta.get("notes", {}))


def _write_from_csv(csv: Path, grids: list[Grid], out: Path, title: str | None,
                    notes: dict[str, Any]) -> list[Path]:
    frame = read_results(csv)
    summary = aggregate(frame)
    metric = primary_metric(summary)
    files = [out / "summary.csv"]
    _write_csv(summary, files[0])
    md = _header(frame, summary, metric, title, notes, grids)
    epochs = (notes.get("fit") or {}).get("epochs")
    found = notes.get("lr_find") or {}
    for study in studies(grids, out):
        if study.factors:
            md += _study_section(frame, summary, study, metric, epochs,
                                 found.get("suggestion"))
            files += study.plots
    if found:
        md += _lr_find_section(frame, metric, found)
    md += _loss_curve_section(frame, summary, metric, out / "loss_curves.png", files)
    md += _failed_section(frame) + _every_setting_section(summary, metric)
    _write_text(out / "report.md", "\n".join(md))
    return [*files, out / "report.md"]


# Every file of a sweep's folder is written whole or not at all (as models are): a sweep
# stopped while it writes them, then run again, finds the old file or the new one.

def _write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8"))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _write_text(path, frame.to_csv(index=False))


# --- sections of report.md ------------------------------------------------------------------


def training_sentence(grids: Sequence[Grid], fit_kwargs: Mapping[str, Any]) -> str:
    """How every run trained, from what ran: each of epochs, optimizer, batch size,
    learning rate and loss as the grids set it, else the fixed ``fit`` arguments, else
    :func:`numnet.fit`'s default (``default`` where that is chosen per network)."""
    def values(name: str) -> str:
        out: list[Any] = []
        for g in grids:
            for v in g.factors.get(name, [fit_kwargs.get(name, _FIT_DEFAULTS.get(name))]):
                if v not in out:
                    out.append(v)
        return ", ".join(label(name, v) for v in out)

    return (f"Each run trained for {values('epochs')} epoch(s) with optimizer "
            f"{values('optimizer')}, batch size {values('batch_size')}, learning rate "
            f"{values('learning_rate')} and loss {values('loss')} (`default`: chosen for "
            f"the network and data: binary or categorical cross-entropy for class labels, "
            f"else the mean squared error; for the rate, the optimizer's own).")


def _header(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, title: str | None,
            notes: dict[str, Any], grids: Sequence[Grid] = ()) -> Lines:
    """The title, what the sweep ran, how many runs ran (and learned nothing) and what the
    numbers mean."""
    ok = frame[frame["status"] == "ok"]
    n_ok = len(ok)
    n_div = int(ok["diverged"].astype(bool).sum())
    marks = [v for v in ok["learned_nothing"] if v is not None]
    seeds = sorted(set(frame["seed"].astype(int)))
    seed_text = (f"seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 2 and
                 seeds == list(range(seeds[0], seeds[0] + len(seeds)))
                 else "seeds " + ", ".join(map(str, seeds)))
    md = [f"# {title or 'Sweep report'}", ""]
    md += [notes["description"] if notes.get("description")
           else training_sentence(grids, notes.get("fit") or {}), ""]
    if n_ok == 0:
        judged = "none to judge against its baseline"
    elif not marks:
        judged = "baseline not recorded (these runs were stored before numnet recorded one)"
    else:
        judged = (f"{sum(marks)} learned nothing (their {METRIC_NAMES[metric]} is not below "
                  f"the baseline's by more than {MARGIN:.0%})")
        if len(marks) < n_ok:
            judged += f"; baseline not recorded for {n_ok - len(marks)}"
    md += [f"{len(frame)} {_plural(len(frame), 'run')}: {len(summary)} "
           f"{_plural(len(summary), 'setting')} × {len(seeds)} seed(s) ({seed_text}); "
           f"{n_ok} finished, {len(frame) - n_ok} failed, {n_div} diverged, {judged}.", ""]
    data = notes.get("data", {})
    if "name" in data:
        md.append(f"- Data: `{data['name']}`; each run draws its training set from its seed; "
                  f"validation ({data.get('n_validation')} samples) and test "
                  f"({data.get('n_test')} samples) sets are the same for every run.")
    elif "audio" in data:
        md.append(_audio_sentence(data["audio"], frame))
    elif "file" in data:
        target = ", ".join(f"`{t}`" for t in data.get("target") or []) or "its default"
        md.append(f"- Data: the file `{printable(data['file'])}`, target {target}; a fixed "
                  f"fifth of its rows is every run's test set (digest "
                  f"`{data.get('arrays', '?')}`).")
    elif data:
        md.append(f"- Data: arrays given to the sweep (digest `{data.get('arrays', '?')}`).")
    if notes.get("fit"):
        md.append("- Fixed fit arguments: " + ", ".join(f"{k}={v}" for k, v in
                                                        notes["fit"].items()) + ".")
    md.append(f"- Errors are the loss each network trained on (the mean squared error unless a "
              f"loss is set; the misclassification rate for class labels), measured after "
              f"training on the training, validation and test sets; the conclusions use the "
              f"{METRIC_NAMES[metric]}. \"Final loss\" is the last epoch's running training "
              f"loss, the tutorial's printed `Error`. \"Diverged\" counts runs whose loss became "
              f"NaN/inf or exploded (numnet's divergence guard stopped them).")
    md.append(f"- Baseline: the constant prediction fitted on each run's own training targets "
              f"(their mean for the mean squared error, their median for mae, the majority "
              f"class for class labels; `numnet.baselines`), scored on the same set as the "
              f"network. A run whose error is not below its baseline's by more than "
              f"{MARGIN:.0%} *learned nothing* (the `learned_nothing` column of results.csv); "
              f"the trends below describe only the runs that learned, and name the others.")
    if frame["settings"].str.contains('"lr_scale":"tutorial"').any():
        md.append("- Learning rates are on the tutorial's scale: its rate `lr` on "
                  "`E = 0.5 * sum((t - o) ** 2)` is SGD on the mean squared error at "
                  "`lr * num_outputs / 2`, which is what ran.")
    md.append("- Plots: the median over seeds, its band the 25–75% quantiles of the seeds "
              "(never below zero for a positive error), the baseline dashed.")
    return md + [""]


def _audio_sentence(audio: Mapping[str, Any], frame: pd.DataFrame) -> str:
    """What an audio folder's runs trained and were measured on, and how augmentation
    (when a run used it) was kept to the training clips."""
    clips = audio.get("clips") or {}
    held = [f"{clips[k]} {k} clips" for k in ("validation", "test") if clips.get(k)]
    text = (f"- Data: the audio folder `{printable(str(audio.get('folder', '?')))}` "
            f"({audio.get('classes', '?')} classes), its clips' features read once for the "
            f"sweep: {clips.get('train', '?')} training clips, each run taking its own "
            f"(`n_samples` drawn from its seed, `validation_split` held out by the run)"
            + (f"; {' and '.join(held)}, the same for every run" if held else "")
            + ". Each run standardises its sets on its own clean training clips.")
    augmented = frame["augmented_rows"].astype(float) if "augmented_rows" in frame.columns \
        else None
    if augmented is not None and (augmented > 0).any():     # NaN (not recorded) is not > 0
        text += (" Augmentation (`augment`, `augment_copies`) adds copies of a run's "
                 "training clips only, drawn from its seed: its validation and test clips are "
                 "never augmented, so every held-out score in this report is on clean clips; "
                 "`train_rows`, `augmented_rows`, `validation_rows` and `test_rows` in "
                 "results.csv count them.")
    return text


def _select(frame: pd.DataFrame, grid: Grid, where: Mapping[str, Any]) -> pd.DataFrame:
    """The finished runs of ``grid`` whose settings hold the values of ``where``."""
    wanted = {canonical_json(s) for s in grid.settings()
              if all(canonical_json(s[k]) == canonical_json(v) for k, v in where.items())}
    return frame[frame["settings"].isin(wanted) & (frame["status"] == "ok")]


def _band(frame: pd.DataFrame, grid: Grid, factor: str, where: Mapping[str, Any],
          metric: str, legend: str) -> tuple[Line, np.ndarray]:
    """A line over ``factor``'s values: the median and quartiles of ``metric`` over the runs
    with ``where``'s values (pooled over the grid's other factors), and the mean baseline."""
    stats, base = [], []
    for value in grid.factors[factor]:
        runs = _select(frame, grid, {**where, factor: value})
        values = runs[metric].astype(float).dropna()
        stats.append([values.quantile(q) if len(values) else math.nan
                      for q in (0.5, 0.25, 0.75)])
        baseline = runs[BASELINES[metric]].astype(float).dropna()
        base.append(float(baseline.mean()) if len(baseline) else math.nan)
    mid, low, high = np.array(stats, dtype=float).reshape(-1, 3).T
    return Line(legend, mid, low, high), np.array(base)


#: The most panels a line plot facets into (over variants and a third factor's values).
_MAX_PANELS = 6


def _split_factors(study: Study, factor: str) -> tuple[str | None, str | None, list[str]]:
    """For a plot against ``factor``: the factor drawn as one line per value, the one drawn
    as one panel per value (when the panels stay few), and those pooled."""
    others = [f for f in study.factors if f != factor]
    line = others[0] if others else None
    facet = others[1] if len(others) > 1 and len(study.variants) * len(
        study.variants[0][1].factors[others[1]]) <= _MAX_PANELS else None
    return line, facet, [f for f in others if f not in (line, facet)]


def _charts(frame: pd.DataFrame, study: Study, factor: str, metric: str) -> list[Chart]:
    """One factor: one chart, a line per variant. Several: a chart per variant (and per
    value of a third factor), a line per value of the next factor (never averaged over
    it), any further factors pooled."""
    if len(study.factors) == 1:
        bands = [_band(frame, g, factor, {}, metric, v) for v, g in study.variants]
        stacked = np.array([b for _, b in bands], dtype=float)
        seen = np.isfinite(stacked).sum(axis=0)
        base = np.where(seen > 0, np.nansum(stacked, axis=0) / np.maximum(seen, 1), np.nan)
        return [Chart("", [line for line, _ in bands], base)]
    other, facet, _ = _split_factors(study, factor)
    assert other is not None
    charts = []
    for v, g in study.variants:
        for where in ([{}] if facet is None else [{facet: x} for x in g.factors[facet]]):
            bands = [_band(frame, g, factor, {**where, other: level}, metric,
                           f"{factor_name(other)} = {label(other, level)}")
                     for level in g.factors[other]]
            _, base = _band(frame, g, factor, where, metric, "")
            name = ", ".join([v] * bool(v) + [f"{factor_name(k)} = {label(k, x)}"
                                               for k, x in where.items()])
            charts.append(Chart(name, [line for line, _ in bands], base))
    return charts


def _study_section(frame: pd.DataFrame, summary: pd.DataFrame, study: Study, metric: str,
                   epochs: Any, suggestion: float | None = None) -> Lines:
    """One study: its fixed factors, findings, table, the importance of its factors (three
    or more), a plot per factor, and its heatmap (exactly two factors)."""
    name = METRIC_NAMES[metric]
    title = " × ".join(FACTOR_NAMES.get(f, f.replace("_", " ")) for f in study.factors)
    md = [f"## {title[0].upper() + title[1:]}", ""]
    fixed = [f"{k} = {label(k, v)}" for k, v in study.shared_fixed().items() if k != "lr_scale"]
    if fixed:
        md += ["Fixed: " + ", ".join(fixed) + ".", ""]
    md += [f"- {line}" for line in analyse(summary, study, metric, frame)]
    if "n_samples" in study.factors and isinstance(epochs, int):
        md.append(f"- Every run trains for {epochs} {_plural(epochs, 'epoch')}, so N "
                  f"also sets the number of examples seen ({epochs} × N): part of what more "
                  f"data does here is more training.")
    md += ["", _study_table(summary, study, metric), ""]
    if len(study.factors) >= 3:
        md += _importance_section(frame, study, metric)
    for factor, path in zip(study.factors, study.plots, strict=False):
        values = study.variants[0][1].factors[factor]
        _, _, pooled = _split_factors(study, factor)
        plot_lines(_charts(frame, study, factor, metric), values,
                   [label(factor, v) for v in values], path, factor_name(factor),
                   f"{name} (median, 25–75% of seeds)",
                   f"{name} against {factor_name(factor)}"
                   + (f" (runs pooled over {', '.join(map(factor_name, pooled))})"
                      if pooled else ""),
                   [(suggestion, f"lr_find's suggestion: {suggestion:.3g}")]
                   if suggestion is not None and factor == "learning_rate" else ())
        md += [f"![{name} against {factor_name(factor)}]({path.name})", ""]
    if study.heatmap:
        plot_heatmaps(_panels(summary, study, metric), study.plots[-1])
        md += [f"![heatmap of {title}]({study.plots[-1].name})", ""]
    return md


#: lr_find's suggestion is "near" the best rate of a sweep within this factor of it.
NEAR = 3.0


def _lr_find_section(frame: pd.DataFrame, metric: str, found: Mapping[str, Any]) -> Lines:
    """lr_find's suggestion beside the rates swept: the best rate of the runs that learned,
    and whether the suggestion is within a factor :data:`NEAR` of it."""
    name = METRIC_NAMES[metric]
    suggestion = float(found["suggestion"])
    ok = learned(frame)
    ok = ok[(ok["status"] == "ok") & ok[metric].notna()]
    md = ["## lr_find's suggestion", "",
          f"`numnet.diagnostics.lr_find` on the network with hidden layers "
          f"{label('hidden_layers', found.get('hidden_layers'))} and the training set of seed "
          f"0 (rates {found.get('start'):g} to {found.get('stop'):g} over "
          f"{found.get('steps')} steps) suggests a learning rate of {suggestion:.3g}."]
    if "learning_rate" not in ok.columns or not len(ok):
        return md + ["No run that learned varied the learning rate to compare it with.", ""]
    rates = ok.assign(_lr=ok["learning_rate"].astype(float)).groupby("_lr")[metric].mean()
    best = float(rates.idxmin())
    ratio = suggestion / best
    near = 1.0 / NEAR <= ratio <= NEAR
    closest = float(min(rates.index, key=lambda r: abs(math.log(r / suggestion))))
    md[-1] += (f" The best rate swept, by the mean {name} of the runs that learned, is "
               f"{best:g} ({fmt(float(rates[best]))}); the suggestion is {ratio:.2g} times it: "
               + (f"near it (within a factor of {NEAR:g})." if near else
                  f"not near it (more than a factor of {NEAR:g} away).")
               + f" The rate swept closest to the suggestion, {closest:g}, scored "
               f"{fmt(float(rates[closest]))}.")
    return md + [""]


def importance(frame: pd.DataFrame, grid: Grid, factors: Sequence[str], metric: str
               ) -> list[tuple[str, float, float]]:
    """Per factor ``(factor, share, spread)``: the share of the variance of ``metric`` over
    the grid's finished runs that the factor's level means explain on their own (a one-way
    ANOVA's between-levels sum of squares over the total), and the range of those means."""
    runs = _select(frame, grid, {})
    runs = runs[runs[metric].astype(float).notna()]
    y = runs[metric].to_numpy(dtype=float)
    total = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
    parsed = [json.loads(t) for t in runs["settings"]]
    found = []
    for f in factors:
        levels: dict[str, list[float]] = {}
        for s, v in zip(parsed, y, strict=True):
            levels.setdefault(canonical_json(s.get(f)), []).append(float(v))
        means = {k: float(np.mean(v)) for k, v in levels.items()}
        between = sum(len(levels[k]) * (m - y.mean()) ** 2 for k, m in means.items())
        share = between / total if total > 0 else math.nan
        found.append((f, share, max(means.values()) - min(means.values()) if means
                      else math.nan))
    return found


def _importance_section(frame: pd.DataFrame, study: Study, metric: str) -> Lines:
    """A table of :func:`importance` per variant, and which factors matter most."""
    md = [f"Parameter importance: the share of the variance of the {METRIC_NAMES[metric]} "
          f"over runs that each factor's level means explain on their own (one-way ANOVA), "
          f"and the range of those means; what no factor explains alone is interactions and "
          f"seeds.", ""]
    for v, g in study.variants:
        found = importance(frame, g, study.factors, metric)
        rows = [[factor_name(f), fmt(share), fmt(spread)] for f, share, spread in found]
        tag = f" ({v})" if v else ""
        md += [_markdown_table(["factor" + tag, "share of variance", "range of means"], rows),
               ""]
        ranked = sorted((x for x in found if math.isfinite(x[1])), key=lambda x: -x[1])
        if ranked:
            left = 1.0 - sum(x[1] for x in ranked)
            big = [f"{factor_name(f)} ({share:.0%})" for f, share, _ in ranked
                   if share >= _IMPORTANT]
            md += [(f"{'**' + v + '**: ' if v else ''}"
                    + (f"explained most by {', '.join(big)}" if big else
                       f"no factor explains {_IMPORTANT:.0%} of the variance on its own")
                    + f"; interactions and seeds: {max(left, 0.0):.0%}."), ""]
    return md


def _panels(summary: pd.DataFrame, study: Study, metric: str) -> list[Panel]:
    """Exactly two factors: one heatmap of mean errors per variant."""
    def title(variant: str) -> str:
        return f"mean {METRIC_NAMES[metric]}" + (f": {variant}" if variant else "")

    def baseline(g: Grid) -> float:
        values = rows_for(summary, g)[f"{BASELINES[metric]}_mean"].astype(float).dropna()
        return float(values.mean()) if len(values) else math.nan

    f1, f2 = study.factors
    return [Panel(title(v), rows_for(summary, g)[f"{metric}_mean"].to_numpy().reshape(
                len(g.factors[f1]), len(g.factors[f2])),
                  [label(f1, x) for x in g.factors[f1]], [label(f2, x) for x in g.factors[f2]],
                  factor_name(f1), factor_name(f2), baseline(g)) for v, g in study.variants]


def _none_finished(row: pd.Series) -> bool:
    """Whether every run of a setting failed (so it has no baseline, none was recorded)."""
    return bool(row["runs"] == row["failed"])


def _baseline_text(row: pd.Series, metric: str) -> str:
    """A setting's mean baseline, ``–`` when no run finished, or ``not recorded``."""
    value = row[f"{BASELINES[metric]}_mean"]
    if value is None or math.isnan(value):
        return "–" if _none_finished(row) else "not recorded"
    return fmt(value)


def _nothing_text(row: pd.Series) -> str:
    """``k/n`` runs of a setting that learned nothing, ``–`` when no run finished, or
    ``not recorded``."""
    if row["judged"]:
        return f"{row['learned_nothing']}/{row['judged']}"
    return "–" if _none_finished(row) else "not recorded"


def _study_table(summary: pd.DataFrame, study: Study, metric: str) -> str:
    """One row per setting of the study, its variants' columns side by side."""
    per_variant = [(v, rows_for(summary, g)) for v, g in study.variants]
    head = [factor_name(f) for f in study.factors]
    for v, _ in per_variant:
        tag = f" ({v})" if v else ""
        head += [f"parameters{tag}", f"{METRIC_NAMES[metric]}{tag}", f"baseline{tag}",
                 f"learned nothing{tag}", f"final loss{tag}", f"diverged{tag}"]
    rows = []
    for i in range(len(per_variant[0][1])):
        cells = [str(per_variant[0][1].iloc[i][f]) for f in study.factors]
        for _, variant_rows in per_variant:
            if i >= len(variant_rows):
                cells += ["–"] * 6
                continue
            r = variant_rows.iloc[i]
            cells += [_count_text(r["num_parameters"]), plus_minus(r, metric),
                      _baseline_text(r, metric), _nothing_text(r),
                      plus_minus(r, "final_loss"),
                      "–" if _none_finished(r) else f"{r['diverged']}/{r['runs'] - r['failed']}"]
        rows.append(cells)
    return _markdown_table(head, rows)


def _loss_curve_section(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, path: Path,
                        files: list[Path]) -> Lines:
    """The best and the worst setting and their loss curves; one setting's curve when only
    one finished, or all had the same mean error; nothing if no run finished."""
    ranked = summary[summary[f"{metric}_mean"].notna()]
    if len(ranked) == 0:
        return []
    if _tied(ranked[f"{metric}_mean"].astype(float)):   # one setting, or all tie
        return _one_loss_curve(frame, ranked, metric, path, files)
    picked = [("best", lowest(ranked, f"{metric}_mean")),
              ("worst", lowest(ranked, f"{metric}_mean", np.nanargmax))]
    sb, sw = (json.loads(row["settings"]) for _, row in picked)
    differ = {k for k in {*sb, *sw} if sb.get(k, "\0") != sw.get(k, "\0")}
    plot_curves([Line(f"{tag}: {setting_text(row['settings'], differ)}",
                      *loss_curve_band(frame, row["settings"])) for tag, row in picked],
                [float(row["loss_baseline_mean"]) for _, row in picked], path,
                "training loss (median, 25–75% of seeds)",
                "loss curves of the best and the worst setting")
    files.append(path)
    return ["## Loss curves of the best and the worst setting", "",
            *(f"- {tag}: {setting_text(row['settings'])}: mean {METRIC_NAMES[metric]} "
              f"{plus_minus(row, metric)} (baseline {_baseline_text(row, metric)}; learned "
              f"nothing: {_nothing_text(row)} runs)" for tag, row in picked),
            "", f"![loss curves]({path.name})", ""]


def _tied(means: pd.Series) -> bool:
    """Whether every mean is the same (up to rounding in the last digits): then no setting
    is better or worse than another."""
    return math.isclose(float(means.min()), float(means.max()), rel_tol=1e-9, abs_tol=1e-15)


def _one_loss_curve(frame: pd.DataFrame, ranked: pd.DataFrame, metric: str, path: Path,
                    files: list[Path]) -> Lines:
    """The loss curve of the first setting, when every setting that finished (one, or
    several) has the same mean error: none is the best or the worst."""
    row = ranked.iloc[0]
    if len(ranked) == 1:
        title, said = "the only setting", "the only setting that finished"
    else:
        title = "the first setting"
        said = (f"all {len(ranked)} settings that finished had the same mean "
                f"{METRIC_NAMES[metric]}, so none is the best or the worst; the first")
    plot_curves([Line(f"{setting_text(row['settings'])}",
                      *loss_curve_band(frame, row["settings"]))],
                [float(row["loss_baseline_mean"])], path,
                "training loss (median, 25–75% of seeds)", f"loss curve of {title}")
    files.append(path)
    return [f"## Loss curve of {title}", "",
            f"- {said}: {setting_text(row['settings'])}: mean {METRIC_NAMES[metric]} "
            f"{plus_minus(row, metric)} (baseline {_baseline_text(row, metric)}; learned "
            f"nothing: {_nothing_text(row)} runs)", "", f"![loss curve]({path.name})", ""]


def _failed_section(frame: pd.DataFrame) -> Lines:
    """A table of the runs that raised, with their errors (nothing if none did)."""
    failed = frame[frame["status"] == "failed"]
    if not len(failed):
        return []
    rows = [[setting_text(r["settings"]), str(r["seed"]), str(r["error"]).replace("|", "/")]
            for _, r in failed.iterrows()]
    return ["## Failed runs", "", _markdown_table(["settings", "seed", "error"], rows), ""]


def _every_setting_section(summary: pd.DataFrame, metric: str) -> Lines:
    factors = factor_columns(summary)
    head = [*factors, "runs", "failed", "diverged", "parameters", METRIC_NAMES[metric],
            "baseline", "learned nothing", "training error", "final loss", "epochs"]
    rows = [[*(str(r[c]) for c in factors), str(r["runs"]), str(r["failed"]),
             str(r["diverged"]), _count_text(r["num_parameters"]), plus_minus(r, metric),
             _baseline_text(r, metric), _nothing_text(r), plus_minus(r, "train_error"),
             plus_minus(r, "final_loss"), fmt(r["epochs_run_mean"])]
            for _, r in summary.iterrows()]
    return ["## Every setting", "", _markdown_table(head, rows), "",
            "Mean ± sample standard deviation over the seeds that finished; the baseline is "
            "the mean over those seeds of each run's own; \"learned nothing\" counts the runs "
            "that did not beat theirs. One row per run in [results.csv](results.csv), these "
            "means in [summary.csv](summary.csv).", ""]


# --- findings: what each factor did -----------------------------------------------------------


def analyse(summary: pd.DataFrame, study: Study, metric: str,
            frame: pd.DataFrame | None = None) -> list[str]:
    """Markdown sentences, from ``summary`` (and the runs ``frame``), on what ``study``'s
    factors did; each variant's start with its label in bold. With ``frame``, the trends
    are of the runs that learned (:func:`learned`), the others named first."""
    lines: list[str] = []
    kept_frame = frame if frame is None else learned(frame)
    kept = summary if kept_frame is None else (
        aggregate(kept_frame) if len(kept_frame) else summary.iloc[0:0])
    for variant, grid in study.variants:
        prefix = f"**{variant}**: " if variant else ""
        note, some = _nothing_note(rows_for(summary, grid), study.factors, metric)
        rows = rows_for(kept, grid)
        rows = rows[rows[f"{metric}_mean"].notna()]
        lead = f"{prefix}{note} " if note else prefix
        among = "among the runs that learned, " if some else ""
        more = "among the runs that learned (as above), " if some else ""
        if len(rows) == 0:
            lines.append(lead + ("no run learned." if some else "no run finished."))
        elif len(study.factors) == 1:
            factor = study.factors[0]
            lines.append(lead + among + _factor_sentence(rows, factor, metric,
                                                         grid.factors[factor]))
        else:
            found = _findings(rows, grid, study.factors, metric, kept_frame)
            lines += [lead + among + found[0], *(prefix + more + t for t in found[1:])]
    if len(study.variants) >= 2:
        lines.append(_variant_sentence([(v, rows_for(summary, g)) for v, g in study.variants],
                                       metric))
    return lines


def _nothing_note(rows: pd.DataFrame, factors: list[str], metric: str) -> tuple[str, bool]:
    """The runs of ``rows`` (a grid's settings) that learned nothing, named by setting, and
    whether there were any; or that the baseline was not recorded."""
    finished = int((rows["runs"] - rows["failed"]).sum())
    judged = int(rows["judged"].sum())
    if finished and not judged:
        return "baseline not recorded (runs stored before numnet recorded one), so every " \
               "run is described;", False
    nothing = rows[rows["learned_nothing"] > 0]
    if not len(nothing):
        return "", False
    base = rows[f"{BASELINES[metric]}_mean"].astype(float)
    named = ", ".join(f"{', '.join(_short(f, r[f]) for f in factors)} ({r['learned_nothing']}"
                      f" of {r['judged']})" for _, r in nothing.iterrows())
    return (f"{int(nothing['learned_nothing'].sum())} of {judged} runs learned nothing (their "
            f"{METRIC_NAMES[metric]} not below the constant prediction's, about "
            f"{fmt(float(base.mean()))}): {named};"), True


_SHORT = {"n_samples": "N", "learning_rate": "lr"}


def _short(factor: str, shown: Any) -> str:
    """A factor's value as shown (``N = 10``; hidden layers as themselves: ``(3, 2)``)."""
    return str(shown) if factor == "hidden_layers" else f"{_SHORT.get(factor, factor)} = {shown}"


def _findings(rows: pd.DataFrame, grid: Grid, factors: list[str], metric: str,
              frame: pd.DataFrame | None) -> list[str]:
    """Several factors: the best setting, then each factor averaged over the others."""
    name = METRIC_NAMES[metric]
    best = lowest(rows, f"{metric}_mean")
    cell = ", ".join(f"{f} = {best[f]}" for f in factors)
    means = rows[f"{metric}_mean"].astype(float)
    if len(rows) == 1:
        found = [f"only one setting has runs to compare: {cell}, mean {name} "
                 f"{fmt(best[f'{metric}_mean'])}."]
    elif _tied(means):
        found = [f"the mean {name} was {fmt(means.iloc[0])} in every setting."]
    else:
        found = [f"lowest mean {name} {fmt(best[f'{metric}_mean'])} at {cell}."]
    for factor in factors if frame is not None else []:
        assert frame is not None
        others = [f for f in factors if f != factor]
        marginal = marginal_rows(frame, grid, factor)
        marginal = marginal[marginal[f"{metric}_mean"].notna()]
        if len(marginal):
            found.append(f"{factor_name(factor)}, averaged over "
                         f"{', '.join(map(factor_name, others))}: "
                         + _factor_sentence(marginal, factor, metric, grid.factors[factor],
                                            rows, others))
    return found


def _factor_sentence(rows: pd.DataFrame, factor: str, metric: str, tried: Sequence[Any] = (),
                     cells: pd.DataFrame | None = None, others: Sequence[str] = ()) -> str:
    """What one factor did, by the rule of its kind (see the module's docstring): ``rows``
    has a row per value (a setting, or the value's runs pooled over ``others``), ``tried``
    the values the grid gave, ``cells`` the settings' own rows (the data rule compares
    each combination of ``others`` with itself)."""
    name = METRIC_NAMES[metric]
    means = rows[f"{metric}_mean"].astype(float)
    if len(rows) < 2:
        return (f"only {_short(factor, rows.iloc[0][factor])} has runs to compare (mean "
                f"{name} {fmt(means.iloc[0])}): too few settings to say what "
                f"{factor_name(factor)} did.")
    if _tied(means):
        return (f"the mean {name} was {fmt(means.iloc[0])} for every value of "
                f"{factor_name(factor)} ({', '.join(map(str, rows[factor]))}): no value did "
                f"better.")
    if factor == "n_samples":
        return _data_sentence(rows, metric, rows if cells is None else cells, others)
    if factor == "learning_rate":
        return _rate_sentence(rows, metric, tried)
    if not (rows["num_parameters"].notna().all() and rows["num_parameters"].nunique() > 1):
        best, worst = lowest(rows, f"{metric}_mean"), lowest(rows, f"{metric}_mean", np.nanargmax)
        return (f"lowest mean {name} {fmt(best[f'{metric}_mean'])} at {factor} = "
                f"{best[factor]}, highest {fmt(worst[f'{metric}_mean'])} at {worst[factor]}.")
    rows = rows.sort_values("num_parameters", kind="stable")
    best = lowest(rows, f"{metric}_mean")
    path = " → ".join(f"{fmt(m)} ({v}, {p} parameters)" for v, p, m in
                      zip(rows[factor], rows["num_parameters"], rows[f"{metric}_mean"],
                          strict=True))
    if len(rows) < _TREND_POINTS:
        return (f"too few settings ({len(rows)}) to call a trend with the parameter count; "
                f"lowest mean {name} with {best[factor]} ({int(best['num_parameters'])} "
                f"parameters). Mean {name}: {path}.")
    rx, ry = rows["num_parameters"].astype(float).rank(), rows[f"{metric}_mean"].astype(
        float).rank()         # Spearman: ties get their mean rank; NaN if either is constant
    rho = float(np.corrcoef(rx, ry)[0, 1]) if rx.nunique() > 1 and ry.nunique() > 1 \
        else math.nan
    trend = ("fell as the parameter count grew" if rho <= -0.5 else
             "rose as the parameter count grew" if rho >= 0.5 else
             "did not move steadily with the parameter count")
    return (f"the mean {name} {trend} (Spearman rank correlation {rho:+.2f}); lowest with "
            f"{best[factor]} ({int(best['num_parameters'])} parameters). Mean {name}: {path}.")


class _Step(NamedTuple):
    """A step up in N, from ``a`` to ``b``: in how many of the combinations of the other
    factors run at both sizes (``compared``) the mean error at ``b`` is lower than at ``a``
    by more than two standard errors (``better``); the mean over them of that fall
    (``fall``, > 0 when ``b`` is better) and two standard errors of it (``noise``)."""

    better: int
    compared: int
    fall: float
    noise: float


def _data_steps(cells: pd.DataFrame, metric: str, others: Sequence[str] = ()
                ) -> dict[tuple[int, int], _Step]:
    """Every pair of training set sizes ``(a, b)``, ``a < b``, that some combination of
    ``others`` ran at both, as a :class:`_Step`.

    Each combination is compared with itself only: the difference of its mean ``metric``
    at ``a`` and at ``b`` (``cells``: one row per setting, as :func:`aggregate`'s), against
    two standard errors of that difference, ``2 * sqrt(s_a**2 / n_a + s_b**2 / n_b)`` from
    the seeds' spread at those two settings (zero with one seed). The spread between
    combinations (other sizes, rates) never enters: it says nothing about the data.
    """
    cells = cells[cells[f"{metric}_mean"].notna()]
    groups: dict[tuple[str, ...], dict[int, tuple[float, float]]] = {}
    for _, row in cells.iterrows():
        std = float(row[f"{metric}_std"])
        seeds = max(int(row["runs"] - row["failed"]), 1)
        groups.setdefault(tuple(str(row[f]) for f in others), {})[int(row["n_samples"])] = (
            float(row[f"{metric}_mean"]), 0.0 if math.isnan(std) else std ** 2 / seeds)
    sizes = sorted({n for by_n in groups.values() for n in by_n})
    found = {}
    for i, a in enumerate(sizes):
        for b in sizes[i + 1:]:
            pairs = [(by_n[a], by_n[b]) for by_n in groups.values() if a in by_n and b in by_n]
            if pairs:
                falls = [x[0] - y[0] for x, y in pairs]
                noises = [2.0 * math.sqrt(x[1] + y[1]) for x, y in pairs]
                found[a, b] = _Step(sum(f > e for f, e in zip(falls, noises, strict=True)),
                                    len(pairs), sum(falls) / len(pairs),
                                    2.0 * math.sqrt(sum(x[1] + y[1] for x, y in pairs))
                                    / len(pairs))
    return found


def _data_sentence(rows: pd.DataFrame, metric: str, cells: pd.DataFrame,
                   others: Sequence[str] = ()) -> str:
    """Where more data stopped helping (see the module's docstring): the smallest N that
    no larger N beat, or that it helped up to the largest N. One N beats a smaller one
    when its mean error is lower by more than two standard errors in most of the
    combinations of ``others`` run at both (with no others: in the one setting)."""
    name = METRIC_NAMES[metric]
    rows = rows.assign(_n=rows["n_samples"].astype(int)).sort_values("_n")
    n, mean = rows["_n"].tolist(), rows[f"{metric}_mean"].tolist()
    path = f"Mean {name}: " + " → ".join(f"{fmt(m)} (N = {k})"
                                         for k, m in zip(n, mean, strict=True)) + "."
    steps = _data_steps(cells, metric, others)

    def beats(a: int, b: int) -> bool:
        step = steps.get((a, b))
        return step is not None and step.better > step.compared / 2

    def counts(pairs: Sequence[tuple[int, int]]) -> str:
        """Several factors: in how many combinations each step fell, and the rule."""
        said = [f"from N = {a} to {b} in {steps[a, b].better} of {steps[a, b].compared}"
                for a, b in pairs if (a, b) in steps]
        said += [f"N = {a} and {b} in none (no combination ran both)"
                 for a, b in pairs if (a, b) not in steps]
        return (f"the mean {name} fell by more than two standard errors "
                + (", ".join(said[:-1]) + " and " if len(said) > 1 else "") + said[-1]
                + f" combinations of {' and '.join(map(factor_name, others))}, each "
                  f"compared with itself over its seeds")

    def compare(a: int, b: int) -> str:
        """One factor: the step's change against two standard errors."""
        step = steps.get((a, b))
        if step is None:
            return f"N = {a} and {b} have no runs to compare"
        moved = f"fell by {fmt(step.fall)}" if step.fall > 0 else (
            f"rose by {fmt(-step.fall)}" if step.fall < 0 else "did not change")
        return (f"from N = {a} to {b} the mean {name} {moved}, "
                f"{'within' if abs(step.fall) <= step.noise else 'more than'} two standard "
                f"errors ({fmt(step.noise, 2)})")

    up = list(zip(n[:-1], n[1:], strict=True))
    if all(beats(a, b) for a, b in up):
        return (f"more data helped at every step, up to the largest N = {n[-1]} "
                + (f"({counts(up)})" if others else
                   "(each step more than two standard errors)") + f". {path}")
    stop = next(i for i, a in enumerate(n) if not any(beats(a, b) for b in n[i + 1:]))
    if stop == len(n) - 1:
        flat = [(a, b) for a, b in up if not beats(a, b)]
        said = counts(up) if others else "; ".join(compare(a, b) for a, b in flat)
        return (f"more data helped up to the largest N = {n[-1]}, though not at every step "
                f"({said}): each smaller N had a larger one whose mean {name} was lower by "
                f"more than two standard errors" + (" in most combinations" if others else "")
                + f". {path}")
    a, larger = n[stop], n[stop + 1:]
    if others:
        return (f"more data stopped helping at N = {a}: no larger N did better in most "
                f"combinations ({counts([(a, b) for b in larger])}). {path}")
    if len(larger) == 1:
        return f"more data stopped helping at N = {a}: {compare(a, larger[0])}. {path}"
    return (f"more data stopped helping at N = {a}: no larger N had a mean {name} lower by "
            f"more than two standard errors ({'; '.join(compare(a, b) for b in larger)}). "
            f"{path}")


def _rate_sentence(rows: pd.DataFrame, metric: str, tried: Sequence[Any] = ()) -> str:
    """Which learning rates diverged, and which did best (and whether at an edge: of the
    rates ``tried``, or of those with runs here when the others had none)."""
    name = METRIC_NAMES[metric]
    rows = rows.assign(_lr=rows["learning_rate"].astype(float)).sort_values("_lr")
    best = lowest(rows, f"{metric}_mean")
    rates = {float(v): label("learning_rate", v) for v in tried if v is not None}
    edge = ""
    if best["_lr"] == rows["_lr"].max():
        beyond = [shown for r, shown in sorted(rates.items()) if r > best["_lr"]]
        edge = (" (the largest rate tried: a larger one may do better still)" if not beyond
                else f" (the largest rate that learned: no run at {', '.join(beyond)} did)")
    elif best["_lr"] == rows["_lr"].min():
        below = [shown for r, shown in sorted(rates.items()) if r < best["_lr"]]
        edge = (" (the smallest rate tried: a smaller one may do better still)" if not below
                else f" (the smallest rate that learned: no run at {', '.join(below)} did)")
    path = " → ".join(f"{fmt(m)} (lr = {lr})" for lr, m in
                      zip(rows["learning_rate"], rows[f"{metric}_mean"], strict=True))
    diverged = [f"{lr} ({d} of {r - f} runs)" for lr, d, r, f in
                zip(rows["learning_rate"], rows["diverged"], rows["runs"], rows["failed"],
                    strict=True) if d]
    said = ("diverged at " + ", ".join(diverged) if diverged else
            "no learning rate diverged (no run's loss became NaN/inf or exploded)")
    return (f"{said}; lowest mean {name} at lr = {best['learning_rate']}{edge}. "
            f"Mean {name}: {path}.")


def _variant_sentence(per_variant: list[tuple[str, pd.DataFrame]], metric: str) -> str:
    """Which of the first two variants had the lower mean error, in how many settings."""
    (va, ra), (vb, rb) = per_variant[0], per_variant[1]
    a, b = ra[f"{metric}_mean"].to_numpy(), rb[f"{metric}_mean"].to_numpy()
    if len(a) != len(b):
        return f"{va} and {vb} ran different settings; compare them in the table."
    ok = ~(np.isnan(a) | np.isnan(b))
    ratio = float(np.median(a[ok] / b[ok])) if ok.any() else math.nan
    return (f"**{vb}** had the lower mean {METRIC_NAMES[metric]} than **{va}** in "
            f"{int((b[ok] < a[ok]).sum())} of {int(ok.sum())} settings (median ratio "
            f"{va} / {vb}: {fmt(ratio)}).")

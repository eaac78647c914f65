"""The report: ``results.csv``, ``summary.csv``, plots and ``report.md``, every word of it.

The numbers are pandas tables: per run (``results.csv``), per setting (``summary.csv``:
mean and sample std over seeds) and per value of one factor. ``report.md`` is written
from ``results.csv`` as read back, so :func:`report_from_csv` regenerates it from the
files alone. The findings follow these rules:

* **data** (``n_samples``): more data *stopped helping* at the first step up in
  N whose fall in mean error is within two standard errors of the difference,
  ``2 * sqrt(s1**2 / n1 + s2**2 / n2)``; later steps that helped are named.
* **learning rate**: the rates where some run *diverged*, and the best rate
  (and whether it is at the edge of those tried).
* **network size** (a factor that changes the parameter count): the sign and
  size of the Spearman correlation of error and count (``|rho| >= 0.5``: steady).
* **variants**: which had the lower mean error in how many settings.

With two or more factors each is also described averaged over the others. Plots are
drawn on their own Agg canvas, never pyplot, so a report neither picks nor changes the
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
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "epochs_run", "diverged", "stop_reason", "wall_time", "error", "worker", "settings",
         "loss_curve"]
_REAL = ("final_loss", "train_error", "validation_error", "test_error", "wall_time")
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
        return len(self.factors) == 2 or len(self.variants) >= 2

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
    measurement is NaN."""
    return _real_columns(_pandas().read_csv(path, keep_default_na=False,
                                            na_values={c: [""] for c in _LAST}))


def _real_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for name in _REAL:
        frame[name] = frame[name].astype(float)
    return frame


def factor_columns(table: pd.DataFrame) -> list[str]:
    """The factor columns of a :func:`results_frame` or an :func:`aggregate` table."""
    known = {*_FIRST, *_LAST, "runs", "failed"}
    return [c for c in table.columns if c not in known and not c.endswith(("_mean", "_std"))]


def _measure(group: pd.DataFrame) -> dict[str, Any]:
    """Counts of a group of runs, its parameter count (when its finished runs share one),
    and ``<metric>_mean``/``_std`` (ddof=1) of :data:`METRICS` over its finished runs."""
    ok = group[group["status"] == "ok"]
    params = ok["num_parameters"].dropna().unique()
    row: dict[str, Any] = {"runs": len(group),
                           "failed": int((group["status"] == "failed").sum()),
                           "diverged": int(ok["diverged"].astype(bool).sum()),
                           "num_parameters": int(params[0]) if len(params) == 1 else None}
    for m in METRICS:
        values = ok[m].astype(float).dropna()
        row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
        row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
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


def mean_loss_curve(frame: pd.DataFrame, settings: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std, shapes ``(n_epochs,)``, of one setting's finished loss curves, each
    epoch over the runs that reached it."""
    runs = frame[(frame["settings"] == settings) & (frame["status"] == "ok")]
    curves = [json.loads(c) for c in runs["loss_curve"]]
    padded = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        padded[i, :len(c)] = c
    return np.nanmean(padded, axis=0), np.nanstd(padded, axis=0)


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
    require_report_extras()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)


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


# --- writing the files -------------------------------------------------------------------


def write_report(runs: Sequence[dict[str, Any]], grids: Sequence[Grid], out: str | os.PathLike,
                 *, title: str | None = None, notes: dict[str, Any] | None = None
                 ) -> list[Path]:
    """Write ``results.csv``, ``sweep.json``, ``summary.csv``, plots and ``report.md`` in
    ``out``; ``notes`` (fixed fit arguments, data, seeds) are stated. Returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv, meta = out / "results.csv", out / "sweep.json"
    results_frame(runs).to_csv(csv, index=False)
    meta.write_text(json.dumps({"title": title, "grids": [g.to_dict() for g in grids],
                                "notes": notes or {}}, indent=1) + "\n")
    return [csv, meta, *_write_from_csv(csv, list(grids), out, title, notes or {})]


def report_from_csv(folder: str | os.PathLike, out: str | os.PathLike | None = None
                    ) -> list[Path]:
    """Regenerate ``summary.csv``, plots and ``report.md`` from ``results.csv`` and
    ``sweep.json`` in ``folder`` (into ``out``, default the same folder)."""
    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text())
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
    summary.to_csv(files[0], index=False)
    md = _header(frame, summary, metric, title, notes)
    epochs = (notes.get("fit") or {}).get("epochs")
    for study in studies(grids, out):
        if study.factors:
            md += _study_section(frame, summary, study, metric, epochs)
            files += study.plots
    md += _loss_curve_section(frame, summary, metric, out / "loss_curves.png", files)
    md += _failed_section(frame) + _every_setting_section(summary, metric)
    (out / "report.md").write_text("\n".join(md))
    return [*files, out / "report.md"]


# --- sections of report.md ------------------------------------------------------------------


def _header(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, title: str | None,
            notes: dict[str, Any]) -> Lines:
    """The title, what the sweep asks, how many runs ran and what the numbers mean."""
    n_ok = int((frame["status"] == "ok").sum())
    n_div = int(frame.loc[frame["status"] == "ok", "diverged"].astype(bool).sum())
    seeds = sorted(set(frame["seed"].astype(int)))
    seed_text = (f"seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 2 and
                 seeds == list(range(seeds[0], seeds[0] + len(seeds)))
                 else "seeds " + ", ".join(map(str, seeds)))
    md = [f"# {title or 'Sweep report'}", ""]
    if notes.get("description"):
        md += [notes["description"], ""]
    md += [f"{len(frame)} runs: {len(summary)} settings × {len(seeds)} seed(s) ({seed_text}); "
           f"{n_ok} finished, {len(frame) - n_ok} failed, {n_div} diverged.", ""]
    data = notes.get("data", {})
    if "name" in data:
        md.append(f"- Data: `{data['name']}`; each run draws its training set from its seed; "
                  f"validation ({data.get('n_validation')} samples) and test "
                  f"({data.get('n_test')} samples) sets are the same for every run.")
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
    if frame["settings"].str.contains('"lr_scale":"tutorial"').any():
        md.append("- Learning rates are on the tutorial's scale: its rate `lr` on "
                  "`E = 0.5 * sum((t - o) ** 2)` is SGD on the mean squared error at "
                  "`lr * num_outputs / 2`, which is what ran.")
    return md + [""]


def _study_section(frame: pd.DataFrame, summary: pd.DataFrame, study: Study, metric: str,
                   epochs: Any) -> Lines:
    """One study: its fixed factors, findings, table, a plot per factor, and its heatmap."""
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
    one = len(study.factors) == 1
    for factor, path in zip(study.factors, study.plots, strict=False):
        lines = [Line(v, rows[f"{metric}_mean"].to_numpy(dtype=float),
                      rows[f"{metric}_std"].to_numpy(dtype=float))
                 for v, rows in ((v, rows_for(summary, g) if one else
                                  marginal_rows(frame, g, factor)) for v, g in study.variants)]
        values = study.variants[0][1].factors[factor]
        others = ", ".join(factor_name(f) for f in study.factors if f != factor)
        plot_lines(lines, values, [label(factor, v) for v in values], path, factor_name(factor),
                   f"{name} (mean ± std)", f"{name} against {factor_name(factor)}"
                   + ("" if one else f"\n(averaged over {others})"))
        md += [f"![{name} against {factor_name(factor)}]({path.name})", ""]
    if study.heatmap:
        plot_heatmaps(_panels(summary, study, metric), study.plots[-1])
        md += [f"![heatmap of {title}]({study.plots[-1].name})", ""]
    return md


def _panels(summary: pd.DataFrame, study: Study, metric: str) -> list[Panel]:
    """Two factors: one panel per variant; one factor: one panel, the variants its rows."""
    def title(variant: str) -> str:
        return f"mean {METRIC_NAMES[metric]}" + (f": {variant}" if variant else "")

    def means(g: Grid) -> np.ndarray:
        return rows_for(summary, g)[f"{metric}_mean"].to_numpy()

    if len(study.factors) == 2:
        f1, f2 = study.factors
        return [Panel(title(v), means(g).reshape(len(g.factors[f1]), len(g.factors[f2])),
                      [label(f1, x) for x in g.factors[f1]], [label(f2, x) for x in g.factors[f2]],
                      factor_name(f1), factor_name(f2)) for v, g in study.variants]
    f = study.factors[0]
    return [Panel(title(""), np.array([means(g) for _, g in study.variants]),
                  [v for v, _ in study.variants],
                  [label(f, x) for x in study.variants[0][1].factors[f]], "", factor_name(f))]


def _study_table(summary: pd.DataFrame, study: Study, metric: str) -> str:
    """One row per setting of the study, its variants' columns side by side."""
    per_variant = [(v, rows_for(summary, g)) for v, g in study.variants]
    head = [factor_name(f) for f in study.factors]
    for v, _ in per_variant:
        tag = f" ({v})" if v else ""
        head += [f"parameters{tag}", f"{METRIC_NAMES[metric]}{tag}", f"final loss{tag}",
                 f"diverged{tag}"]
    rows = []
    for i in range(len(per_variant[0][1])):
        cells = [str(per_variant[0][1].iloc[i][f]) for f in study.factors]
        for _, variant_rows in per_variant:
            if i >= len(variant_rows):
                cells += ["–"] * 4
                continue
            r = variant_rows.iloc[i]
            cells += [_count_text(r["num_parameters"]), plus_minus(r, metric),
                      plus_minus(r, "final_loss"), f"{r['diverged']}/{r['runs'] - r['failed']}"]
        rows.append(cells)
    return _markdown_table(head, rows)


def _loss_curve_section(frame: pd.DataFrame, summary: pd.DataFrame, metric: str, path: Path,
                        files: list[Path]) -> Lines:
    """The best and the worst setting and their loss curves (nothing if no run finished)."""
    ranked = summary[summary[f"{metric}_mean"].notna()]
    if len(ranked) == 0:
        return []
    picked = [("best", lowest(ranked, f"{metric}_mean")),
              ("worst", lowest(ranked, f"{metric}_mean", np.nanargmax))]
    sb, sw = (json.loads(row["settings"]) for _, row in picked)
    differ = {k for k in {*sb, *sw} if sb.get(k, "\0") != sw.get(k, "\0")}
    plot_curves([Line(f"{tag}: {setting_text(row['settings'], differ)}",
                      *mean_loss_curve(frame, row["settings"])) for tag, row in picked],
                path, "training loss (mean ± std over seeds)",
                "loss curves of the best and the worst setting")
    files.append(path)
    return ["## Loss curves of the best and the worst setting", "",
            *(f"- {tag}: {setting_text(row['settings'])}: mean {METRIC_NAMES[metric]} "
              f"{plus_minus(row, metric)}" for tag, row in picked),
            "", f"![loss curves]({path.name})", ""]


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
            "training error", "final loss", "epochs"]
    rows = [[*(str(r[c]) for c in factors), str(r["runs"]), str(r["failed"]),
             str(r["diverged"]), _count_text(r["num_parameters"]), plus_minus(r, metric),
             plus_minus(r, "train_error"), plus_minus(r, "final_loss"),
             fmt(r["epochs_run_mean"])] for _, r in summary.iterrows()]
    return ["## Every setting", "", _markdown_table(head, rows), "",
            "Mean ± sample standard deviation over the seeds that finished. One row per run "
            "in [results.csv](results.csv), these means in [summary.csv](summary.csv).", ""]


# --- findings: what each factor did -----------------------------------------------------------


def analyse(summary: pd.DataFrame, study: Study, metric: str,
            frame: pd.DataFrame | None = None) -> list[str]:
    """Markdown sentences, from ``summary`` (and the runs ``frame``, for marginals), on what
    ``study``'s factors did; each variant's start with its label in bold."""
    lines: list[str] = []
    for variant, grid in study.variants:
        prefix = f"**{variant}**: " if variant else ""
        rows = rows_for(summary, grid)
        rows = rows[rows[f"{metric}_mean"].notna()]
        if len(rows) == 0:
            lines.append(prefix + "no run finished.")
        elif len(study.factors) == 1:
            lines.append(prefix + _factor_sentence(rows, study.factors[0], metric))
        else:
            lines += [prefix + s for s in _findings(rows, grid, study.factors, metric, frame)]
    if len(study.variants) >= 2:
        lines.append(_variant_sentence([(v, rows_for(summary, g)) for v, g in study.variants],
                                       metric))
    return lines


def _findings(rows: pd.DataFrame, grid: Grid, factors: list[str], metric: str,
              frame: pd.DataFrame | None) -> list[str]:
    """Several factors: the best setting, then each factor averaged over the others."""
    best = lowest(rows, f"{metric}_mean")
    cell = ", ".join(f"{f} = {best[f]}" for f in factors)
    found = [f"lowest mean {METRIC_NAMES[metric]} {fmt(best[f'{metric}_mean'])} at {cell}."]
    for factor in factors if frame is not None else []:
        assert frame is not None
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
    name = METRIC_NAMES[metric]
    if not (rows["num_parameters"].notna().all() and rows["num_parameters"].nunique() > 1):
        best, worst = lowest(rows, f"{metric}_mean"), lowest(rows, f"{metric}_mean", np.nanargmax)
        return (f"lowest mean {name} {fmt(best[f'{metric}_mean'])} at {factor} = "
                f"{best[factor]}, highest {fmt(worst[f'{metric}_mean'])} at {worst[factor]}.")
    rows = rows.sort_values("num_parameters", kind="stable")
    best = lowest(rows, f"{metric}_mean")
    rx, ry = rows["num_parameters"].astype(float).rank(), rows[f"{metric}_mean"].astype(
        float).rank()         # Spearman: ties get their mean rank; NaN if either is constant
    rho = float(np.corrcoef(rx, ry)[0, 1]) if rx.nunique() > 1 and ry.nunique() > 1 \
        else math.nan
    trend = ("fell as the parameter count grew" if rho <= -0.5 else
             "rose as the parameter count grew" if rho >= 0.5 else
             "did not move steadily with the parameter count")
    path = " → ".join(f"{fmt(m)} ({v}, {p} parameters)" for v, p, m in
                      zip(rows[factor], rows["num_parameters"], rows[f"{metric}_mean"],
                          strict=True))
    return (f"the mean {name} {trend} (Spearman rank correlation {rho:+.2f}); lowest with "
            f"{best[factor]} ({int(best['num_parameters'])} parameters). Mean {name}: {path}.")


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

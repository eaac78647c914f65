"""Learning and validation curves: the error against the training set's size or one
parameter, on the sweep's machinery (any executor, Dask included; a resumable store).

A curve is a one-factor :func:`~numnet.experiments.sweep` whose report also draws
``curve.png``: the training error and the held-out error (median over seeds, the
25–75% quantiles as a band) and the constant prediction's error, dashed::

    from numnet.experiments import curve
    result = curve("one_minus_x", "n_samples", [10, 30, 100, 300], seeds=5,
                   hidden_layers=[3], fit_kwargs={"epochs": 20}, out="curve-out")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from numnet._files.atomic import atomic_write

from .executors import Executor
from .grid import Grid, factor_name, label
from .report import BASELINES, METRIC_NAMES, Chart, _band, plot_lines, read_results
from .runs import spelled
from .sweep import DEFAULT_MAX_RUNS, SweepResults, sweep

#: What a curve may vary: the command line's names, and the factor each is.
VARY = {"n_samples": "n_samples", "hidden": "hidden_layers", "hidden_layers": "hidden_layers",
        "learning_rate": "learning_rate", "lr": "learning_rate"}
CURVE_PNG = "curve.png"
# The option of ``numnet curve`` that fixes each factor a curve may vary.
_OPTIONS = {"n_samples": "--n-samples", "hidden_layers": "--hidden", "learning_rate": "--lr"}


def curve_grid(vary: str, values: Sequence[Any], *, hidden_layers: Any = None,
               n_samples: int | None = None, learning_rate: float | None = None) -> Grid:
    """The one-factor grid of a curve: ``vary`` over ``values``, the other two fixed where
    given (a value given for ``vary`` itself is refused)."""
    if vary not in VARY:
        raise ValueError(f"a curve varies one of {sorted(set(VARY) - {'hidden_layers', 'lr'})}"
                         f", got {vary!r}")
    factor = VARY[vary]
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"a curve needs at least two values of {vary}, got {values!r}")
    fixed = {"hidden_layers": hidden_layers, "n_samples": n_samples,
             "learning_rate": learning_rate}
    if fixed[factor] is not None:
        raise ValueError(spelled(f"{factor} is what the curve varies; give its values, not a "
                                 f"fixed one",
                                 f"--vary {vary} varies {factor_name(factor)}: give its values "
                                 f"with --values, not a fixed one with {_OPTIONS[factor]}"))
    if hidden_layers is not None:
        fixed["hidden_layers"] = list(hidden_layers) if isinstance(hidden_layers, (list, tuple)) \
            else [hidden_layers]
    return Grid({factor: values, **{k: [v] for k, v in fixed.items() if v is not None}})


def curve(data: Any, vary: str, values: Sequence[Any], *, seeds: int | Sequence[int] = 5,
          hidden_layers: Any = None, n_samples: int | None = None,
          learning_rate: float | None = None, fit_kwargs: Mapping[str, Any] | None = None,
          executor: str | Executor = "serial", scheduler: Any = None,
          workers: int | None = None, store: str | os.PathLike | None = None,
          out: str | os.PathLike | None = None, progress: bool = True,
          n_validation: int = 200, n_test: int = 1000, title: str | None = None,
          max_runs: int | None = DEFAULT_MAX_RUNS, timeout: float = 10.0,
          plugins: Sequence[str] = ()) -> SweepResults:
    """A learning curve (the error against the training set's size) or a validation curve
    (against the hidden layers or the learning rate): a one-factor sweep, each value run
    once per seed.

    Parameters
    ----------
    data : str, tuple, mapping or DataSource
        As :func:`~numnet.experiments.sweep` takes it.
    vary : {"n_samples", "hidden", "hidden_layers", "learning_rate", "lr"}
        What the curve varies: ``"n_samples"`` gives a learning curve.
    values : sequence
        Its values, at least two: sizes, hidden layers (``[[2], [8]]``) or rates.
    seeds : int or sequence of int, default 5
        A count (seeds ``0 .. seeds - 1``) or the seeds themselves.
    hidden_layers : list of int or None, default None
        The hidden layers of every run, unless ``vary`` is them; None: ``[3]``.
    n_samples : int or None, default None
        The training set's size, unless ``vary`` is it.
    learning_rate : float or None, default None
        The learning rate, unless ``vary`` is it.
    fit_kwargs : mapping or None, default None
        Fixed :func:`numnet.fit` arguments.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where runs execute, as :func:`~numnet.experiments.sweep` takes it.
    scheduler : str, distributed.Client or None, default None
        A running Dask scheduler.
    workers : int or None, default None
        Worker processes (positive); None: one per core.
    store : str, os.PathLike or None, default None
        The SQLite store; None: ``out/results.sqlite``, or memory without ``out``.
    progress : bool, default True
        A progress bar over runs.
    n_validation, n_test : int, default 200, 1000
        A named set's held-out rows.
    max_runs : int or None, default 100_000
        Refuse a curve of more runs than this (None: no limit).
    timeout : float, default 10.0
        Dask: seconds to wait for the scheduler, and for a worker when there is none.
    out : str, os.PathLike or None, default None
        A folder for the sweep's report and ``curve.png`` (added to the result's
        ``files``); None: neither.
    title : str or None, default None
        The report's title; None: names the curve and what it varies.
    plugins : sequence of str, default ()
        As :func:`~numnet.experiments.sweep` takes them.

    Returns
    -------
    SweepResults
        The sweep's runs and files.
    """
    grid = curve_grid(vary, values, hidden_layers=hidden_layers, n_samples=n_samples,
                      learning_rate=learning_rate)
    factor = grid.varying[0]
    seed_list = None if isinstance(seeds, int) else list(seeds)
    what = "learning curve" if factor == "n_samples" else "validation curve"
    result = sweep(grid, data, seeds=seed_list, repeats=seeds if isinstance(seeds, int) else None,
                   fit_kwargs=fit_kwargs, executor=executor, scheduler=scheduler,
                   workers=workers, store=store, out=out, progress=progress,
                   n_validation=n_validation, n_test=n_test,
                   title=title or f"A {what}: the error against {factor_name(factor)}",
                   max_runs=max_runs, timeout=timeout, plugins=plugins)
    if result.out is not None:
        result.files.append(write_curve(result.out, grid))
    return result


def write_curve(folder: str | os.PathLike, grid: Grid) -> Path:
    """Draw ``curve.png`` in ``folder`` from its ``results.csv``, and say so at the end of
    its ``report.md``; the picture's path."""
    folder = Path(folder)
    frame = read_results(folder / "results.csv")
    factor = grid.varying[0]
    held = next((m for m in ("test_error", "validation_error")
                 if frame[m].notna().any()), "train_error")
    values = grid.factors[factor]
    lines = []
    for metric in dict.fromkeys(("train_error", held)):
        line, _ = _band(frame, grid, factor, {}, metric, METRIC_NAMES[metric])
        lines.append(line)
    _, base = _band(frame, grid, factor, {}, held, "")
    path = folder / CURVE_PNG
    plot_lines([Chart("", lines, base)], values, [label(factor, v) for v in values], path,
               factor_name(factor), "error (median, 25–75% of seeds)",
               f"{METRIC_NAMES['train_error']} and {METRIC_NAMES[held]} against "
               f"{factor_name(factor)}")
    gap = _gap_sentence(frame, grid, factor, held)
    report = folder / "report.md"
    if report.exists():
        text = report.read_text(encoding="utf-8")
        atomic_write(report, (text + "\n".join(
            ["", "## The curve", "", gap, "", f"![the curve]({CURVE_PNG})", ""])).encode("utf-8"))
    return path


def _gap_sentence(frame: Any, grid: Grid, factor: str, held: str) -> str:
    """The training and held-out errors at each value, and the baseline, in one sentence."""
    train, _ = _band(frame, grid, factor, {}, "train_error", "")
    test, base = _band(frame, grid, factor, {}, held, "")
    parts = [f"{label(factor, v)}: {train.mid[i]:.3g} / {test.mid[i]:.3g}"
             for i, v in enumerate(grid.factors[factor])]
    baseline = BASELINES[held].replace("_", " ")
    return (f"Median {METRIC_NAMES['train_error']} / {METRIC_NAMES[held]} over seeds at each "
            f"{factor_name(factor)}: " + "; ".join(parts) + f". The dashed line is the "
            f"{baseline}: the constant prediction's {METRIC_NAMES[held]}.")

"""A sweep's numbers as pandas tables: one row per run, per setting, per value of a factor.

* :func:`results_frame` is ``results.csv``: one row per run, with one
  column per factor (its value as shown) and the run's measurements;
  :func:`read_results` reads it back exactly as the report uses it.
* :func:`aggregate` is ``summary.csv``: one row per setting, the mean and
  sample standard deviation over its seeds of every measurement.
* :func:`marginal_rows` is one factor averaged over the others: one row per
  value of the factor, over every run of a grid with that value.

Needs pandas: ``pip install 'numnet[plots]'``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    import pandas as pd
except ImportError as exc:
    raise ImportError("sweep reports need pandas: pip install 'numnet[plots]'") from exc

from .formatting import label
from .grid import Grid, canonical_json

__all__ = ["METRICS", "results_frame", "read_results", "aggregate", "marginal_rows",
           "factor_columns", "rows_for", "primary_metric", "lowest", "highest", "best_and_worst",
           "mean_loss_curve"]

#: The measurements averaged over seeds: ``<metric>_mean`` and ``<metric>_std`` columns.
METRICS = ("final_loss", "train_error", "validation_error", "test_error", "epochs_run",
           "wall_time")
# results.csv: these columns, the factors between them.
_FIRST = ["key", "status", "seed"]
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "epochs_run", "diverged", "stop_reason", "wall_time", "error", "worker", "settings",
         "loss_curve"]
_REAL = ("final_loss", "train_error", "validation_error", "test_error", "wall_time")
_COUNTS = ["runs", "failed"]


def results_frame(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per run, as in ``results.csv``.

    Parameters
    ----------
    runs : list of dict
        The sweep's runs (:attr:`SweepResults.runs`).

    Returns
    -------
    DataFrame of shape (n_runs, n_columns)
        ``key``, ``status``, ``seed``; one column per factor of any run (its
        value as :func:`label` shows it, empty where a run does not set it);
        the measurements; and the run's ``settings`` and ``loss_curve`` as
        JSON text, so that the frame survives a round trip through CSV.
    """
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
    return _real_columns(pd.DataFrame(rows, columns=_FIRST + factors + _LAST))


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """``results.csv`` read back as :func:`results_frame` wrote it.

    A factor's empty cell stays the empty string (the run does not set that
    factor); an empty measurement is missing (NaN).
    """
    frame = pd.read_csv(path, keep_default_na=False, na_values={c: [""] for c in _LAST})
    return _real_columns(frame)


def _real_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for name in _REAL:
        frame[name] = frame[name].astype(float)
    return frame


def factor_columns(table: pd.DataFrame) -> list[str]:
    """The factor columns of a :func:`results_frame` or an :func:`aggregate` table."""
    known = set(_FIRST + _LAST + _COUNTS)
    return [c for c in table.columns if c not in known and not c.endswith(("_mean", "_std"))]


def _measure(group: pd.DataFrame) -> dict[str, Any]:
    """What a group of runs did: ``runs``, ``failed``, ``diverged``, ``num_parameters``
    (None unless the finished runs share one count) and, over the runs that finished,
    ``<metric>_mean`` and ``<metric>_std`` (sample std, ddof=1) for :data:`METRICS`."""
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


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each setting's measurements.

    Parameters
    ----------
    frame : DataFrame
        From :func:`results_frame` (or :func:`read_results`).

    Returns
    -------
    DataFrame of shape (n_settings, n_columns)
        One row per setting, in first-seen order: ``settings`` (JSON), the
        factor columns, ``runs``, ``failed``, ``diverged``, ``num_parameters``
        and ``<metric>_mean`` / ``<metric>_std`` (sample std, ddof=1) for
        :data:`METRICS`, over the runs that finished.
    """
    factors = factor_columns(frame)
    rows = []
    for settings, group in frame.groupby("settings", sort=False):
        row: dict[str, Any] = {"settings": settings}
        row.update({c: group[c].iloc[0] for c in factors})
        row.update(_measure(group))
        rows.append(row)
    return _with_counts(rows)


def marginal_rows(frame: pd.DataFrame, grid: Grid, factor: str) -> pd.DataFrame:
    """One factor of ``grid`` averaged over its others.

    Returns
    -------
    DataFrame of shape (n_values, n_columns)
        One row per value of ``factor``, in grid order: the value (as shown)
        and, as in :func:`aggregate`, the counts and ``<metric>_mean`` /
        ``<metric>_std`` over every run of ``grid`` with that value, whatever
        its other factors.
    """
    wanted = {canonical_json(s): s[factor] for s in grid.settings()}
    runs = frame[frame["settings"].isin(wanted)]
    value_of = runs["settings"].map(wanted)
    rows = []
    for value in grid.factors[factor]:
        group = runs[[v == value for v in value_of]]
        rows.append({factor: label(factor, value), **_measure(group)})
    return _with_counts(rows)


def _with_counts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of :func:`_measure` as a table whose ``num_parameters`` stays an integer column
    (pandas' nullable ``Int64``) when some rows have none, so it never reads ``10.0``."""
    table = pd.DataFrame(rows)
    table["num_parameters"] = table["num_parameters"].astype("Int64")
    return table


def rows_for(summary: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """The rows of an :func:`aggregate` table that are ``grid``'s settings, in grid order."""
    index = {s: i for i, s in enumerate(summary["settings"])}
    keys = [canonical_json(s) for s in grid.settings()]
    return summary.iloc[[index[k] for k in keys if k in index]]


def primary_metric(summary: pd.DataFrame) -> str:
    """The measurement the conclusions use: the test error, else the validation error,
    else the training error (whichever some run has), else the final training loss."""
    for m in ("test_error", "validation_error", "train_error"):
        if summary[f"{m}_mean"].notna().any():
            return m
    return "final_loss"


def lowest(rows: pd.DataFrame, column: str) -> pd.Series:
    """The first of ``rows`` with the smallest ``column`` (NaN skipped)."""
    return rows.iloc[int(np.nanargmin(rows[column].to_numpy(dtype=float)))]


def highest(rows: pd.DataFrame, column: str) -> pd.Series:
    """The first of ``rows`` with the largest ``column`` (NaN skipped)."""
    return rows.iloc[int(np.nanargmax(rows[column].to_numpy(dtype=float)))]


def best_and_worst(summary: pd.DataFrame, metric: str) -> tuple[pd.Series, pd.Series] | None:
    """The :func:`aggregate` rows with the lowest and the highest mean ``metric``
    (None when no setting has one)."""
    ranked = summary[summary[f"{metric}_mean"].notna()]
    if len(ranked) == 0:
        return None
    return lowest(ranked, f"{metric}_mean"), highest(ranked, f"{metric}_mean")


def mean_loss_curve(frame: pd.DataFrame, settings: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over seeds of the loss curves of one setting's finished runs.

    Parameters
    ----------
    frame : DataFrame
        From :func:`results_frame`.
    settings : str
        The setting's JSON text (its ``settings`` column).

    Returns
    -------
    mean, std : ndarray of shape (n_epochs,)
        Per epoch, over the runs that reached it (a run that stopped early,
        diverged say, counts up to its last epoch); ``n_epochs`` is the
        longest run's.
    """
    runs = frame[(frame["settings"] == settings) & (frame["status"] == "ok")]
    curves = [json.loads(c) for c in runs["loss_curve"]]
    padded = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        padded[i, :len(c)] = c
    return np.nanmean(padded, axis=0), np.nanstd(padded, axis=0)

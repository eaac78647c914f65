"""A sweep's numbers as pandas tables: per run (``results.csv``), per setting
(``summary.csv``: mean and sample std over seeds) and per value of one factor."""

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

from .grid import Grid, canonical_json, label

__all__ = ["METRICS", "results_frame", "read_results", "aggregate", "marginal_rows",
           "factor_columns", "rows_for", "primary_metric", "lowest", "highest",
           "mean_loss_curve"]

#: The measurements averaged over seeds: ``<metric>_mean`` and ``<metric>_std`` columns.
METRICS = ("final_loss", "train_error", "validation_error", "test_error", "epochs_run",
           "wall_time")
_FIRST = ["key", "status", "seed"]        # results.csv: these, the factors, then _LAST
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "epochs_run", "diverged", "stop_reason", "wall_time", "error", "worker", "settings",
         "loss_curve"]
_REAL = ("final_loss", "train_error", "validation_error", "test_error", "wall_time")


def results_frame(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``results.csv``: one row per run, a column per factor (its value as shown, empty
    where unset), the measurements, and ``settings``/``loss_curve`` as JSON text."""
    factors: list[str] = []
    for r in runs:
        factors += [k for k in r["settings"] if k not in factors]
    rows = []
    for r in runs:
        row = {k: r.get(k) for k in _FIRST}
        row.update({f: label(f, r["settings"][f]) if f in r["settings"] else "" for f in factors})
        row.update({k: r.get(k) for k in _LAST})
        row.update(settings=canonical_json(r["settings"]), loss_curve=json.dumps(r.get(
            "loss_curve")))
        rows.append(row)
    return _real_columns(pd.DataFrame(rows, columns=_FIRST + factors + _LAST))


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """``results.csv`` read back as written: an empty factor stays ``""``, an empty
    measurement is NaN."""
    return _real_columns(pd.read_csv(path, keep_default_na=False,
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


def _with_counts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a table whose ``num_parameters`` stays integer (nullable ``Int64``)."""
    table = pd.DataFrame(rows)
    table["num_parameters"] = table["num_parameters"].astype("Int64")
    return table


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


def lowest(rows: pd.DataFrame, column: str) -> pd.Series:
    """The first of ``rows`` with the smallest ``column`` (NaN skipped)."""
    return rows.iloc[int(np.nanargmin(rows[column].to_numpy(dtype=float)))]


def highest(rows: pd.DataFrame, column: str) -> pd.Series:
    """The first of ``rows`` with the largest ``column`` (NaN skipped)."""
    return rows.iloc[int(np.nanargmax(rows[column].to_numpy(dtype=float)))]


def mean_loss_curve(frame: pd.DataFrame, settings: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std, shapes ``(n_epochs,)``, of one setting's finished loss curves, each
    epoch over the runs that reached it."""
    runs = frame[(frame["settings"] == settings) & (frame["status"] == "ok")]
    curves = [json.loads(c) for c in runs["loss_curve"]]
    padded = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        padded[i, :len(c)] = c
    return np.nanmean(padded, axis=0), np.nanstd(padded, axis=0)

"""A sweep's runs as tables: one row per run, and means and spreads per setting."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from .grid import canonical_json

# a pandas.DataFrame: pandas is an optional extra (plots), imported when a report is made
Frame = Any

__all__ = ["Frame", "results_frame", "aggregate", "require_report_extras", "label"]

_METRICS = ("final_loss", "train_error", "validation_error", "test_error", "epochs_run",
            "wall_time")
_FIRST = ["key", "status", "seed"]
_LAST = ["num_parameters", "final_loss", "train_error", "validation_error", "test_error",
         "epochs_run", "diverged", "stop_reason", "wall_time", "error", "worker", "settings",
         "loss_curve"]
_NAMES = {"hidden_layers": "hidden layers", "n_samples": "training samples (N)",
          "learning_rate": "learning rate", "batch_size": "batch size"}


def require_report_extras() -> None:
    """Raise an ImportError naming the extra when pandas or matplotlib is missing."""
    missing = []
    for module in ("pandas", "matplotlib"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"sweep reports need {' and '.join(missing)}: "
                          f"pip install 'numnet[plots]'")


def _pd() -> Any:
    require_report_extras()
    import pandas as pd
    return pd


# --- labels ------------------------------------------------------------------------


def label(factor: str, value: Any) -> str:
    """How a factor's value is shown: ``(3, 2)`` for hidden layers, ``default`` for None."""
    if factor == "hidden_layers" and isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + (",)" if len(value) == 1 else ")")
    if value is None:
        return "default"
    return str(value)


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def _pm(mean: float, std: float) -> str:
    if mean is None or math.isnan(mean):
        return "–"
    return f"{_fmt(mean)} ± {_fmt(std, 2) if not math.isnan(std) else '–'}"


# --- tables ------------------------------------------------------------------------


def results_frame(runs: Sequence[dict[str, Any]]) -> Frame:
    """One row per run: its key, status, seed, one column per factor (as shown), the
    measurements, and its settings and loss curve as JSON text."""
    pd = _pd()
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
    frame = pd.DataFrame(rows, columns=_FIRST + factors + _LAST)
    for name in ("final_loss", "train_error", "validation_error", "test_error", "wall_time"):
        frame[name] = frame[name].astype(float)
    return frame


def aggregate(frame: Frame) -> Frame:
    """Mean and standard deviation over seeds of each setting's measurements.

    Parameters
    ----------
    frame : DataFrame
        From :func:`results_frame`.

    Returns
    -------
    DataFrame
        One row per setting, in first-seen order: ``settings`` (JSON), the
        factor columns, ``runs``, ``failed``, ``diverged``, ``num_parameters``
        and ``<metric>_mean`` / ``<metric>_std`` (sample std, ddof=1) for
        :data:`_METRICS`, over the runs that finished.
    """
    pd = _pd()
    factor_cols = [c for c in frame.columns if c not in _FIRST + _LAST]
    rows = []
    for settings, group in frame.groupby("settings", sort=False):
        ok = group[group["status"] == "ok"]
        row: dict[str, Any] = {"settings": settings}
        row.update({c: group[c].iloc[0] for c in factor_cols})
        row["runs"] = len(group)
        row["failed"] = int((group["status"] == "failed").sum())
        row["diverged"] = int(ok["diverged"].astype(bool).sum())
        row["num_parameters"] = (int(ok["num_parameters"].iloc[0]) if len(ok) else None)
        for m in _METRICS:
            values = ok[m].astype(float).dropna()
            row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)

"""A run's downloads: its model (numnet's file and ONNX), the Python that reproduces it, its data.

The model is the network as of the run's last completed epoch, with the run's
preprocessing, written by numnet's own savers (the file ``numnet train`` writes,
with a training record; ONNX by :mod:`numnet.onnx`), so ``numnet.load``,
``numnet predict`` and ONNX Runtime take raw rows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from typing import Any

import numpy as np

from numnet.cli._common import training_baseline

from .session import Run

__all__ = ["model_file", "onnx_file", "code_file", "data_file", "DownloadError", "ONNX_EXTRA"]

ONNX_EXTRA = "pip install 'numnet[onnx]'"


class DownloadError(ValueError):
    """A download this server cannot make; the message says what to install."""


def model_file(run: Run, folder: str) -> bytes:
    """The run's model as a numnet model file (safetensors, preprocessing included)."""
    model = run.problem.model(run.network_now())
    return _written(folder, ".safetensors",
                    lambda path: model.save(path, {"training": _record(run, model)}))


def onnx_file(run: Run, folder: str) -> bytes:
    """The run's model as ONNX, standardisation included (raw features in)."""
    try:
        from numnet import onnx as numnet_onnx  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        raise DownloadError(f"ONNX export needs the onnx extra: {ONNX_EXTRA}") from None
    model = run.problem.model(run.network_now())
    return _written(folder, ".onnx", lambda path: numnet_onnx.export(model, path))


def code_file(run: Run) -> bytes:
    """``train.py``: Python that reproduces the run with ``numnet.fit`` (the rate changes
    made during the run included)."""
    return run.problem.code(run.data_file, list(run.rate_changes)).encode()


def data_file(run: Run) -> bytes:
    """``data.csv``: the rows the run was made from (feature columns, then the target)."""
    table = run.problem.table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.feature_names, *table.target_names])
    y = np.asarray(table.y)
    for x, target in zip(table.X.tolist(), y.tolist(), strict=True):
        writer.writerow([*(repr(v) for v in x),
                         repr(target) if isinstance(target, float) else target])
    return out.getvalue().encode()


def _written(folder: str, suffix: str, write: Any) -> bytes:
    """What ``write(path)`` writes, read back (the file itself removed)."""
    handle, path = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(handle)
    try:
        write(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _record(run: Run, model: Any) -> dict[str, Any]:
    """The model's training record, as ``numnet train`` keys it (its settings, the epochs
    trained, the latest losses, the baseline)."""
    s, problem = run.problem.settings, run.problem
    history, logs = run.history, run.logs or {}
    y_train = np.asarray(problem.table.y)[problem.train_rows]
    made = s.data_options()
    return {"data": s.dataset if s.generated else (run.data_file or "data.csv"),
            "rows": problem.table.n_samples, "seed": s.seed,
            "validation_split": s.test_fraction, "task": problem.task, "scale": True,
            "noise": made.get("noise"), "arms": made.get("arms"), "l2": s.l2,
            "dropout": s.dropout, "bias": s.bias, "init": model.net.init,
            "epochs": run.epoch, "optimizer": s.optimizer,
            "learning_rate": logs.get("learning_rate", s.learning_rate),
            "batch_size": min(s.batch_size, len(problem.train_rows)),
            "loss_function": problem.loss, "loss": logs.get("loss"),
            "val_loss": logs.get("val_loss"),
            "train_rows": len(problem.train_rows),
            "validation_rows": 0 if problem.val_rows is None else len(problem.val_rows),
            "baseline": training_baseline(model, y_train),
            "stop_reason": None if history is None else history.stop_reason,
            "command": run.problem.command(run.data_file)}

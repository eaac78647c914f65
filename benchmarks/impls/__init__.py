"""The implementations being compared, behind two small interfaces.

Each implementation module has a ``build(workload, data) -> Trainer`` function
for the training workloads and, where it can run a trained network, a
``build_predict(workload, data) -> Predictor`` for the inference workloads.
Modules are imported lazily, by name, inside the worker process, so a
NumPy-only worker never loads PyTorch (and its OpenMP thread pool).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# name -> "module:function", for the "train" mode
IMPLEMENTATIONS: dict[str, str] = {
    "numnet": "benchmarks.impls.numnet_impl:build_fit",
    "numnet-tutorial": "benchmarks.impls.numnet_impl:build_tutorial",
    "sklearn": "benchmarks.impls.sklearn_impl:build",
    "torch": "benchmarks.impls.torch_impl:build",
    "numpy": "benchmarks.impls.numpy_impl:build",
    "jax": "benchmarks.impls.jax_impl:build",
}

# name -> "module:function", for the "predict" mode
PREDICTORS: dict[str, str] = {
    "numnet": "benchmarks.impls.numnet_impl:build_predict",
    "sklearn": "benchmarks.impls.sklearn_impl:build_predict",
    "torch": "benchmarks.impls.torch_impl:build_predict",
    "numpy": "benchmarks.impls.numpy_impl:build_predict",
    "jax": "benchmarks.impls.jax_impl:build_predict",
    "onnxruntime": "benchmarks.impls.onnxruntime_impl:build_predict",
}

# Why an implementation has no builder for a mode: the row says "n/a: <reason>".
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("onnxruntime", "train"): "inference only (ONNX Runtime does not train)",
    ("numnet-tutorial", "predict"): "the tutorial API predicts with numnet's own forward",
}

# Implementations measured on W1-W4, in table order; others are listed per
# workload in ``Workload.extra_impls``, or the workload names all of its own
# (``Workload.impls``).
DEFAULT_IMPLS = ("numnet", "sklearn", "torch", "numpy", "jax")
TABLE_ORDER = ("numnet", "numnet-tutorial", "sklearn", "torch", "numpy", "jax", "onnxruntime")


class NotInstalled(Exception):
    """The implementation's package cannot be imported: the row says so."""


class NotApplicable(Exception):
    """The implementation cannot run this workload: the row says "n/a" and why."""


@dataclass
class Trainer:
    """A model ready to train on one workload's data.

    Attributes
    ----------
    train : callable(epochs) -> None
        Trains for ``epochs`` full passes over the data.
    predict : callable(X) -> ndarray
        Outputs (probabilities for classification) as a NumPy array; used only
        to report the training loss after the timed epochs.
    dtype : str
        The floating-point type the implementation really computes in.
    single_call : bool
        True when ``train(E)`` is one library call for all ``E`` epochs (numnet):
        the worker then also times ``train(E) / E``, which is the reported figure.
    notes : list of str
        Footnotes for the table.
    info : dict
        Anything else worth recording in the JSON.
    actual_dtype : callable() -> str, optional
        Asked after training, when the dtype is only known then (scikit-learn
        keeps float32 data in float32); overrides ``dtype``.
    """

    train: Callable[[int], None]
    predict: Callable[[Any], Any]
    dtype: str
    single_call: bool = False
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    actual_dtype: Callable[[], str] | None = None


@dataclass
class Predictor:
    """A network with numnet's initial weights, ready to predict probabilities.

    Attributes
    ----------
    predict : callable(X) -> array
        The timed call: ``X`` (n, n_in) NumPy array in the workload's dtype to
        probabilities (n, n_out), finished when it returns.
    dtype : str
        The floating-point type the implementation really computes in.
    notes, info
        As :class:`Trainer`'s.
    to_numpy : callable(array) -> ndarray
        Turns ``predict``'s result into a NumPy array (untimed), for the check
        against a float64 NumPy forward pass of the same weights.
    """

    predict: Callable[[Any], Any]
    dtype: str
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    to_numpy: Callable[[Any], Any] = field(default=lambda a: a)


def builders(mode: str) -> dict[str, str]:
    """The registry of ``mode`` ("train" or "predict")."""
    return IMPLEMENTATIONS if mode == "train" else PREDICTORS


def not_applicable(name: str, mode: str) -> str | None:
    """Why implementation ``name`` cannot run ``mode``, or None when it can."""
    if name in builders(mode):
        return None
    return NOT_APPLICABLE.get((name, mode), f"{name} has no {mode} mode here")


def load(name: str, mode: str = "train") -> Callable[..., Any]:
    """The ``build`` (``mode="train"``) or ``build_predict`` function of implementation ``name``.

    Raises KeyError for an unknown name, :class:`NotApplicable` for a mode it lacks.
    """
    if name not in TABLE_ORDER:
        raise KeyError(f"unknown implementation {name!r}; known: {', '.join(TABLE_ORDER)}")
    reason = not_applicable(name, mode)
    if reason is not None:
        raise NotApplicable(reason)
    module_name, func = builders(mode)[name].split(":")
    return getattr(importlib.import_module(module_name), func)

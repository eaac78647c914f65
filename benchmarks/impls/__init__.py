"""The implementations being compared, behind one small interface.

Each implementation module has a ``build(workload, data) -> Trainer``
function. Modules are imported lazily, by name, inside the worker process, so a
NumPy-only worker never loads PyTorch (and its OpenMP thread pool).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# name -> "module:function"
IMPLEMENTATIONS: dict[str, str] = {
    "numnet": "benchmarks.impls.numnet_impl:build_fit",
    "numnet-tutorial": "benchmarks.impls.numnet_impl:build_tutorial",
    "sklearn": "benchmarks.impls.sklearn_impl:build",
    "torch": "benchmarks.impls.torch_impl:build",
    "numpy": "benchmarks.impls.numpy_impl:build",
}

# Implementations measured on every workload, in table order; others are listed
# per workload in ``Workload.extra_impls``.
DEFAULT_IMPLS = ("numnet", "sklearn", "torch", "numpy")
TABLE_ORDER = ("numnet", "numnet-tutorial", "sklearn", "torch", "numpy")


class NotInstalled(Exception):
    """The implementation's package cannot be imported: the row says so."""


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


def load(name: str) -> Callable[..., Trainer]:
    """The ``build`` function of implementation ``name``."""
    module_name, func = IMPLEMENTATIONS[name].split(":")
    return getattr(importlib.import_module(module_name), func)

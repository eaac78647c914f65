"""What a model is, for export: its network, its task and its classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet import MLP


def _estimators() -> tuple[type[Any], type[Any]] | None:
    """numnet's ``(MLPClassifier, MLPRegressor)``, or None without the sklearn extra."""
    try:
        from numnet.estimators import MLPClassifier, MLPRegressor
    except ImportError:
        return None
    return MLPClassifier, MLPRegressor


def is_numnet_model(model: Any) -> bool:
    """Whether ``model`` is a network or a numnet estimator (not a pipeline)."""
    return isinstance(model, (MLP, *(_estimators() or ())))


def describe(model: Any) -> tuple[MLP, str, np.ndarray | None]:
    """``(network, kind, classes)``; kind is "regression", "multiclass", "binary", "multilabel".

    Raises NotFittedError for an unfitted estimator, TypeError for anything
    that is neither a network nor a numnet estimator.
    """
    if isinstance(model, MLP):
        if model.classes_ is None:
            return model, "regression", None
        kind = "multiclass" if model.output_activation == "softmax" else "binary"
        return model, kind, np.asarray(model.classes_)
    estimators = _estimators()
    if estimators is None or not isinstance(model, estimators):
        raise TypeError(f"numnet.onnx exports a numnet.MLP, a fitted numnet estimator or a "
                        f"scikit-learn pipeline holding one, got {type(model).__name__}")
    _, regressor = estimators
    net = model.network_                     # raises NotFittedError when unfitted
    if isinstance(model, regressor):
        return net, "regression", None
    if model.out_activation_ == "softmax":
        kind = "multiclass"
    else:
        kind = "binary" if model.n_outputs_ == 1 else "multilabel"
    return net, kind, np.asarray(model.classes_)

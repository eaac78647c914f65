"""Loss and metrics of a network on data, without training: :func:`evaluate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.labels import encode_labels
from numnet.losses import Loss, get_loss
from numnet.network import LayerCache, Network, fused_value, overflow_message
from numnet.validation import check_features

__all__ = ["evaluate", "evaluate_arrays", "loss_value", "loss_from", "loss_for",
           "check_metrics", "split_validation"]


def split_validation(X: np.ndarray, Y: np.ndarray, labels: np.ndarray | None, fraction: float,
                     rng: np.random.Generator, sample_weight: np.ndarray | None = None
                     ) -> tuple:
    """``(X, Y, labels)`` for training, then for validation, then the training weights.

    A random ``fraction`` is held out; the last item is ``sample_weight`` of
    the training samples (None without weights).
    """
    n_val = int(round(len(X) * fraction))
    if n_val < 1 or n_val >= len(X):
        raise ValueError(
            f"validation_split={fraction} leaves {n_val} validation and {len(X) - n_val} "
            f"training sample(s) of {len(X)}; use a fraction that leaves at least one of each"
        )
    order = rng.permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    lab_train = labels[train] if labels is not None else None
    lab_val = labels[val] if labels is not None else None
    sw_train = sample_weight[train] if sample_weight is not None else None
    return X[train], Y[train], lab_train, X[val], Y[val], lab_val, sw_train


def loss_value(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss) -> float:
    """The loss of ``net`` now on validated arrays ``X``, ``Y`` (no update)."""
    return evaluate_arrays(net, X, Y, None, lossfn, ())[0]


def loss_from(net: Network, P: np.ndarray, cache: list[LayerCache], Y: np.ndarray,
              lossfn: Loss) -> float:
    """The loss of outputs ``P`` (n, num_outputs) from ``net.forward_train``, against ``Y``.

    A loss fused with the output activation is computed from the logits in ``cache``.
    """
    if lossfn.fused_with == net.output_activation:
        return fused_value(lossfn, cache[-1].Z, Y)
    return lossfn.value(P, Y)


def evaluate_arrays(net: Network, X: np.ndarray, Y: np.ndarray, labels: np.ndarray | None,
                    lossfn: Loss, metrics: Sequence[str], prefix: str = ""
                    ) -> tuple[float, dict[str, float]]:
    """Loss (and metrics) of ``net`` on validated arrays, without updating anything."""
    logs = {}
    P, cache = net.forward_train(X)
    value = loss_from(net, P, cache, Y, lossfn)
    if prefix:
        logs[f"{prefix}loss"] = value
    for name in metrics:
        if name == "accuracy":
            if net.num_outputs == 1:
                pred = (P[:, 0] > 0.5).astype(np.intp)
            else:
                pred = np.argmax(P, axis=1)
            logs[f"{prefix}accuracy"] = float(np.mean(pred == labels))
        elif name in ("mse", "mae"):
            logs[f"{prefix}{name}"] = get_loss(name).value(P, Y)
    return value, logs


def evaluate(net: Network, X: Any, y: Any, *, loss: str | Loss | None = None,
             metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Loss and metrics of ``net`` on ``(X, y)``, without training.

    ``y`` takes the same forms as in :func:`fit`; class labels must be among
    ``net.classes_``. Returns e.g. ``{"loss": 0.08, "accuracy": 0.97}``.
    Finite data whose outputs or loss overflow to inf (features or targets on
    a scale near the float range) raise a ``ValueError`` that says which, as
    :meth:`numnet.MLP.forward` does.
    """
    lossfn = loss_for(net, loss)
    X2, _ = check_features(X, net.num_inputs, net.dtype)
    Y, labels, _ = encode_labels(y, net, lossfn, len(X2))
    checked = check_metrics(metrics, labels)
    net.check_overflow(X2)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        value, logs = evaluate_arrays(net, X2, Y, labels, lossfn, checked)
    if not np.isfinite([value, *logs.values()]).all():
        raise ValueError(overflow_message("the loss", X2, Y))
    return {"loss": value, **logs}


def loss_for(net: Network, loss: str | Loss | None) -> Loss:
    """``loss``, or by default categorical cross-entropy for a softmax output, binary
    cross-entropy for a sigmoid output already fitted on labels, else mse."""
    if loss is None:
        if net.output_activation == "softmax":
            loss = "categorical_cross_entropy"
        elif net.output_activation == "sigmoid" and net.classes_ is not None:
            loss = "binary_cross_entropy"
        else:
            loss = "mse"
    return get_loss(loss)


def check_metrics(metrics: Sequence[str] | None, labels: np.ndarray | None) -> list[str]:
    """The metric names to report: checked, and ``["accuracy"]`` by default for labels."""
    if metrics is None:
        return ["accuracy"] if labels is not None else []
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    for name in metrics:
        if name not in ("accuracy", "mse", "mae"):
            raise ValueError(f"unknown metric {name!r}; choose from ['accuracy', 'mae', 'mse']")
        if name == "accuracy" and labels is None:
            raise ValueError("metric 'accuracy' needs class labels as y")
    return metrics

"""Loss and metrics of a network on data, without training: :func:`evaluate`.

With the training targets, each score comes with its baseline: the same
score of the constant prediction fitted on them (:mod:`numnet.baselines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.baselines import Baseline, baseline_accuracy
from numnet.labels import encode_labels
from numnet.losses import Loss, get_loss
from numnet.network import LayerCache, Network, fused_value, overflow_message
from numnet.validation import check_features

__all__ = ["evaluate", "evaluate_arrays", "evaluate_blocks", "baseline_logs", "loss_value",
           "loss_from", "loss_for", "check_metrics", "split_validation"]

# The activations one block of :func:`evaluate_blocks` may hold (bytes).
BLOCK_MEMORY = 1 << 26


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


def evaluate_blocks(net: Network, X: np.ndarray, Y: np.ndarray, labels: np.ndarray | None,
                    lossfn: Loss, metrics: Sequence[str], prefix: str = ""
                    ) -> tuple[float, dict[str, float]]:
    """:func:`evaluate_arrays` in blocks of rows whose activations stay under
    :data:`BLOCK_MEMORY`, each weighted by its rows (every score is a mean over rows)."""
    per_row = 2 * net.dtype.itemsize * sum(net.layer_sizes[1:])
    step = max(1, BLOCK_MEMORY // max(1, per_row))
    if len(X) <= step:
        return evaluate_arrays(net, X, Y, labels, lossfn, metrics, prefix)
    total, sums = 0.0, dict[str, float]()
    for i in range(0, len(X), step):
        part = None if labels is None else labels[i:i + step]
        value, logs = evaluate_arrays(net, X[i:i + step], Y[i:i + step], part, lossfn,
                                      metrics, prefix)
        rows = len(X[i:i + step])
        total += rows * value
        for key, v in logs.items():
            sums[key] = sums.get(key, 0.0) + rows * v
    return total / len(X), {key: v / len(X) for key, v in sums.items()}


def baseline_logs(Y_train: np.ndarray, labels_train: np.ndarray | None, Y: np.ndarray,
                  labels: np.ndarray | None, lossfn: Loss, metrics: Sequence[str],
                  prefix: str = "") -> tuple[dict[str, float], Baseline]:
    """The scores of :func:`evaluate_arrays`, for the constant fitted on the training
    targets ``Y_train`` (n_train, num_outputs) and scored on ``Y`` (n, num_outputs).

    Keys as ``evaluate_arrays`` names them (``loss`` always): the loss of the
    constant best for it, ``mse`` of the mean, ``mae`` of the median, and
    ``accuracy`` of the majority class of ``labels_train`` (class indices).
    Returns the logs and the loss's :class:`numnet.baselines.Baseline`.
    """
    base = Baseline.fit(Y_train, lossfn)
    logs = {f"{prefix}loss": base.score(Y)}
    for name in metrics:
        if name == "accuracy" and labels_train is not None and labels is not None:
            logs[f"{prefix}accuracy"] = baseline_accuracy(labels_train, labels)
        elif name in ("mse", "mae"):
            logs[f"{prefix}{name}"] = Baseline.fit(Y_train, name).score(Y)
    return logs, base


def evaluate(net: Network, X: Any, y: Any, *, loss: str | Loss | None = None,
             metrics: Sequence[str] | None = None, baseline_from: Any = None
             ) -> dict[str, float]:
    """Loss and metrics of ``net`` on ``(X, y)``, without training.

    Parameters
    ----------
    net : Network (numnet.MLP)
        The network to score; left unchanged.
    X : array-like of shape (n_samples, num_inputs)
        The inputs; for a one-input network also a flat sequence of values.
    y : array-like of shape (n_samples, num_outputs) or (n_samples,)
        Targets, or class labels, in the forms :func:`fit` takes; labels
        must be among ``net.classes_``.
    loss : str or Loss, optional
        Default: categorical cross-entropy for a softmax output, binary
        cross-entropy for a sigmoid output fitted on labels, else ``"mse"``.
    metrics : list of str, optional
        ``"accuracy"``, ``"mse"``, ``"mae"``; default ``["accuracy"]`` when
        ``y`` holds labels, else none.
    baseline_from : array-like of shape (n_train,) or (n_train, num_outputs), optional
        The training targets (``y`` as given to ``fit``, any number of
        samples). Each score then has a ``baseline_`` twin: the same score on
        ``(X, y)`` of always predicting the constant fitted on them (the mean
        for mse and the cross-entropies, class shares for labels; the median
        for mae; the majority class for accuracy);
        :func:`numnet.baselines.learned_nothing` compares the two.

    Returns
    -------
    dict of str to float
        E.g. ``{"loss": 0.08, "accuracy": 0.97}``, or with ``baseline_from``
        ``{"loss": 0.002, "baseline_loss": 0.0833}``.

    Raises
    ------
    ValueError
        For bad arguments or data, and for finite data whose outputs or loss
        overflow to inf (features or targets on a scale near the float
        range), saying which, as :meth:`numnet.MLP.forward` does.
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
    result = {"loss": value, **logs}
    if baseline_from is not None:
        Yb, labels_b = _training_targets(baseline_from, net, lossfn)
        if labels_b is None and labels is not None:     # one-hot or 0/1 training targets
            labels_b = (np.argmax(Yb, axis=1) if Yb.shape[1] > 1
                        else (Yb[:, 0] > 0.5).astype(np.intp))
        base, _ = baseline_logs(Yb, labels_b, Y, labels, lossfn, checked)
        result.update({f"baseline_{key}": v for key, v in base.items()})
    return result


def _training_targets(y: Any, net: Network, lossfn: Loss
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(Y, labels)`` of :func:`evaluate`'s ``baseline_from``, encoded as ``fit`` encodes
    ``y``: ``(n, num_outputs)`` and class indices ``(n,)`` (None for targets)."""
    try:
        n = len(y)
    except TypeError:
        raise TypeError(f"baseline_from must be the training targets (an array or list of "
                        f"them), got {type(y).__name__}") from None
    if n == 0:
        raise ValueError("baseline_from is empty; pass the training targets given to fit")
    Y, labels, _ = encode_labels(y, net, lossfn, n, name="baseline_from")
    return Y, labels


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

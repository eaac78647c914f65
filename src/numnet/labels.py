"""Class labels <-> network targets, for classification with cross-entropy.

A 1-D ``y`` given with a cross-entropy loss holds class labels (ints,
strings, ...). Softmax networks get one-hot rows, a single sigmoid unit gets
0/1. The label list (``classes``) maps output ``k`` back to a label.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .losses import Loss
from .validation import check_labels, check_targets, plain_array

__all__ = ["encode_labels", "class_sample_weights"]


def _classes_for(labels: np.ndarray, n_outputs: int, name: str) -> list:
    found = np.unique(labels)
    n_classes = 2 if n_outputs == 1 else n_outputs
    if labels.dtype.kind in "iub" or (labels.dtype.kind == "f"):
        ints = found.astype(np.int64)
        if ints.min() >= 0 and ints.max() < n_classes:
            return list(range(n_classes))          # 0..k-1: output k is class k
    if len(found) > n_classes:
        raise ValueError(
            f"{name} has {len(found)} classes {found.tolist()[:10]}, but the network can tell "
            f"{n_classes} apart; build it with num_outputs={len(found) if len(found) > 2 else 1}"
        )
    if len(found) < n_classes:
        raise ValueError(
            f"{name} has {len(found)} class(es) {found.tolist()} but the network has "
            f"{n_outputs} output(s) for {n_classes}; give examples of every class or "
            f"use integer labels 0..{n_classes - 1}"
        )
    return found.tolist()


class LabelledOutputs(Protocol):
    """What label encoding needs of a network (:class:`numnet.network.Network` has it)."""

    num_outputs: int
    output_activation: str
    dtype: np.dtype
    classes_: list[Any] | None


def _as_column(y: Any) -> np.ndarray | None:
    """``y`` as a 1-D array when it is one value per sample (``(n,)`` or ``(n, 1)``), else None."""
    if isinstance(y, (str, bytes)):
        return None
    try:
        arr = np.asarray(plain_array(y))
    except (ValueError, TypeError):                 # ragged, masked, sparse: the checks say so
        return None
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[:, 0]
    return arr if arr.ndim == 1 else None


def _column_as_labels(y: Any, net: LabelledOutputs) -> Any:
    """A single column ``(n, 1)`` of labels (a CSV's last column) as ``(n,)``.

    With cross-entropy, one column can only be labels when the network has
    several outputs (targets would need one column each) or already knows its
    classes; for one sigmoid unit it stays as given (0/1 targets or labels
    give the same training).
    """
    column = _as_column(y)
    if column is not None and np.ndim(y) == 2 and (net.num_outputs > 1 or net.classes_ is not None):
        return column
    return y


def _refuse_labels_as_targets(y: Any, net: LabelledOutputs, lossfn: Loss, n_samples: int,
                              name: str) -> None:
    """Say so when a regression loss is given what can only be class labels.

    Strings are labels; so are whole numbers, one per sample, for a network with
    several outputs (regression targets would need one column per output).
    """
    column = _as_column(y)
    if column is None or column.shape[0] != n_samples:
        return
    kind = column.dtype.kind
    if kind == "O":
        kind = "U" if any(isinstance(v, (str, bytes)) for v in column.tolist()) else "O"
    whole = kind in "iub" or (kind == "f" and bool(np.all(np.isfinite(column)))
                              and bool(np.all(column == np.round(column))))
    if not (kind in "US" or (whole and net.num_outputs > 1)):
        return
    found = np.unique(column)
    k = len(found)
    two = (" (or, for two classes, MLP(..., 1, output_activation='sigmoid') with "
           "loss='binary_cross_entropy')") if k == 2 else ""
    raise ValueError(
        f"{name} looks like class labels ({k} classes: {found.tolist()[:10]}), but the "
        f"network's output activation is {net.output_activation!r} with loss "
        f"{lossfn.name!r}, which fit numbers; for classification build "
        f"MLP(..., {max(k, 2)}, output_activation='softmax'), one output per class, and fit "
        f"uses cross-entropy{two}"
    )


def encode_labels(y: Any, net: LabelledOutputs, lossfn: Loss, n_samples: int, name: str = "y"
                  ) -> tuple[np.ndarray, np.ndarray | None, list[Any] | None]:
    """Targets for training, from regression targets or class labels.

    Returns
    -------
    Y : ndarray of shape (n_samples, num_outputs), the network's dtype
    labels : ndarray of shape (n_samples,) of class indices, or None for regression
    classes : list of labels (output order), or None when ``y`` is not labels
    """
    if lossfn.fused_with is None:                   # regression losses: y is targets
        _refuse_labels_as_targets(y, net, lossfn, n_samples, name)
        return check_targets(y, n_samples, net.num_outputs, net.dtype, name), None, None
    labels = check_labels(_column_as_labels(y, net), n_samples, name)
    if labels is None:                              # 2-D: one-hot or probabilities
        return check_targets(y, n_samples, net.num_outputs, net.dtype, name), None, None
    if lossfn.fused_with == "softmax" and net.num_outputs < 2:
        raise ValueError("categorical cross-entropy needs a softmax output with one unit per "
                         "class; for two classes use one sigmoid output and binary_cross_entropy")
    if lossfn.fused_with == "sigmoid" and net.num_outputs != 1:
        raise ValueError(
            f"class labels with binary cross-entropy need one sigmoid output, the network has "
            f"{net.num_outputs}; for multi-label targets pass a 2-D 0/1 array instead"
        )
    classes = net.classes_
    if classes is None:
        classes = _classes_for(labels, net.num_outputs, name)
    lookup = {c: i for i, c in enumerate(classes)}
    try:
        index = np.array([lookup[v] for v in labels.tolist()], dtype=np.intp)
    except KeyError as exc:
        unknown = sorted({v for v in labels.tolist() if v not in lookup}, key=str)[:10]
        raise ValueError(f"{name} has labels {unknown} that are not among the network's "
                         f"classes {classes}") from exc
    if net.num_outputs == 1:
        Y = index.astype(net.dtype).reshape(-1, 1)
    else:
        Y = np.zeros((n_samples, net.num_outputs), dtype=net.dtype)
        Y[np.arange(n_samples), index] = 1.0
    return Y, index, list(classes)


def class_sample_weights(class_weight: Any, index: np.ndarray | None,
                         classes: list[Any] | None) -> np.ndarray:
    """Each sample's weight from its class: ``(n_samples,)``, as scikit-learn weights classes.

    ``class_weight`` is ``"balanced"`` (``n_samples / (n_classes * count of the
    class)``, so every class weighs the same in the loss) or a dict ``{label:
    weight}`` (classes left out weigh 1). ``index`` holds each sample's class
    position in ``classes``, as :func:`encode_labels` returns them.
    """
    if index is None or classes is None:
        raise ValueError("class_weight needs class labels as y (with a cross-entropy loss); "
                         "for other targets pass sample_weight instead")
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a dict {{label: weight}}, "
                             f"got {class_weight!r}")
        counts = np.bincount(index, minlength=len(classes))
        present = counts > 0
        per_class = np.zeros(len(classes))
        per_class[present] = len(index) / (np.count_nonzero(present) * counts[present])
    elif isinstance(class_weight, dict):
        unknown = [label for label in class_weight if label not in classes]
        if unknown:
            raise ValueError(f"class_weight names labels {sorted(unknown, key=str)[:10]} that "
                             f"are not among the classes {classes}")
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes])
        if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
            raise ValueError("class_weight's weights must be finite and non-negative")
    else:
        raise TypeError(f"class_weight must be 'balanced' or a dict {{label: weight}}, got "
                        f"{type(class_weight).__name__}")
    return per_class[index]

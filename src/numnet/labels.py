"""Class labels <-> network targets, for classification with cross-entropy.

A 1-D ``y`` given with a cross-entropy loss holds class labels (ints,
strings, ...). Softmax networks get one-hot rows, a single sigmoid unit gets
0/1. The label list (``classes``) maps output ``k`` back to a label.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .losses import Loss
from .validation import check_labels, check_targets

__all__ = ["encode_labels"]


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
    dtype: np.dtype
    classes_: list[Any] | None


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
        return check_targets(y, n_samples, net.num_outputs, net.dtype, name), None, None
    labels = check_labels(y, n_samples, name)
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

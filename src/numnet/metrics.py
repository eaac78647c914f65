"""Scores for regression and classification, in NumPy.

The same definitions as scikit-learn's ``sklearn.metrics`` (the tests check
them against it), written here so that scoring a model needs nothing beyond
NumPy. Regression scores average over target columns (scikit-learn's
``"uniform_average"``); :func:`mean_squared_error` and
:func:`mean_absolute_error` are :func:`numnet.losses.mse` and
:func:`numnet.losses.mae`, one function each; a precision, recall or F1 whose denominator is zero
is 0 (scikit-learn's ``zero_division=0``).

Every row counts: :func:`confusion_matrix` refuses a label that is not in
its ``labels`` rather than leave the row out, and
:func:`classification_scores` adds the labels a model never saw to its
table (as scikit-learn does with the labels found in the data), so the
per-class supports and the confusion matrix add up to the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .losses import mae as mean_absolute_error
from .losses import mse as mean_squared_error
from .validation import plain_array, scaled_pair

__all__ = ["mean_squared_error", "mean_absolute_error", "r2_score", "accuracy",
           "confusion_matrix", "precision_recall_f1", "regression_scores",
           "classification_scores", "unlisted_labels"]


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` per target, averaged.

    A constant target scores 1 when predicted exactly and 0 otherwise
    (scikit-learn's convention). Scale-free, so computed on scaled values.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_outputs) or (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples, n_outputs) or (n_samples,)
        Predictions, the same shape as ``y_true``.

    Returns
    -------
    float
        1 for perfect predictions, 0 for the targets' mean, negative for worse.
    """
    t, p, _ = scaled_pair(y_true, y_pred)
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    ok = ss_tot > 0
    r2 = np.where(ss_res == 0, 1.0, 0.0)
    r2[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
    return float(np.mean(r2))


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of labels predicted exactly.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels, of any kind (ints, strings); flattened.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels, as many as ``y_true``.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        When the counts differ or there are no labels.
    """
    t = np.asarray(plain_array(y_true, "y_true")).reshape(-1)
    p = np.asarray(plain_array(y_pred, "y_pred")).reshape(-1)
    if t.shape != p.shape or len(t) == 0:
        raise ValueError(f"need as many predictions as labels (at least one), got "
                         f"{len(p)} and {len(t)}")
    return float(np.mean(t == p))


def _values(y: Any) -> list[Any]:
    """Labels as Python values (``np.str_("a")`` -> ``"a"``), flattened: ``(n,)``."""
    return np.asarray(plain_array(y, "y")).reshape(-1).tolist()


def unlisted_labels(y: Any, labels: Sequence[Any]) -> dict[Any, int]:
    """Labels of ``y`` that are not in ``labels``, with their row counts.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels; flattened.
    labels : sequence
        The known labels.

    Returns
    -------
    dict
        ``{label: rows}`` in order of first appearance, e.g. ``{"c": 6}``;
        empty when every row's label is listed.
    """
    known = set(labels)
    counts: dict[Any, int] = {}
    for v in _values(y):
        if v not in known:
            counts[v] = counts.get(v, 0) + 1
    return counts


def confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of class ``labels[i]`` predicted as ``labels[j]``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels, of any kind (ints, strings); flattened.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels, as many as ``y_true``.
    labels : sequence
        Every class, in the matrix's order.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        int64 counts, whose entries add up to the number of samples.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` (shape ``(n,)``) holds a label that is not
        in ``labels``: its rows would not be counted.
    """
    t_list, p_list = _values(y_true), _values(y_pred)
    if len(t_list) != len(p_list):
        raise ValueError(f"need as many predictions as labels, got {len(p_list)} and "
                         f"{len(t_list)}")
    for values, what in ((t_list, "y_true"), (p_list, "y_pred")):
        missing = unlisted_labels(values, labels)
        if missing:
            shown = ", ".join(f"{v!r} ({n} row(s))" for v, n in list(missing.items())[:5])
            raise ValueError(f"{what} holds label(s) not in labels: {shown}; add them to "
                             f"labels so that every row is counted")
    index = {label: k for k, label in enumerate(labels)}
    k = len(index)
    t = np.array([index[v] for v in t_list], dtype=np.int64)
    p = np.array([index[v] for v in p_list], dtype=np.int64)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class precision, recall, F1 and support from a confusion matrix.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        ``cm[i, j]``: samples of class ``i`` predicted as class ``j``, as
        :func:`confusion_matrix` returns it.

    Returns
    -------
    precision : ndarray of shape (n_classes,)
        ``TP / (TP + FP)``, 0 where no sample was predicted as the class.
    recall : ndarray of shape (n_classes,)
        ``TP / (TP + FN)``, 0 where the class has no sample.
    f1 : ndarray of shape (n_classes,)
        ``2 P R / (P + R)``, 0 where both are 0.
    support : ndarray of shape (n_classes,)
        True samples per class, int64.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support.astype(np.int64)


def regression_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """``{"mse": ..., "mae": ..., "r2": ...}``, each averaged over the target columns.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_outputs) or (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples, n_outputs) or (n_samples,)
        Predictions, the same shape as ``y_true``.

    Returns
    -------
    dict of str to float
    """
    return {"mse": mean_squared_error(y_true, y_pred), "mae": mean_absolute_error(y_true, y_pred),
            "r2": r2_score(y_true, y_pred)}


def classification_scores(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, macro-averaged F1, the confusion matrix and per-class figures.

    The figures are over every row: labels found in ``y_true`` or ``y_pred``
    but not in ``labels`` (a class the model never saw) are added after
    ``labels``, so their rows count in the per-class table and the matrix as
    they do in the accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels, of any kind (ints, strings); flattened.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels, as many as ``y_true``.
    labels : sequence
        The model's classes, in order (e.g. its ``classes_``).

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1`` (over all the labels), ``labels`` (the
        labels the arrays below are indexed by: ``labels``, then the unlisted
        ones), ``confusion_matrix`` ``(k, k)``, ``precision``, ``recall``,
        ``f1``, ``support`` ``(k,)``, and ``unseen``: ``{label: rows}`` of the
        true labels that were not in ``labels``.
    """
    unseen = unlisted_labels(y_true, labels)
    extra = list(unseen) + [v for v in unlisted_labels(y_pred, labels) if v not in unseen]
    every = [*labels, *extra]
    cm = confusion_matrix(y_true, y_pred, every)
    precision, recall, f1, support = precision_recall_f1(cm)
    return {"accuracy": accuracy(y_true, y_pred), "macro_f1": float(np.mean(f1)),
            "labels": every, "confusion_matrix": cm, "precision": precision,
            "recall": recall, "f1": f1, "support": support, "unseen": unseen}

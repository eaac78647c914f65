"""Baselines: the score of a constant prediction, the bar a trained network must clear.

A network that scores no better than always giving the same answer has
learned nothing, whatever its loss looks like: on ``y = 1 - x`` with ``x``
uniform on [0, 1), predicting the mean scores an MSE of 1/12 (0.0833), so a
network at 0.083 learned nothing. The constant is fitted on the *training*
targets and scored on whatever set is scored, so that a test set's baseline
is what the training set alone would have predicted for it.

The best constant for each loss (:func:`best_constant`): the mean for mse,
Poisson and the cross-entropies (for one-hot or 0/1 targets, the class
shares), the median for mae, the Huber centre (between the two) for huber.
For accuracy the baseline is the majority class (:func:`majority_class`);
R² of the training mean is 0 on the training targets by construction.
:func:`learned_nothing` says whether a score clears its baseline, by a
margin (:data:`MARGIN`). Pure NumPy functions of arrays; nothing here trains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .losses import HUBER_DELTA, Loss, get_loss
from .validation import plain_array

__all__ = ["Baseline", "MARGIN", "HIGHER_IS_BETTER", "best_constant", "baseline_loss",
           "class_counts", "majority_class", "baseline_accuracy", "learned_nothing",
           "higher_is_better", "not_beaten"]

# A score clears its baseline when it is below it by more than this fraction of it (for a
# score whose best is 1, such as accuracy or R², when its gap to 1 is below the baseline's
# gap by more than this fraction). Measured on y = 1 - x (one_minus_x(200), seeds 0-3;
# tests/test_baselines.py keeps the cheap ones): networks that learned nothing (deep sigmoid
# MLP(1, [64] * 6, 1) and MLP(1, [256] * 5, 1), per-example SGD, and the tutorial's
# MLP(1, [1024] * 5, 1)) ended at 1.01-1.09 times the mean's loss on the training points
# (3.1 on the tutorial's ten points, trained in order) and 1.04-1.07 times on new points;
# networks that learned (MLP(1, [3], 1), MLP(1, [16], 1)) at 0.013-0.044 times. The
# running loss of an epoch is no measure of this: the tutorial's deep network, trained in
# order one example at a time, follows the targets and shows an epoch error of 1.02-1.03
# times the baseline while its outputs score 3.1 times. 1% is also the figure that fit's
# TrainingWarning calls "not below" (numnet._fitting.diagnosis.NOT_BELOW).
MARGIN = 0.01

# Scores whose best is 1 and that grow as a model gets better (all others are losses).
HIGHER_IS_BETTER = frozenset({"accuracy", "r2", "macro_f1", "f1"})

# Bisection steps for the Huber centre: each halves the interval [min, max] of a column, so
# 64 steps reach the float64 resolution of any finite range.
_HUBER_STEPS = 64


def _targets(Y: Any, name: str = "Y_train") -> np.ndarray:
    """``Y`` as a float64 ``(n, n_outputs)`` array (1-D is one output), finite, non-empty."""
    A = np.asarray(plain_array(Y, name), dtype=np.float64)
    if A.ndim == 1:
        A = A.reshape(-1, 1)
    if A.ndim != 2:
        raise ValueError(f"{name} must be (n_samples,) or (n_samples, n_outputs), got shape "
                         f"{A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} is empty; a baseline needs at least one training target")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop or fill those rows first")
    return A


def _huber_centre(Y: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    """Per column of ``Y`` (n, k), the ``c`` that minimises ``mean(huber(y - c))``: ``(k,)``.

    The loss is convex in ``c`` and its derivative ``mean(clip(c - y, -delta, delta))``
    rises with ``c``, so bisection on its sign between the column's min and max finds it.
    """
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    for _ in range(_HUBER_STEPS):
        mid = 0.5 * (lo + hi)
        rising = np.mean(np.clip(mid - Y, -delta, delta), axis=0) > 0
        hi = np.where(rising, mid, hi)
        lo = np.where(rising, lo, mid)
    return 0.5 * (lo + hi)


def _is_classes(Y: np.ndarray) -> bool:
    """Whether ``Y`` (n, k) holds 0/1 targets: one-hot rows, or one 0/1 column."""
    zero_one = bool(np.all((Y == 0.0) | (Y == 1.0)))
    return zero_one and (Y.shape[1] == 1 or bool(np.all(Y.sum(axis=1) == 1.0)))


def best_constant(Y_train: Any, loss: str | Loss = "mse") -> np.ndarray:
    """The constant prediction with the lowest ``loss`` on ``Y_train``: shape ``(n_outputs,)``.

    mse, poisson and the cross-entropies: the mean (the class shares); mae:
    the median; huber: the Huber centre. A loss numnet does not know (a custom
    :class:`numnet.losses.Loss`) gets the mean: a lower bar where the mean is
    not that loss's best, so never a false "learned nothing".

    Parameters
    ----------
    Y_train : array-like of shape (n_samples, n_outputs) or (n_samples,)
        Training targets as the network is trained on them (one-hot rows or a
        0/1 column for classes); 1-D is one output. Finite, at least one row.
    loss : str or Loss, default "mse"
        The loss the constant is best for: a name or a :class:`numnet.losses.Loss`.

    Returns
    -------
    ndarray of shape (n_outputs,)
        The constant, as float64.
    """
    Y = _targets(Y_train)
    name = get_loss(loss).name
    if name == "mae":
        return np.median(Y, axis=0)
    if name == "huber":
        return _huber_centre(Y)
    return Y.mean(axis=0)


def _what(name: str, Y: np.ndarray) -> str:
    """What the constant of :func:`best_constant` is, for a message."""
    if name == "mae":
        return "the training targets' median"
    if name == "huber":
        return "the training targets' Huber centre"
    if name in ("binary_cross_entropy", "categorical_cross_entropy") and _is_classes(Y):
        return "the training class shares"
    return "the training targets' mean"


class Baseline(NamedTuple):
    """A constant prediction fitted on training targets: what it is, and its loss anywhere.

    A named tuple, made by :meth:`fit`; its fields, in order, are also its attributes.

    Other Parameters
    ----------------
    constant : ndarray of shape (n_outputs,)
        The prediction, :func:`best_constant` of the training targets.
    loss : Loss
        The :class:`numnet.losses.Loss` it is best for, and that :meth:`score` uses.
    what : str
        What the constant is, for messages, e.g. ``"the training targets' mean"``.
    """

    constant: np.ndarray
    loss: Loss
    what: str

    @classmethod
    def fit(cls, Y_train: Any, loss: str | Loss = "mse") -> Baseline:
        """The best constant for ``loss`` on ``Y_train`` (n_samples, n_outputs).

        Parameters
        ----------
        Y_train : array-like of shape (n_samples, n_outputs) or (n_samples,)
            Training targets, as for :func:`best_constant`.
        loss : str or Loss, default "mse"
            The loss to fit the constant for.

        Returns
        -------
        Baseline
        """
        Y = _targets(Y_train)
        lossfn = get_loss(loss)
        return cls(best_constant(Y, lossfn), lossfn, _what(lossfn.name, Y))

    def predict(self, n_samples: int) -> np.ndarray:
        """The constant repeated: ``(n_samples, n_outputs)``.

        Parameters
        ----------
        n_samples : int
            How many rows to predict.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        return np.tile(self.constant, (n_samples, 1))

    def score(self, Y: Any, loss: str | Loss | None = None) -> float:
        """The loss of predicting the constant for every row of ``Y``.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            The targets of the set being scored, with as many outputs as the
            training targets (ValueError otherwise).
        loss : str, Loss or None, default None
            The loss to score with; None is this baseline's :attr:`loss`.

        Returns
        -------
        float
            The loss, as the loss's ``value`` gives it for the repeated constant.
        """
        T = _targets(Y, "Y")
        if T.shape[1] != self.constant.shape[0]:
            raise ValueError(f"Y has {T.shape[1]} output(s) but the baseline was fitted on "
                             f"{self.constant.shape[0]}; score it on targets of the same shape")
        lossfn = get_loss(self.loss if loss is None else loss)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return float(lossfn.value(self.predict(len(T)), T))


def baseline_loss(Y_train: Any, loss: str | Loss = "mse", Y: Any = None) -> float:
    """The ``loss`` on ``Y`` of always predicting :func:`best_constant` of ``Y_train``.

    On ``Y_train`` itself, for mse, this is the targets' variance (averaged over outputs).

    Parameters
    ----------
    Y_train : array-like of shape (n_samples, n_outputs) or (n_samples,)
        The training targets the constant is fitted on.
    loss : str or Loss, default "mse"
        The loss the constant is best for, and scored with.
    Y : array-like of shape (n_scored, n_outputs), (n_scored,) or None, default None
        The targets to score on; None scores on ``Y_train``.

    Returns
    -------
    float
    """
    base = Baseline.fit(Y_train, loss)
    return base.score(Y_train if Y is None else Y)


def class_counts(labels: Any, classes: Sequence[Any] | None = None) -> tuple[list[Any], np.ndarray]:
    """``(classes, counts)``: how many of ``labels`` fall in each class.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class labels, of any hashable kind (ints, strings); flattened.
    classes : sequence or None, default None
        The classes to count, in this order (labels outside it are not
        counted); None is the distinct labels, sorted.

    Returns
    -------
    classes : list
        The classes, in order.
    counts : ndarray of shape (n_classes,)
        How many labels fall in each, as int64.
    """
    values = np.asarray(labels).reshape(-1)
    if classes is None:
        classes = np.unique(values).tolist()
    lookup = {c: i for i, c in enumerate(classes)}
    counts = np.zeros(len(classes), dtype=np.int64)
    for v in values.tolist():
        i = lookup.get(v)
        if i is not None:
            counts[i] += 1
    return list(classes), counts


def majority_class(labels: Any, classes: Sequence[Any] | None = None) -> Any:
    """The most frequent of ``labels``; among those tied, the first in ``classes``.

    That is the class ``argmax`` picks from equal outputs.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class labels.
    classes : sequence or None, default None
        The classes, in order (labels outside it are not counted); None is the
        distinct labels, sorted.

    Returns
    -------
    object
        The majority class, an element of ``classes``.

    Raises
    ------
    ValueError
        When no label is counted (empty, or none among ``classes``).
    """
    order, counts = class_counts(labels, classes)
    if not len(order) or counts.sum() == 0:
        raise ValueError("labels are empty (or none is among classes); a baseline needs at "
                         "least one training label")
    return order[int(np.argmax(counts))]


def baseline_accuracy(train_labels: Any, labels: Any = None,
                      classes: Sequence[Any] | None = None) -> float:
    """The accuracy of always predicting the majority class of ``train_labels``.

    Parameters
    ----------
    train_labels : array-like of shape (n_samples,)
        The training labels the majority class is taken from (ties:
        :func:`majority_class`).
    labels : array-like of shape (n_scored,) or None, default None
        The labels to score on; None scores on ``train_labels``.
    classes : sequence or None, default None
        The classes, in order, for breaking ties; None is the distinct
        training labels, sorted.

    Returns
    -------
    float
        The share of ``labels`` equal to the majority class.
    """
    majority = majority_class(train_labels, classes)
    scored = np.asarray(train_labels if labels is None else labels).reshape(-1)
    if len(scored) == 0:
        raise ValueError("labels are empty; score the baseline on at least one label")
    return float(np.mean([v == majority for v in scored.tolist()]))


def learned_nothing(score: float, baseline: float, *, higher_is_better: bool = False,
                    margin: float = MARGIN) -> bool:
    """Whether ``score`` fails to beat ``baseline`` by ``margin`` (:data:`MARGIN`).

    Lower is better (a loss, mse, mae): learned nothing unless ``score <
    baseline - margin * |baseline|``. With ``higher_is_better`` the score's
    best is 1 (accuracy, R², F1) and the gaps to 1 are compared the same way:
    on 3 balanced classes (baseline accuracy 1/3) an accuracy must exceed
    0.34. A NaN or infinite score learned nothing. A baseline that is already
    perfect (a loss of 0, an accuracy of 1: the training targets are all the
    same) or not finite leaves nothing to beat: False.

    Parameters
    ----------
    score : float
        The model's score.
    baseline : float
        The same score of the baseline (:func:`baseline_loss`, :func:`baseline_accuracy`).
    higher_is_better : bool, default False
        Whether the score's best is 1 and it grows as the model gets better
        (see :func:`higher_is_better`).
    margin : float, default MARGIN
        The fraction of the baseline (or of its gap to 1) the score must beat it
        by, in [0, 1) (ValueError otherwise).

    Returns
    -------
    bool
        True when the score does not clear the baseline.
    """
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin must be in [0, 1), got {margin!r}; the default is {MARGIN}")
    score, baseline = float(score), float(baseline)
    if higher_is_better:
        score, baseline = 1.0 - score, 1.0 - baseline
    if not math.isfinite(baseline) or baseline == 0.0:
        return False
    if not math.isfinite(score):
        return True
    return not score < baseline - margin * abs(baseline)


def higher_is_better(name: str) -> bool:
    """Whether the score ``name`` grows as a model gets better; losses do not.

    Parameters
    ----------
    name : str
        A score's name, e.g. ``"accuracy"``, ``"val_r2"``, ``"loss"``: in
        :data:`HIGHER_IS_BETTER`, with a ``val_`` prefix or not.

    Returns
    -------
    bool
    """
    return name.removeprefix("val_") in HIGHER_IS_BETTER


def not_beaten(scores: Mapping[str, float], baselines: Mapping[str, float],
               margin: float = MARGIN) -> list[str]:
    """The names of ``scores`` that do not beat their entry in ``baselines``.

    Each is judged by :func:`learned_nothing`, the direction taken from
    :func:`higher_is_better`. E.g.
    ``not_beaten({"loss": 0.083}, {"loss": 0.0833}) == ["loss"]``.

    Parameters
    ----------
    scores : mapping of str to float
        The model's scores by name, e.g. ``{"loss": 0.01, "val_accuracy": 0.9}``.
    baselines : mapping of str to float
        The baselines' scores under the same names; names missing here are left out.
    margin : float, default MARGIN
        As in :func:`learned_nothing`.

    Returns
    -------
    list of str
        The names not beaten, in the order of ``scores``.
    """
    return [name for name, value in scores.items() if name in baselines
            and learned_nothing(value, baselines[name], margin=margin,
                                higher_is_better=higher_is_better(name))]

"""Plain helpers of the ``sgd``/``adam`` fit (:meth:`BaseMLP._fit_stochastic <.base.BaseMLP>`).

They take arrays and values, never the estimator: the batch size in numnet's
terms, the held-out split for ``early_stopping``, the warning of an
unfinished run, the callback through which the estimator's per-epoch
rules stop :func:`numnet.fit`, the divergence guard the estimators train with,
and the schedule's position a kept optimizer continues from.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from numnet.callbacks import Callback, DivergenceGuard
from numnet.optimizers import Optimizer, ReduceLROnPlateau, Schedule

#: Held-out data for ``early_stopping``: ``(X_val, y_val, sample_weight_val or None)``;
#: ``X_val`` an ndarray or sparse CSR, as the training ``X``.
Validation = tuple[Any, Any, np.ndarray | None]
#: A scikit-learn scorer, ``scorer(estimator, X, y, sample_weight=...) -> float``
#: (greater is better), as :func:`sklearn.metrics.get_scorer` gives for ``scoring``.
Scorer = Callable[..., float]


class EpochEnd(Callback):
    """Calls ``rule(loss)`` after each epoch; stops the run when it returns a reason.

    ``rule`` takes the epoch's loss in numnet's units and returns why training
    should stop, or None; the reason is kept in ``stopped``.
    """

    def __init__(self, rule: Callable[[float], str | None]) -> None:
        self.rule = rule
        self.stopped: str | None = None

    def on_epoch_end(self, run: Any, epoch: int, logs: dict[str, float]) -> None:
        reason = self.rule(logs["loss"])
        if reason is not None:
            self.stopped = reason
            run.stop(reason)


def batch_size(batch_size: int | str, n_samples: int) -> int:
    """``"auto"`` is ``min(200, n_samples)``; an int is clipped to ``n_samples``, with a warning."""
    if batch_size == "auto":
        return min(200, n_samples)
    if int(batch_size) > n_samples:
        warnings.warn(f"Got `batch_size` larger than the sample size ({n_samples}). "
                      f"It is going to be clipped", stacklevel=5)
    return int(np.clip(int(batch_size), 1, n_samples))


def hold_out(X: Any, Y: np.ndarray, sample_weight: np.ndarray | None, fraction: float,
             stratify: np.ndarray | None, rng: np.random.Generator
             ) -> tuple[Any, np.ndarray, np.ndarray | None,
                        tuple[Any, np.ndarray, np.ndarray | None]]:
    """Split off ``fraction`` of ``X (n, f)`` (an ndarray or sparse CSR: the same rows
    either way), ``Y (n, o)`` for ``early_stopping``.

    Returns the training part ``(X, Y, sample_weight)`` and the held-out
    ``(X_val, Y_val, sample_weight_val)``, stratified by ``stratify`` if given.
    """
    seed = int(rng.integers(np.iinfo(np.int32).max))
    weights = () if sample_weight is None else (sample_weight,)
    parts = train_test_split(X, Y, *weights, random_state=seed, test_size=fraction,
                             stratify=stratify)
    X, X_val, Y, Y_val = parts[:4]
    sw_val = None
    if sample_weight is not None:
        sample_weight, sw_val = parts[4:]
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase "
                         "'validation_fraction' or the size of your dataset.")
    return X, Y, sample_weight, (X_val, Y_val, sw_val)


def guarded(callbacks: Sequence[Callback]) -> list[Callback]:
    """``callbacks`` with a :class:`~numnet.callbacks.DivergenceGuard` that acts on NaN/inf only.

    scikit-learn's MLPs go on training whatever the loss does; this guard lets
    a loss grow as theirs may, and stops the run only once the loss or the
    weights are no longer numbers, putting back the last finite weights. It
    comes after the estimator's rules, which so record that epoch (a NaN
    validation score with ``early_stopping``), and before the user's
    callbacks; a guard among ``callbacks`` replaces it.
    """
    if any(isinstance(cb, DivergenceGuard) for cb in callbacks):
        return list(callbacks)
    return [DivergenceGuard(factor=sys.float_info.max), *callbacks]


def warn_if_unfinished(interrupted: bool, stopped: bool, n_iter: int, max_iter: int,
                       incremental: bool, stop_reason: str | None = None) -> None:
    """Warn when the user interrupted the run, it diverged, or ``fit`` used ``max_iter``
    unconverged (``stop_reason`` is ``History.stop_reason``)."""
    if interrupted:
        warnings.warn("Training interrupted by user.", stacklevel=5)
    elif stop_reason is not None and stop_reason.startswith("diverged"):
        warnings.warn(f"Stochastic Optimizer: the loss became NaN/inf at iteration {n_iter}, "
                      f"so training stopped there and kept the best epoch's weights. Lower "
                      f"learning_rate_init, or scale the data (e.g. sklearn's StandardScaler).",
                      ConvergenceWarning, stacklevel=5)
    elif not incremental and not stopped and n_iter == max_iter:
        warnings.warn(f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached "
                      f"and the optimization hasn't converged yet.", ConvergenceWarning,
                      stacklevel=5)


class _Offset(Schedule):
    """``schedule`` moved on by ``epochs``: :func:`numnet.fit`'s epoch 0 is its epoch ``epochs``."""

    def __init__(self, schedule: Schedule, epochs: int) -> None:
        self.schedule, self.epochs = schedule, epochs

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return self.schedule.lr_at(epoch + self.epochs, base_lr)

    def get_config(self) -> dict[str, Any]:
        return self.schedule.get_config()

    def state_dict(self) -> dict[str, Any]:
        return self.schedule.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.schedule.load_state_dict(state)


@contextmanager
def continued_schedule(optimizer: Optimizer, epochs: int) -> Iterator[None]:
    """While in the block, ``optimizer``'s schedule continues after the ``epochs`` it ran.

    :func:`numnet.fit` counts its epochs from 0, and a schedule by epoch
    (:class:`~numnet.optimizers.StepDecay`, ...) would start over at each
    warm-started ``fit`` or ``partial_fit`` of a kept optimizer;
    :class:`~numnet.optimizers.ReduceLROnPlateau` keeps its own state, so it is left as it is.
    """
    schedule = optimizer.schedule
    if schedule is None or epochs == 0 or isinstance(schedule, ReduceLROnPlateau):
        yield
        return
    optimizer.schedule = _Offset(schedule, epochs)
    try:
        yield
    finally:
        optimizer.schedule = schedule

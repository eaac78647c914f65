"""Training health, measured while a network trains (:class:`HealthMonitor`).

After an epoch, one forward and backward pass on the first :data:`HEALTH_SAMPLES`
training rows gives, per layer, the weight gradient's norm, the share of
sigmoid/tanh units near their bounds, the share of ReLU units that are zero on
every row, and the weights' change over the epoch against their size; and, for
the network, how much its outputs vary over the rows against the targets. It
reads the network as it stands, so every runner (compiled ones included) is
measured the same way. The pass is skipped on enough epochs that it costs
about :data:`BUDGET` of the training; the first epoch of a ``fit`` and its last
are measured unless the fit is too short to pay for one. The record is ``History.health``
(:class:`~numnet._fitting.history.Health`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet.engine.threads import blas_threads, limit_blas
from numnet.losses import Loss
from numnet.network import Network

from .callbacks import Callback
from .history import NEAR_BOUND
from .run import Run

__all__ = ["HealthMonitor", "measure", "HEALTH_SAMPLES", "BUDGET", "FIXED_ROWS"]

# rows of the training set the measurements look at (the first ones)
HEALTH_SAMPLES = 256

# the measurements' share of the training time, counted in rows: the rows measured, plus
# FIXED_ROWS for the pass's fixed cost, against the rows trained
BUDGET = 0.03

# a measurement's fixed cost (its NumPy calls), in rows trained: ~300 us, the time of 1,200
# rows of per-example training of a 1-3-1 network (0.25 us each, the floor of the smallest
# networks; a larger network's rows cost more, so its measurements are counted dearer than
# they are)
FIXED_ROWS = 1200


def _share_saturated(name: str, A: np.ndarray) -> float | None:
    """Share of ``A`` (n, units) near a sigmoid's or tanh's bounds; None for others."""
    if name == "sigmoid":
        return float(np.mean((A < NEAR_BOUND) | (A > 1.0 - NEAR_BOUND)))
    if name == "tanh":
        return float(np.mean(np.abs(A) > 1.0 - 2 * NEAR_BOUND))
    return None


def _share_dead(name: str, A: np.ndarray) -> float | None:
    """Share of a ReLU layer's units (columns of ``A``) that are zero on every row."""
    if name != "relu":
        return None
    return float(np.mean(~(A > 0).any(axis=0)))


def _finite(value: float) -> float | None:
    """``value``, or None when it is not finite (JSON has no NaN)."""
    return value if math.isfinite(value) else None


def _ratio(after: np.ndarray, before: np.ndarray) -> float | None:
    size = float(np.linalg.norm(before))
    return _finite(float(np.linalg.norm(after - before)) / size) if size > 0 else None


def measure(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss,
            before: list[np.ndarray] | None = None) -> dict[str, Any]:
    """One epoch's health record for ``net`` now, on validated ``X`` (n, num_inputs) and
    ``Y`` (n, num_outputs) (the first :data:`HEALTH_SAMPLES` rows are used).

    ``before`` holds each layer's weights at the start of the epoch (for the
    update ratio), or None. Values that are not finite are recorded as None
    (the divergence guard deals with them).
    """
    X, Y = X[:HEALTH_SAMPLES], Y[:HEALTH_SAMPLES]
    with limit_blas(blas_threads(net, len(X))), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        P, cache = net.forward_train(X)
        fused = lossfn.fused_with == net.output_activation
        if fused and lossfn.delta is not None:
            dA = lossfn.delta(P, Y)
        else:
            dA = lossfn.gradient(P, Y)
        flat, _ = net.backward_flat(dA, cache, fused and lossfn.delta is not None)
        dWs = net.unflatten(flat)[0]
        names = [a.name for a in net.activation_fns]
        target = float(np.max(Y.std(axis=0))) if len(Y) > 1 else 0.0
        spread = float(np.max(P.std(axis=0))) / target if target > 0 else math.nan
        return {
            "grad_norm": [_finite(float(np.linalg.norm(dW))) for dW in dWs],
            "update_ratio": [None if before is None else _ratio(W, B)
                             for W, B in zip(net.weights, before or net.weights, strict=True)],
            "saturated": [_share_saturated(n, c.A) for n, c in zip(names, cache, strict=True)],
            "dead": [_share_dead(n, c.A) for n, c in zip(names, cache, strict=True)],
            "output_spread": _finite(spread),
        }


class HealthMonitor(Callback):
    """Records :class:`~numnet._fitting.history.Health` in ``run.history.health`` as ``fit``
    trains.

    ``fit`` adds one to every run (give your own to change ``budget``). It
    measures the first epoch of a ``fit`` and its last (unless the whole fit
    is too short to pay for them: :meth:`affordable`), and every ``k``-th
    epoch between them, ``k`` the smallest that keeps a measurement's cost
    (its rows plus :data:`FIXED_ROWS`) within ``budget`` of the rows trained:
    every epoch from about 48,500 training rows, every 3rd at 20,000, every
    434th on the tutorial's 100, which is measured from 1,000 epochs on
    (``budget=math.inf``: every epoch of any fit). The choice depends on the
    sizes only, so a seeded run repeats its history exactly.

    Parameters
    ----------
    budget : float, default 0.03
        The measurements' share of the training, counted in rows (> 0):
        :data:`BUDGET` by default; ``math.inf`` measures every epoch.
    """

    def __init__(self, budget: float = BUDGET) -> None:
        if not budget > 0:
            raise ValueError(f"budget must be a share of the training time above 0, "
                             f"got {budget!r}")
        self.budget = budget

    def every(self, n_samples: int) -> int:
        """Epochs between measurements for a training set of ``n_samples`` rows.

        Parameters
        ----------
        n_samples : int
            Rows in the training set.

        Returns
        -------
        int
            ``k``: every ``k``-th epoch is measured (1 for every epoch).
        """
        return max(1, math.ceil(self._cost(n_samples) / (self.budget * max(1, n_samples))))

    def affordable(self, n_samples: int, epochs: int) -> bool:
        """Whether a fit pays for its first and last measurements within the budget.

        Shorter fits (a few epochs on a few rows, as each call of an
        estimator's ``partial_fit``) are not measured at all.

        Parameters
        ----------
        n_samples : int
            Rows in the training set.
        epochs : int
            Epochs the fit will run.

        Returns
        -------
        bool
            True when it does; a fit that does not is not measured at all.
        """
        return 2 * self._cost(n_samples) <= self.budget * n_samples * epochs

    @staticmethod
    def _cost(n_samples: int) -> int:
        """A measurement's cost, in rows trained."""
        return min(n_samples, HEALTH_SAMPLES) + FIXED_ROWS

    def on_train_begin(self, run: Run) -> None:
        self._first, self._every = run.epoch, self.every(run.n_samples)
        self._off = not self.affordable(run.n_samples, run.epochs - run.epoch)
        self._before: list[np.ndarray] | None = None
        self._last_measured = self._last_epoch = -1

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        due = epoch in (self._first, run.epochs - 1) or (epoch + 1) % self._every == 0
        self._before = [W.copy() for W in run.net.weights] if due and not self._off else None

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        self._last_epoch = epoch
        if self._before is not None:
            self._measure(run, epoch, self._before)
        self._before = None

    def on_train_end(self, run: Run) -> None:
        if self._last_epoch > self._last_measured and not self._off:    # stopped early
            self._measure(run, self._last_epoch, None)

    def _measure(self, run: Run, epoch: int, before: list[np.ndarray] | None) -> None:
        if run.X_train is None or run.Y_train is None:
            return
        run.history.health.append(epoch, measure(run.net, run.X_train, run.Y_train, run.loss,
                                                 before))
        self._last_measured = epoch

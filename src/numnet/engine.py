"""Runners: what presents the batches of an epoch to the network and optimizer.

``fit`` shuffles indices and asks a runner for batches ``first..last`` of an
epoch; the runner returns the sum over those samples of each batch's loss
(measured before its update) times its size. :class:`NumpyRunner` is the
readable path, one batch at a time through :meth:`MLP._loss_and_flat_gradient`
and ``optimizer.step``; :func:`select_runner` picks a faster one when it
gives the same results.
"""

from __future__ import annotations

import numpy as np

from .losses import Loss

__all__ = ["NumpyRunner", "select_runner"]


class NumpyRunner:
    """One batch at a time in NumPy, on a reused flat gradient buffer."""

    compiled = False

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, dropout: float,
                 rng: np.random.Generator) -> None:
        self.net, self.lossfn, self.optimizer = net, lossfn, optimizer
        self.l2, self.dropout, self.rng = l2, dropout, rng
        self.grad = np.empty_like(net.flat_parameters)
        self.params = [net.flat_parameters]

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on batches ``first..last-1`` of ``order``; return the size-weighted loss sum."""
        total = 0.0
        net, step = self.net, self.optimizer.step
        for b in range(first, last):
            idx = order[b * batch_size:(b + 1) * batch_size]
            value, grad = net._loss_and_flat_gradient(
                X[idx], Y[idx], self.lossfn, self.l2, self.dropout, self.rng, out=self.grad)
            step(self.params, [grad])
            total += value * len(idx)
        return total


def select_runner(net, lossfn: Loss, optimizer, batch_size: int, l2: float, dropout: float,
                  rng: np.random.Generator):
    """The fastest runner that supports this configuration."""
    return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng)

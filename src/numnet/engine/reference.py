"""The reference runner: one batch at a time through the readable network code."""

from __future__ import annotations

import numpy as np

from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer

__all__ = ["NumpyRunner"]


class NumpyRunner:
    """The reference: chosen for dropout, sample weights or ``prefer="numpy"``.

    One batch at a time in NumPy, on a reused flat gradient buffer. Each
    batch goes through :meth:`Network.loss_and_flat_gradient` and
    ``optimizer.step``: the definition every faster runner is held to.
    """

    name = "reference"
    whole_epochs = False

    def __init__(self, net: Network, lossfn: Loss, optimizer: Optimizer, l2: float,
                 dropout: float, rng: np.random.Generator | None,
                 sample_weight: np.ndarray | None = None) -> None:
        self.net, self.lossfn, self.optimizer = net, lossfn, optimizer
        self.l2, self.dropout, self.rng = l2, dropout, rng
        self.sample_weight = sample_weight      # (n,) for the samples fit passes, or None
        self.grad = np.empty_like(net.flat_parameters)
        self.params = [net.flat_parameters]

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on batches ``first..last-1`` of ``order``; return the size-weighted loss sum."""
        total = 0.0
        net, step = self.net, self.optimizer.step
        for b in range(first, last):
            idx = order[b * batch_size:(b + 1) * batch_size]
            weights = None if self.sample_weight is None else self.sample_weight[idx]
            value, grad = net.loss_and_flat_gradient(
                X[idx], Y[idx], self.lossfn, self.l2, self.dropout, self.rng, out=self.grad,
                sample_weight=weights)
            step(self.params, [grad])
            total += value * len(idx)
        return total

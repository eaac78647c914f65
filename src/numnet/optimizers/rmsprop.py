"""RMSprop, with PyTorch's semantics: momentum, centring and L2 weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.validation import (
    check_bool,
    check_fraction,
    check_nonnegative_float,
    check_positive_float,
)

from .base import Optimizer
from .schedules import Schedule

__all__ = ["RMSprop"]

class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012) with PyTorch's semantics and defaults.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Initial learning rate (> 0).
    rho : float, default 0.99
        Decay of the squared-gradient average, in [0, 1) (PyTorch's ``alpha``).
    epsilon : float, default 1e-8
        Added to the root mean square, outside the square root (> 0).
    momentum : float, default 0.0
        Momentum factor (>= 0).
    centered : bool, default False
        Divide by an estimate of the gradient's variance instead of its second moment.
    weight_decay : float, default 0.0
        L2 coefficient added to the gradient (>= 0).
    schedule : Schedule, str, dict or None, default None
        Learning-rate schedule, anything :func:`get_schedule` takes.
    clip_norm, clip_value : float or None, default None
        Gradient clipping by global norm and by value (see :class:`Optimizer`).

    Attributes
    ----------
    square_avg : list of ndarray or None
        Running average of squared gradients. With ``momentum > 0`` the state
        also holds ``"momentum_buffer"``, with ``centered`` ``"grad_avg"``.

    Notes
    -----
    PyTorch's ``torch.optim.RMSprop``::

        g = g + weight_decay * p
        square_avg = rho * square_avg + (1 - rho) * g**2
        if centered:
            grad_avg = rho * grad_avg + (1 - rho) * g
            avg = sqrt(max(square_avg - grad_avg**2, 0)) + epsilon
        else:
            avg = sqrt(square_avg) + epsilon
        if momentum > 0:
            buf = momentum * buf + g / avg
            p -= lr * buf
        else:
            p -= lr * g / avg

    Unlike Keras, ``epsilon`` sits outside the square root. The ``max(., 0)``
    guards against rounding below zero (where PyTorch would give NaN). The
    default rate is Keras's 0.001 (PyTorch's is 0.01).
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.99,
        epsilon: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        schedule: Schedule | str | Mapping | None = None,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        super().__init__(learning_rate, schedule, clip_norm=clip_norm, clip_value=clip_value)
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.momentum = check_nonnegative_float(momentum, "momentum")
        self.centered = check_bool(centered, "centered")
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self._state_names = ("square_avg",) + (("momentum_buffer",) if self.momentum > 0.0
                                               else ()) + (("grad_avg",) if self.centered else ())
        self._num_scratch = 2 if self.weight_decay > 0.0 else 1

    @property
    def square_avg(self) -> list[np.ndarray] | None:
        return self.state.get("square_avg")

    def _hyperparameters(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon, "momentum": self.momentum,
                "centered": self.centered, "weight_decay": self.weight_decay}

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        rho = self.rho
        tmp = scratch[0]
        if self.weight_decay > 0.0:
            np.multiply(p, self.weight_decay, out=scratch[1])
            scratch[1] += g
            g = scratch[1]
        sq = self.state["square_avg"][i]
        sq *= rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - rho
        sq += tmp                                   # rho sq + (1 - rho) g^2
        if self.centered:
            ga = self.state["grad_avg"][i]
            ga *= rho
            np.multiply(g, 1.0 - rho, out=tmp)
            ga += tmp                               # rho ga + (1 - rho) g
            np.multiply(ga, ga, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += self.epsilon                         # avg
        np.divide(g, tmp, out=tmp)                  # g / avg
        if self.momentum > 0.0:
            buf = self.state["momentum_buffer"][i]
            buf *= self.momentum
            buf += tmp
            np.multiply(buf, lr, out=tmp)
        else:
            tmp *= lr
        p -= tmp


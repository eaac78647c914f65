"""Adagrad, with PyTorch's semantics and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.validation import check_nonnegative_float, check_positive_float

from .base import Optimizer
from .schedules import Schedule

__all__ = ["Adagrad"]

class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) with PyTorch's semantics and defaults.

    Parameters
    ----------
    learning_rate : float, default 0.01
        Initial learning rate (> 0).
    epsilon : float, default 1e-10
        Added to the root of the accumulator (> 0).
    initial_accumulator_value : float, default 0.0
        Starting value of every accumulator entry (>= 0).
    weight_decay : float, default 0.0
        L2 coefficient added to the gradient (>= 0).
    schedule : Schedule, str, dict or None, default None
        Learning-rate schedule, anything :func:`get_schedule` takes.
    clip_norm, clip_value : float or None, default None
        Gradient clipping by global norm and by value (see :class:`Optimizer`).

    Attributes
    ----------
    accumulator : list of ndarray or None
        Sum of squared gradients (PyTorch's ``sum``), after the first step.

    Notes
    -----
    PyTorch's ``torch.optim.Adagrad`` (``lr_decay=0``; use a schedule instead)::

        g = g + weight_decay * p
        accumulator += g**2                 # starts at initial_accumulator_value
        p -= lr * g / (sqrt(accumulator) + epsilon)
    """

    _state_names = ("accumulator",)

    def __init__(
        self,
        learning_rate: float = 0.01,
        epsilon: float = 1e-10,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
        schedule: Schedule | str | Mapping | None = None,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        super().__init__(learning_rate, schedule, clip_norm=clip_norm, clip_value=clip_value)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.initial_accumulator_value = check_nonnegative_float(
            initial_accumulator_value, "initial_accumulator_value")
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self._num_scratch = 2 if self.weight_decay > 0.0 else 1

    @property
    def accumulator(self) -> list[np.ndarray] | None:
        return self.state.get("accumulator")

    def _new_state(self, name: str, p: np.ndarray) -> np.ndarray:
        return np.full_like(p, self.initial_accumulator_value)

    def _hyperparameters(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon,
                "initial_accumulator_value": self.initial_accumulator_value,
                "weight_decay": self.weight_decay}

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        tmp = scratch[0]
        if self.weight_decay > 0.0:
            np.multiply(p, self.weight_decay, out=scratch[1])
            scratch[1] += g
            g = scratch[1]
        acc = self.state["accumulator"][i]
        np.multiply(g, g, out=tmp)
        acc += tmp                                  # accumulator += g^2
        np.sqrt(acc, out=tmp)
        tmp += self.epsilon
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        p -= tmp                                    # p -= lr g / (sqrt(acc) + eps)


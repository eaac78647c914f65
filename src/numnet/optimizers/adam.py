"""Adam and AdamW: bias-corrected moment estimates, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.validation import check_fraction, check_nonnegative_float, check_positive_float

from .base import KernelRule, KernelSpec, Optimizer
from .schedules import Schedule

__all__ = ["Adam", "AdamW", "ADAM_RULE"]

class _AdamBase(Optimizer):
    """Shared Adam/AdamW maths; ``_decoupled`` selects AdamW's weight decay."""

    _decoupled = False
    _state_names = ("m", "v")

    def __init__(self, learning_rate: float, beta_1: float, beta_2: float, epsilon: float,
                 weight_decay: float, schedule: Schedule | str | Mapping | None, *,
                 clip_norm: float | None = None, clip_value: float | None = None) -> None:
        super().__init__(learning_rate, schedule, clip_norm=clip_norm, clip_value=clip_value)
        self.beta_1 = check_fraction(beta_1, "beta_1")
        self.beta_2 = check_fraction(beta_2, "beta_2")
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        l2 = self.weight_decay > 0.0 and not self._decoupled
        self._num_scratch = 2 if l2 else 1

    @property
    def m(self) -> list[np.ndarray] | None:
        return self.state.get("m")

    @property
    def v(self) -> list[np.ndarray] | None:
        return self.state.get("v")

    def _hyperparameters(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay}

    def _kernel_spec(self) -> KernelSpec | None:
        if type(self)._update is not _AdamBase._update:   # a subclass with its own rule
            return None
        return KernelSpec(ADAM_RULE, np.array([self.learning_rate, float(self._decoupled), 0.0,
                                               self.weight_decay, self.beta_1, self.beta_2,
                                               self.epsilon]))

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        b1, b2, wd = self.beta_1, self.beta_2, self.weight_decay
        tmp = scratch[0]
        if wd > 0.0:
            if self._decoupled:
                p *= 1.0 - lr * wd                  # AdamW: p -= lr * wd * p
            else:
                np.multiply(p, wd, out=scratch[1])
                scratch[1] += g
                g = scratch[1]                      # Adam: g + wd * p
        m, v = self.state["m"][i], self.state["v"][i]
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp                                    # m = b1 m + (1 - b1) g
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp                                    # v = b2 v + (1 - b2) g^2
        step_size = lr / (1.0 - b1 ** self.t)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - b2 ** self.t)
        tmp += self.epsilon                         # sqrt(v_hat) + eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p -= tmp                                    # p -= lr * m_hat / (sqrt(v_hat) + eps)


class Adam(_AdamBase):
    """Adam (Kingma & Ba, 2015) with bias correction; optional L2 weight decay.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Initial learning rate (> 0).
    beta_1 : float, default 0.9
        Decay of the first-moment average, in [0, 1).
    beta_2 : float, default 0.999
        Decay of the second-moment average, in [0, 1).
    epsilon : float, default 1e-8
        Added to ``sqrt(v_hat)`` (> 0).
    weight_decay : float, default 0.0
        L2 coefficient added to the gradient (>= 0), as PyTorch's ``Adam``;
        see :class:`AdamW` for decoupled decay.
    schedule : Schedule, str, dict or None, default None
        Learning-rate schedule, anything :func:`get_schedule` takes.
    clip_norm, clip_value : float or None, default None
        Gradient clipping by global norm and by value (see :class:`Optimizer`).

    Attributes
    ----------
    m, v : list of ndarray or None
        First and second moment averages, after the first step.

    Notes
    -----
    At step ``t = 1, 2, ...`` (PyTorch's ``torch.optim.Adam``)::

        g = g + weight_decay * p
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        p -= lr * m_hat / (sqrt(v_hat) + epsilon)
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Schedule | str | Mapping | None = None,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, schedule,
                         clip_norm=clip_norm, clip_value=clip_value)


class AdamW(_AdamBase):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Parameters
    ----------
    learning_rate : float, default 0.001
        Initial learning rate (> 0).
    beta_1 : float, default 0.9
        Decay of the first-moment average, in [0, 1).
    beta_2 : float, default 0.999
        Decay of the second-moment average, in [0, 1).
    epsilon : float, default 1e-8
        Added to ``sqrt(v_hat)`` (> 0).
    weight_decay : float, default 0.01
        Decoupled decay coefficient (>= 0), scaled by the current rate.
    schedule : Schedule, str, dict or None, default None
        Learning-rate schedule, anything :func:`get_schedule` takes.
    clip_norm, clip_value : float or None, default None
        Gradient clipping by global norm and by value (see :class:`Optimizer`).

    Notes
    -----
    PyTorch's ``torch.optim.AdamW``: first ``p -= lr * weight_decay * p``
    (computed as ``p *= 1 - lr * weight_decay``), then the :class:`Adam` update
    with the raw gradient.
    """

    _decoupled = True

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: Schedule | str | Mapping | None = None,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, schedule,
                         clip_norm=clip_norm, clip_value=clip_value)


# --- the same update, one element at a time, for compiled code ----------------------

def _adam_constants(hyper: np.ndarray, t: int, cast: Any) -> tuple[Any, ...]:
    """``hyper = [lr, decoupled, 0, weight_decay, beta_1, beta_2, epsilon]`` at step ``t``.

    Returns ``(lr / (1 - beta_1**t), 1 / sqrt(1 - beta_2**t), beta_1, 1 - beta_1,
    beta_2, 1 - beta_2, epsilon, l2, decay)``: ``l2`` is Adam's weight decay
    (0 for AdamW) and ``decay`` AdamW's ``1 - lr * weight_decay`` (1 for Adam),
    each computed in float64 as :meth:`_AdamBase._update` does, then cast.
    """
    lr, decoupled, weight_decay = hyper[0], hyper[1] != 0.0, hyper[3]
    b1, b2 = hyper[4], hyper[5]
    step_size = lr / (1.0 - b1 ** float(t))
    inv_bc2 = 1.0 / np.sqrt(1.0 - b2 ** float(t))
    l2 = 0.0 if decoupled else weight_decay
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    return (cast(step_size), cast(inv_bc2), cast(b1), cast(1.0 - b1), cast(b2), cast(1.0 - b2),
            cast(hyper[6]), cast(l2), cast(decay))


def _adam_update(p: Any, g: Any, s1: Any, s2: Any, h: tuple[Any, ...]
                 ) -> tuple[Any, Any, Any]:
    """One parameter: the update of :meth:`_AdamBase._update`; ``s1, s2`` are ``m, v``.

    ``sqrt(v) / sqrt(1 - beta_2**t)`` is a product with the reciprocal here, a
    division in the NumPy form (the update is division-bound): they differ in
    the last bit.
    """
    step_size, inv_bc2, b1, omb1, b2, omb2, epsilon, l2, decay = h
    if decay != 1:
        p = p * decay                               # AdamW: p -= lr * weight_decay * p
    if l2 > 0:
        g = p * l2 + g                              # Adam: g + weight_decay * p
    s1 = s1 * b1 + g * omb1                         # m
    s2 = s2 * b2 + (g * g) * omb2                   # v
    return p - (s1 / (np.sqrt(s2) * inv_bc2 + epsilon)) * step_size, s1, s2


ADAM_RULE = KernelRule("adam", _adam_constants, _adam_update)

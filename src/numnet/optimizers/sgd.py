"""SGD with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.validation import check_bool, check_nonnegative_float

from .base import KernelRule, KernelSpec, Optimizer
from .schedules import Schedule

__all__ = ["SGD", "SGD_RULE"]

class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 decay.

    Parameters
    ----------
    learning_rate : float, default 0.01
        Initial learning rate (> 0).
    momentum : float, default 0.0
        Momentum factor (>= 0); 0 is plain gradient descent.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0``).
    weight_decay : float, default 0.0
        L2 penalty coefficient added to the gradient (>= 0), on every parameter passed.
    schedule : Schedule, str, dict or None, default None
        Learning-rate schedule, anything :func:`get_schedule` takes.
    clip_norm, clip_value : float or None, default None
        Gradient clipping by global norm and by value (see :class:`Optimizer`).

    Attributes
    ----------
    velocity : list of ndarray or None
        Momentum buffers (with ``momentum > 0``, after the first step).

    Notes
    -----
    PyTorch's ``torch.optim.SGD`` (dampening 0), for each parameter ``p`` with
    gradient ``g``::

        g = g + weight_decay * p
        velocity = momentum * velocity + g          # velocity starts at 0
        d = g + momentum * velocity  if nesterov  else  velocity
        p -= lr * d                                 # d = g without momentum
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: Schedule | str | Mapping | None = None,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        super().__init__(learning_rate, schedule, clip_norm=clip_norm, clip_value=clip_value)
        self.momentum = check_nonnegative_float(momentum, "momentum")
        self.nesterov = check_bool(nesterov, "nesterov")
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True requires momentum > 0, got momentum=0.0")
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self._state_names = ("velocity",) if self.momentum > 0.0 else ()
        self._num_scratch = 2 if (self.nesterov and self.weight_decay > 0.0) else 1

    @property
    def velocity(self) -> list[np.ndarray] | None:
        return self.state.get("velocity")

    def _hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def _kernel_spec(self) -> KernelSpec | None:
        if type(self)._update is not SGD._update:      # a subclass with its own rule
            return None
        return KernelSpec(SGD_RULE, np.array([self.learning_rate, self.momentum,
                                              float(self.nesterov), self.weight_decay,
                                              0.0, 0.0, 0.0]))

    def _linear_rate(self) -> float | None:
        plain = self.momentum == 0.0 and self.weight_decay == 0.0
        if plain and type(self)._update is SGD._update:
            return float(self.learning_rate)
        return None

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        s = scratch[0]
        if self.weight_decay > 0.0:
            np.multiply(p, self.weight_decay, out=s)
            s += g
            g = s                                   # g + wd * p
        if self.momentum > 0.0:
            buf = self.state["velocity"][i]
            buf *= self.momentum
            buf += g                                # velocity = momentum * velocity + g
            if self.nesterov:
                d = scratch[1] if g is s else s
                np.multiply(buf, self.momentum, out=d)
                d += g                              # g + momentum * velocity
            else:
                d = buf
        else:
            d = g
        out = d if (d is s or d is scratch[-1]) else s
        np.multiply(d, lr, out=out)
        p -= out


# --- the same update, one element at a time, for compiled code ----------------------

def _sgd_constants(hyper: np.ndarray, t: int, cast: Any) -> tuple[Any, ...]:
    """``hyper = [lr, momentum, nesterov, weight_decay, 0, 0, 0]``, cast; no use of ``t``."""
    zero = cast(0.0)
    return (cast(hyper[0]), cast(hyper[1]), cast(hyper[2]), cast(hyper[3]),
            zero, zero, zero, zero, zero)


def _sgd_update(p: Any, g: Any, s1: Any, s2: Any, h: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """One parameter: the update of :meth:`SGD._update`; ``s1`` is the velocity."""
    lr, momentum, nesterov, weight_decay = h[0], h[1], h[2], h[3]
    if weight_decay > 0:
        g = p * weight_decay + g                    # g + weight_decay * p
    if momentum > 0:
        s1 = s1 * momentum + g                      # velocity = momentum * velocity + g
        d = s1 * momentum + g if nesterov != 0 else s1
    else:
        d = g
    return p - d * lr, s1, s2


SGD_RULE = KernelRule("sgd", _sgd_constants, _sgd_update, per_step=False)

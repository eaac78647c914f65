"""Optimizers and learning-rate schedules.

An optimizer turns gradients into parameter updates with the convention
``W -= lr * dW``. It owns its state (``velocity``, ``m``, ``v``, ``t``, ...):
state arrays are created on the first :meth:`Optimizer.step`, one per
parameter, with the parameter's shape and dtype (float32 stays float32). The
update rules are PyTorch's ``torch.optim`` rules, written out in each class's
``Notes``; hyperparameter names follow Keras (``learning_rate``, ``beta_1``,
``epsilon``).

``step(params, grads)`` updates ``params`` in place, the one sanctioned
mutation; ``grads`` are never modified. The hot path is in-place ufuncs on
preallocated scratch buffers, so the common call with one large flat array,
``opt.step([flat_params], [flat_grads])``, allocates nothing param-sized.
Faster runners use the public interface of :class:`Optimizer`
(:meth:`~Optimizer.state_vectors`, :meth:`~Optimizer.advance`,
:meth:`~Optimizer.kernel_spec`, :meth:`~Optimizer.linear_rate`).

A schedule maps a 0-based epoch and the base rate to a rate
(:meth:`Schedule.lr_at`); the optimizer applies it in :meth:`Optimizer.start_epoch`.
:class:`ReduceLROnPlateau` is the one stateful schedule: it is fed the
monitored metric through :meth:`Optimizer.end_epoch`.

One module per concept: :mod:`~numnet.optimizers.base` (the interface),
:mod:`~numnet.optimizers.sgd`, :mod:`~numnet.optimizers.adam` (Adam, AdamW),
:mod:`~numnet.optimizers.rmsprop`, :mod:`~numnet.optimizers.adagrad`,
:mod:`~numnet.optimizers.schedules`, :mod:`~numnet.optimizers.registry`.

Examples
--------
>>> import numpy as np
>>> opt = SGD(0.1, momentum=0.9, schedule=CosineDecay(total_epochs=50))
>>> W, dW = np.ones((3, 2)), np.full((3, 2), 0.5)
>>> opt.start_epoch(0)
>>> opt.step([W], [dW])
>>> float(W[0, 0])
0.95
"""

from __future__ import annotations

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .registry import OPTIMIZERS, get_optimizer, optimizer_from_config
from .rmsprop import RMSprop
from .schedules import (
    SCHEDULES,
    Constant,
    CosineDecay,
    ExponentialDecay,
    ReduceLROnPlateau,
    Schedule,
    StepDecay,
    get_schedule,
    schedule_from_config,
)
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "OPTIMIZERS",
    "get_optimizer",
    "optimizer_from_config",
    "Schedule",
    "Constant",
    "StepDecay",
    "ExponentialDecay",
    "CosineDecay",
    "ReduceLROnPlateau",
    "SCHEDULES",
    "get_schedule",
    "schedule_from_config",
]

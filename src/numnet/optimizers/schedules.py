"""Learning-rate schedules: maps from a 0-based epoch and the base rate to a rate.

A schedule's :meth:`Schedule.lr_at` is applied by the optimizer in
:meth:`~numnet.optimizers.Optimizer.start_epoch`. :class:`ReduceLROnPlateau` is
the one stateful schedule: it is fed the monitored metric through
:meth:`~numnet.optimizers.Optimizer.end_epoch`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from numnet.validation import (
    check_decay_factor,
    check_fraction,
    check_metric,
    check_nonnegative_float,
    check_nonnegative_int,
    check_positive_int,
    known_kwargs,
)

__all__ = ["Schedule", "Constant", "StepDecay", "ExponentialDecay", "CosineDecay",
           "ReduceLROnPlateau", "SCHEDULES", "get_schedule", "schedule_from_config"]


class Schedule:
    """Base class of learning-rate schedules.

    A schedule is a pure map ``(epoch, base_lr) -> lr`` for a 0-based epoch.
    Only :class:`ReduceLROnPlateau` keeps state; the others return ``{}`` from
    :meth:`state_dict`.
    """

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """The learning rate for ``epoch``, given the initial rate ``base_lr``.

        Parameters
        ----------
        epoch : int
            The epoch, counted from 0.
        base_lr : float
            The optimizer's initial rate.

        Returns
        -------
        float
            The rate.
        """
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """JSON-safe constructor arguments plus ``"type"`` (the class name)."""
        return {"type": type(self).__name__}

    def state_dict(self) -> dict[str, Any]:
        """JSON-safe mutable state (empty for stateless schedules)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Parameters
        ----------
        state : dict
            The output of :meth:`state_dict` (empty for stateless schedules).
        """
        if state:
            raise ValueError(
                f"{type(self).__name__} is stateless, got state with keys {sorted(state)}"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.get_config() == other.get_config()
                and self.state_dict() == other.state_dict())

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


class Constant(Schedule):
    """The base rate at every epoch: ``lr = base_lr``."""

    def lr_at(self, epoch: int, base_lr: float) -> float:
        check_nonnegative_int(epoch, "epoch")
        return float(base_lr)


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    step_size : int
        Epochs between decays (>= 1).
    gamma : float, default 0.1
        Decay factor, in (0, 1].

    Notes
    -----
    ``lr(epoch) = base_lr * gamma ** (epoch // step_size)``, as PyTorch's ``StepLR``.
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_decay_factor(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        epoch = check_nonnegative_int(epoch, "epoch")
        return float(base_lr) * self.gamma ** (epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch.

    Parameters
    ----------
    gamma : float
        Decay factor per epoch, in (0, 1].

    Notes
    -----
    ``lr(epoch) = base_lr * gamma ** epoch``, as PyTorch's ``ExponentialLR``.
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = check_decay_factor(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        epoch = check_nonnegative_int(epoch, "epoch")
        return float(base_lr) * self.gamma ** epoch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma}


class CosineDecay(Schedule):
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``total_epochs``, then ``min_lr``.

    Parameters
    ----------
    total_epochs : int
        Epochs of the half cosine (>= 1); epoch ``total_epochs`` and later get ``min_lr``.
    min_lr : float, default 0.0
        The final rate (>= 0). Meant to be below the optimizer's rate.

    Notes
    -----
    For ``epoch < total_epochs``::

        lr(epoch) = min_lr + (base_lr - min_lr) * (1 + cos(pi * epoch / total_epochs)) / 2

    and ``lr(epoch) = min_lr`` afterwards (PyTorch's ``CosineAnnealingLR``
    closed form, without restarts).
    """

    def __init__(self, total_epochs: int, min_lr: float = 0.0) -> None:
        self.total_epochs = check_positive_int(total_epochs, "total_epochs")
        self.min_lr = check_nonnegative_float(min_lr, "min_lr")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        epoch = check_nonnegative_int(epoch, "epoch")
        if epoch >= self.total_epochs:
            return self.min_lr
        cosine = (1.0 + math.cos(math.pi * epoch / self.total_epochs)) / 2.0
        return self.min_lr + (float(base_lr) - self.min_lr) * cosine

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "total_epochs": self.total_epochs, "min_lr": self.min_lr}


class ReduceLROnPlateau(Schedule):
    """Cut the rate by ``factor`` when the monitored metric stops improving.

    Parameters
    ----------
    factor : float, default 0.1
        Multiplier applied at each reduction, in (0, 1).
    patience : int, default 10
        Epochs without improvement after which the rate is reduced (>= 0).
    min_delta : float, default 1e-4
        An epoch improves only if the metric beats the best so far by more than this.
    min_lr : float, default 0.0
        Floor of the reduced rate.
    mode : {"min", "max"}, default "min"
        Whether a lower (a loss) or a higher (an accuracy) metric is better.

    Attributes
    ----------
    best : float or None
        Best metric seen so far (None before the first finite one).
    wait : int
        Epochs since the last improvement or reduction.
    num_reductions : int
        Reductions so far.

    Notes
    -----
    Each :meth:`update` (called by :meth:`Optimizer.end_epoch`) with ``mode="min"``::

        if metric < best - min_delta:  best, wait = metric, 0
        else:                          wait += 1
        if wait >= patience:           num_reductions += 1; wait = 0

    and ``lr = min(base_lr, max(base_lr * factor ** num_reductions, min_lr))``.
    A NaN or infinite metric never improves. As Keras's ``ReduceLROnPlateau``,
    the rate drops after ``patience`` bad epochs (PyTorch waits ``patience + 1``),
    with an absolute threshold and no cooldown.
    """

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        min_lr: float = 0.0,
        mode: str = "min",
    ) -> None:
        self.factor = check_fraction(factor, "factor", inclusive_low=False)
        self.patience = check_nonnegative_int(patience, "patience")
        self.min_delta = check_nonnegative_float(min_delta, "min_delta")
        self.min_lr = check_nonnegative_float(min_lr, "min_lr")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.best: float | None = None
        self.wait = 0
        self.num_reductions = 0

    def _improves(self, metric: float) -> bool:
        if not math.isfinite(metric):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def update(self, metric: float) -> bool:
        """Record one epoch's metric; return True if the rate was reduced.

        Parameters
        ----------
        metric : float
            The monitored value for the epoch (a NaN or infinite one never improves).

        Returns
        -------
        bool
            Whether this epoch reduced the rate.
        """
        metric = check_metric(metric)
        if self._improves(metric):
            self.best = metric
            self.wait = 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.num_reductions += 1
            self.wait = 0
            return True
        return False

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """The rate after the reductions so far (``epoch`` is checked, otherwise unused)."""
        check_nonnegative_int(epoch, "epoch")
        base_lr = float(base_lr)
        if self.num_reductions == 0:
            return base_lr
        return min(base_lr, max(base_lr * self.factor ** self.num_reductions, self.min_lr))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "patience": self.patience,
                "min_delta": self.min_delta, "min_lr": self.min_lr, "mode": self.mode}

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "num_reductions": self.num_reductions}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        missing = {"best", "wait", "num_reductions"} - set(state)
        if missing:
            raise ValueError(f"ReduceLROnPlateau state is missing {sorted(missing)}")
        best = state["best"]
        if best is not None:
            best = check_metric(best)
            if not math.isfinite(best):
                raise ValueError(f"best must be finite or None, got {best}")
        wait = check_nonnegative_int(state["wait"], "wait")
        num_reductions = check_nonnegative_int(state["num_reductions"], "num_reductions")
        self.best, self.wait, self.num_reductions = best, wait, num_reductions


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": CosineDecay,
    "plateau": ReduceLROnPlateau,
}
_SCHEDULE_CLASSES = {cls.__name__.lower(): cls for cls in SCHEDULES.values()}


def _schedule_class(name: Any) -> type[Schedule]:
    if not isinstance(name, str):
        raise TypeError(f"schedule name must be a string, got {type(name).__name__}: {name!r}")
    key = name.lower()
    cls = SCHEDULES.get(key) or _SCHEDULE_CLASSES.get(key)
    if cls is None:
        raise ValueError(f"unknown schedule {name!r}; valid names: {', '.join(SCHEDULES)}")
    return cls


def get_schedule(name_or_obj: str | Schedule | Mapping[str, Any] | None, **kwargs: Any
                 ) -> Schedule | None:
    """A schedule from a name (with constructor ``kwargs``), a config, or an instance.

    Parameters
    ----------
    name_or_obj : str, Schedule, dict or None
        One of ``"constant"``, ``"step"``, ``"exponential"``, ``"cosine"``,
        ``"plateau"`` (case-insensitive; class names work too); a
        :class:`Schedule` (returned as is); a config from
        :meth:`Schedule.get_config`; or None (returned as is: no schedule).
    **kwargs : dict
        Constructor arguments, with a name only.

    Examples
    --------
    >>> get_schedule("step", step_size=10)
    StepDecay(step_size=10, gamma=0.1)
    """
    if name_or_obj is None or isinstance(name_or_obj, Schedule):
        if kwargs:
            raise ValueError(
                f"schedule arguments {sorted(kwargs)} can only be given with a schedule name"
            )
        return name_or_obj
    if isinstance(name_or_obj, Mapping):
        if kwargs:
            raise ValueError(
                f"schedule arguments {sorted(kwargs)} can only be given with a schedule name"
            )
        return schedule_from_config(name_or_obj)
    return _schedule_class(name_or_obj)(**kwargs)


def schedule_from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.get_config` (``"type"`` plus arguments).

    Parameters
    ----------
    config : dict
        ``"type"`` (a schedule's name or class name) and the constructor arguments.

    Returns
    -------
    Schedule
        A fresh schedule (for :class:`ReduceLROnPlateau`, no state yet).
    """
    if not isinstance(config, Mapping) or "type" not in config:
        raise ValueError(f"a schedule config must be a dict with a 'type' key, got {config!r}")
    cls = _schedule_class(config["type"])
    return cls(**known_kwargs(cls, config, "schedule"))


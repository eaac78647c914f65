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

A schedule maps a 0-based epoch and the base rate to a rate
(:meth:`Schedule.lr_at`); the optimizer applies it in :meth:`Optimizer.start_epoch`.
:class:`ReduceLROnPlateau` is the one stateful schedule: it is fed the
monitored metric through :meth:`Optimizer.end_epoch`.

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

import inspect
import math
import numbers
from typing import Any, Mapping, Sequence

import numpy as np

from numnet.validation import (
    check_fraction,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
)

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


# --- small checks -------------------------------------------------------------

def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


def _check_nonnegative_int(value: Any, name: str) -> int:
    if type(value) is int and value >= 0:      # the common case, without ABC checks
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_decay_factor(value: Any, name: str) -> float:
    """A float in (0, 1]: a factor the rate is multiplied by."""
    value = check_positive_float(value, name)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1] (a decay factor), got {value}")
    return value


def _check_metric(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"metric must be a real number (NaN allowed), got {type(value).__name__}: {value!r}"
        )
    return float(value)


# --- schedules ----------------------------------------------------------------

class Schedule:
    """Base class of learning-rate schedules.

    A schedule is a pure map ``(epoch, base_lr) -> lr`` for a 0-based epoch.
    Only :class:`ReduceLROnPlateau` keeps state; the others return ``{}`` from
    :meth:`state_dict`.
    """

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """The learning rate for ``epoch`` (0-based), given the initial rate ``base_lr``."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """JSON-safe constructor arguments plus ``"type"`` (the class name)."""
        return {"type": type(self).__name__}

    def state_dict(self) -> dict[str, Any]:
        """JSON-safe mutable state (empty for stateless schedules)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
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


def _check_epoch(epoch: Any) -> int:
    return _check_nonnegative_int(epoch, "epoch")


class Constant(Schedule):
    """The base rate at every epoch: ``lr = base_lr``."""

    def lr_at(self, epoch: int, base_lr: float) -> float:
        _check_epoch(epoch)
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
        self.gamma = _check_decay_factor(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        epoch = _check_epoch(epoch)
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
        self.gamma = _check_decay_factor(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        epoch = _check_epoch(epoch)
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
        epoch = _check_epoch(epoch)
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
        self.patience = _check_nonnegative_int(patience, "patience")
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
        """Record one epoch's metric; return True if the rate was reduced."""
        metric = _check_metric(metric)
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
        _check_epoch(epoch)
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
            best = _check_metric(best)
            if not math.isfinite(best):
                raise ValueError(f"best must be finite or None, got {best}")
        wait = _check_nonnegative_int(state["wait"], "wait")
        num_reductions = _check_nonnegative_int(state["num_reductions"], "num_reductions")
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
    **kwargs
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
    """Rebuild a schedule from :meth:`Schedule.get_config` (``"type"`` plus arguments)."""
    if not isinstance(config, Mapping) or "type" not in config:
        raise ValueError(f"a schedule config must be a dict with a 'type' key, got {config!r}")
    cls = _schedule_class(config["type"])
    return cls(**_known_kwargs(cls, config, "schedule"))


def _known_kwargs(cls: type, config: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``config`` minus ``"type"``, refusing keys the constructor does not take."""
    kwargs = {k: v for k, v in config.items() if k != "type"}
    valid = [name for name in inspect.signature(cls).parameters]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown {what} argument(s) {unknown} for {cls.__name__}; valid: {list(valid)}"
        )
    return kwargs


# --- optimizers ---------------------------------------------------------------

class Optimizer:
    """Base class: bookkeeping, validation, schedules and (de)serialisation.

    Subclasses set ``_state_names`` (the per-parameter state arrays, e.g.
    ``("m", "v")``), ``_num_scratch`` (scratch buffers per parameter) and
    implement ``_update(i, p, g, lr, scratch)`` for one parameter.

    Parameters
    ----------
    learning_rate : float
        Initial rate (> 0).
    schedule : Schedule, str, dict or None
        Learning-rate schedule, anything :func:`get_schedule` takes.

    Attributes
    ----------
    learning_rate : float
        The current rate, set by :meth:`start_epoch` from the schedule.
    initial_learning_rate : float
        The rate the schedule starts from.
    schedule : Schedule or None
    t : int
        Steps taken.
    state : dict of str to list of ndarray
        Per-parameter state arrays by name; empty until the first step.
    """

    _state_names: tuple[str, ...] = ()
    _num_scratch: int = 1

    def __init__(self, learning_rate: float, schedule: Schedule | str | Mapping | None = None
                 ) -> None:
        self.initial_learning_rate = check_positive_float(learning_rate, "learning_rate")
        self.learning_rate = self.initial_learning_rate
        self.schedule = get_schedule(schedule)
        self.t = 0
        self.state: dict[str, list[np.ndarray]] = {}
        self._scratch: list[list[np.ndarray]] = []

    # --- the update -----------------------------------------------------------

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update every ``params[i]`` in place from ``grads[i]``.

        Parameters
        ----------
        params : list of ndarray
            Floating-point arrays, updated in place (``W -= lr * dW``).
        grads : list of ndarray
            ``grads[i]`` has ``params[i].shape``; cast to the parameter's dtype
            if it differs (a copy), never modified.

        Raises
        ------
        ValueError
            If the lists differ in length, a gradient's shape differs from its
            parameter's, or the parameters do not match the state built so far.
        TypeError
            If a parameter is not a floating-point ndarray.
        """
        params, grads = self._check_step_args(params, grads)
        self._prepare(params)
        self.t += 1
        lr = float(self.learning_rate)
        for i, (p, g) in enumerate(zip(params, grads)):
            self._update(i, p, g, lr, self._scratch[i])

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        raise NotImplementedError

    @staticmethod
    def _check_step_args(params: Any, grads: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        for name, seq in (("params", params), ("grads", grads)):
            if isinstance(seq, np.ndarray) or not isinstance(seq, Sequence):
                raise TypeError(
                    f"{name} must be a list of arrays, got {type(seq).__name__}; "
                    f"for one array pass [{name[:-1]}]"
                )
        if len(params) != len(grads):
            raise ValueError(
                f"got {len(params)} params but {len(grads)} grads; pass one gradient per parameter"
            )
        checked = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                what = p.dtype.name if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(f"params[{i}] must be a floating-point ndarray, got {what}")
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}; "
                    f"they must match"
                )
            if g.dtype != p.dtype:
                g = g.astype(p.dtype)
            checked.append(g)
        return list(params), checked

    def _prepare(self, params: list[np.ndarray]) -> None:
        """Create the state on the first step, check it afterwards, fit the scratch buffers."""
        if self._state_names:
            if not self.state:
                self.state = {name: [self._new_state(name, p) for p in params]
                              for name in self._state_names}
            else:
                self._check_state_matches(params)
        scratch = self._scratch
        if len(scratch) != len(params) or any(
                s[0].shape != p.shape or s[0].dtype != p.dtype for s, p in zip(scratch, params)):
            self._scratch = [[np.empty_like(p) for _ in range(self._num_scratch)]
                             for p in params]

    def _new_state(self, name: str, p: np.ndarray) -> np.ndarray:
        return np.zeros_like(p)

    def _check_state_matches(self, params: list[np.ndarray]) -> None:
        first = self.state[self._state_names[0]]
        if len(first) != len(params):
            raise ValueError(
                f"{type(self).__name__} state holds {len(first)} parameter(s), got "
                f"{len(params)}; pass the same parameters at every step "
                f"(or use a new optimizer)"
            )
        for i, (s, p) in enumerate(zip(first, params)):
            if s.shape != p.shape:
                raise ValueError(
                    f"params[{i}] has shape {p.shape} but the optimizer state for it has "
                    f"shape {s.shape}; pass the same parameters at every step"
                )
            if s.dtype != p.dtype:  # e.g. state loaded from a float64 run: follow the params
                for name in self._state_names:
                    self.state[name][i] = self.state[name][i].astype(p.dtype)

    # --- epochs and schedules -------------------------------------------------

    def start_epoch(self, epoch: int) -> None:
        """Set :attr:`learning_rate` from the schedule for ``epoch`` (0-based)."""
        epoch = _check_epoch(epoch)
        if self.schedule is not None:
            self.learning_rate = self.schedule.lr_at(epoch, self.initial_learning_rate)

    def end_epoch(self, epoch: int, metric: float | None = None) -> None:
        """Feed the monitored ``metric`` to a :class:`ReduceLROnPlateau` schedule.

        The rate for the next epoch is applied at once. A no-op for the other
        schedules and without one.
        """
        epoch = _check_epoch(epoch)
        if isinstance(self.schedule, ReduceLROnPlateau):
            if metric is None:
                raise ValueError(
                    "ReduceLROnPlateau needs the monitored metric: call "
                    "end_epoch(epoch, metric) with e.g. the validation loss"
                )
            self.schedule.update(metric)
            self.learning_rate = self.schedule.lr_at(epoch + 1, self.initial_learning_rate)

    # --- configuration and state ----------------------------------------------

    def _hyperparameters(self) -> dict[str, Any]:
        """Constructor arguments other than ``learning_rate`` and ``schedule``."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """JSON-safe constructor arguments, the schedule's config and ``"type"``.

        ``optimizer_from_config(opt.get_config())`` builds a fresh equivalent.
        """
        return {
            "type": type(self).__name__,
            "learning_rate": self.initial_learning_rate,
            **self._hyperparameters(),
            "schedule": None if self.schedule is None else self.schedule.get_config(),
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly.

        Returns
        -------
        dict
            ``get_config()`` plus ``"initial_learning_rate"``, the current
            ``"learning_rate"``, ``"t"``, ``"schedule_state"`` (JSON-safe
            values), and the state arrays as ``"<name>.<index>"`` (e.g.
            ``"m.0"``, ``"v.0"``), copies with the parameters' dtype.
        """
        state: dict[str, Any] = self.get_config()
        state["initial_learning_rate"] = self.initial_learning_rate
        state["learning_rate"] = float(self.learning_rate)
        state["t"] = int(self.t)
        state["schedule_state"] = {} if self.schedule is None else self.schedule.state_dict()
        for name, arrays in self.state.items():
            for i, arr in enumerate(arrays):
                state[f"{name}.{i}"] = arr.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output: the continuation is bit-identical.

        Hyperparameters and the schedule come from ``state`` too, as in PyTorch.

        Raises
        ------
        ValueError
            If ``state`` is for another optimizer type, lacks a key, or its
            arrays are inconsistent (missing indices, shapes that differ
            between state names, unknown names).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict from state_dict(), got {type(state).__name__}")
        kind = state.get("type")
        if kind != type(self).__name__:
            raise ValueError(
                f"state is for optimizer type {kind!r}, cannot load it into {type(self).__name__}"
            )
        config = self.get_config()
        missing = [k for k in (*config, "initial_learning_rate", "t") if k not in state]
        if missing:
            raise ValueError(f"{type(self).__name__} state is missing key(s) {missing}")
        # A fresh instance validates the hyperparameters and the schedule config. Its
        # learning_rate is the initial one: state["learning_rate"] is the current rate,
        # which a schedule may have taken to 0.
        kwargs = {k: state[k] for k in config if k != "type"}
        kwargs["learning_rate"] = state["initial_learning_rate"]
        fresh = type(self)(**kwargs)
        arrays = self._collect_arrays(state, fresh._state_names)
        if fresh.schedule is not None:
            fresh.schedule.load_state_dict(state.get("schedule_state") or {})
        initial_lr = fresh.initial_learning_rate
        learning_rate = check_nonnegative_float(state.get("learning_rate", initial_lr),
                                                "learning_rate")
        t = _check_nonnegative_int(state["t"], "t")
        self.__dict__.update(fresh.__dict__)
        self.initial_learning_rate = initial_lr
        self.learning_rate = learning_rate
        self.t = t
        self.state = arrays
        self._scratch = []

    def _collect_arrays(self, state: Mapping[str, Any], names: tuple[str, ...]
                        ) -> dict[str, list[np.ndarray]]:
        found: dict[str, dict[int, np.ndarray]] = {}
        for key, value in state.items():
            if not isinstance(value, np.ndarray):
                continue
            name, _, index = key.rpartition(".")
            if name not in names or not index.isdigit():
                raise ValueError(
                    f"unexpected array {key!r} in {type(self).__name__} state; expected "
                    f"names {['<%s>.<i>' % n for n in names] or 'none'}"
                )
            if value.dtype.kind != "f":
                raise ValueError(f"state array {key!r} must be floating-point, got {value.dtype}")
            found.setdefault(name, {})[int(index)] = value
        if not found:
            return {}
        missing = [n for n in names if n not in found]
        if missing:
            raise ValueError(f"state has arrays for {sorted(found)} but none for {missing}")
        count = len(found[names[0]])
        arrays: dict[str, list[np.ndarray]] = {}
        for name in names:
            if sorted(found[name]) != list(range(count)):
                raise ValueError(
                    f"state arrays {name!r} have indices {sorted(found[name])}; expected "
                    f"0..{count - 1} like {names[0]!r}"
                )
            arrays[name] = [np.array(found[name][i], copy=True) for i in range(count)]
        for i in range(count):
            shapes = {name: arrays[name][i].shape for name in names}
            if len(set(shapes.values())) > 1:
                raise ValueError(f"state arrays for parameter {i} differ in shape: {shapes}")
        return arrays

    def __repr__(self) -> str:
        config = self.get_config()
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{config['type']}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 decay.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0.0
        Momentum factor (>= 0); 0 is plain gradient descent.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0``).
    weight_decay : float, default 0.0
        L2 penalty coefficient added to the gradient (>= 0), on every parameter passed.
    schedule : Schedule, str, dict or None, default None

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
    ) -> None:
        super().__init__(learning_rate, schedule)
        self.momentum = check_nonnegative_float(momentum, "momentum")
        self.nesterov = _check_bool(nesterov, "nesterov")
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


class _AdamBase(Optimizer):
    """Shared Adam/AdamW maths; ``_decoupled`` selects AdamW's weight decay."""

    _decoupled = False
    _state_names = ("m", "v")

    def __init__(self, learning_rate: float, beta_1: float, beta_2: float, epsilon: float,
                 weight_decay: float, schedule: Schedule | str | Mapping | None) -> None:
        super().__init__(learning_rate, schedule)
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
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, schedule)


class AdamW(_AdamBase):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-8
    weight_decay : float, default 0.01
        Decoupled decay coefficient (>= 0), scaled by the current rate.
    schedule : Schedule, str, dict or None, default None

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
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, schedule)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012) with PyTorch's semantics and defaults.

    Parameters
    ----------
    learning_rate : float, default 0.001
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
    ) -> None:
        super().__init__(learning_rate, schedule)
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.momentum = check_nonnegative_float(momentum, "momentum")
        self.centered = _check_bool(centered, "centered")
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


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) with PyTorch's semantics and defaults.

    Parameters
    ----------
    learning_rate : float, default 0.01
    epsilon : float, default 1e-10
        Added to the root of the accumulator (> 0).
    initial_accumulator_value : float, default 0.0
        Starting value of every accumulator entry (>= 0).
    weight_decay : float, default 0.0
        L2 coefficient added to the gradient (>= 0).
    schedule : Schedule, str, dict or None, default None

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
    ) -> None:
        super().__init__(learning_rate, schedule)
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


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


def _optimizer_class(name: Any) -> type[Optimizer]:
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}: {name!r}")
    cls = OPTIMIZERS.get(name.lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    return cls


def get_optimizer(name_or_obj: str | Optimizer | Mapping[str, Any],
                  learning_rate: float | None = None) -> Optimizer:
    """An optimizer from a name, a config, or an instance.

    Parameters
    ----------
    name_or_obj : str, Optimizer or dict
        ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"adagrad"``
        (case-insensitive), built with its defaults; an :class:`Optimizer`,
        returned as is; or a config from :meth:`Optimizer.get_config`.
    learning_rate : float, optional
        Overrides the default (or the config's) rate. An instance has its
        own rate: giving one as well is an error (it would be ignored).

    Examples
    --------
    >>> get_optimizer("SGD", learning_rate=0.1)
    SGD(learning_rate=0.1, momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None)
    """
    if isinstance(name_or_obj, Optimizer):
        if learning_rate is not None:
            name = type(name_or_obj).__name__
            raise ValueError(
                f"learning_rate={learning_rate} was given with an optimizer instance "
                f"({name}, learning rate {name_or_obj.learning_rate}), which keeps its own "
                f"rate; give the rate to the optimizer, {name}({learning_rate}), or pass it "
                f"by name: optimizer={name.lower()!r}, learning_rate={learning_rate}"
            )
        return name_or_obj
    if isinstance(name_or_obj, Mapping):
        config = dict(name_or_obj)
        if learning_rate is not None:
            config["learning_rate"] = learning_rate
        return optimizer_from_config(config)
    cls = _optimizer_class(name_or_obj)
    return cls() if learning_rate is None else cls(learning_rate=learning_rate)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer (and its schedule) from :meth:`Optimizer.get_config`."""
    if not isinstance(config, Mapping) or "type" not in config:
        raise ValueError(f"an optimizer config must be a dict with a 'type' key, got {config!r}")
    cls = _optimizer_class(config["type"])
    return cls(**_known_kwargs(cls, config, "optimizer"))

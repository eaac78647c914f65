"""The optimizer base class: bookkeeping, schedules, state and the interface runners use.

An optimizer turns gradients into parameter updates with the convention
``W -= lr * dW``. It owns its state (``velocity``, ``m``, ``v``, ...), its
learning rate and its step count ``t``. Runners reach all of it through public
methods only:

* :meth:`Optimizer.step` is the reference update (in-place NumPy);
* :meth:`Optimizer.state_vectors` hands out the state for one flat parameter
  vector, created as the first step would;
* :meth:`Optimizer.advance` counts steps taken elsewhere (a compiled loop);
* :meth:`Optimizer.kernel_spec` describes the update to compiled code (its
  :class:`KernelRule`, the update written for one element beside the
  optimizer's NumPy form, and the hyperparameters now), or is None when the
  optimizer has no compiled form;
* :meth:`Optimizer.linear_rate` is the rate when the update is exactly
  ``p -= lr * g``, which a caller may fuse into the gradient's product.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from numnet.validation import check_nonnegative_float, check_nonnegative_int, check_positive_float

from .schedules import ReduceLROnPlateau, Schedule, get_schedule

__all__ = ["Optimizer", "KernelSpec", "KernelRule", "RULE_CONSTANTS", "RULE_HYPERPARAMETERS"]

RULE_CONSTANTS = 9          # what a KernelRule's constants() returns
RULE_HYPERPARAMETERS = 7    # the length of a KernelSpec's hyper


class KernelRule(NamedTuple):
    """An update rule for one element, written so that numba can compile it.

    Plain Python (NumPy scalar functions only), defined beside the
    optimizer's NumPy :meth:`Optimizer.step` so that the update is written in
    one module; :mod:`numnet.engine.kernels.formulas` compiles it.

    Attributes
    ----------
    name : str
        The rule's key (``"sgd"``, ``"adam"``): the compiled kernels look the
        rule up by it.
    constants : callable ``(hyper, t, cast) -> tuple``
        What :attr:`update` needs at step ``t`` (1-based): ``RULE_CONSTANTS``
        numbers computed in float64 from ``hyper`` (a :class:`KernelSpec`'s),
        then cast to the parameters' scalar type ``cast``.
    update : callable ``(p, g, s1, s2, h) -> (p, s1, s2)``
        One parameter ``p`` with gradient ``g`` and its two state values
        (0 where unused), ``h`` being :attr:`constants`' tuple.
    per_step : bool
        Whether :attr:`constants` depend on ``t`` (Adam's bias correction);
        when not, compiled loops compute them once per call.
    """

    name: str
    constants: Callable[[Any, int, Any], tuple[Any, ...]]
    update: Callable[[Any, Any, Any, Any, tuple[Any, ...]], tuple[Any, Any, Any]]
    per_step: bool = True


class KernelSpec(NamedTuple):
    """What compiled code needs to apply an optimizer's update, read at one moment.

    Attributes
    ----------
    rule : KernelRule
        The compiled form of this optimizer's :meth:`Optimizer.step`.
    hyper : ndarray of shape (RULE_HYPERPARAMETERS,), float64
        The hyperparameters, laid out as the rule reads them (each rule's
        module says how). Read now: a schedule changes the rate between
        epochs.
    """

    rule: KernelRule
    hyper: np.ndarray


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
    clip_norm : float or None
        Gradient clipping by global norm (PyTorch's ``clip_grad_norm_``): when
        the norm of all of a step's gradients together exceeds it, they are
        scaled down to it.
    clip_value : float or None
        Gradient clipping by value (``clip_grad_value_``): each element into
        ``[-clip_value, clip_value]``, before ``clip_norm``.

    Attributes
    ----------
    learning_rate : float
        The current rate, set by :meth:`start_epoch` from the schedule.
    initial_learning_rate : float
        The rate the schedule starts from.
    schedule : Schedule or None
        The learning-rate schedule, or None for a constant rate.
    t : int
        Steps taken.
    state : dict of str to list of ndarray
        Per-parameter state arrays by name; empty until the first step.

    Notes
    -----
    Clipping needs a step's whole gradient, so with either set the compiled
    runners, which update as they go, are not chosen (:meth:`kernel_spec` and
    :meth:`linear_rate` are None); :func:`numnet.fit` trains on the others.
    """

    _state_names: tuple[str, ...] = ()
    _num_scratch: int = 1

    def __init__(self, learning_rate: float, schedule: Schedule | str | Mapping | None = None,
                 *, clip_norm: float | None = None, clip_value: float | None = None) -> None:
        self.clip_norm = None if clip_norm is None else check_positive_float(clip_norm,
                                                                             "clip_norm")
        self.clip_value = None if clip_value is None else check_positive_float(clip_value,
                                                                               "clip_value")
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
            Floating-point arrays of any shape, updated in place (``W -= lr * dW``).
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
        grads = self._clipped(grads)
        self._prepare(params)
        self.t += 1
        lr = float(self.learning_rate)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            self._update(i, p, g, lr, self._scratch[i])

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float,
                scratch: list[np.ndarray]) -> None:
        raise NotImplementedError

    @property
    def clips(self) -> bool:
        """Whether this optimizer clips its gradients (``clip_norm`` or ``clip_value``)."""
        return self.clip_norm is not None or self.clip_value is not None

    def _clipped(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The step's gradients clipped by value, then by their global norm (new arrays)."""
        if self.clip_value is not None:
            grads = [np.clip(g, -self.clip_value, self.clip_value) for g in grads]
        if self.clip_norm is not None:
            norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
            if norm > self.clip_norm:               # False for NaN: the guard's business
                grads = [g * (self.clip_norm / norm) for g in grads]
        return grads

    # --- what faster runners use ------------------------------------------------

    def state_vectors(self, params: np.ndarray) -> tuple[np.ndarray, ...]:
        """The state arrays for one flat parameter vector, in ``_state_names`` order.

        Created as the first :meth:`step` would create them (and cast to the
        parameters' dtype after a :meth:`load_state_dict`); the arrays are the
        optimizer's own, to be updated in place. Unlike :meth:`step` this
        allocates no scratch buffers.

        Parameters
        ----------
        params : ndarray of shape (num_parameters,)
            The flat parameter vector the state is for.

        Returns
        -------
        tuple of ndarray, each of shape (num_parameters,)
            ``()`` for a stateless optimizer.
        """
        if self._state_names and not self.state:
            self.state = {name: [self._new_state(name, params)] for name in self._state_names}
        elif self._state_names:
            self._check_state_matches([params])
        return tuple(self.state[name][0] for name in self._state_names)

    def advance(self, steps: int = 1) -> int:
        """Count ``steps`` updates applied elsewhere; return the number of the first (1-based).

        A compiled loop that takes steps ``first, first + 1, ...`` calls this
        once before it runs, so :attr:`t` counts them as :meth:`step` would.

        Parameters
        ----------
        steps : int, default 1
            Updates the loop will apply.

        Returns
        -------
        int
            The number of the first of them, ``t + 1`` before the call.
        """
        first = self.t + 1
        self.t += steps
        return first

    def kernel_spec(self) -> KernelSpec | None:
        """The update as compiled code sees it, or None when there is no compiled form.

        The base class has none; :class:`~numnet.optimizers.SGD`,
        :class:`~numnet.optimizers.Adam` and :class:`~numnet.optimizers.AdamW`
        have one (their subclasses do not, unless they say so), unless they clip.
        """
        return None if self.clips else self._kernel_spec()

    def _kernel_spec(self) -> KernelSpec | None:
        return None

    def linear_rate(self) -> float | None:
        """The rate ``lr`` when the next update is exactly ``p -= lr * g``, else None.

        Then a caller may fold it into the gradient's own product
        (``W -= A.T @ (lr * dZ)``) and :meth:`advance` the count.
        """
        return None if self.clips else self._linear_rate()

    def _linear_rate(self) -> float | None:
        return None

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
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
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
                s[0].shape != p.shape or s[0].dtype != p.dtype
                for s, p in zip(scratch, params, strict=True)):
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
        for i, (s, p) in enumerate(zip(first, params, strict=True)):
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
        """Set :attr:`learning_rate` from the schedule for ``epoch``.

        Parameters
        ----------
        epoch : int
            The epoch about to run, counted from 0.
        """
        epoch = check_nonnegative_int(epoch, "epoch")
        if self.schedule is not None:
            self.learning_rate = self.schedule.lr_at(epoch, self.initial_learning_rate)

    def end_epoch(self, epoch: int, metric: float | None = None) -> None:
        """Feed the monitored ``metric`` to a :class:`ReduceLROnPlateau` schedule.

        The rate for the next epoch is applied at once. A no-op for the other
        schedules and without one.

        Parameters
        ----------
        epoch : int
            The epoch just ended, counted from 0.
        metric : float or None, default None
            The monitored value, e.g. the validation loss; required with a
            :class:`ReduceLROnPlateau` schedule.
        """
        epoch = check_nonnegative_int(epoch, "epoch")
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
        clipping = {name: value for name, value in (("clip_norm", self.clip_norm),
                                                      ("clip_value", self.clip_value))
                    if value is not None}           # absent when unset, as before clipping
        return {
            "type": type(self).__name__,
            "learning_rate": self.initial_learning_rate,
            **self._hyperparameters(),
            **clipping,
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

        Parameters
        ----------
        state : dict
            What :meth:`state_dict` returned, for an optimizer of this type.

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
        kwargs.update({k: state[k] for k in ("clip_norm", "clip_value") if k in state})
        kwargs["learning_rate"] = state["initial_learning_rate"]
        fresh = type(self)(**kwargs)
        arrays = self._collect_arrays(state, fresh._state_names)
        if fresh.schedule is not None:
            fresh.schedule.load_state_dict(state.get("schedule_state") or {})
        initial_lr = fresh.initial_learning_rate
        learning_rate = check_nonnegative_float(state.get("learning_rate", initial_lr),
                                                "learning_rate")
        t = check_nonnegative_int(state["t"], "t")
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
                    f"names {[f'<{n}>.<i>' for n in names] or 'none'}"
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


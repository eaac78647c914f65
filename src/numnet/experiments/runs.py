"""One run of a sweep: make the data, build the network, fit it, measure it.

A run is described by a :class:`RunSpec` (its settings, its seed and where
its data comes from) and ends as a plain, JSON-safe ``dict`` (see
:data:`RESULT_FIELDS`), whether it trained or raised: a run that raises is
recorded as failed, with its error, and the sweep goes on.

Randomness: the run's seed is split with :class:`numpy.random.SeedSequence`
into three independent streams, one each for the initial weights, the
training data and ``fit`` (shuffling, validation split, dropout). NumPy's
global random state is never touched, so the same seed gives the same result
in any process, on any worker.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import os
import platform
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import numnet
from numnet import MLP, History, fit

__all__ = ["RunSpec", "DataSource", "execute_run", "empty_result", "one_minus_x_grid", "DATA_SETS",
           "MLP_ARGS", "FIT_ARGS", "DATA_ARGS", "RUN_ARGS", "RESULT_FIELDS"]

logger = logging.getLogger(__name__)

#: Settings that go to :class:`numnet.MLP`.
MLP_ARGS = ("hidden_layers", "activation", "output_activation", "bias", "init", "dtype")
#: Settings that go to :func:`numnet.fit`.
FIT_ARGS = ("loss", "optimizer", "learning_rate", "epochs", "batch_size", "shuffle",
            "validation_split", "l2", "dropout", "metrics")
#: Settings of the data.
DATA_ARGS = ("n_samples",)
#: Settings of the run itself: ``lr_scale="tutorial"`` reads ``learning_rate`` on
#: the tutorial's scale (see :func:`execute_run`).
RUN_ARGS = ("lr_scale",)

#: The keys of a run's result, in the store's column order.
RESULT_FIELDS = ("key", "status", "settings", "seed", "num_parameters", "final_loss",
                 "train_error", "validation_error", "test_error", "epochs_run", "diverged",
                 "stop_reason", "wall_time", "loss_curve", "error", "worker")

Arrays = tuple[np.ndarray, np.ndarray]


def one_minus_x_grid(n_samples: int = 100, random_state: int | np.random.Generator | None = None
                     ) -> Arrays:
    """The data of the tutorial's answer to its challenge: ``y = 1 - x`` for ``x = i / N``.

    The inputs are ``0, 1/N, ..., (N - 1)/N`` for ``N = n_samples``, shuffled
    by ``random_state``. Unlike :func:`numnet.datasets.one_minus_x` (``x``
    uniform at random) the inputs are a regular grid, as in the tutorial.

    Returns ``X: (n_samples, 1)``, ``y: (n_samples, 1)``.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    rng = np.random.default_rng(random_state)
    X = rng.permutation(np.arange(int(n_samples)) / float(n_samples)).reshape(-1, 1)
    return X, 1.0 - X


#: Data sets known by name, beyond :data:`numnet.datasets.DATASETS`.
DATA_SETS: dict[str, Callable[..., Arrays]] = {"one_minus_x_grid": one_minus_x_grid}

# Fixed seeds of the held-out sets: the same for every run of every sweep, so
# that runs are measured on the same points.
_VALIDATION_SEED = 20_241
_TEST_SEED = 20_242


def _generator(name: str) -> Callable[..., Arrays]:
    if name in DATA_SETS:
        return DATA_SETS[name]
    if name in numnet.datasets.DATASETS:
        return lambda **kw: numnet.datasets.get_dataset(name, **kw)
    known = sorted([*numnet.datasets.DATASETS, *DATA_SETS])
    raise ValueError(f"unknown data set {name!r}; choose from {known}, or pass arrays (X, y)")


@dataclass(frozen=True)
class DataSource:
    """Where a run's data comes from: a data set by name, or arrays.

    Parameters
    ----------
    name : str, optional
        A built-in set (:data:`numnet.datasets.DATASETS` or :data:`DATA_SETS`):
        each run draws its ``n_samples`` training samples from its own seed;
        the validation and test sets (``n_validation``, ``n_test`` samples)
        are drawn once, from fixed seeds, and shared by all runs.
    train, validation, test : (X, y), optional
        Arrays instead: each run trains on ``n_samples`` rows of ``train``
        chosen by its seed (all of them without ``n_samples``).
    n_validation, n_test : int
        Sizes of the held-out sets of a named set (0 for none).
    """

    name: str | None = None
    train: Arrays | None = None
    validation: Arrays | None = None
    test: Arrays | None = None
    n_validation: int = 200
    n_test: int = 1000

    def __post_init__(self) -> None:
        if (self.name is None) == (self.train is None):
            raise ValueError("a DataSource needs a data set name or training arrays, not both")
        if self.name is not None:
            _generator(self.name)       # fail now, in the driver, on an unknown name

    def identity(self) -> dict[str, Any]:
        """What tells this data apart from other data: part of every run's key."""
        if self.name is not None:
            return {"name": self.name, "n_validation": self.n_validation, "n_test": self.n_test}
        digest = hashlib.sha256()
        for part in (self.train, self.validation, self.test):
            for a in part or ():
                a = np.ascontiguousarray(a)
                digest.update(f"{a.dtype.str}{a.shape}".encode())
                digest.update(a.tobytes())
        return {"arrays": digest.hexdigest()[:16]}

    def make(self, n_samples: int | None, rng: np.random.Generator
             ) -> tuple[Arrays, Arrays | None, Arrays | None]:
        """``(train, validation, test)`` for one run; the held-out sets may be None."""
        if self.name is not None:
            gen = _generator(self.name)
            kwargs = {} if n_samples is None else {"n_samples": n_samples}
            train = gen(**kwargs, random_state=rng)
            val = (gen(n_samples=self.n_validation, random_state=_VALIDATION_SEED)
                   if self.n_validation else None)
            test = gen(n_samples=self.n_test, random_state=_TEST_SEED) if self.n_test else None
            return train, val, test
        if self.train is None:
            raise ValueError("a DataSource needs a data set name or training arrays")
        X, y = self.train
        if n_samples is not None:
            if n_samples > len(X):
                raise ValueError(f"n_samples={n_samples} is more than the {len(X)} training "
                                 f"rows given; use n_samples <= {len(X)}")
            rows = rng.permutation(len(X))[:n_samples]
            X, y = X[rows], y[rows]
        return (X, y), self.validation, self.test


@dataclass
class RunSpec:
    """One run: its settings (grid values), seed, data and the fixed ``fit`` arguments."""

    key: str
    settings: dict[str, Any]
    seed: int
    data: DataSource
    fit_kwargs: dict[str, Any] = field(default_factory=dict)


def _is_labels(y: np.ndarray) -> bool:
    return y.ndim == 1 and (y.dtype.kind in "iub" or y.dtype.kind in "OUS")


def _error(net: MLP, X: np.ndarray, y: np.ndarray, loss: str | None, classification: bool
           ) -> float:
    """The loss (regression) or the misclassification rate (class labels) of ``net``."""
    if classification:
        return 1.0 - numnet.evaluate(net, X, y, loss=loss, metrics=["accuracy"])["accuracy"]
    return float(numnet.evaluate(net, X, y, loss=loss)["loss"])


def _build(settings: Mapping[str, Any], X: np.ndarray, y: np.ndarray,
           rng: np.random.Generator) -> tuple[MLP, dict[str, Any], bool]:
    """The network of ``settings`` for data ``X, y``, and the loss it trains with."""
    mlp_kwargs = {k: settings[k] for k in MLP_ARGS if k in settings}
    hidden = mlp_kwargs.pop("hidden_layers", (3,))
    extra: dict[str, Any] = {}
    classification = _is_labels(np.asarray(y))
    if classification:
        n_classes = len(np.unique(y))
        num_outputs = 1 if n_classes <= 2 else n_classes
        if num_outputs == 1:
            extra["loss"] = "binary_cross_entropy"
        else:
            mlp_kwargs.setdefault("output_activation", "softmax")
    else:
        num_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    net = MLP(np.shape(X)[1], hidden, num_outputs, **mlp_kwargs, random_state=rng)
    return net, extra, classification


def empty_result(spec: RunSpec) -> dict[str, Any]:
    """A result of ``spec`` with nothing measured: its key, settings and seed, the other
    fields of :data:`RESULT_FIELDS` None."""
    result: dict[str, Any] = {name: None for name in RESULT_FIELDS}
    result.update(key=spec.key, settings=dict(spec.settings), seed=int(spec.seed))
    return result


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Train one network as ``spec`` says and measure it; never raises.

    The network is ``numnet.MLP(num_inputs, hidden_layers, num_outputs, ...)``
    from the settings named in :data:`MLP_ARGS`; ``numnet.fit`` gets the
    spec's ``fit_kwargs`` updated by the settings named in :data:`FIT_ARGS`,
    ``verbose=False`` and the validation set as ``validation_data``.

    With ``lr_scale="tutorial"`` the ``learning_rate`` is the tutorial's: its
    step on ``E = 0.5 * sum((t - o) ** 2)`` with rate ``lr`` is SGD on the mean
    squared error with rate ``lr * num_outputs / 2``, which is what runs (as
    in :meth:`numnet.MLP.train`).

    Returns
    -------
    dict
        The fields of :data:`RESULT_FIELDS`. Errors are the loss (mean squared
        error by default) for regression targets and the misclassification
        rate for class labels; ``final_loss`` is the last epoch's training
        loss as ``fit`` reports it (the tutorial's printed ``Error``);
        ``loss_curve`` has one value per epoch. A run that raised has
        ``status="failed"`` and the exception in ``error``.
    """
    began = time.perf_counter()
    result = empty_result(spec)
    result["worker"] = f"{platform.node()}:{os.getpid()}"
    try:
        result.update(_train_and_measure(spec))
        result["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 (a failed run is a result, the sweep goes on)
        logger.info("run %s failed: %s", spec.key, exc)
        result["status"] = "failed"
        result["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    result["wall_time"] = time.perf_counter() - began
    return result


def _train_and_measure(spec: RunSpec) -> dict[str, Any]:
    """Make the run's data, build and fit its network, and measure it."""
    settings = spec.settings
    unknown = sorted(set(settings) - set(MLP_ARGS + FIT_ARGS + DATA_ARGS + RUN_ARGS))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}")
    init_seq, data_seq, fit_seq = np.random.SeedSequence(spec.seed).spawn(3)
    train, val, test = spec.data.make(settings.get("n_samples"), np.random.default_rng(data_seq))
    X, y = train
    net, extra, classification = _build(settings, X, y, np.random.default_rng(init_seq))
    fit_kwargs = _fit_arguments(spec, net, extra, val)
    history = fit(net, X, y, verbose=False, random_state=np.random.default_rng(fit_seq),
                  **fit_kwargs)
    if history.interrupted:       # Ctrl-C: a cut-short run is not a result; stop the sweep
        raise KeyboardInterrupt
    return _measure(net, history, fit_kwargs, train, val, test, classification)


def _measure(net: MLP, history: History, fit_kwargs: Mapping[str, Any], train: Arrays,
             val: Arrays | None, test: Arrays | None, classification: bool) -> dict[str, Any]:
    """The measured fields of a run's result, from its fitted ``net`` and ``fit``'s
    ``history``: errors on each set, the loss curve, epochs run and whether it diverged."""
    loss = fit_kwargs.get("loss")
    split = fit_kwargs.get("validation_split", 0.0)
    curve = [float(v) for v in history.loss]
    final = curve[-1] if curve else math.nan
    stop = history.stop_reason
    return {
        "num_parameters": int(net.num_parameters),
        "final_loss": final,
        "train_error": _error(net, *train, loss, classification),
        "validation_error": (history.val_loss[-1] if split and history.val_loss
                             else _error(net, *val, loss, classification) if val is not None
                             else None),
        "test_error": _error(net, *test, loss, classification) if test is not None else None,
        "epochs_run": history.epochs,
        "diverged": bool(stop is not None and stop.startswith("diverged")
                         or not math.isfinite(final)),
        "stop_reason": stop,
        "loss_curve": curve,
    }


def _fit_arguments(spec: RunSpec, net: MLP, extra: Mapping[str, Any],
                   val: Arrays | None) -> dict[str, Any]:
    """The run's ``fit`` keyword arguments: the spec's fixed ones, updated by its settings,
    then ``extra`` (the loss class labels need) where unset, the learning rate on
    ``fit``'s scale, and the validation set unless ``fit`` splits one off."""
    settings = spec.settings
    fit_kwargs = copy.deepcopy(spec.fit_kwargs)      # optimizer objects hold state: one per run
    fit_kwargs.update({k: settings[k] for k in FIT_ARGS if k in settings})
    for k, v in extra.items():
        fit_kwargs.setdefault(k, v)
    scale = settings.get("lr_scale", "fit")
    if scale not in ("fit", "tutorial"):
        raise ValueError(f"lr_scale must be 'fit' or 'tutorial', got {scale!r}")
    if scale == "tutorial":
        if "learning_rate" not in fit_kwargs:
            raise ValueError("lr_scale='tutorial' needs a learning_rate setting")
        fit_kwargs["learning_rate"] = fit_kwargs["learning_rate"] * net.num_outputs / 2.0
    if val is not None and not fit_kwargs.get("validation_split", 0.0):
        fit_kwargs.setdefault("validation_data", val)
    return fit_kwargs

"""``fit``: epochs of mini-batches, validation, callbacks, and a ``History``.

The loop, for each epoch: shuffle the sample *indices* (never the data),
present the batches to a runner (forward, loss, backward, optimizer step),
measure validation loss and metrics, then let callbacks see the epoch's logs
and stop the run if they ask. The loss reported for an epoch is the mean of
each batch's loss as measured before that batch's update, weighted by batch
size (the tutorial's "error" with ``batch_size=1``).

Runners (:mod:`numnet.engine`) do the batches: the readable NumPy path, or a
compiled one for per-example and small-network training when numba is
installed. They give the same numbers (to float tolerance).
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from . import optimizers as _optimizers
from .callbacks import Callback, CallbackList, DivergenceGuard, ProgressBar
from .engine import select_runner
from .initializers import check_random_state
from .labels import encode_labels
from .losses import Loss, get_loss
from .validation import (check_features, check_fraction, check_nonnegative_float,
                         check_positive_int, check_sample_weight, check_targets)

__all__ = ["fit", "evaluate", "History", "Run"]

logger = logging.getLogger(__name__)


@dataclass
class History:
    """What happened in each epoch of a :func:`fit`.

    Attributes
    ----------
    loss, val_loss : list of float
        Training loss per epoch (mean over the epoch's batches) and validation
        loss (empty without validation data).
    metrics : dict of str to list of float
        e.g. ``{"accuracy": [...], "val_accuracy": [...]}``.
    learning_rate, time : list of float
        The optimizer's rate and the wall-clock seconds of each epoch.
    stop_reason : str or None
        Why training ended before ``epochs`` (early stop, divergence, Ctrl-C).
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    learning_rate: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.loss)

    def record(self, logs: dict[str, float]) -> None:
        """Append one epoch's logs."""
        self.loss.append(logs["loss"])
        if "val_loss" in logs:
            self.val_loss.append(logs["val_loss"])
        for key, value in logs.items():
            if key not in ("loss", "val_loss", "learning_rate", "time"):
                self.metrics.setdefault(key, []).append(value)
        self.learning_rate.append(logs["learning_rate"])
        self.time.append(logs["time"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy (for checkpoints and logs)."""
        return {"loss": list(self.loss), "val_loss": list(self.val_loss),
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "learning_rate": list(self.learning_rate), "time": list(self.time),
                "stop_reason": self.stop_reason, "interrupted": self.interrupted}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        """Inverse of :meth:`to_dict`."""
        return cls(loss=list(data.get("loss", [])), val_loss=list(data.get("val_loss", [])),
                   metrics={k: list(v) for k, v in data.get("metrics", {}).items()},
                   learning_rate=list(data.get("learning_rate", [])),
                   time=list(data.get("time", [])), stop_reason=data.get("stop_reason"),
                   interrupted=bool(data.get("interrupted", False)))


@dataclass
class Run:
    """The state of one ``fit`` call, as callbacks see it.

    Callbacks may read everything and set ``stop_training`` (with a
    ``stop_reason``); the ``net`` and ``optimizer`` are the live objects.
    """

    net: Any
    optimizer: _optimizers.Optimizer
    history: History
    loss: Loss
    epochs: int
    batch_size: int
    n_samples: int
    steps_per_epoch: int
    rng: np.random.Generator
    verbose: bool
    X_train: np.ndarray | None = None
    Y_train: np.ndarray | None = None
    epoch: int = 0
    stop_training: bool = False
    stop_reason: str | None = None
    fit_config: dict[str, Any] = field(default_factory=dict)

    def loss_on(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The loss of the network now on validated arrays ``X``, ``Y`` (no update)."""
        return _evaluate(self.net, X, Y, None, self.loss, ())[0]

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch, saying why."""
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason


class _InterruptFlag:
    """Turns the first Ctrl-C into a request to stop at the end of the batch.

    A second Ctrl-C interrupts at once, as usual. Only installed from the
    main thread (elsewhere signals cannot be caught).
    """

    def __init__(self) -> None:
        self.raised = False
        self._previous = None

    def _handler(self, signum, frame):
        self.raised = True
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)

    def __enter__(self) -> "_InterruptFlag":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _split_validation(X, Y, labels, fraction, rng, sample_weight=None):
    n_val = int(round(len(X) * fraction))
    if n_val < 1 or n_val >= len(X):
        raise ValueError(
            f"validation_split={fraction} leaves {n_val} validation and {len(X) - n_val} "
            f"training sample(s) of {len(X)}; use a fraction that leaves at least one of each"
        )
    order = rng.permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    lab_train = labels[train] if labels is not None else None
    lab_val = labels[val] if labels is not None else None
    sw_train = sample_weight[train] if sample_weight is not None else None
    return X[train], Y[train], lab_train, X[val], Y[val], lab_val, sw_train


def _evaluate(net, X, Y, labels, lossfn: Loss, metrics: Sequence[str], prefix: str = ""):
    """Loss (and metrics) of ``net`` on validated arrays, without updating anything."""
    logs = {}
    P, cache = net.forward_train(X)
    if lossfn.fused_with == net.output_activation:
        value = lossfn.value_from_logits(cache[-1].Z, Y)
    else:
        value = lossfn.value(P, Y)
    if prefix:
        logs[f"{prefix}loss"] = value
    for name in metrics:
        if name == "accuracy":
            if net.num_outputs == 1:
                pred = (P[:, 0] > 0.5).astype(np.intp)
            else:
                pred = np.argmax(P, axis=1)
            logs[f"{prefix}accuracy"] = float(np.mean(pred == labels))
        elif name in ("mse", "mae"):
            logs[f"{prefix}{name}"] = get_loss(name).value(P, Y)
    return value, logs


def evaluate(net, X: Any, y: Any, *, loss: str | Loss | None = None,
             metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Loss and metrics of ``net`` on ``(X, y)``, without training.

    ``y`` takes the same forms as in :func:`fit`; class labels must be among
    ``net.classes_``. Returns e.g. ``{"loss": 0.08, "accuracy": 0.97}``.
    """
    lossfn = _loss_for(net, loss)
    X2, _ = check_features(X, net.num_inputs, net.dtype)
    Y, labels, _ = encode_labels(y, net, lossfn, len(X2))
    metrics = _check_metrics(metrics, labels)
    with np.errstate(over="ignore", under="ignore"):
        value, logs = _evaluate(net, X2, Y, labels, lossfn, metrics)
    return {"loss": value, **logs}


def _loss_for(net, loss: str | Loss | None) -> Loss:
    """``loss``, or by default categorical cross-entropy for a softmax output, else mse."""
    if loss is None:
        loss = "categorical_cross_entropy" if net.output_activation == "softmax" else "mse"
    return get_loss(loss)


def _check_metrics(metrics: Sequence[str] | None, labels) -> list[str]:
    if metrics is None:
        return ["accuracy"] if labels is not None else []
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    for name in metrics:
        if name not in ("accuracy", "mse", "mae"):
            raise ValueError(f"unknown metric {name!r}; choose from ['accuracy', 'mae', 'mse']")
        if name == "accuracy" and labels is None:
            raise ValueError("metric 'accuracy' needs class labels as y")
    return metrics


def _batches_per_chunk(steps: int, callbacks: CallbackList, whole_epochs: bool) -> int:
    """How many batches run between checks for callbacks and Ctrl-C."""
    if not whole_epochs:
        return 1
    if callbacks.wants_batches:
        return max(1, steps // 100)
    return steps


def fit(
    net,
    X: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: str | _optimizers.Optimizer = "sgd",
    learning_rate: float | None = None,
    epochs: int = 10,
    batch_size: int | str | None = "auto",
    shuffle: bool = True,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Sequence[Callback] | None = None,
    metrics: Sequence[str] | None = None,
    l2: float = 0.0,
    dropout: float = 0.0,
    verbose: bool = True,
    random_state: int | np.random.Generator | None = None,
    resume_from: str | None = None,
    sample_weight: Any = None,
) -> History:
    """Train ``net`` in place on ``(X, y)`` and return the :class:`History`.

    Parameters
    ----------
    net : MLP
    X : array-like of shape (n_samples, num_inputs)
    y : array-like
        Regression targets ``(n_samples, num_outputs)`` (1-D for one output),
        or class labels ``(n_samples,)`` (ints or strings) with a
        cross-entropy loss: softmax with ``num_outputs`` classes, or a single
        sigmoid unit for two classes. Labels set ``net.classes_``, so that
        ``net.predict`` gives labels back.
    loss : str or Loss, optional
        Default: ``"categorical_cross_entropy"`` for a softmax output, else ``"mse"``.
    optimizer : str or Optimizer, default "sgd"
        An :mod:`numnet.optimizers` instance, or a name with ``learning_rate``.
    learning_rate : float, optional
        Only with an optimizer given by name (default: that optimizer's).
    epochs : int, default 10
        Passes over the training data.
    batch_size : int, "auto" or None, default "auto"
        Samples per update; 1 is the tutorial's per-example training, None the
        whole set, "auto" 32 (or the whole set when smaller). An int larger
        than the training set is clipped to it, with a warning.
    shuffle : bool, default True
        Present the samples in a new random order each epoch.
    validation_split : float in [0, 1), default 0
        Hold out this fraction of the samples (chosen at random) to measure
        ``val_loss``; ignored when ``validation_data`` is given.
    validation_data : (X_val, y_val), optional
    callbacks : list of Callback, optional
        A :class:`numnet.callbacks.DivergenceGuard` is always added unless one
        is given; ``verbose=True`` adds a progress bar.
    metrics : list of str, optional
        ``"accuracy"``, ``"mse"``, ``"mae"``; default ``["accuracy"]`` when
        ``y`` holds labels.
    l2 : float, default 0
        L2 penalty ``0.5 * l2 * sum(W ** 2)`` on weights (not biases).
    dropout : float in [0, 1), default 0
        Probability of zeroing each hidden unit during training (never at predict).
    verbose : bool, default True
        Show a progress bar on a terminal; one log line per epoch elsewhere.
    random_state : int, Generator or None
        Seeds shuffling, the validation split and dropout: the same seed and
        initial weights give bit-identical results.
    resume_from : str or path, optional
        A checkpoint from :class:`numnet.callbacks.ModelCheckpoint`: weights,
        optimizer state, history and random state are restored and training
        continues at the next epoch, as if it had never stopped.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weight of each sample: each batch's loss is the weighted
        mean of its samples' losses (validation losses are unweighted). Trains
        on the reference NumPy path.

    Returns
    -------
    History
        Per-epoch loss, validation loss, metrics, learning rate and time.
        Ctrl-C stops at the end of the current batch and returns the history
        so far (``history.interrupted`` is True).
    """
    from .network import MLP
    if not isinstance(net, MLP):
        raise TypeError(f"fit trains a numnet.MLP, got {type(net).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    validation_split = check_fraction(validation_split, "validation_split")
    l2 = check_nonnegative_float(l2, "l2")
    dropout = check_fraction(dropout, "dropout")
    auto_batch = isinstance(batch_size, str) and batch_size == "auto"
    if not auto_batch and batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size", "; try 32, or None for full batch")
    lossfn = _loss_for(net, loss)
    opt = _optimizers.get_optimizer(optimizer, learning_rate)
    rng = check_random_state(random_state)

    X2, _ = check_features(X, net.num_inputs, net.dtype)
    Y, labels, classes = encode_labels(y, net, lossfn, len(X2))
    if classes is not None:
        net.classes_ = classes
    metrics = _check_metrics(metrics, labels)
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, len(X2), net.dtype)

    if validation_data is not None:
        Xv_raw, yv_raw = validation_data
        Xv, _ = check_features(Xv_raw, net.num_inputs, net.dtype, name="validation X")
        Yv, labels_v, _ = encode_labels(yv_raw, net, lossfn, len(Xv), name="validation y")
        Xt, Yt, labels_t, sw_t = X2, Y, labels, sample_weight
    elif validation_split > 0:
        Xt, Yt, labels_t, Xv, Yv, labels_v, sw_t = _split_validation(
            X2, Y, labels, validation_split, rng, sample_weight)
    else:
        Xt, Yt, labels_t, sw_t = X2, Y, labels, sample_weight
        Xv = Yv = labels_v = None

    n = len(Xt)
    if batch_size is None:
        batch_size = n
    elif auto_batch:
        batch_size = min(32, n)
    elif batch_size > n:
        warnings.warn(f"batch_size={batch_size} is larger than the {n} training sample(s); "
                      f"using batch_size={n}", stacklevel=2)
        batch_size = n
    steps = math.ceil(n / batch_size)

    history = History()
    start_epoch = 0
    if resume_from is not None:
        from .io import load_checkpoint
        ckpt = load_checkpoint(resume_from)
        if ckpt.net.get_config() != net.get_config():
            raise ValueError(f"checkpoint {resume_from} holds {ckpt.net!r}, but fit was given "
                             f"{net!r}; build the same architecture to resume")
        net.flat_parameters[...] = ckpt.net.flat_parameters
        opt.load_state_dict(ckpt.optimizer_state)
        rng.bit_generator.state = ckpt.rng_state
        history = History.from_dict(ckpt.history)
        start_epoch = ckpt.epoch
        if classes is None and ckpt.net.classes_ is not None:
            net.classes_ = ckpt.net.classes_

    cbs = list(callbacks or [])
    if not any(isinstance(cb, DivergenceGuard) for cb in cbs):
        cbs.insert(0, DivergenceGuard())   # first: later callbacks see restored weights
    if verbose and not any(isinstance(cb, ProgressBar) for cb in cbs):
        cbs.append(ProgressBar())
    cb = CallbackList(cbs)

    run = Run(net=net, optimizer=opt, history=history, loss=lossfn, epochs=epochs,
              batch_size=batch_size, n_samples=n, steps_per_epoch=steps, rng=rng,
              verbose=verbose, X_train=Xt, Y_train=Yt, epoch=start_epoch,
              fit_config={"loss": lossfn.name, "batch_size": batch_size, "epochs": epochs,
                          "shuffle": shuffle, "l2": l2, "dropout": dropout})
    runner = select_runner(net, lossfn, opt, batch_size, l2, dropout, rng, sample_weight=sw_t)
    chunk = _batches_per_chunk(steps, cb, runner.whole_epochs)
    order = np.arange(n)

    with _InterruptFlag() as interrupt, np.errstate(over="ignore", invalid="ignore",
                                                     divide="ignore", under="ignore"):
        cb.on_train_begin(run)
        for epoch in range(start_epoch, epochs):
            if run.stop_training:
                break
            run.epoch = epoch
            opt.start_epoch(epoch)
            cb.on_epoch_begin(run, epoch)
            began = time.perf_counter()
            if shuffle:
                order = rng.permutation(n)
            total, seen = 0.0, 0
            for first in range(0, steps, chunk):
                last = min(first + chunk, steps)
                total += runner.run(Xt, Yt, order, first, last, batch_size)
                seen = min(last * batch_size, n)
                cb.on_batch_end(run, last - 1, {"loss": total / seen, "seen": seen})
                if interrupt.raised:
                    run.stop("interrupted (Ctrl-C)")
                    history.interrupted = True
                if run.stop_training:
                    break
            if seen < n:          # an interrupted epoch is not recorded
                break
            logs = {"loss": total / n}
            if metrics:
                logs.update(_evaluate(net, Xt, Yt, labels_t, lossfn, metrics)[1])
            if Xv is not None:
                logs.update(_evaluate(net, Xv, Yv, labels_v, lossfn, metrics, prefix="val_")[1])
            logs["learning_rate"] = opt.learning_rate
            logs["time"] = time.perf_counter() - began
            history.record(logs)
            opt.end_epoch(epoch, logs.get("val_loss", logs["loss"]))
            cb.on_epoch_end(run, epoch, logs)
            if interrupt.raised and not run.stop_training:
                run.stop("interrupted (Ctrl-C)")
                history.interrupted = True
        history.stop_reason = run.stop_reason
        cb.on_train_end(run)
    if history.stop_reason:
        logger.info("training stopped: %s", history.stop_reason)
    return history

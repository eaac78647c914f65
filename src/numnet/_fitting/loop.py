"""``fit``: epochs of mini-batches, validation, callbacks, and a ``History``.

The loop, for each epoch: shuffle the sample *indices* (never the data),
present the batches to a runner (forward, loss, backward, optimizer step),
measure validation loss and metrics, then let callbacks see the epoch's logs
and stop the run if they ask. The loss reported for an epoch is the mean of
each batch's loss as measured before that batch's update, weighted by batch
size (the tutorial's "error" with ``batch_size=1``).

:func:`fit` is four named stages: :func:`prepare_data` (checks, labels,
validation split, batch size; then :func:`check_training_memory`, before
anything is allocated), :func:`build_run` (optimizer, restored state,
callbacks, runner), :func:`run_epochs` (the loop) and :func:`finish` (which
warns when the run learned nothing, :mod:`numnet._fitting.diagnosis`).

Runners (:mod:`numnet.engine`) do the batches: the readable reference
(``Network.loss_and_flat_gradient``), the buffered NumPy path for large
networks, or a compiled one for per-example and small-network training when
numba is installed. They give the same numbers (to float tolerance);
:func:`numnet.engine.choose_runner` picks one by a short list of rules, and
``History.runner`` names the one that trained (:func:`planned_runner` names it
before any training, for ``MLP.summary``).
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol, TypeGuard, cast

import numpy as np

from numnet.baselines import not_beaten
from numnet.engine import NumpyRunner, Rule, Runner, choose_runner, select_runner
from numnet.initializers import check_random_state
from numnet.labels import class_sample_weights, encode_labels
from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer, get_optimizer
from numnet.validation import (
    check_features,
    check_fraction,
    check_memory,
    check_nonnegative_float,
    check_positive_int,
    check_sample_weight,
    format_bytes,
)

from .callbacks import Callback, CallbackList, DivergenceGuard, ProgressBar
from .diagnosis import PROBE_SAMPLES, TrainingWarning, begin, learned_nothing
from .evaluation import (
    baseline_logs,
    check_metrics,
    evaluate_arrays,
    evaluate_blocks,
    loss_for,
    split_validation,
)
from .health import HEALTH_SAMPLES, HealthMonitor
from .history import History
from .run import InterruptFlag, Run

__all__ = ["fit", "Resume", "Data", "RowSource", "prepare_data", "check_training_memory",
           "build_run", "run_epochs", "finish", "say_baseline", "planned_runner"]

logger = logging.getLogger("numnet.training")  # the public module: logging set-ups stay valid


@dataclass
class Resume:
    """The state of an earlier run, to continue it exactly (what a checkpoint holds).

    Attributes
    ----------
    parameters : ndarray of shape (num_parameters,)
        The network's flat parameters.
    optimizer_state : dict
        ``Optimizer.state_dict()``.
    rng_state : dict
        ``Generator.bit_generator.state``.
    history : dict
        ``History.to_dict()``.
    epoch : int
        Epochs completed.
    classes : list or None
        The network's ``classes_``.
    """

    parameters: np.ndarray
    optimizer_state: dict[str, Any]
    rng_state: dict[str, Any]
    history: dict[str, Any]
    epoch: int
    classes: list[Any] | None = None


class RowSource(Protocol):
    """Training rows ``(n_samples, num_inputs)`` kept in another form than a dense array
    (the estimators' sparse ``X``), densified by ``fit`` a few batches at a time.

    ``fit`` takes one as ``X``: each batch is the same rows, in the same order, as
    with the dense array, so training gives the same numbers; the diagnoses (the
    probe before training, the divergence guard's advice, the health records, the
    verbose baseline) read its first :data:`HEAD_ROWS` rows. ``validation_split``
    and metrics on the training rows need a dense ``X``.
    """

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def nbytes(self) -> int: ...

    def __len__(self) -> int: ...

    def dense_rows(self, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` as a dense C-contiguous ``(len(index), num_inputs)`` array."""
        ...


def is_row_source(X: Any) -> TypeGuard[RowSource]:
    """Whether ``X`` is a :class:`RowSource` (it has ``dense_rows``): a type's attribute
    looked up, as ``isinstance`` with a runtime protocol costs tens of microseconds a call."""
    return not isinstance(X, np.ndarray) and callable(getattr(type(X), "dense_rows", None))


#: Rows of a :class:`RowSource` densified at once while training (at least one batch).
CHUNK_BYTES = 1 << 22
#: Dense rows of a :class:`RowSource` the diagnoses read: as many as any of them takes.
HEAD_ROWS = max(PROBE_SAMPLES, HEALTH_SAMPLES, DivergenceGuard.BASELINE_SAMPLES)


@dataclass
class Data:
    """The checked training and validation (``*v``) arrays of a ``fit`` call, and its batching."""

    lossfn: Loss
    X: np.ndarray | RowSource           # (n, num_inputs), the net's dtype
    Y: np.ndarray                       # (n, num_outputs)
    labels: np.ndarray | None           # (n,) class indices, or None for regression
    Xv: np.ndarray | None
    Yv: np.ndarray | None
    labels_v: np.ndarray | None
    classes: list[Any] | None
    metrics: list[str]
    batch_size: int
    sample_weight: np.ndarray | None = None     # (n,) of the training samples, or None
    steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.steps = math.ceil(len(self.X) / self.batch_size)


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer = "sgd",
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
    resume: Resume | None = None,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> History:
    """Train ``net`` in place on ``(X, y)`` and return the :class:`History`.

    Parameters
    ----------
    net : Network (numnet.MLP)
    X : array-like of shape (n_samples, num_inputs)
        For a one-input network also a flat sequence of ``n_samples`` values
        (the tutorial's ``[x / 10 for x in range(10)]``); or a :class:`RowSource`
        (the estimators' sparse ``X``), densified a few batches at a time.
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
        Only with an optimizer given by name (default: that optimizer's); with
        an optimizer instance it is an error, as the instance has its own rate.
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
        L2 penalty ``0.5 * l2 * sum(W ** 2)`` on weights (not biases), added to
        each batch's mean loss: numnet's one name for it. The estimators'
        ``alpha`` is scikit-learn's scaling of the same penalty (``alpha / n``
        per sample, converted to ``l2``); an optimizer's ``weight_decay`` is
        not a loss term but a decay of every parameter in the update (for
        :class:`~numnet.optimizers.SGD` the same as ``l2`` with biases
        included; decoupled from the gradient in ``AdamW``).
    dropout : float in [0, 1), default 0
        Probability of zeroing each hidden unit during training (never at predict).
    verbose : bool, default True
        Show a progress bar on a terminal; one line per epoch elsewhere (as
        Keras's ``verbose=2``, no logging set-up needed); both on stderr.
        Then the baseline's scores, keyed as the epoch's (``baseline
        loss=0.08333 val_loss=0.0859 (always predicting the training targets'
        mean)``: the constant fitted on the training targets,
        :mod:`numnet.baselines`), and ``learned nothing: ...`` with what to try
        when the trained network does not beat its loss.
    random_state : int, Generator or None
        Seeds shuffling, the validation split and dropout: the same seed and
        initial weights give bit-identical results. None (the default) draws
        from the network's own generator ``net.rng`` when it was built with a
        ``random_state`` (so a seeded script repeats run after run, and each
        later ``fit`` continues that stream), else from fresh entropy.
    resume : Resume, optional
        The state of an earlier run, restored: weights, optimizer state,
        history, random state and epoch; training continues at the next epoch,
        as if it had never stopped. :func:`numnet.fit`'s ``resume_from`` reads
        one from a checkpoint file.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weight of each sample: each batch's loss is the weighted
        mean of its samples' losses (validation losses are unweighted). Trains
        on the reference NumPy path.
    class_weight : "balanced" or dict, optional
        Weights the samples of each class (class labels as ``y`` only):
        ``"balanced"`` so that every class weighs the same in the loss
        (``n_samples / (n_classes * class count)``), or ``{label: weight}``
        (classes left out weigh 1). Multiplied into ``sample_weight`` when both
        are given, as scikit-learn does; trains on the reference path, as
        ``sample_weight`` does.

    Returns
    -------
    History
        Per-epoch loss, validation loss, metrics, learning rate and time.
        Ctrl-C stops at the end of the current batch and returns the history
        so far (``history.interrupted`` is True).

    Raises
    ------
    ValueError
        For bad arguments or data; for finite features that overflow the
        network's arithmetic (values near the float range: scale them); and,
        before anything is allocated, when training would need more than the
        memory available now (the message counts it and says whether a
        smaller batch_size or network is the fix).
    MemoryError
        When memory runs out during training all the same, with that count.

    Warns
    -----
    TrainingWarning
        Once, at the end, when the run learned nothing (its loss is not below
        the loss before training, or a constant prediction's) and the cause
        can be named: data on a large scale, or units the learning rate drove
        into saturation (outputs pinned at 0 or 1). A divergence is the stop
        reason instead (``history.stop_reason`` starts with ``"diverged"``).
    """
    if not isinstance(net, Network):
        raise TypeError(f"fit trains a numnet.MLP, got {type(net).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    l2 = check_nonnegative_float(l2, "l2")
    dropout = check_fraction(dropout, "dropout")
    opt = get_optimizer(optimizer, learning_rate)
    # fit's own seed wins; else the seeded network's generator (its stream continues
    # from fit to fit); else fresh entropy.
    rng = net.rng if random_state is None and net.rng is not None \
        else check_random_state(random_state)
    data = prepare_data(net, X, y, loss=loss, batch_size=batch_size, metrics=metrics,
                        validation_split=validation_split, validation_data=validation_data,
                        rng=rng, sample_weight=sample_weight, class_weight=class_weight)
    needed = check_training_memory(net, data, opt)
    try:
        run, cbs, runner = build_run(net, data, opt, epochs=epochs, shuffle=shuffle, l2=l2,
                                     dropout=dropout, callbacks=callbacks, verbose=verbose,
                                     rng=rng, resume=resume)
        with InterruptFlag() as interrupt, np.errstate(over="ignore", invalid="ignore",
                                                        divide="ignore", under="ignore"):
            run.start = begin(net, cast(np.ndarray, run.X_train), data.Y, data.lossfn,
                              data.batch_size)
            epochs_before = run.history.epochs
            cbs.on_train_begin(run)
            run_epochs(run, cbs, runner, data, shuffle, interrupt)
            finish(run, cbs, trained=run.history.epochs > epochs_before)
            if verbose and run.history.epochs > epochs_before:
                say_baseline(run, cbs, data)
    except MemoryError as exc:          # what the estimate could not foresee: memory in use
        raise MemoryError(
            f"training {_describe(net)} ran out of memory ({exc}); it needs at least "
            f"{format_bytes(needed)} with batch_size={data.batch_size}; free memory, or use a "
            f"smaller batch_size or network") from exc
    return run.history


def prepare_data(net: Network, X: Any, y: Any, *, loss: str | Loss | None,
                 batch_size: int | str | None, metrics: Sequence[str] | None,
                 validation_split: float, validation_data: tuple[Any, Any] | None,
                 rng: np.random.Generator, sample_weight: Any = None,
                 class_weight: Any = None) -> Data:
    """Stage 1: check the data, encode labels (setting ``net.classes_``), split, size batches."""
    validation_split = check_fraction(validation_split, "validation_split")
    auto_batch = isinstance(batch_size, str) and batch_size == "auto"
    if not auto_batch and batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size",
                                        "; try 32, or None for full batch")
    lossfn = loss_for(net, loss)
    X2: np.ndarray | RowSource
    if is_row_source(X):
        X2 = _check_rows(net, X)
    else:
        X2, _ = check_features(X, net.num_inputs, net.dtype)
        net.check_overflow(X2)                      # finite X that overflows: ValueError
    Y, labels, classes = encode_labels(y, net, lossfn, len(X2))
    if classes is not None:
        net.classes_ = classes
    checked_metrics = check_metrics(metrics, labels)
    if is_row_source(X2) and (checked_metrics or (validation_split > 0
                                                          and validation_data is None)):
        raise ValueError("X kept as sparse rows trains without metrics on the training rows "
                         "and without validation_split; pass metrics=[] and validation_data")
    weights = None
    if sample_weight is not None:
        weights = check_sample_weight(sample_weight, len(X2), net.dtype)
    if class_weight is not None:                    # multiplied in, as scikit-learn does
        per_sample = class_sample_weights(class_weight, labels, classes).astype(net.dtype)
        weights = per_sample if weights is None else weights * per_sample

    Xv = Yv = labels_v = None
    if validation_data is not None:
        Xv_raw, yv_raw = validation_data
        Xv, _ = check_features(Xv_raw, net.num_inputs, net.dtype, name="validation X")
        net.check_overflow(Xv, name="validation X")
        Yv, labels_v, _ = encode_labels(yv_raw, net, lossfn, len(Xv), name="validation y")
    elif validation_split > 0:
        X2, Y, labels, Xv, Yv, labels_v, weights = split_validation(
            cast(np.ndarray, X2), Y, labels, validation_split, rng, weights)
    n = len(X2)
    if batch_size is None:
        size = n
    elif auto_batch:
        size = min(32, n)
    elif isinstance(batch_size, int) and batch_size > n:
        warnings.warn(f"batch_size={batch_size} is larger than the {n} training sample(s); "
                      f"using batch_size={n}", stacklevel=_callers_level())
        size = n
    else:
        size = int(batch_size)
    return Data(lossfn, X2, Y, labels, Xv, Yv, labels_v, classes, checked_metrics, size,
                weights)


def _check_rows(net: Network, X: RowSource) -> RowSource:
    """``X`` if it holds ``(n_samples, num_inputs)`` finite rows in the network's dtype that
    do not overflow it (checked a chunk at a time), else a ValueError as for an array."""
    if len(X.shape) != 2 or X.shape[0] == 0 or X.shape[1] != net.num_inputs:
        raise ValueError(f"X has shape {X.shape}, but the network takes (n_samples, "
                         f"{net.num_inputs}) with at least one sample")
    if X.dtype != net.dtype:
        raise ValueError(f"X holds {X.dtype} rows, but the network is {net.dtype}")
    step = _chunk_rows(X)
    for start in range(0, len(X), step):
        block = X.dense_rows(np.arange(start, min(start + step, len(X))))
        if not np.isfinite(block).all():
            raise ValueError("X contains NaN or infinite values; remove or impute them first")
        net.check_overflow(block)
    return X


def _chunk_rows(X: RowSource) -> int:
    """Rows of ``X`` densified at once: :data:`CHUNK_BYTES` of them, at least one."""
    return max(1, CHUNK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))


def _head(data: Data) -> np.ndarray:
    """The training rows the diagnoses read: all of a dense ``X``, the first
    :data:`HEAD_ROWS` of a :class:`RowSource`, densified."""
    if is_row_source(data.X):
        return data.X.dense_rows(np.arange(min(len(data.X), HEAD_ROWS)))
    return cast(np.ndarray, data.X)


def _callers_level() -> int:
    """The ``stacklevel`` of the first caller outside numnet, for a warning about its call.

    ``fit`` is reached through ``numnet.fit``, ``MLP.fit`` or the tutorial's
    ``train``; the warning should name the user's line whichever it was.
    """
    level = 2                                       # 1 is the function that warns
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("numnet."):
        level, frame = level + 1, frame.f_back
    return level


def _describe(net: Network) -> str:
    return f"{type(net).__name__}({net.num_inputs}, {net.hidden_layers}, {net.num_outputs})"


def _state_copies(opt: Optimizer, dtype: np.dtype) -> int:
    """How many parameter-sized state vectors ``opt`` keeps (Adam 2, SGD 0 or 1), found
    without allocating them: its state if it has one, else a probe on a copy."""
    if opt.state:
        return len(opt.state)
    twin = copy.copy(opt)
    twin.state = {}
    return len(twin.state_vectors(np.zeros(1, dtype=dtype)))


def check_training_memory(net: Network, data: Data, opt: Optimizer) -> int:
    """Between stages 1 and 2: refuse a training that cannot fit in the memory available, before
    anything is allocated.

    Counts what training certainly holds at once (a lower bound, whichever
    runner trains): the parameters, their gradient, the divergence guard's
    copy and the copy from before training that diagnoses a run; the
    optimizer's state (Adam: two more copies); the activations of a batch
    (``Z`` and ``A`` or ``dL/dZ`` of every unit, per sample) or of the largest
    set evaluated at once for the epoch's metrics; and the data.
    Returns the bytes counted; raises ValueError naming them and what to do.
    """
    item = net.dtype.itemsize
    count = net.num_parameters
    per_sample = item * sum(size if act.name == "identity" else 2 * size
                            for size, act in zip(net.layer_sizes[1:], net.activation_fns,
                                                 strict=True))
    evaluated = max(len(data.X) if data.metrics else 0,
                    0 if data.Xv is None else len(data.Xv))
    parts = {
        "weights, gradient and two copies": 4 * count * item,
        "optimizer state": _state_copies(opt, net.dtype) * count * item,
        f"activations of a batch of {data.batch_size}": data.batch_size * per_sample,
        f"activations of {evaluated} samples evaluated at once": evaluated * per_sample,
        "data": sum(a.nbytes for a in (data.X, data.Y, data.Xv, data.Yv) if a is not None),
    }
    if is_row_source(data.X):
        batches = max(1, _chunk_rows(data.X) // data.batch_size) * data.batch_size
        parts["densified rows of X"] = min(batches, len(data.X)) * data.X.shape[1] * item
    largest = max(parts, key=lambda k: parts[k])
    if largest.startswith("activations of a batch"):
        advice = (f"use a smaller batch_size (each sample takes {format_bytes(per_sample)}) "
                  f"or narrower hidden layers")
    elif largest.startswith("activations of"):
        advice = ("evaluate fewer samples per epoch (a smaller validation set, or metrics=[]) "
                  "or use narrower hidden layers")
    else:
        advice = ("use fewer or narrower hidden layers (or an optimizer with less state: sgd "
                  "keeps none without momentum, adam two copies of the weights)")
    what = f"training {_describe(net)} with {type(opt).__name__}"
    return check_memory(parts, what, advice)


def build_run(net: Network, data: Data, opt: Optimizer, *, epochs: int, shuffle: bool,
              l2: float, dropout: float, callbacks: Sequence[Callback] | None, verbose: bool,
              rng: np.random.Generator, resume: Resume | None
              ) -> tuple[Run, CallbackList, Runner]:
    """Stage 2: restore an earlier run's state, gather the callbacks, pick the runner."""
    history, start_epoch = History(), 0
    if resume is not None:
        net.flat_parameters[...] = resume.parameters
        opt.load_state_dict(resume.optimizer_state)
        rng.bit_generator.state = resume.rng_state
        history = History.from_dict(resume.history)
        start_epoch = resume.epoch
        if data.classes is None and resume.classes is not None:
            net.classes_ = resume.classes

    cbs = list(callbacks or [])
    if not any(isinstance(cb, DivergenceGuard) for cb in cbs):
        cbs.insert(0, DivergenceGuard())   # first: later callbacks see restored weights
    if not any(isinstance(cb, HealthMonitor) for cb in cbs):
        cbs.append(HealthMonitor())        # History.health, within its time budget
    if verbose and not any(isinstance(cb, ProgressBar) for cb in cbs):
        cbs.append(ProgressBar())

    n = len(data.X)
    run = Run(net=net, optimizer=opt, history=history, loss=data.lossfn, epochs=epochs,
              batch_size=data.batch_size, n_samples=n, steps_per_epoch=data.steps, rng=rng,
              verbose=verbose, X_train=_head(data), Y_train=data.Y, epoch=start_epoch,
              fit_config={"loss": data.lossfn.name, "batch_size": data.batch_size,
                          "epochs": epochs, "shuffle": shuffle, "l2": l2, "dropout": dropout})
    runner = select_runner(net, data.lossfn, opt, data.batch_size, l2, dropout, rng,
                           sample_weight=data.sample_weight)
    history.runner = runner.name
    return run, CallbackList(cbs), runner


def planned_runner(net: Network, *, loss: str | Loss | None = None,
                   optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
                   batch_size: int | str | None = "auto", n_samples: int | None = None,
                   dropout: float = 0.0, sample_weight: bool = False) -> tuple[Rule, int]:
    """The rule that picks the runner ``fit`` would train ``net`` with, and the batch size.

    The arguments are ``fit``'s (``sample_weight`` only says whether weights
    are given); nothing is trained or allocated. ``batch_size="auto"`` is 32,
    or ``n_samples`` when given and smaller; ``None`` (the whole set) needs
    ``n_samples``. The choice is :func:`numnet.engine.choose_runner`'s, as in ``fit``.
    """
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples")
    if batch_size is None:
        if n_samples is None:
            raise ValueError("batch_size=None is the whole training set: pass n_samples too")
        size = n_samples
    elif isinstance(batch_size, str) and batch_size == "auto":
        size = 32 if n_samples is None else min(32, n_samples)
    else:
        size = check_positive_int(batch_size, "batch_size", "; try 32, or None for full batch")
        size = size if n_samples is None else min(size, n_samples)
    dropout = check_fraction(dropout, "dropout")
    rule = choose_runner(net, loss_for(net, loss), get_optimizer(optimizer, learning_rate), size,
                         dropout, weighted=sample_weight)
    return rule, size


def _batches_per_chunk(steps: int, callbacks: CallbackList, whole_epochs: bool) -> int:
    """How many batches run between checks for callbacks and Ctrl-C."""
    if not whole_epochs:
        return 1
    if callbacks.wants_batches:
        return max(1, steps // 100)
    return steps


def run_epochs(run: Run, cbs: CallbackList, runner: Runner, data: Data, shuffle: bool,
               interrupt: InterruptFlag) -> None:
    """Stage 3: the epochs, from ``run.epoch`` to ``run.epochs``, until a callback stops them."""
    n, steps, batch_size = len(data.X), data.steps, data.batch_size
    chunk = _batches_per_chunk(steps, cbs, runner.whole_epochs)
    order = np.arange(n)
    for epoch in range(run.epoch, run.epochs):
        if run.stop_training:
            break
        run.epoch = epoch
        run.optimizer.start_epoch(epoch)
        cbs.on_epoch_begin(run, epoch)
        began = time.perf_counter()
        if shuffle:
            order = run.rng.permutation(n)
        total, seen = 0.0, 0
        for first in range(0, steps, chunk):
            last = min(first + chunk, steps)
            if is_row_source(data.X):
                total += _run_densified(runner, data, order, first, last)
            else:
                total += runner.run(cast(np.ndarray, data.X), data.Y, order, first, last,
                                    batch_size)
            seen = min(last * batch_size, n)
            cbs.on_batch_end(run, last - 1, {"loss": total / seen, "seen": seen})
            if interrupt.raised:
                _stop_interrupted(run)
            if run.stop_training:
                break
        if seen < n:          # an interrupted epoch is not recorded
            break
        logs = _epoch_logs(run, data, total / n, began)
        run.history.record(logs)
        run.optimizer.end_epoch(epoch, logs.get("val_loss", logs["loss"]))
        cbs.on_epoch_end(run, epoch, logs)
        if interrupt.raised and not run.stop_training:
            _stop_interrupted(run)


def _run_densified(runner: Runner, data: Data, order: np.ndarray, first: int, last: int
                   ) -> float:
    """``runner.run`` on batches ``first..last-1`` of ``order`` over a :class:`RowSource`:
    the rows of as many batches as :data:`CHUNK_BYTES` holds (one at least) densified at
    once, in the batches' order, so that each batch is the one a dense ``X`` gives."""
    X, bs = cast(RowSource, data.X), data.batch_size
    per_chunk = max(1, _chunk_rows(X) // bs)
    total = 0.0
    for a in range(first, last, per_chunk):
        b = min(a + per_chunk, last)
        idx = order[a * bs:b * bs]
        if data.sample_weight is not None:      # only the reference runner weights samples
            cast(NumpyRunner, runner).sample_weight = data.sample_weight[idx]
        total += runner.run(X.dense_rows(idx), data.Y[idx], np.arange(len(idx)), 0, b - a, bs)
    return total


def _stop_interrupted(run: Run) -> None:
    run.stop("interrupted (Ctrl-C)")
    run.history.interrupted = True


def _epoch_logs(run: Run, data: Data, loss: float, began: float) -> dict[str, float]:
    """One epoch's logs: its loss, metrics, validation loss and metrics, rate and time."""
    logs = {"loss": loss}
    if data.metrics:                # a RowSource has none (prepare_data)
        logs.update(evaluate_arrays(run.net, cast(np.ndarray, data.X), data.Y, data.labels,
                                    data.lossfn, data.metrics)[1])
    if data.Xv is not None and data.Yv is not None:
        logs.update(evaluate_arrays(run.net, data.Xv, data.Yv, data.labels_v, data.lossfn,
                                    data.metrics, prefix="val_")[1])
    logs["learning_rate"] = run.optimizer.learning_rate
    logs["time"] = time.perf_counter() - began
    return logs


def finish(run: Run, cbs: CallbackList, trained: bool = True) -> None:
    """Stage 4: record why the run stopped, let the callbacks end it, and say if the run
    (``trained``: at least one epoch in this call) learned nothing, with why
    (a :class:`TrainingWarning`, once per fit)."""
    run.history.stop_reason = run.stop_reason
    cbs.on_train_end(run)
    if run.history.stop_reason:
        logger.info("training stopped: %s", run.history.stop_reason)
    diverged = (run.stop_reason or "").startswith("diverged")
    if not trained or diverged or run.history.interrupted or run.start is None \
            or run.X_train is None or run.Y_train is None:
        return
    message = learned_nothing(run.start, run.net, run.X_train, run.Y_train, run.loss,
                              run.optimizer, run.batch_size)
    if message is not None:
        warnings.warn(message, TrainingWarning, stacklevel=_callers_level())


def _scores_line(logs: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in logs.items())


def say_baseline(run: Run, cbs: CallbackList, data: Data) -> None:
    """After the epochs of a verbose fit: the baseline's scores, keyed as the epoch lines
    (``baseline loss=0.08333 val_loss=0.0859 (...)``), and a ``learned nothing`` line when
    the trained network does not beat its loss, on the training or the validation samples
    (the loss decides: a constant's accuracy is a weak bar on balanced classes, a strong
    one on unbalanced; a ``note`` names the other scores that fail).

    The baseline is the constant fitted on the training targets
    (:mod:`numnet.baselines`); the network is scored afresh on the same samples, as it
    stands (the epoch's running loss is no measure: it counts l2, dropout and the
    updates made during the epoch). Written where the epoch lines go (the progress
    bar's stream); nothing after a divergence or Ctrl-C, which say their own reason.
    The training samples scored are those of a dense ``X``, or the first
    :data:`HEAD_ROWS` of a :class:`RowSource`.
    """
    if (run.stop_reason or "").startswith("diverged") or run.history.interrupted:
        return
    stream = next((cb.stream for cb in cbs.callbacks if isinstance(cb, ProgressBar)), sys.stderr)
    net, lossfn, metrics = run.net, data.lossfn, data.metrics
    X = _head(data)
    Y, labels = data.Y[:len(X)], None if data.labels is None else data.labels[:len(X)]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        base, baseline = baseline_logs(data.Y, data.labels, Y, labels, lossfn, metrics)
        value, logs = evaluate_blocks(net, X, Y, labels, lossfn, metrics)
        splits = [("training", {"loss": value, **logs}, base)]
        if data.Xv is not None and data.Yv is not None:
            base_v = baseline_logs(data.Y, data.labels, data.Yv, data.labels_v, lossfn,
                                   metrics, prefix="val_")[0]
            scores_v = evaluate_blocks(net, data.Xv, data.Yv, data.labels_v, lossfn, metrics,
                                       prefix="val_")[1]
            splits.append(("validation", scores_v, base_v))
    what = baseline.what + "".join(f"; {said} for {name}" for name, said in (
        ("mae", "the median"), ("accuracy", "the majority class")) if name in base)
    shown = {k: v for _, _, b in splits for k, v in b.items()}
    stream.write(f"baseline {_scores_line(shown)} (always predicting {what})\n")
    failed = []
    for split, scores, bases in splits:
        keys = not_beaten(scores, bases)
        said = ", ".join(f"{k}={scores[k]:.4g} against {bases[k]:.4g}" for k in keys)
        if next(iter(bases)) in keys:               # its loss: it decides, the rest is noted
            failed.append(f"{split}: {said}")
        elif keys:
            stream.write(f"note: on the {split} samples {said} "
                         f"{'does' if len(keys) == 1 else 'do'} not beat the baseline\n")
    if failed:
        said = "; ".join(failed)
        if failed[0].startswith("training"):
            todo = ("try more epochs, another learning_rate or optimizer='adam', more hidden "
                    "units (activation='relu' for a deep network); if the features say nothing "
                    "about the targets, no network beats it")
        else:
            todo = ("it fits the training samples only: try fewer epochs (EarlyStopping), l2 "
                    "or dropout, a smaller network, or more data")
        stream.write(f"learned nothing: the network does no better than always predicting "
                     f"{baseline.what} ({said}); {todo}\n")
    else:
        falling = still_falling(run.history.loss, base["loss"])
        if falling is not None:
            stream.write(f"note: the loss was still falling at the last epoch ({falling}); "
                         f"more epochs may help\n")
    scales = feature_scales(X)
    if scales is not None:
        stream.write(f"note: {scales}\n")
    stream.flush()


# Features whose standard deviations differ by this factor or more are named: a network's
# first layer then learns at rates as far apart (one learning rate for all its weights).
SCALES_APART = 1e3


def feature_scales(X: np.ndarray) -> str | None:
    """``"the features' scales differ by ~1e4 (standard deviations 0.01 to 120): ..."`` when
    the columns of ``X`` (n, num_inputs) that vary have standard deviations
    :data:`SCALES_APART` or more apart; else None."""
    std = X.std(axis=0, dtype=np.float64) if len(X) > 1 else np.zeros(0)
    std = std[np.isfinite(std) & (std > 0)]
    if len(std) < 2 or std.max() < SCALES_APART * std.min():
        return None
    return (f"the features' scales differ by ~1e{round(math.log10(std.max() / std.min()))} "
            f"(standard deviations {std.min():.2g} to {std.max():.2g}): standardise them "
            f"(numnet train does unless --no-scale; in Python numnet.preprocessing."
            f"Preprocessing or scikit-learn's StandardScaler)")


# The loss is "still falling" when over the last fifth of the epochs (at least 2) it fell by
# at least this share of the baseline's loss. Measured (sum_of_two, MLP(2, [5], 1)): sgd at
# 300 epochs fell by 1.2% of the baseline over its last 60 (its loss 0.0056, still halving
# every few hundred epochs); adam at 300, by 1e-5 of it (its loss 8e-6: done), though its
# own relative fall there was 15%, so a relative measure would say "train longer" forever.
STILL_FALLING = 0.01


def still_falling(losses: Sequence[float], baseline: float) -> str | None:
    """``"by 0.0021 over the last 60 epochs"`` when the epoch losses ``losses`` fell over
    their last fifth (at least 2 epochs; 5 epochs or more in all) by at least
    :data:`STILL_FALLING` of the ``baseline`` loss; else None."""
    if len(losses) < 5 or not math.isfinite(baseline) or baseline <= 0:
        return None
    k = max(2, len(losses) // 5)
    fall = losses[-k - 1] - losses[-1]
    if not math.isfinite(fall) or fall < STILL_FALLING * baseline:
        return None
    return f"by {fall:.2g} over the last {k} epochs, {fall / baseline:.1%} of the baseline's loss"

"""Callbacks: code that watches a :func:`numnet.fit` run and may stop it.

A callback overrides any of ``on_train_begin(run)``, ``on_epoch_begin(run,
epoch)``, ``on_batch_end(run, batch, logs)``, ``on_epoch_end(run, epoch,
logs)`` and ``on_train_end(run)``; ``run`` is the :class:`numnet.training.Run`
(the live network, optimizer and history), ``logs`` a dict such as
``{"loss": 0.12, "val_loss": 0.15, "accuracy": 0.97, "learning_rate": 0.01}``.
To stop, call ``run.stop("why")``.

These callbacks need nothing but the training loop; :class:`ModelCheckpoint`,
which writes files, lives with the checkpoints in :mod:`numnet._files` and
:mod:`numnet.callbacks` offers them all.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import math
import os
import sys
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from numnet.validation import check_count, check_nonnegative_float, check_positive_float

from .diagnosis import advice
from .run import Run

__all__ = ["Callback", "CallbackList", "LambdaCallback", "ProgressBar", "EarlyStopping",
           "CSVLogger", "DivergenceGuard"]

logger = logging.getLogger("numnet.callbacks")  # the public module: logging set-ups stay valid


class Callback:
    """Base class: every hook does nothing; a subclass overrides those it needs.

    Every hook's ``run`` is the :class:`numnet.training.Run` of the ``fit``
    call: the live network, optimizer and history; ``run.stop("why")`` stops
    the training.
    """

    def on_train_begin(self, run: Run) -> None:
        """Before the first epoch.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        """

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        """Before each epoch.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        epoch : int
            The epoch about to run, counted from 0.
        """

    def on_batch_end(self, run: Run, batch: int, logs: dict[str, float]) -> None:
        """After a batch, or a group of batches on the compiled paths.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        batch : int
            The last batch run, counted from 0 within the epoch.
        logs : dict of str to float
            ``"loss"``, the mean loss of the epoch's samples so far, and
            ``"seen"``, how many samples of the epoch have been trained on.
        """

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch, with its logs.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        epoch : int
            The epoch just ended, counted from 0.
        logs : dict of str to float
            What :class:`~numnet.training.History` records for it: ``"loss"``,
            the metrics (``"accuracy"``, ...), their ``"val_"`` twins with
            validation data, ``"learning_rate"`` and ``"time"`` (seconds).
        """

    def on_train_end(self, run: Run) -> None:
        """After the last epoch, or when the run stopped (also on Ctrl-C).

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        """


class CallbackList:
    """Calls each hook on every callback, in order.

    Its hooks take the arguments of :class:`Callback`'s and pass them on.

    Parameters
    ----------
    callbacks : list of Callback
        The callbacks, called in this order.
    """

    def __init__(self, callbacks: list[Callback]) -> None:
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be numnet.callbacks.Callback instances, "
                                f"got {type(cb).__name__}; wrap a function in LambdaCallback")
        self.callbacks = list(callbacks)
        self._batch = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]

    @property
    def wants_batches(self) -> bool:
        """Whether any callback looks at batches (compiled paths then report in groups)."""
        return bool(self._batch)

    def on_train_begin(self, run: Run) -> None:
        """Call every callback's ``on_train_begin``.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        """
        for cb in self.callbacks:
            cb.on_train_begin(run)

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        """Call every callback's ``on_epoch_begin``.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        epoch : int
            The epoch about to run, counted from 0.
        """
        for cb in self.callbacks:
            cb.on_epoch_begin(run, epoch)

    def on_batch_end(self, run: Run, batch: int, logs: dict[str, float]) -> None:
        """Call ``on_batch_end`` of the callbacks that define it (the others are skipped).

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        batch : int
            The last batch run, counted from 0 within the epoch.
        logs : dict of str to float
            ``"loss"`` and ``"seen"``, as :meth:`Callback.on_batch_end` describes.
        """
        for cb in self._batch:
            cb.on_batch_end(run, batch, logs)

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        """Call every callback's ``on_epoch_end``.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        epoch : int
            The epoch just ended, counted from 0.
        logs : dict of str to float
            The epoch's logs, as :meth:`Callback.on_epoch_end` describes.
        """
        for cb in self.callbacks:
            cb.on_epoch_end(run, epoch, logs)

    def on_train_end(self, run: Run) -> None:
        """Call every callback's ``on_train_end``.

        Parameters
        ----------
        run : Run
            The state of the ``fit`` call.
        """
        for cb in self.callbacks:
            cb.on_train_end(run)


def _overrides(cb: Callback, hook: str) -> bool:
    if isinstance(cb, LambdaCallback):
        return cb.hooks.get(hook) is not None
    return getattr(type(cb), hook) is not getattr(Callback, hook)


class LambdaCallback(Callback):
    """A callback from plain functions.

    For example ``LambdaCallback(on_epoch_end=lambda run, epoch, logs: ...)``.
    Each function takes the arguments of the :class:`Callback` hook it
    stands for; a hook left None does nothing.

    Parameters
    ----------
    on_train_begin : callable or None, default None
        ``on_train_begin(run)``.
    on_epoch_begin : callable or None, default None
        ``on_epoch_begin(run, epoch)``.
    on_batch_end : callable or None, default None
        ``on_batch_end(run, batch, logs)``.
    on_epoch_end : callable or None, default None
        ``on_epoch_end(run, epoch, logs)``.
    on_train_end : callable or None, default None
        ``on_train_end(run)``.
    """

    def __init__(self, on_train_begin: Callable[..., Any] | None = None,
                 on_epoch_begin: Callable[..., Any] | None = None,
                 on_batch_end: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None) -> None:
        self.hooks = {"on_train_begin": on_train_begin, "on_epoch_begin": on_epoch_begin,
                      "on_batch_end": on_batch_end, "on_epoch_end": on_epoch_end,
                      "on_train_end": on_train_end}
        for name, fn in self.hooks.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable, got {fn!r}")

    def on_train_begin(self, run: Run) -> None:
        if self.hooks["on_train_begin"]:
            self.hooks["on_train_begin"](run)

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        if self.hooks["on_epoch_begin"]:
            self.hooks["on_epoch_begin"](run, epoch)

    def on_batch_end(self, run: Run, batch: int, logs: dict[str, float]) -> None:
        if self.hooks["on_batch_end"]:
            self.hooks["on_batch_end"](run, batch, logs)

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        if self.hooks["on_epoch_end"]:
            self.hooks["on_epoch_end"](run, epoch, logs)

    def on_train_end(self, run: Run) -> None:
        if self.hooks["on_train_end"]:
            self.hooks["on_train_end"](run)


def _format_logs(logs: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in logs.items() if k != "time")


class ProgressBar(Callback):
    """Epochs and batches with the loss shown live (tqdm), on a terminal.

    Off a terminal (a log file, CI, a notebook's captured output), or without
    tqdm, it writes one line per epoch instead, as Keras does with
    ``verbose=2``: ``epoch 3/50 loss=0.0123 val_loss=0.0145 (0.02s)``. No
    ``logging`` set-up is needed. Both go to ``stream``, by default
    ``sys.stderr`` as tqdm's bars do, so that stdout keeps only results (a
    command's output can be piped); pass ``stream=sys.stdout`` to change it.
    ``fit(verbose=True)`` adds one.

    The runner that trains (``run.history.runner``) is named once, at the
    start: a line ``training with the compiled per-example runner`` before the
    first bar, or, off a terminal, at the end of the first epoch's line (so
    that a log keeps one line per epoch).

    Parameters
    ----------
    stream : text file or None, default None
        Where to write; None is ``sys.stderr``.
    force_bar : bool or None, default None
        True draws tqdm bars (tqdm must be installed), False writes one line
        per epoch; None draws bars when tqdm is installed and ``stream`` is a
        terminal.
    """

    def __init__(self, stream: IO[str] | None = None, force_bar: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.force_bar = force_bar
        self._bar: Any = None           # a tqdm bar while an epoch runs
        self._runner_note = ""          # said once, at the start of a run

    def _use_bar(self) -> bool:
        if self.force_bar is not None:
            return self.force_bar
        if importlib.util.find_spec("tqdm") is None:     # the optional extra numnet[cli]
            return False
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def on_train_begin(self, run: Run) -> None:
        self._enabled = self._use_bar()
        runner = run.history.runner
        self._runner_note = "" if runner is None else f"training with the {runner} runner"
        if self._enabled and self._runner_note:
            self.stream.write(self._runner_note + "\n")
            self._runner_note = ""

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        if self._enabled:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=run.n_samples, file=self.stream, leave=True, unit="sample",
                             desc=f"epoch {epoch + 1}/{run.epochs}", dynamic_ncols=True)
            self._done = 0

    def on_batch_end(self, run: Run, batch: int, logs: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.update(logs["seen"] - self._done)
            self._done = int(logs["seen"])
            self._bar.set_postfix(loss=f"{logs['loss']:.4g}", refresh=False)

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(logs))
            self._bar.close()
            self._bar = None
        else:
            note, self._runner_note = self._runner_note, ""       # the first line only
            self.stream.write(f"epoch {epoch + 1}/{run.epochs} {_format_logs(logs)} "
                              f"({logs.get('time', 0.0):.2f}s){', ' + note if note else ''}\n")
            self.stream.flush()

    def on_train_end(self, run: Run) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    if math.isnan(value):
        return False
    return value < best - min_delta if mode == "min" else value > best + min_delta


class EarlyStopping(Callback):
    """Stop once ``monitor`` has gone ``patience`` epochs without improving by ``min_delta``.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs; falls back to ``"loss"`` when there is no
        validation data.
    patience : int, default 5
        Epochs without improvement to wait before stopping (>= 0).
    min_delta : float, default 0
        An epoch improves only if it beats the best so far by more than this.
    mode : {"min", "max", "auto"}
        "auto" maximises accuracies and minimises everything else.
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when stopping (and at the end).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor = monitor
        self.patience = check_count(patience, "patience", least=0)
        self.min_delta = check_nonnegative_float(min_delta, "min_delta")
        self.mode = mode
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, run: Run) -> None:
        self._mode = self.mode if self.mode != "auto" else (
            "max" if "acc" in self.monitor else "min")
        self.best = math.inf if self._mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_weights: np.ndarray | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _value(self, logs: dict[str, float]) -> float:
        if self.monitor in logs:
            return logs[self.monitor]
        fallback = self.monitor.removeprefix("val_")
        if fallback in logs:
            return logs[fallback]
        raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not in the logs "
                         f"{sorted(logs)}; pass validation data or monitor='loss'")

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        value = self._value(logs)
        if _improved(value, self.best, self._mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = run.net.flat_parameters.copy()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            at = "-" if self.best_epoch is None else self.best_epoch + 1
            run.stop(f"early stopping: {self.monitor} has not improved for {self.wait} "
                     f"epoch(s) (best {self.best:.4g} at epoch {at})")

    def on_train_end(self, run: Run) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            run.net.flat_parameters[...] = self.best_weights


class CSVLogger(Callback):
    """Append each epoch's logs as a CSV row (``epoch, loss, val_loss, ...``), flushed at once.

    The header, the keys of the first epoch's logs after ``epoch`` (counted
    from 1), is written once; the file is opened when training begins and
    closed when it ends.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    append : bool, default False
        Add to an existing file (without a second header) instead of
        overwriting it.
    """

    def __init__(self, path: str | os.PathLike[str], append: bool = False) -> None:
        self.path = os.fspath(path)
        self.append = append
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def on_train_begin(self, run: Run) -> None:
        exists = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        # kept open across epochs (each row flushed), closed in on_train_end
        self._file = open(self.path, "a" if self.append else "w", newline="")
        self._writer = None
        self._header_written = exists

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        if self._file is None:
            raise RuntimeError("CSVLogger.on_epoch_end before on_train_begin")
        row = {"epoch": epoch + 1, **logs}
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(row), extrasaction="ignore")
            if not self._header_written:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, run: Run) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class DivergenceGuard(Callback):
    """Stop a run whose loss turns NaN/inf or explodes, and put back the last good weights.

    "Explodes" means an epoch's loss above ``factor`` times the lower of the
    loss before training (on up to 256 training samples) and the best epoch
    so far. The stop reason, one line starting with ``"diverged"``, names the
    fix for the measured cause: features or targets on a large scale (100
    and more) are to be standardised; otherwise the learning rate is to be
    lowered (ten times, or to the optimizer's default when even a tenth is
    above 1). ``fit`` adds one of these unless you pass your own.

    Parameters
    ----------
    factor : float, default 1e3
        How many times the reference loss an epoch's loss may reach before
        the run counts as exploded (> 0).
    """

    BASELINE_SAMPLES = 256

    def __init__(self, factor: float = 1e3) -> None:
        self.factor = check_positive_float(factor, "factor")

    def on_train_begin(self, run: Run) -> None:
        self.good = run.net.flat_parameters.copy()
        self.good_epoch: int | None = None
        self.best = math.inf
        if run.start is not None:                   # fit measured it before training
            self.best = run.start.loss
        elif run.X_train is not None and run.Y_train is not None:
            k = self.BASELINE_SAMPLES
            self.best = run.loss_on(run.X_train[:k], run.Y_train[:k])

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        loss = logs["loss"]
        weights_ok = bool(np.isfinite(run.net.flat_parameters).all())
        if math.isfinite(loss) and weights_ok and not loss > self.factor * self.best:
            self.best = min(self.best, loss)
            self.good[...] = run.net.flat_parameters
            self.good_epoch = epoch
            return
        what = "exploded" if math.isfinite(loss) and weights_ok else "became NaN/inf"
        since = f"epoch {self.good_epoch + 1}" if self.good_epoch is not None else "before training"
        run.net.flat_parameters[...] = self.good
        reason = (f"diverged: the loss {what} ({loss:.4g}) at epoch {epoch + 1}; restored the "
                  f"weights from {since}; {advice(run.X_train, run.Y_train, run.optimizer)}")
        logger.warning(reason)
        run.stop(reason)

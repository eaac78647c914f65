"""Checkpoints: a network with its optimizer state, epoch, history and random state.

:func:`save_checkpoint` and :func:`load_checkpoint` write and read them;
:class:`ModelCheckpoint` is the callback that saves one during ``fit``, and
:func:`resume_state` turns one into the :class:`~numnet._fitting.Resume` the
training loop continues from.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from numnet._fitting import Callback, Resume, Run
from numnet.network import Network
from numnet.validation import check_count, check_positive_int

from .decode import _check_rng_state, _read, check_preprocessing
from .encode import _encode_state, _model_document, _plain_json, _write
from .format import CHECKPOINT_FORMAT, PREPROCESSING_KEY, Checkpoint, FormatError

__all__ = ["save_checkpoint", "load_checkpoint", "resume_state", "ModelCheckpoint"]


def save_checkpoint(path: str | os.PathLike[str], net: Network, *,
                    optimizer_state: dict[str, Any], epoch: int, history: dict[str, Any],
                    rng_state: dict[str, Any], fit_config: dict[str, Any] | None = None,
                    metadata: dict[str, Any] | None = None) -> Path:
    """Write a training checkpoint to ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The target file; its directory must exist.
    net : Network (numnet.MLP)
        The network being trained.
    optimizer_state : dict
        ``Optimizer.state_dict()``: str keys, JSON values, NumPy arrays and
        scalars (restored exactly, dtype included).
    epoch : int
        Epochs completed (>= 0).
    history : dict
        ``History.to_dict()``: JSON-safe.
    rng_state : dict
        ``Generator.bit_generator.state``; restored exactly.
    fit_config : dict, optional
        The ``fit`` arguments, JSON-safe.
    metadata : dict, optional
        JSON-safe metadata, stored as :func:`save` stores a model's (on top of
        ``net.metadata``): give the model's own (``{"preprocessing": ...,
        ...}``) and the checkpoint loads, with :func:`numnet.load`, as that model.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If :func:`load_checkpoint` would refuse the file (see :func:`save`);
        nothing is written then.
    """
    epoch = check_count(epoch, "epoch", least=0)
    for value, name in ((optimizer_state, "optimizer_state"), (history, "history"),
                        (rng_state, "rng_state")):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    _check_rng_state(rng_state)          # what load_checkpoint will check
    doc, tensors = _model_document(net, CHECKPOINT_FORMAT, metadata)
    doc["epoch"] = int(epoch)
    doc["history"] = _plain_json(history, "history")
    doc["fit_config"] = _plain_json({} if fit_config is None else fit_config, "fit_config")
    doc["optimizer"] = _encode_state(optimizer_state, "optimizer", tensors, "optimizer_state")
    doc["rng_state"] = _encode_state(rng_state, "rng", tensors, "rng_state")
    return _write(path, doc, tensors)



def load_checkpoint(path: str | os.PathLike[str], network_class: type[Network] = Network
                    ) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`; its ``net`` is a ``network_class``.

    Raises
    ------
    FormatError (a ValueError)
        If the file is invalid, or is a plain model (use :func:`load` for those).
    """
    return _read(path, (CHECKPOINT_FORMAT,), network_class=network_class)


def resume_state(path: str | os.PathLike[str], net: Network) -> Resume:
    """The state saved in checkpoint ``path``, checked against ``net``'s architecture."""
    ckpt = load_checkpoint(path)
    if ckpt.net.get_config() != net.get_config():
        raise ValueError(f"checkpoint {path} holds {ckpt.net!r}, but fit was given "
                         f"{net!r}; build the same architecture to resume")
    return Resume(parameters=ckpt.net.flat_parameters, optimizer_state=ckpt.optimizer_state,
                  rng_state=ckpt.rng_state, history=ckpt.history, epoch=ckpt.epoch,
                  classes=ckpt.net.classes_)


class ModelCheckpoint(Callback):
    """Save a checkpoint (weights, optimizer state, epoch, history, random state).

    ``fit(..., resume_from=path)`` continues from it exactly. Writes are
    atomic: a crash leaves the previous checkpoint whole. A run stopped by
    Ctrl-C in the middle of an epoch is saved too, with that epoch's updates
    so far: resuming from it repeats the epoch, so it is not bit-identical
    to an uninterrupted run (checkpoints from epoch ends are).

    Parameters
    ----------
    path : str or path
        Where to write; ``{epoch}`` in it is replaced by the epoch number.
    every : int, default 1
        Save every this many epochs (and when training ends or is interrupted).
    save_best_only : bool, default False
        Only save when ``monitor`` improves.
    monitor : str, default "val_loss"
        Falls back to ``"loss"`` without validation data.
    metadata : dict, optional
        Stored in each checkpoint as :func:`numnet.save` stores it in a model
        file: pass the model's metadata (its ``"preprocessing"`` record,
        ``"training"``, ...) so that the checkpoint, loaded with
        :func:`numnet.load`, predicts as the model it will become. Checked
        before training starts: JSON-safe, and its preprocessing against the
        network.
    """

    def __init__(self, path: str | os.PathLike[str], every: int = 1, save_best_only: bool = False,
                 monitor: str = "val_loss", metadata: dict[str, Any] | None = None) -> None:
        self.path = os.fspath(path)
        self.every = check_positive_int(every, "every")
        self.save_best_only = save_best_only
        self.monitor = monitor
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
        self.metadata: dict[str, Any] | None = (
            None if metadata is None else _plain_json(metadata, "metadata"))
        self.last_saved: str | None = None

    def on_train_begin(self, run: Run) -> None:
        self.best = math.inf
        self._saved_epoch: int | None = None
        if self.metadata is not None and PREPROCESSING_KEY in self.metadata:
            try:        # refused now rather than by the first save, an epoch later
                check_preprocessing(self.metadata[PREPROCESSING_KEY], run.net.num_inputs,
                                    run.net.num_outputs)
            except FormatError as exc:
                raise ValueError(f"refusing to save '{self.path}': numnet would refuse to "
                                 f"load it, as {exc} (ModelCheckpoint metadata)") from None

    def _save(self, run: Run, epochs_done: int) -> None:
        path = self.path.replace("{epoch}", str(epochs_done))
        save_checkpoint(path, run.net, optimizer_state=run.optimizer.state_dict(),
                        epoch=epochs_done, history=run.history.to_dict(),
                        rng_state=dict(run.rng.bit_generator.state),
                        fit_config=dict(run.fit_config, optimizer=run.optimizer.get_config()),
                        metadata=self.metadata)
        self.last_saved = path
        self._saved_epoch = epochs_done

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only:
            value = logs.get(self.monitor, logs.get(self.monitor.removeprefix("val_")))
            if value is None or not value < self.best:
                return
            self.best = value
            self._save(run, epoch + 1)
        elif (epoch + 1) % self.every == 0:
            self._save(run, epoch + 1)

    def on_train_end(self, run: Run) -> None:
        done = run.history.epochs
        if not self.save_best_only and self._saved_epoch != done and (
                done > 0 or run.history.interrupted):
            self._save(run, done)

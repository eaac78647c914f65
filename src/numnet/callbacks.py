"""Callbacks: hooks that watch a :func:`numnet.fit` run and may stop it.

A callback overrides any of ``on_train_begin(run)``, ``on_epoch_begin(run,
epoch)``, ``on_batch_end(run, batch, logs)``, ``on_epoch_end(run, epoch,
logs)`` and ``on_train_end(run)``; ``run`` is the :class:`numnet.training.Run`
(the live network, optimizer and history), ``logs`` a dict such as
``{"loss": 0.12, "val_loss": 0.15, "accuracy": 0.97, "learning_rate": 0.01}``.
To stop, call ``run.stop("why")``. ``fit`` always adds a :class:`DivergenceGuard`
and a :class:`HealthMonitor` (``History.health``) unless one is given.

The training loop's own callbacks live in :mod:`numnet._fitting.callbacks`;
:class:`ModelCheckpoint`, which writes files, in :mod:`numnet._files.checkpoints`.
This module offers them all.
"""

from __future__ import annotations

from ._files import ModelCheckpoint
from ._fitting import (
    Callback,
    CallbackList,
    CSVLogger,
    DivergenceGuard,
    EarlyStopping,
    HealthMonitor,
    LambdaCallback,
    ProgressBar,
)

__all__ = ["Callback", "CallbackList", "LambdaCallback", "ProgressBar", "EarlyStopping",
           "CSVLogger", "DivergenceGuard", "HealthMonitor", "ModelCheckpoint"]

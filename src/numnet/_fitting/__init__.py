"""Training: the ``fit`` loop in stages, its ``History``, ``Run`` and callbacks.

The training layer's loop over the engine's runners and the optimizers. It
needs nothing above it: the public :func:`numnet.fit` (in
:mod:`numnet.training`) adds ``resume_from``, reading a checkpoint file
through :mod:`numnet._files` and handing the restored state here as a
:class:`Resume`. :class:`TrainingWarning` is what ``fit`` warns with when a
run learned nothing (:mod:`numnet._fitting.diagnosis` measures why).
"""

from __future__ import annotations

from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    DivergenceGuard,
    EarlyStopping,
    LambdaCallback,
    ProgressBar,
)
from .diagnosis import TrainingWarning
from .evaluation import evaluate
from .health import HealthMonitor
from .history import Health, History
from .loop import Resume, fit
from .run import Run

__all__ = ["fit", "evaluate", "History", "Health", "Run", "Resume", "Callback", "CallbackList",
           "LambdaCallback", "ProgressBar", "EarlyStopping", "CSVLogger", "DivergenceGuard",
           "HealthMonitor", "TrainingWarning"]

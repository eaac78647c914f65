"""The state of one ``fit`` call as callbacks see it (:class:`Run`), and Ctrl-C handling."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np

from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer

from .diagnosis import Probe
from .evaluation import loss_value
from .history import History

__all__ = ["Run", "InterruptFlag"]


@dataclass
class Run:
    """The state of one ``fit`` call, as callbacks see it.

    Callbacks may read everything and set ``stop_training`` (with a
    ``stop_reason``); the ``net`` and ``optimizer`` are the live objects.
    ``start`` is the loss and saturation on the first training samples
    before training (:class:`numnet._fitting.diagnosis.Probe`), set by ``fit``.
    """

    net: Network
    optimizer: Optimizer
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
    start: Probe | None = None

    def loss_on(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The loss of the network now on validated arrays ``X``, ``Y`` (no update)."""
        return loss_value(self.net, X, Y, self.loss)

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch, saying why."""
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason


class InterruptFlag:
    """Turns the first Ctrl-C into a request to stop at the end of the batch.

    A second Ctrl-C interrupts at once, as usual. Only installed from the
    main thread (elsewhere signals cannot be caught).
    """

    def __init__(self) -> None:
        self.raised = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)

    def __enter__(self) -> InterruptFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

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

from .diagnosis import Start
from .evaluation import loss_value
from .history import History

__all__ = ["Run", "InterruptFlag"]


@dataclass
class Run:
    """The state of one ``fit`` call, as callbacks see it.

    ``fit`` builds it; callbacks may read everything and stop the run with
    :meth:`stop`. Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    net : Network
        The network being trained (the live object).
    optimizer : Optimizer
        Its optimizer (the live object).
    history : History
        The record so far; each epoch's logs are added to it.
    loss : Loss
        The loss being minimised.
    epochs : int
        ``fit``'s ``epochs``: the run trains epochs ``epoch`` to ``epochs - 1``.
    batch_size : int
        Samples per update.
    n_samples : int
        Training samples (after any validation split).
    steps_per_epoch : int
        Batches per epoch, ``ceil(n_samples / batch_size)``.
    rng : numpy.random.Generator
        Draws the shuffles and dropout masks.
    verbose : bool
        Whether ``fit`` shows progress.
    X_train : ndarray of shape (n_samples, num_inputs) or None, default None
        The validated training inputs (for a sparse ``X``, its first rows,
        densified), for diagnoses.
    Y_train : ndarray of shape (n_samples, num_outputs) or None, default None
        The encoded training targets.
    epoch : int, default 0
        The current epoch, counted from 0 (later than 0 when resuming).
    stop_training : bool, default False
        Set by :meth:`stop`; the loop ends after the current batch.
    stop_reason : str or None, default None
        Why the run stopped early, as :meth:`stop` was told.
    fit_config : dict, default {}
        The ``fit`` arguments a checkpoint stores (loss, batch size, epochs,
        shuffle, l2, dropout).
    start : Start or None, default None
        The loss on the first training samples before training, and the
        parameters then (:class:`numnet._fitting.diagnosis.Start`), set by ``fit``.
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
    start: Start | None = None

    def loss_on(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The loss of the network now on validated arrays (no update).

        Parameters
        ----------
        X : ndarray of shape (n_samples, num_inputs)
            Validated inputs, in the network's dtype.
        Y : ndarray of shape (n_samples, num_outputs)
            Encoded targets, in the network's dtype.

        Returns
        -------
        float
            The run's loss on them.
        """
        return loss_value(self.net, X, Y, self.loss)

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch, saying why.

        Parameters
        ----------
        reason : str
            Kept as :attr:`stop_reason` (and ``History.stop_reason``) unless
            an earlier call gave one.
        """
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason


class InterruptFlag:
    """Turns the first Ctrl-C into a request to stop at the end of the batch.

    A second Ctrl-C interrupts at once, as usual. Only installed from the
    main thread (elsewhere signals cannot be caught), and not where SIGINT is
    ignored (as a shell without job control starts a background job): such a
    process asked for no Ctrl-C, and training keeps to that.
    """

    def __init__(self) -> None:
        self.raised = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)

    def __enter__(self) -> InterruptFlag:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

"""A playground run: one :func:`numnet.fit` call on its own thread, steered between epochs.

A :class:`Run` trains its :class:`~numnet.playground.problem.Problem` in a
background thread, in one ``fit`` call for the whole run, so that the random
stream (shuffling, dropout) is the one ``numnet train`` draws. A callback,
at each epoch's end, records the epoch's logs (and, when due, a snapshot) as
events, and waits there while the run is paused; ``pause``, ``resume``,
``step`` (one epoch, then paused), ``stop`` and a new learning rate (applied
from the next epoch) act only between epochs. :class:`Runs` keeps one run
per page.

Events are ``(kind, JSON text)``, of kinds ``state``, ``epoch``, ``snapshot`` and
``error``, in the order they happened. A stream reads them with
:meth:`Run.next_event`; only the latest snapshot is kept (a reader that falls
behind skips older ones, never an epoch).
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import threading
import time
from typing import Any

import numpy as np

from numnet import MLP, fit
from numnet.baselines import learned_nothing
from numnet.callbacks import Callback, HealthMonitor
from numnet.terminal import one_line
from numnet.training import Run as FitRun
from numnet.training import TrainingWarning

from .pictures import clean, snapshot
from .problem import Problem

__all__ = ["Run", "Runs", "SNAPSHOT_INTERVAL", "ENDED"]

SNAPSHOT_INTERVAL = 0.2          # seconds: at most ~5 snapshots a second while running
# Share of the training time the health measures may take: more than fit's default,
# since the page shows them live, and its runs are small.
HEALTH_BUDGET = 0.25
ENDED = ("finished", "stopped", "error")


class Run:
    """One run: its problem, its training thread, its controls and its events.

    Attributes
    ----------
    id, page : str
    problem : Problem
    status : {"running", "paused", "finished", "stopped", "error"}
        What the training is doing now (a pause asked for mid-epoch shows at its end).
    epoch : int
        Epochs completed.
    reason : str or None
        Why the run ended early (or failed).
    rate_changes : list of (int, float)
        ``(epoch, learning rate)``: the rate set before that epoch (0-based).
    """

    def __init__(self, run_id: str, page: str, problem: Problem, paused: bool = False,
                 data_file: str | None = None) -> None:
        self.id, self.page, self.problem, self.data_file = run_id, page, problem, data_file
        self.net: MLP = problem.network()
        self._blank = self.net.copy()              # never trained: the downloads' template
        self._params = self.net.flat_parameters.copy()      # as of the last epoch's end
        self.status = "paused" if paused else "running"
        self.epoch = 0
        self.reason: str | None = None
        self.rate_changes: list[tuple[int, float]] = []
        self.history: Any = None
        self.logs: dict[str, float] | None = None      # the last completed epoch's
        self._cond = threading.Condition()
        self._paused = paused            # asked for: the worker pauses at the next epoch end
        self._steps = 0                  # epochs to run before pausing (step)
        self._stop: str | None = None    # asked for, with why
        self._rate: float | None = None  # a learning rate for the next epoch
        self._events: collections.deque[tuple[str, Any]] = collections.deque()
        self._snapshot: tuple[int, str] | None = None
        self._last_snapshot = 0.0
        self._listener: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._push("state", _json({"status": self.status, "epoch": 0, "reason": None}))
        self._thread = threading.Thread(target=self._work, name=f"numnet-playground-{run_id}",
                                        daemon=True)

    # --- the page's controls (any thread) -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> dict[str, Any]:
        """Pause at the end of the current epoch."""
        with self._cond:
            if self.status not in ENDED:
                self._paused, self._steps = True, 0
            return self._answer("paused")

    def resume(self) -> dict[str, Any]:
        with self._cond:
            if self.status not in ENDED:
                self._paused, self._steps = False, 0
                self._cond.notify_all()
            return self._answer("running")

    def step(self) -> dict[str, Any]:
        """Run one more epoch, then pause (a running run pauses after its current one)."""
        with self._cond:
            if self.status not in ENDED:
                self._paused, self._steps = False, 1
                self._cond.notify_all()
            return self._answer("running")

    def stop(self, reason: str = "stopped") -> dict[str, Any]:
        """Stop at the end of the current epoch (at once when paused), saying why."""
        with self._cond:
            if self.status not in ENDED and self._stop is None:
                self._stop = reason
                self._cond.notify_all()
            return self._answer("stopped")

    def set_learning_rate(self, rate: float) -> float:
        """Train with ``rate`` from the next epoch on (the optimizer's state is kept)."""
        with self._cond:
            self._rate = float(rate)
            return self._rate

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _answer(self, asked: str) -> dict[str, Any]:
        return {"status": self.status if self.status in ENDED else asked, "epoch": self.epoch}

    # --- the model as it stands -------------------------------------------------------------

    def network_now(self) -> MLP:
        """A copy of the network as of the last completed epoch (safe while training)."""
        with self._cond:
            params = self._params.copy()
        twin = self._blank.copy()
        twin.flat_parameters[...] = params
        twin.classes_ = self.problem.classes
        return twin

    # --- events -----------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> bool:
        """Let one stream read the events; False when another stream already does. A
        stream that finds none waiting starts with the run's state as it is."""
        with self._cond:
            if self._listener is not None:
                return False
            self._listener = (loop, wake)
            if not self._events:
                self._events.append(("state", _json({
                    "status": self.status, "epoch": self.epoch, "reason": self.reason})))
            return True

    def detach(self) -> None:
        with self._cond:
            self._listener = None

    def next_event(self) -> tuple[str, str] | None:
        """The next event ``(kind, JSON text)``, or None when there is none yet; a
        snapshot that a newer one replaced is skipped."""
        with self._cond:
            while self._events:
                kind, payload = self._events.popleft()
                if kind != "snapshot":
                    return kind, payload
                if self._snapshot is not None and self._snapshot[0] == payload:
                    return kind, self._snapshot[1]
            return None

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def _push(self, kind: str, payload: Any) -> None:
        """Queue an event (called with ``self._cond`` held) and wake the stream."""
        self._events.append((kind, payload))
        if self._listener is not None:
            loop, wake = self._listener
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:            # the stream's loop has closed
                self._listener = None

    def _set_status(self, status: str, reason: str | None = None) -> None:
        """Change the status and say so (``self._cond`` held)."""
        if status == self.status and reason == self.reason:
            return
        self.status, self.reason = status, reason
        self._push("state", _json({"status": status, "epoch": self.epoch, "reason": reason}))

    def _take_snapshot(self, health: dict[str, Any] | None) -> None:
        """Queue a snapshot of the network as it is now, with the latest ``health`` record
        (the training thread, between epochs)."""
        text = _json(snapshot(self.net, self.problem, self.epoch, health))
        with self._cond:
            version = 1 if self._snapshot is None else self._snapshot[0] + 1
            self._snapshot = (version, text)
            self._push("snapshot", version)
        self._last_snapshot = time.perf_counter()

    # --- the training thread ----------------------------------------------------------------

    def _work(self) -> None:
        try:
            history = fit(self.net, self.problem.X_fit, self.problem.Y_fit,
                          callbacks=[HealthMonitor(HEALTH_BUDGET), _Steering(self)],
                          verbose=False,
                          **self.problem.fit_arguments())
        except TrainingWarning as warning:  # under `python -W error` fit raises its verdict
            self._take_snapshot(None)
            with self._cond:
                self._set_status("finished" if self.epoch >= self.problem.settings.epochs
                                 else "stopped", one_line(str(warning)))
            return
        except Exception as exc:          # the page shows why; the server goes on
            message = one_line(str(exc) or type(exc).__name__)
            with self._cond:
                self._set_status("error", message)
                self._push("error", _json({"error": message}))
            return
        self.history = history
        with self._cond:
            self._params = self.net.flat_parameters.copy()
        self._take_snapshot(history.health.latest())
        with self._cond:
            done = history.epochs >= self.problem.settings.epochs
            reason = history.stop_reason if done else self._stop or history.stop_reason
        if done and reason is None:
            reason = self._verdict()
        with self._cond:
            self._set_status("finished" if done else "stopped", reason)

    def _verdict(self) -> str | None:
        """"learned nothing: ..." when the trained network's training loss does not beat the
        best constant prediction's (:func:`numnet.baselines.learned_nothing`), else None:
        the verdict ``numnet train`` gives, which fit's warning cannot bring to the page
        (warnings are not caught per thread)."""
        loss = self.net.evaluate(self.problem.X_fit, self.problem.Y_fit,
                                 loss=self.problem.loss)["loss"]
        base = self.problem.baseline(self.net)
        if not learned_nothing(loss, base["loss"]):
            return None
        return (f"learned nothing: its training loss {loss:.4g} is no better than the best "
                f"constant prediction's, {base['loss']:.4g} (the baseline on the loss chart); "
                f"try another learning rate, more epochs or another network")

    def _begin(self, fit_run: FitRun) -> None:
        with self._cond:
            paused = self._paused and self._stop is None
        if paused:                          # the page draws the network it will train
            self._take_snapshot(None)
        with self._cond:
            self._wait(fit_run)

    def _epoch_begin(self, fit_run: FitRun, epoch: int) -> None:
        with self._cond:
            if self._rate is not None:
                fit_run.optimizer.learning_rate = self._rate
                self.rate_changes.append((epoch, self._rate))
                self._rate = None

    def _epoch_end(self, fit_run: FitRun, epoch: int, logs: dict[str, float]) -> None:
        with self._cond:
            self.epoch, self.logs = epoch + 1, dict(logs)
            self._params = self.net.flat_parameters.copy()
            self._push("epoch", _json({
                "epoch": epoch + 1, "loss": logs["loss"], "val_loss": logs.get("val_loss"),
                "accuracy": logs.get("accuracy"), "val_accuracy": logs.get("val_accuracy"),
                "learning_rate": logs["learning_rate"], "seconds": logs.get("time", 0.0)}))
            if self._steps > 0:
                self._steps -= 1
                if self._steps == 0:
                    self._paused = True
            last = epoch + 1 >= fit_run.epochs
            pausing = self._paused and self._stop is None and not last
        due = (epoch == 0 or pausing
               or time.perf_counter() - self._last_snapshot >= SNAPSHOT_INTERVAL)
        if due and not last:               # the last epoch's snapshot comes after fit
            self._take_snapshot(fit_run.history.health.latest())
        if not last:
            with self._cond:
                self._wait(fit_run)

    def _wait(self, fit_run: FitRun) -> None:
        """While paused, wait (``self._cond`` held); then stop the fit if asked to."""
        while self._paused and self._stop is None:
            self._set_status("paused")
            self._cond.wait()
        if self._stop is not None:
            fit_run.stop(self._stop)
        else:
            self._set_status("running")


class _Steering(Callback):
    """The run's hooks into ``fit``: pause, step, stop and the learning rate, between
    epochs."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def on_train_begin(self, run: FitRun) -> None:
        self.run._begin(run)

    def on_epoch_begin(self, run: FitRun, epoch: int) -> None:
        self.run._epoch_begin(run, epoch)

    def on_epoch_end(self, run: FitRun, epoch: int, logs: dict[str, float]) -> None:
        self.run._epoch_end(run, epoch, logs)


def _json(payload: Any) -> str:
    return json.dumps(clean(_plain(payload)), separators=(",", ":"), allow_nan=False)


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Runs:
    """The server's runs, one per page: starting a page's run stops its previous one.

    At most ``keep`` runs are kept (for their downloads); beyond that the oldest
    ended ones are dropped, then the oldest running ones stopped and dropped.
    """

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self._runs: dict[str, Run] = {}
        self._pages: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, page: str, problem: Problem, paused: bool = False,
              data_file: str | None = None) -> Run:
        run = Run(secrets.token_urlsafe(9), page, problem, paused, data_file)
        with self._lock:
            previous = self._runs.pop(self._pages.get(page, ""), None)
            if previous is not None:
                previous.stop("another run started on this page")
            self._runs[run.id] = run
            self._pages[page] = run.id
            dropped = self._trim()
        for old in dropped:
            old.stop("too many runs at once: the oldest was stopped")
        run.start()
        return run

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def stop_all(self, reason: str, timeout: float = 5.0) -> None:
        """Stop every run and wait up to ``timeout`` seconds in all for their threads."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop(reason)
        deadline = time.monotonic() + timeout
        for run in runs:
            run.join(max(0.0, deadline - time.monotonic()))

    def _trim(self) -> list[Run]:
        """Drop runs beyond ``keep`` (the lock held); the running ones dropped, to stop."""
        dropped: list[Run] = []
        for want_ended in (True, False):
            for run_id, run in list(self._runs.items()):
                if len(self._runs) <= self.keep:
                    return dropped
                if run.ended == want_ended:
                    del self._runs[run_id]
                    if self._pages.get(run.page) == run_id:
                        del self._pages[run.page]
                    if not run.ended:
                        dropped.append(run)
        return dropped

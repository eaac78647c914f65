"""Diagnostics before training: :func:`lr_find`, the learning-rate range test.

The range test (Smith, "Cyclical Learning Rates for Training Neural
Networks", arXiv:1506.01186; fastai's ``lr_find``, Lightning's
``LearningRateFinder``) trains for a few mini-batches while the learning rate
grows geometrically, records each batch's loss, and stops once the loss
blows up. The loss falls fastest at rates a little below the one where it
turns up: that is the rate to train with.

The batches are :func:`numnet.fit`'s own: the data checked by its first stage,
the runner it would choose, its shuffling and optimizer, with a callback
setting the rate before each batch. It trains a copy, so the model given is
left exactly as it was (weights, ``rng``, classes; an estimator's attributes).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._fitting.callbacks import DivergenceGuard
from ._fitting.loop import build_run, check_training_memory, prepare_data, run_epochs
from ._fitting.run import InterruptFlag, Run
from .engine import Runner
from .initializers import check_random_state
from .losses import Loss
from .network import Network
from .optimizers import Optimizer, get_optimizer
from .validation import check_fraction, check_positive_float, check_positive_int

__all__ = ["lr_find", "LRFinderResult"]

# The fewest steps a test may take: the warm-up is a quarter of them (see _warmup), and the
# suggestion is read from the rest.
MIN_STEPS = 8

# The suggestion is where the smoothed loss has come this share of the way down, on a log
# scale, from its highest to its lowest value (see lr_find's docstring for the measurement).
FALL = 2.0 / 3.0


@dataclass(frozen=True, eq=False)
class LRFinderResult:
    """What :func:`lr_find` measured: the loss at each rate tried, and the rate to use.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    rates : ndarray of shape (k,)
        The learning rate of each batch, growing geometrically (``k <= steps``:
        fewer when the test stopped at a divergence). In the units of the
        model's own setting (:attr:`parameter`).
    losses : ndarray of shape (k,)
        Each batch's loss, measured before its update (what ``fit`` reports).
    smoothed : ndarray of shape (k,)
        The losses' exponential moving average, bias-corrected.
    suggestion : float
        The rate to train with (see :func:`lr_find` for the rule).
    diverged_at : float or None
        The rate at which the smoothed loss passed ``diverge`` times its best
        (or a loss became NaN/inf), ending the test; None if it never did.
    parameter : str, default "learning_rate"
        The setting the rates are for: ``"learning_rate"`` (:func:`numnet.fit`,
        ``numnet train --lr``); for an estimator ``"learning_rate_init"``, or
        ``"optimizer.learning_rate"`` when it trains with an ``optimizer=`` of its own.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    diverged_at: float | None
    parameter: str = "learning_rate"

    def plot(self, path: str | os.PathLike[str] | None = None, ax: Any = None) -> Any:
        """Loss against learning rate (log axis), the suggestion marked; saved as PNG at ``path``.

        Draws each batch's loss (faint) and the smoothed loss. Needs
        matplotlib (the ``plots`` extra), as :mod:`numnet.plots` does.

        Parameters
        ----------
        path : str, path-like or None, default None
            Where to save the chart as PNG; None saves nothing.
        ax : matplotlib.axes.Axes or None, default None
            Axes to draw into; None makes a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.
        """
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ImportError("LRFinderResult.plot needs matplotlib: pip install "
                              "'numnet[plots]'") from None
        from . import plots
        fig, ax = plots._figure(ax)
        ax.plot(self.rates, self.losses, color="tab:blue", alpha=0.25, linewidth=1,
                label="batch loss")
        ax.plot(self.rates, self.smoothed, color="tab:blue", linewidth=2,
                label="smoothed loss")
        at = int(np.argmin(np.abs(np.log(self.rates / self.suggestion))))
        ax.axvline(self.suggestion, color="tab:red", linestyle="--", linewidth=1)
        ax.plot([self.suggestion], [self.smoothed[at]], "o", color="tab:red",
                label=f"suggestion {self.suggestion:.3g}")
        if self.diverged_at is not None:
            ax.axvline(self.diverged_at, color="tab:gray", linestyle=":", linewidth=1,
                       label=f"diverged at {self.diverged_at:.3g}")
        low, high = self._loss_range()
        if low > 0 and high > 20 * low:
            ax.set_yscale("log")
            ax.set_ylim(low / 1.2, high * 1.2)
        elif high > low:
            pad = 0.1 * (high - low)
            ax.set_ylim(low - pad, high + pad)
        ax.set_xscale("log")
        what = "learning rate" if self.parameter == "learning_rate" \
            else f"learning rate ({self.parameter})"
        return plots._finish_chart(fig, ax, path, what,
                                   "loss", "Learning-rate range test")

    def _loss_range(self) -> tuple[float, float]:
        """The smoothed losses worth seeing: past the first tenth of the steps (few batches
        behind them), before the divergent last one (which leaves the chart upwards)."""
        k = len(self.smoothed)
        end = k - 1 if self.diverged_at is not None and k > 1 else k
        shown = self.smoothed[min(k // 10, end - 1):end]
        shown = shown[np.isfinite(shown)]
        if not shown.size:
            return 0.0, 0.0
        return float(shown.min()), float(shown.max())


@dataclass
class _Plan:
    """What the range test trains: a network of its own, its data, and fit's settings."""

    net: Network
    X: Any
    y: Any
    loss: str | Loss | None
    optimizer: Optimizer
    batch_size: int | str | None
    l2: float = 0.0
    dropout: float = 0.0
    shuffle: bool = True
    rng: np.random.Generator | None = None
    scale: float = 1.0              # the optimizer's rate is scale * the model's own setting
    parameter: str = "learning_rate"


def lr_find(
    model: Any,
    X: Any,
    y: Any,
    *,
    optimizer: str | Optimizer | None = None,
    start: float = 1e-7,
    stop: float = 10.0,
    steps: int = 100,
    batch_size: int | str | None = "auto",
    loss: str | Loss | None = None,
    smoothing: float = 0.98,
    diverge: float = 4.0,
    random_state: int | np.random.Generator | None = None,
) -> LRFinderResult:
    """The learning-rate range test: the loss of ``steps`` batches at growing rates.

    The rate of batch ``i`` is ``start * (stop / start) ** (i / (steps - 1))``;
    the batches cycle through the shuffled data as many times as needed. Each
    batch's loss is recorded before its update, with its exponential moving
    average ``avg = smoothing * avg + (1 - smoothing) * loss``, bias-corrected
    (divided by ``1 - smoothing ** (i + 1)``). The test stops early once the
    smoothed loss exceeds ``diverge`` times its lowest value so far, or a loss
    is NaN/inf. Ctrl-C ends it early too, with what was measured.

    The smoothed losses of the first steps rest on few batches: the lowest
    loss and the divergence are looked for after a warm-up of ``min(steps //
    4, 1 / (1 - smoothing))`` steps (25 of 100 by default).

    The suggestion is the rate at which the smoothed loss has come two thirds
    of the way down, on a log scale, from its highest to its lowest value
    (the first rate after the last step above that level). Chosen by
    measurement (10 seeds per problem; the ratio suggestion / the best rate of
    a sweep of full trainings, median and range): ``1 - x`` with per-example
    SGD 0.53 (0.49-0.74); a ReLU regression with targets of scale 10, batch
    32, 0.76 (0.53-1.1); moons with Adam 0.76 (0.40-2.6), with SGD 0.22
    (0.13-0.32). A tenth of the rate at the lowest loss fell short (medians
    0.11, 0.19, 0.55, 0.07); the steepest slope of the smoothed loss landed
    on early noise on ``1 - x`` (1e-4 of the best), and, read over a wider
    window, at 1.8 to 4 times the best on the ReLU regressions, where such
    rates diverge. On a loss that hardly fell (compare ``smoothed``'s highest
    and lowest values), no rule can say much: try more steps, or another range.

    Per-example training (``batch_size=1``) sees one sample per step: give it
    more steps, e.g. ``steps=1000``.

    Parameters
    ----------
    model : numnet.MLP, or numnet.estimators.MLPClassifier / MLPRegressor
        Never modified: a network is copied (its ``rng`` included); an
        estimator is measured as its next ``fit`` would start (a new network
        from its ``random_state``, or its fitted one with ``warm_start``),
        with its own loss, batch size, ``alpha``, ``dropout``, shuffling and
        solver (``"sgd"`` with its momentum, or ``"adam"``; ``optimizer=`` if
        set). Its rates are ``learning_rate_init``'s (the ``optimizer=``'s own rate if set).
    X : array-like of shape (n_samples, num_inputs)
        The training inputs.
    y : array-like
        As :func:`numnet.fit` takes it: targets ``(n_samples, num_outputs)``,
        or class labels ``(n_samples,)``.
    optimizer : str or Optimizer, optional
        For a network: a name or an instance (a copy is trained; its schedule
        is ignored), default ``"sgd"``. An estimator uses its own solver.
    start, stop : float, default 1e-7, 10
        The first and last rate, ``0 < start < stop``.
    steps : int, default 100
        Batches (at least 8): one rate each.
    batch_size : int, "auto" or None, default "auto"
        As in :func:`numnet.fit` (1 is per-example training); an estimator uses
        its own.
    loss : str or Loss, optional
        As in :func:`numnet.fit`; an estimator uses its own.
    smoothing : float in [0, 1), default 0.98
        The moving average's weight of the past (0: no smoothing).
    diverge : float > 1, default 4
        Stop once the smoothed loss exceeds this multiple of its best.
    random_state : int, Generator or None
        Seeds the shuffling (dropout too). None: a copy of the network's own
        ``rng`` (the shuffles its next ``fit`` would draw), else fresh entropy.
        For an estimator, in place of its own ``random_state`` (the initial
        weights too, as its ``fit`` draws them); None: a copy of its own.

    Returns
    -------
    LRFinderResult
        ``rates``, ``losses``, ``smoothed`` (each of shape (k,), ``k <= steps``),
        ``suggestion``, ``diverged_at``; ``plot()`` draws them.

    Raises
    ------
    ValueError, TypeError
        For bad arguments or data, one line saying what to give instead.

    Examples
    --------
    >>> from numnet import MLP, fit
    >>> from numnet.datasets import one_minus_x
    >>> X, y = one_minus_x(1000, random_state=0)
    >>> net = MLP(1, [3], 1, random_state=0)
    >>> result = lr_find(net, X, y, batch_size=1, start=1e-4, stop=100, steps=1000)
    >>> history = fit(net, X, y, learning_rate=result.suggestion, batch_size=1, verbose=False)
    """
    start = check_positive_float(start, "start")
    stop = check_positive_float(stop, "stop")
    if not stop > start:
        raise ValueError(f"stop must be larger than start, got start={start:g}, stop={stop:g}; "
                         f"e.g. start=1e-7, stop=10")
    steps = check_positive_int(steps, "steps", "; e.g. steps=100")
    if steps < MIN_STEPS:
        raise ValueError(f"steps must be at least {MIN_STEPS} to read a suggestion from, got "
                         f"{steps}; e.g. steps=100")
    smoothing = check_fraction(smoothing, "smoothing")
    diverge = check_positive_float(diverge, "diverge")
    if not diverge > 1:
        raise ValueError(f"diverge must be above 1 (the multiple of the best smoothed loss "
                         f"that ends the test), got {diverge:g}; e.g. diverge=4")
    if isinstance(model, Network):
        plan = _network_plan(model, X, y, optimizer, batch_size, loss, random_state)
    elif _is_estimator(model):
        plan = _estimator_plan(model, X, y, optimizer, batch_size, loss, random_state)
    else:
        raise TypeError(f"lr_find takes a numnet.MLP or a numnet.estimators MLPClassifier or "
                        f"MLPRegressor, got {type(model).__name__}")
    rates = start * (stop / start) ** (np.arange(steps) / (steps - 1))
    return _range_test(plan, rates, smoothing, diverge)


def _network_plan(net: Network, X: Any, y: Any, optimizer: str | Optimizer | None,
                  batch_size: int | str | None, loss: str | Loss | None,
                  random_state: int | np.random.Generator | None) -> _Plan:
    """A copy of ``net`` and fit's settings, the optimizer a copy without its schedule."""
    opt = get_optimizer("sgd" if optimizer is None else optimizer)
    opt = copy.deepcopy(opt)
    opt.schedule = None
    twin = net.copy()                   # its rng is a copy: the network's stream stays put
    rng = twin.rng if random_state is None and twin.rng is not None \
        else check_random_state(random_state)
    return _Plan(twin, X, y, loss, opt, batch_size, rng=rng)


def _is_estimator(model: Any) -> bool:
    try:
        from numnet.estimators.base import BaseMLP  # the sklearn extra
    except ImportError:
        return False
    return isinstance(model, BaseMLP)


def _estimator_plan(est: Any, X: Any, y: Any, optimizer: str | Optimizer | None,
                    batch_size: int | str | None, loss: str | Loss | None,
                    random_state: int | np.random.Generator | None) -> _Plan:
    """What the estimator's ``fit`` would train, prepared on a copy of the estimator."""
    from numnet.estimators import stochastic
    from numnet.estimators.parameters import as_generator, l2_penalty

    name = type(est).__name__
    for what, value, default in (("optimizer", optimizer, None), ("loss", loss, None),
                                 ("batch_size", batch_size, "auto")):
        if value is not default and value != default:
            raise ValueError(f"{name} trains with its own {what}: set it on the estimator "
                             f"(set_params) and leave lr_find's {what} out")
    if est.solver == "lbfgs":
        raise ValueError(f"{name}(solver='lbfgs') takes no learning rate; set solver='sgd' or "
                         f"'adam' to find one")
    twin = copy.copy(est)               # what fit sets lands on the copy
    twin.random_state = copy.deepcopy(est.random_state)       # a Generator is drawn from
    if hasattr(est, "_net"):
        twin._net = est._net.copy()
    twin._validate_params()
    rng = as_generator(twin.random_state if random_state is None else random_state)
    Xc, Y, _ = twin._prepare(X, y, None, False, rng)
    if twin.early_stopping:             # fit trains on the rest of the split
        Xc, Y, _, _ = stochastic.hold_out(Xc, Y, None, twin.validation_fraction,
                                          twin._stratify(Y), rng)
    size = stochastic.batch_size(twin.batch_size, Xc.shape[0])
    opt = twin._new_optimizer()                 # a new one, of its own or a copy: ours
    opt.schedule = None
    own = twin.optimizer is None and twin.solver == "sgd"     # its rate is scale * lr_init
    scale = float(twin._scale) if own else 1.0
    return _Plan(twin._net, Xc, Y, twin._loss, opt, size,
                 l2=l2_penalty(twin.alpha, twin._scale, size), dropout=float(twin.dropout),
                 shuffle=bool(twin.shuffle), rng=rng, scale=scale,
                 parameter="learning_rate_init" if twin.optimizer is None
                 else "optimizer.learning_rate")


class _OneBatchAtATime:
    """The runner ``fit`` chose, handed one batch per call, each batch's mean loss kept.

    ``whole_epochs`` is False, so the loop calls the callbacks after every
    batch and the rate can change between any two.
    """

    whole_epochs = False

    def __init__(self, runner: Runner, n_samples: int) -> None:
        self.runner, self.name, self.n = runner, runner.name, n_samples
        self.last = math.nan

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        total = self.runner.run(X, Y, order, first, last, batch_size)
        count = min(last * batch_size, self.n) - first * batch_size
        self.last = total / count
        return total


class _RangeTest(DivergenceGuard):
    """Sets the rate before each batch, records its loss, stops at the end or a divergence.

    A :class:`DivergenceGuard`, so that ``fit`` adds none of its own: this one
    watches the smoothed loss of every batch instead of each epoch's.
    """

    def __init__(self, rates: np.ndarray, scale: float, smoothing: float, diverge: float
                 ) -> None:
        super().__init__()
        self.rates, self.scale = rates, scale
        self.warmup = _warmup(len(rates), smoothing)
        self.smoothing, self.diverge = smoothing, diverge
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.diverged_at: float | None = None
        self.batches: _OneBatchAtATime | None = None
        self._average = 0.0
        self._best = math.inf

    def _set_rate(self, run: Run) -> None:
        run.optimizer.learning_rate = self.scale * float(self.rates[len(self.losses)])

    def on_train_begin(self, run: Run) -> None:
        self._set_rate(run)

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        self._set_rate(run)

    def on_batch_end(self, run: Run, batch: int, logs: dict[str, float]) -> None:
        assert self.batches is not None
        loss = float(self.batches.last)
        i = len(self.losses)
        self.losses.append(loss)
        beta = self.smoothing
        self._average = beta * self._average + (1.0 - beta) * loss
        smooth = self._average / (1.0 - beta ** (i + 1))
        self.smoothed.append(smooth)
        if not math.isfinite(smooth) or smooth > self.diverge * self._best:
            self.diverged_at = float(self.rates[i])
            run.stop(f"diverged at learning rate {self.rates[i]:.3g}")
            return
        if i >= self.warmup:                # the first averages rest on a few batches
            self._best = min(self._best, smooth)
        if len(self.losses) == len(self.rates):
            run.stop("range test complete")
        else:
            self._set_rate(run)

    def on_epoch_end(self, run: Run, epoch: int, logs: dict[str, float]) -> None:
        """Nothing: the batches are watched, not the epochs."""


def _range_test(plan: _Plan, rates: np.ndarray, smoothing: float, diverge: float
                ) -> LRFinderResult:
    """Train ``plan.net`` for ``len(rates)`` batches through fit's own stages."""
    net, opt = plan.net, plan.optimizer
    rng = plan.rng if plan.rng is not None else check_random_state(None)
    data = prepare_data(net, plan.X, plan.y, loss=plan.loss, batch_size=plan.batch_size,
                        metrics=[], validation_split=0.0, validation_data=None, rng=rng)
    check_training_memory(net, data, opt)
    test = _RangeTest(rates, plan.scale, smoothing, diverge)
    epochs = math.ceil(len(rates) / data.steps)
    run, cbs, runner = build_run(net, data, opt, epochs=epochs, shuffle=plan.shuffle,
                                 l2=plan.l2, dropout=plan.dropout, callbacks=[test],
                                 verbose=False, rng=rng, resume=None)
    test.batches = _OneBatchAtATime(runner, len(data.X))
    with InterruptFlag() as interrupt, np.errstate(over="ignore", invalid="ignore",
                                                    divide="ignore", under="ignore"):
        cbs.on_train_begin(run)
        run_epochs(run, cbs, test.batches, data, plan.shuffle, interrupt)
        cbs.on_train_end(run)
    if not test.losses:                 # Ctrl-C before the first batch ended
        raise KeyboardInterrupt
    k = len(test.losses)
    tried = rates[:k].copy()
    losses = np.array(test.losses)
    smoothed = np.array(test.smoothed)
    for array in (tried, losses, smoothed):
        array.setflags(write=False)
    kept = k - 1 if test.diverged_at is not None and k > 1 else k    # not the divergent one
    suggestion = _suggest(tried[:kept], smoothed[:kept], test.warmup)
    return LRFinderResult(tried, losses, smoothed, suggestion, test.diverged_at, plan.parameter)


def _warmup(steps: int, smoothing: float) -> int:
    """The first steps, whose smoothed loss rests on too few batches to be compared.

    The bias-corrected average of step ``i`` weighs about ``min(i + 1, 1 / (1 -
    smoothing))`` batches, so its noise is larger early on: a lucky first
    batch would otherwise count as the lowest loss of the whole test. A
    quarter of the steps at most.
    """
    return min(steps // 4, math.ceil(1.0 / (1.0 - smoothing)))


def _suggest(rates: np.ndarray, smoothed: np.ndarray, warmup: int) -> float:
    """Where the smoothed loss has come down by :data:`FALL` of its fall (in log loss).

    The fall is from its highest to its lowest value after the warm-up; the
    rate returned is the first after the last step still above that level.
    When the loss never fell, the rate of its lowest value. ``rates`` and
    ``smoothed`` of shape (k,), the divergent last step left out.
    """
    values = np.where(np.isfinite(smoothed), smoothed, np.inf)
    first = min(warmup, len(values) - 1)
    lowest = first + int(np.argmin(values[first:]))
    bottom, top = float(values[lowest]), float(values[first:lowest + 1].max())
    if not top > bottom:
        return float(rates[lowest])
    if bottom > 0:
        level = math.exp((1.0 - FALL) * math.log(top) + FALL * math.log(bottom))
    else:
        level = (1.0 - FALL) * top + FALL * bottom
    above = np.flatnonzero(values[first:lowest + 1] > level)
    return float(rates[min(first + int(above[-1]) + 1, lowest)])

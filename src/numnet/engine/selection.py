"""Which runner trains a configuration: :func:`choose_runner`, :func:`select_runner`.

The choice is :data:`RULES`, a sequence of rules read top to bottom, the
first that matches naming the runner (written out in :mod:`numnet.engine`'s
docstring too). numba is an optional extra: the compiled kernels are imported
here, inside :func:`load_kernels`, and their absence only narrows the choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import numpy as np

from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer

from .buffered import BufferedRunner, has_in_place_form
from .compiled import ExampleRunner, SmallBatchRunner, loss_code, optimizer_code
from .reference import NumpyRunner

__all__ = ["select_runner", "choose_runner", "preferred_runner", "compiled_available",
           "load_kernels", "SMALL_BATCH_WORK", "Runner", "RUNNERS", "RULES", "Rule",
           "Situation"]


class Runner(Protocol):
    """What ``fit`` (:mod:`numnet._fitting.loop`) asks of a runner.

    ``name`` says which runner it is (``History.runner``, the progress line,
    ``MLP.summary``); ``whole_epochs`` whether ``fit`` may hand over many
    batches per call; ``run`` trains on batches ``first..last-1`` of ``order``
    (batch ``b`` is ``order[b * batch_size:(b + 1) * batch_size]``; ``X`` of
    shape (n, num_inputs), ``Y`` (n, num_outputs)) and returns the sum over
    them of each batch's loss before its update times its size.
    """

    name: str
    whole_epochs: bool

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float: ...


# Every runner, reference first; mypy checks each against the Runner protocol here.
RUNNERS: tuple[type[Runner], ...] = (NumpyRunner, BufferedRunner, ExampleRunner,
                                     SmallBatchRunner)

# batch_size * widest layer up to which the compiled mini-batch loop beats the
# buffered BLAS path. Measured (2 cores, float64, ns per example, compiled vs
# buffered): 2-5-1 at batch 32 (160): 45-99 vs 650-700; 8-16-1 at 32 (512): 2.6-4.7x
# faster; 16-32-4 at 32 (1024): 1.3-1.4x faster; 32-64-4 at 32 (2048) and
# 16-32-4 at 128 (4096): 0.6-0.9x; 64-128-10 at 64 (8192): 0.25-0.4x.
SMALL_BATCH_WORK = 1024

_PREFERENCES = ("auto", "numpy", "buffered", "compiled")
_preference = "auto"


@contextlib.contextmanager
def preferred_runner(prefer: str) -> Iterator[None]:
    """Within the block, :func:`select_runner` (and so ``fit``) defaults to ``prefer``.

    ``prefer`` is ``"auto"``, ``"numpy"``, ``"buffered"`` or ``"compiled"``.
    """
    global _preference
    _check_preference(prefer)
    previous, _preference = _preference, prefer
    try:
        yield
    finally:
        _preference = previous


def _check_preference(prefer: str) -> str:
    if prefer not in _PREFERENCES:
        raise ValueError(f"prefer must be one of {list(_PREFERENCES)}, got {prefer!r}")
    return prefer


def load_kernels() -> ModuleType | None:
    """The compiled kernels (:mod:`numnet.engine.kernels`), or None without numba."""
    try:
        from . import kernels  # the optional extra numnet[fast]
    except ImportError:
        return None
    return kernels


def compiled_available() -> bool:
    """Whether numba is installed, so the compiled runners can be used."""
    return load_kernels() is not None


def _compiled_unsupported(net: Network, lossfn: Loss, optimizer: Optimizer, dropout: float,
                          kernels: ModuleType | None) -> str | None:
    """Why the compiled runners cannot train this configuration, or None if they can."""
    if kernels is None:
        return "numba is not installed"
    if dropout > 0:
        return "dropout"
    if loss_code(net, lossfn, kernels) is None:
        return (f"loss {lossfn.name!r} with a {net.output_activation!r} output (supported: "
                f"mse, and cross-entropies fused with sigmoid/softmax)")
    if optimizer_code(optimizer, kernels) is None:
        return (f"optimizer {type(optimizer).__name__} has no compiled update "
                f"(supported: SGD, Adam, AdamW)")
    unknown = [a.name for a in net.activation_fns if a.name not in kernels.ACTIVATION_CODES]
    if unknown:
        return f"activations {unknown}"
    return None


@dataclass(frozen=True)
class Situation:
    """What the rules look at, read once from ``fit``'s configuration."""

    prefer: str                     # "auto", "numpy", "buffered" or "compiled"
    batch_size: int
    work: int                       # batch_size * widest layer (input and output included)
    dropout: float
    weighted: bool                  # sample weights given
    why_not_compiled: str | None    # why no compiled runner may train it; None if one may
    in_place: bool                  # every activation has its in-place form

    @property
    def compiled(self) -> bool:
        """Whether a compiled runner may be chosen: ``prefer`` allows it and the kernels can."""
        return self.why_not_compiled is None


@dataclass(frozen=True)
class Rule:
    """One line of :data:`RULES`: ``runner`` (a runner's ``name``) trains when ``when`` holds."""

    runner: str
    when: str
    applies: Callable[[Situation], bool]


# The choice, first match wins. Every runner gives the reference's results to rounding
# (tests/test_engine.py); these rules pick the fastest that can train the configuration.
RULES: tuple[Rule, ...] = (
    Rule(NumpyRunner.name, "sample weights are given (only the reference weights samples)",
         lambda s: s.weighted),
    Rule(NumpyRunner.name, "prefer='numpy'",
         lambda s: s.prefer == "numpy"),
    Rule(NumpyRunner.name, "dropout > 0 (its masks draw from rng)",
         lambda s: s.dropout > 0 and s.prefer != "compiled"),
    Rule(ExampleRunner.name, "batch_size == 1 and the kernels cover the configuration",
         lambda s: s.compiled and s.batch_size == 1),
    Rule(SmallBatchRunner.name, f"batch_size * widest layer <= {SMALL_BATCH_WORK} and the "
                                f"kernels cover the configuration",
         lambda s: s.compiled and (s.prefer == "compiled" or s.work <= SMALL_BATCH_WORK)),
    Rule(NumpyRunner.name, "an activation has no in-place form",
         lambda s: not s.in_place),
    Rule(BufferedRunner.name, "none of the above (large batches and layers; or a loss, "
                              "optimizer or activation the kernels lack)",
         lambda s: True),
)


_COMPILED = (ExampleRunner.name, SmallBatchRunner.name)


def choose_runner(net: Network, lossfn: Loss, optimizer: Optimizer, batch_size: int,
                  dropout: float = 0.0, prefer: str | None = None,
                  weighted: bool = False) -> Rule:
    """The rule of :data:`RULES` that picks the runner for this configuration (builds nothing).

    ``prefer`` as in :func:`select_runner`; ``weighted`` whether sample weights
    are given. Raises ``ValueError`` saying why when ``prefer="compiled"`` and
    no compiled runner can train the configuration.
    """
    prefer = _check_preference(_preference if prefer is None else prefer)
    why_not: str | None = f"prefer={prefer!r}"       # numba is not imported then
    if prefer in ("auto", "compiled"):
        why_not = _compiled_unsupported(net, lossfn, optimizer, dropout, load_kernels())
    situation = Situation(
        prefer=prefer, batch_size=batch_size, work=batch_size * max(net.layer_sizes),
        dropout=dropout, weighted=weighted, why_not_compiled=why_not,
        in_place=all(has_in_place_form(a) for a in net.activation_fns))
    rule = next(rule for rule in RULES if rule.applies(situation))
    if prefer == "compiled" and not weighted and rule.runner not in _COMPILED:
        raise ValueError(f"no compiled runner for this configuration: "
                         f"{situation.why_not_compiled}")
    return rule


def select_runner(net: Network, lossfn: Loss, optimizer: Optimizer, batch_size: int,
                  l2: float, dropout: float, rng: np.random.Generator | None,
                  prefer: str | None = None, sample_weight: np.ndarray | None = None) -> Runner:
    """The runner :func:`choose_runner` names for this configuration, built.

    Parameters
    ----------
    net, lossfn, optimizer, batch_size, l2, dropout, rng
        As ``fit`` has them (``lossfn`` a :class:`~numnet.losses.Loss`).
    prefer : {"auto", "numpy", "buffered", "compiled"}, optional
        ``"auto"`` applies :data:`RULES`; the others force a path: ``"numpy"``
        the reference, ``"buffered"`` :class:`BufferedRunner` (the reference
        with dropout), ``"compiled"`` :class:`ExampleRunner` for batch size 1
        else :class:`SmallBatchRunner`, or ``ValueError`` when they cannot.
        Default: the :func:`preferred_runner` setting, ``"auto"``.
    sample_weight : ndarray of shape (n_samples,), optional
        Per-sample weights of the training set: only the reference runner
        weights samples, so it is chosen whatever ``prefer`` says.
    """
    name = choose_runner(net, lossfn, optimizer, batch_size, dropout, prefer,
                         weighted=sample_weight is not None).runner
    if name == NumpyRunner.name:
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng, sample_weight)
    kernels = load_kernels()
    if name == BufferedRunner.name:
        if kernels is not None and any(a.name not in kernels.ACTIVATION_CODES
                                       for a in net.activation_fns):
            kernels = None              # an activation without a compiled form: all in NumPy
        return BufferedRunner(net, lossfn, optimizer, l2, batch_size, kernels)
    if kernels is None:                 # the compiled rules match only with the kernels
        raise RuntimeError(f"the {name} runner needs numba")
    if name == ExampleRunner.name:
        return ExampleRunner(net, lossfn, optimizer, l2, kernels)
    return SmallBatchRunner(net, lossfn, optimizer, l2, kernels, batch_size)

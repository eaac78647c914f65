"""Which runner trains a configuration: :func:`select_runner` and :func:`preferred_runner`.

The rule is written out in :mod:`numnet.engine`'s docstring. numba is an
optional extra: the compiled kernels are imported here, inside
:func:`load_kernels`, and their absence only narrows the choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

import numpy as np

from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer

from .buffered import BufferedRunner, has_in_place_form
from .compiled import ExampleRunner, SmallBatchRunner, loss_code, optimizer_code
from .reference import NumpyRunner

__all__ = ["select_runner", "preferred_runner", "compiled_available", "load_kernels",
           "SMALL_BATCH_WORK", "Runner"]

Runner = NumpyRunner | BufferedRunner | ExampleRunner | SmallBatchRunner

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


def select_runner(net: Network, lossfn: Loss, optimizer: Optimizer, batch_size: int,
                  l2: float, dropout: float, rng: np.random.Generator | None,
                  prefer: str | None = None, sample_weight: np.ndarray | None = None) -> Runner:
    """The fastest runner that gives this configuration the reference's results.

    Parameters
    ----------
    net, lossfn, optimizer, batch_size, l2, dropout, rng
        As ``fit`` has them (``lossfn`` a :class:`~numnet.losses.Loss`).
    prefer : {"auto", "numpy", "buffered", "compiled"}, optional
        ``"auto"`` applies the rule in :mod:`numnet.engine`'s docstring; the
        others force a path: ``"numpy"`` the reference, ``"buffered"``
        :class:`BufferedRunner` (the reference with dropout), ``"compiled"``
        :class:`ExampleRunner` for batch size 1 else :class:`SmallBatchRunner`,
        or ``ValueError`` when they cannot. Default: the
        :func:`preferred_runner` setting, ``"auto"``.
    sample_weight : ndarray of shape (n_samples,), optional
        Per-sample weights of the training set: only the reference runner
        weights samples, so it is chosen whatever ``prefer`` says.
    """
    if sample_weight is not None:
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng, sample_weight)
    prefer = _check_preference(_preference if prefer is None else prefer)
    if prefer == "numpy" or dropout > 0 and prefer != "compiled":
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng)
    kernels = load_kernels()
    if prefer in ("auto", "compiled"):
        why_not = _compiled_unsupported(net, lossfn, optimizer, dropout, kernels)
        if why_not is None and kernels is not None:
            if batch_size == 1:
                return ExampleRunner(net, lossfn, optimizer, l2, kernels)
            if prefer == "compiled" or batch_size * max(net.layer_sizes) <= SMALL_BATCH_WORK:
                return SmallBatchRunner(net, lossfn, optimizer, l2, kernels, batch_size)
        elif prefer == "compiled":
            raise ValueError(f"no compiled runner for this configuration: {why_not}")
    if not all(has_in_place_form(a) for a in net.activation_fns):
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng)
    if kernels is not None and any(a.name not in kernels.ACTIVATION_CODES
                                   for a in net.activation_fns):
        kernels = None                  # an activation without a compiled form: all in NumPy
    return BufferedRunner(net, lossfn, optimizer, l2, batch_size, kernels)

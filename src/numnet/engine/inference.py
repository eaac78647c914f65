"""Inference: a network's outputs without training's bookkeeping, in the network's dtype.

:func:`forward` gives what :meth:`numnet.network.Network.forward` gives for
validated inputs, and raises its errors, by one of two paths chosen by size:

* ``"compiled rows"`` (numba): up to :data:`FEW_ROWS_WORK` (rows times the
  widest layer), the whole pass in one compiled call
  (:func:`numnet.engine.kernels.forward_rows`), where NumPy would make two
  or three calls per layer;
* ``"blocked"``: rows in blocks whose activations fit in a core's
  cache (:data:`BLOCK_BYTES`); each layer's product (BLAS) goes into a reused
  buffer, and its bias and activation are applied in place while the block
  is still in cache, in one compiled pass (:func:`numnet.engine.kernels.finish_layer`)
  or, without numba or for an activation of your own, NumPy's calls. The compiled
  pass took 100,000 rows of 64-128-64-10 (relu, softmax) in float32 from 57 to 43 ms
  (best of 12, interleaved). From :data:`PARALLEL_BLOCKS` blocks per core on, the rows are
  cut into one part per core, each part's blocks run on a thread of its own
  and each product on one BLAS thread (:mod:`.threads`): 100,000 rows of
  64-128-64-10 in float32 took 171 ms against 592 ms for one pass with
  OpenBLAS's own threads while another process was busy (best of 15). The
  parts are cut between blocks, so the outputs equal one part's bit for bit.

Both check every weighted sum for NaN or infinite values before the activation
(a sigmoid would hide an overflow); on one, the reference pass runs to raise
the error it raises.
``tests/test_inference.py`` holds both paths equal to the reference.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from numnet.network import Network
from numnet.validation import check_finite

from .buffered import Scratch, has_in_place_form
from .compiled import Layout
from .selection import load_kernels
from .threads import can_limit_blas, cores, limit_blas

__all__ = ["forward", "inference_path", "FEW_ROWS_WORK", "BLOCK_BYTES", "PARALLEL_BLOCKS"]

# rows x widest layer up to which one compiled call beats NumPy's calls per layer
FEW_ROWS_WORK = 4096

# bytes of one block's activations (its buffers Z and A): within a core's L2 cache
BLOCK_BYTES = 1 << 20

# blocks per core from which the blocked path runs a part of the rows on each core
PARALLEL_BLOCKS = 4


class _Plan:
    """What inference needs of one network, read once: the kernel, its layout, block rows.

    Holds no buffers: each call allocates its own, so threads may share a network.
    """

    def __init__(self, net: Network) -> None:
        self.params = net.flat_parameters
        self.kernels = load_kernels()
        self.layout: np.ndarray | None = None         # forward_rows' packed layout
        self.units = 0
        self.codes: list[int] | None = None           # finish_layer's activation codes
        if self.kernels is not None and all(
                a.name in self.kernels.ACTIVATION_CODES for a in net.activation_fns):
            lay = Layout(net, self.kernels)
            self.layout = lay.packed()
            self.units = lay.units
            self.codes = [self.kernels.ACTIVATION_CODES[a.name] for a in net.activation_fns]
        self.blocked = all(has_in_place_form(a) for a in net.activation_fns)
        self.width = max(net.layer_sizes)
        self.block_rows = max(16, BLOCK_BYTES // (2 * self.width * net.dtype.itemsize))

    def path(self, n_rows: int) -> str:
        if self.layout is not None and n_rows * self.width <= FEW_ROWS_WORK:
            return "compiled rows"
        return "blocked" if self.blocked else "reference"


_PLANS: weakref.WeakKeyDictionary[Network, _Plan] = weakref.WeakKeyDictionary()


def _plan(net: Network) -> _Plan:
    """The network's plan; rebuilt when its parameter vector is another array."""
    plan = _PLANS.get(net)
    if plan is None or plan.params is not net.flat_parameters:
        plan = _PLANS[net] = _Plan(net)
    return plan


def inference_path(net: Network, n_rows: int) -> str:
    """The path :func:`forward` takes for ``n_rows`` rows: ``"compiled rows"``,
    ``"blocked"`` or ``"reference"``."""
    return _plan(net).path(n_rows)


def forward(net: Network, X: np.ndarray, name: str = "X") -> np.ndarray:
    """Outputs ``(n, num_outputs)`` for validated ``X: (n, num_inputs)`` in the net's dtype.

    Raises :meth:`~numnet.network.Network.forward`'s ValueError for inputs
    that are not finite or that overflow (``name`` names them in it): ``X``
    need not have been checked for NaN or infinite values.
    """
    plan = _plan(net)
    path = plan.path(len(X))
    if path == "compiled rows":
        out = _compiled_rows(net, plan, X)
    elif path == "blocked":
        out = _blocked_parts(net, plan, X)
    else:
        out = None
    if out is None:                      # not finite, or no fast path: the reference's checks
        check_finite(X, name)
        return Network._forward_checked(net, X, name)
    return out


def _compiled_rows(net: Network, plan: _Plan, X: np.ndarray) -> np.ndarray | None:
    assert plan.layout is not None and plan.kernels is not None
    X = X if X.flags.c_contiguous else np.ascontiguousarray(X)
    out = np.empty((len(X), net.num_outputs), dtype=net.dtype)
    work = np.empty(2 * plan.units, dtype=net.dtype)
    status = plan.kernels.forward_rows(X, net.flat_parameters, plan.layout, out, work)
    return None if status else out


_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    """The threads that run the parts of a large pass (one per core, made once)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(cores(), thread_name_prefix="numnet-inference")
    return _pool


def _forget_threads() -> None:
    """In a forked child: the parent's threads are not there, so make new ones when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def _blocked_parts(net: Network, plan: _Plan, X: np.ndarray) -> np.ndarray | None:
    """:func:`_blocked` over one part of the rows per core, each on its own thread with
    one BLAS thread; in one part when the rows are few, there is one core, or BLAS's
    threads cannot be set (two parts would then each split their products again)."""
    parts = min(cores(), len(X) // (PARALLEL_BLOCKS * plan.block_rows))
    if parts < 2 or not can_limit_blas():
        return _blocked(net, plan, X)
    out = np.empty((len(X), net.num_outputs), dtype=net.dtype)
    # cut between blocks, so that every block holds the rows it holds in one part (a
    # product's last bits can depend on where its rows start)
    blocks = -(-len(X) // plan.block_rows)
    cuts = np.minimum(np.linspace(0, blocks, parts + 1).astype(int) * plan.block_rows, len(X))
    with limit_blas(1):
        done = list(_threads().map(lambda a, b: _blocked(net, plan, X[a:b], out[a:b]),
                                   cuts[:-1], cuts[1:]))
    return out if all(part is not None for part in done) else None


def _blocked(net: Network, plan: _Plan, X: np.ndarray, out: np.ndarray | None = None
             ) -> np.ndarray | None:
    """Outputs ``(n, num_outputs)`` of ``X: (n, num_inputs)`` a block of rows at a time
    (into ``out`` when given), or None on a non-finite value."""
    rows = min(plan.block_rows, len(X))
    Zs = [np.empty((rows, m), dtype=net.dtype) for m in net.layer_sizes[1:]]
    # relu and identity write over Z, as in the buffered runner
    As = [Z if a.name in ("identity", "relu") else np.empty_like(Z)
          for Z, a in zip(Zs, net.activation_fns, strict=True)]
    scratch = Scratch(rows, max(net.layer_sizes[1:]), net.dtype)
    if out is None:
        out = np.empty((len(X), net.num_outputs), dtype=net.dtype)
    weights, acts, codes = net.weights, net.activation_fns, plan.codes
    biases = net.biases or [np.empty(0, dtype=net.dtype)] * len(weights)
    finish = None if codes is None or plan.kernels is None else plan.kernels.finish_layer
    try:
        with np.errstate(over="raise", invalid="raise"):
            for start in range(0, len(X), rows):
                A_prev = X[start:start + rows]
                n = len(A_prev)
                for i, W in enumerate(weights):
                    Z, A = Zs[i][:n], As[i][:n]
                    np.matmul(A_prev, W, out=Z)
                    if finish is not None:              # bias and activation in one pass
                        if finish(Z, biases[i], A, codes[i]):   # type: ignore[index]
                            return None
                    else:
                        if len(biases[i]):
                            Z += biases[i]
                        if not np.isfinite(Z).all():    # before a sigmoid hides an inf
                            return None
                        if acts[i].name != "identity":
                            acts[i].forward_into(Z, A, scratch.take(n, Z.shape[1]))  # type: ignore[misc]
                    A_prev = A
                out[start:start + n] = A_prev
    except FloatingPointError:
        return None
    return out if np.isfinite(out).all() else None

"""Runners: what presents the batches of an epoch to the network and optimizer.

``fit`` shuffles indices and asks a runner for batches ``first..last-1`` of an
epoch (batch ``b`` is the samples ``order[b * batch_size:(b + 1) * batch_size]``,
the last one possibly short); the runner trains on them and returns the sum
over those batches of each batch's loss, measured before its update, times
its size. ``runner.whole_epochs`` tells ``fit`` whether it may hand over many
batches per call (no Python runs between them, so callbacks see them in
groups): true for the compiled runners, and for :class:`BufferedRunner` when
a batch is cheap.

Four runners, with the same results to rounding (``tests/test_engine.py``
holds them to 1e-9 relative in float64, 1e-4 in float32, optimizer state
and ``t`` included, so a run may switch runners between epochs):

* :class:`NumpyRunner`, the reference: one batch at a time through the
  readable :meth:`Network.loss_and_flat_gradient` and ``optimizer.step``
  (:mod:`numnet.engine.reference`).
* :class:`BufferedRunner`: the same maths on buffers allocated once (the
  batch gathered with ``take(..., out=)``, matrix products with ``out=``,
  activations and derivatives in their in-place forms, in the network's
  dtype), no ``dX`` for the input layer, and with numba the elementwise
  work and the optimizer's update compiled. An update that is exactly ``p -= lr * g``
  (the optimizer's ``linear_rate()``: plain SGD, no ``l2``) goes inside
  each weight matrix's gradient product, one BLAS ``gemm`` with
  ``beta = 1`` through :mod:`scipy.linalg.blas` (:mod:`numnet.engine.blas`).
  The path for large networks, where the time is BLAS's
  (:mod:`numnet.engine.buffered`).
* :class:`ExampleRunner` (numba): batch size 1, whole epochs of per-example
  updates in one compiled loop (:mod:`numnet.engine.compiled`, kernels in
  :mod:`numnet.engine.kernels`).
* :class:`SmallBatchRunner` (numba): mini-batches of small layers, where a
  BLAS call costs more than its arithmetic, in one compiled loop.

Selection (:func:`select_runner` with ``prefer="auto"``), first match wins:

1. ``dropout > 0`` -> :class:`NumpyRunner` (the masks draw from ``rng``).
2. numba importable, a loss with a scalar form (``mse`` with any output, or
   a cross-entropy fused with its output activation), an optimizer whose ``kernel_spec()`` names a
   compiled rule (:class:`~numnet.optimizers.SGD`,
   :class:`~numnet.optimizers.Adam`, :class:`~numnet.optimizers.AdamW`, with
   any schedule; momentum, Nesterov, weight decay and ``l2`` included):

   * ``batch_size == 1`` -> :class:`ExampleRunner`, whatever the widths (it
     beats the others at batch size 1 from 1-3-1 to 784-1024-1024-10);
   * ``batch_size * max(layer sizes) <= SMALL_BATCH_WORK`` -> :class:`SmallBatchRunner`.

3. Anything else -> :class:`BufferedRunner` (any loss, any optimizer: the
   update is compiled for those with a kernel spec when numba is there, else
   ``optimizer.step``), or :class:`NumpyRunner` for an activation without an
   in-place form.

``prefer="numpy"``, ``"buffered"`` or ``"compiled"`` forces a path
(``"compiled"`` raises ``ValueError`` saying why when it cannot);
:func:`preferred_runner` sets the default for a ``with`` block, e.g. around
``fit`` in benchmarks or tests. No environment variables are read.
"""

from __future__ import annotations

from .buffered import BufferedRunner
from .compiled import ExampleRunner, SmallBatchRunner
from .reference import NumpyRunner
from .selection import (
    SMALL_BATCH_WORK,
    Runner,
    compiled_available,
    preferred_runner,
    select_runner,
)

__all__ = ["NumpyRunner", "BufferedRunner", "ExampleRunner", "SmallBatchRunner", "Runner",
           "select_runner", "preferred_runner", "compiled_available", "SMALL_BATCH_WORK"]

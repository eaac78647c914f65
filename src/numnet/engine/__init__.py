"""Runners: what presents the batches of an epoch to the network and optimizer.

``fit`` shuffles indices and asks a runner for batches ``first..last-1`` of an
epoch (batch ``b`` is the samples ``order[b * batch_size:(b + 1) * batch_size]``,
the last one possibly short); the runner trains on them and returns the sum
over those batches of each batch's loss, measured before its update, times
its size. ``runner.whole_epochs`` tells ``fit`` whether it may hand over many
batches per call (no Python runs between them, so callbacks see them in
groups): true for the compiled runners, and for :class:`BufferedRunner` when
a batch is cheap.

Four runners, each with a short stable ``name`` (``History.runner``, the
first progress line and ``MLP.summary()`` show it), with the same results to
rounding (``tests/test_engine.py`` holds them to 1e-9 relative in float64,
1e-4 in float32, optimizer state and ``t`` included, so a run may switch
runners between epochs). Each satisfies the :class:`Runner` protocol (``name``,
``whole_epochs``, ``run``), which mypy checks (:data:`RUNNERS`):

* ``"reference"``, :class:`NumpyRunner`: one batch at a time through the
  readable :meth:`Network.loss_and_flat_gradient` and ``optimizer.step``
  (:mod:`numnet.engine.reference`).
* ``"buffered"``, :class:`BufferedRunner`: the same maths on buffers
  allocated once (the batch gathered with ``take(..., out=)``, matrix products
  with ``out=``, activations and derivatives in their in-place forms, in the
  network's dtype), no ``dX`` for the input layer, and with numba the
  elementwise work and the optimizer's update compiled. An update that is
  exactly ``p -= lr * g`` (the optimizer's ``linear_rate()``: plain SGD, no
  ``l2``) is made layer by layer as each gradient is complete, with the rate
  folded into ``dZ`` before the product. BLAS is NumPy's ``matmul``, nothing
  else; a batch whose products are all small runs them on one BLAS thread
  (:mod:`numnet.engine.threads`, with :mod:`threadpoolctl`). The path for
  large networks, where the time is BLAS's (:mod:`numnet.engine.buffered`).
* ``"compiled per-example"``, :class:`ExampleRunner` (numba): batch size 1,
  whole epochs of per-example updates in one compiled loop
  (:mod:`numnet.engine.compiled`, kernels in :mod:`numnet.engine.kernels`).
* ``"compiled small-batch"``, :class:`SmallBatchRunner` (numba): mini-batches
  of small layers, where a BLAS call costs more than its arithmetic, in one
  compiled loop.

Selection: :func:`choose_runner` reads :data:`RULES` top to bottom, first
match wins (:func:`select_runner` builds the runner it names):

1. sample weights -> ``"reference"`` (only it weights samples), whatever ``prefer`` says;
2. ``prefer="numpy"`` -> ``"reference"``;
3. ``dropout > 0`` -> ``"reference"`` (the masks draw from ``rng``);
4. ``batch_size == 1`` and the kernels cover the configuration ->
   ``"compiled per-example"`` (it beats the others at batch size 1 from 1-3-1
   to 784-1024-1024-10);
5. ``batch_size * max(layer sizes) <= SMALL_BATCH_WORK`` (1024) and the
   kernels cover it -> ``"compiled small-batch"``;
6. an activation without an in-place form -> ``"reference"``;
7. anything else -> ``"buffered"`` (any loss, any optimizer: the update is
   compiled for those with a kernel spec when numba is there, else
   ``optimizer.step``).

"The kernels cover the configuration": numba importable, a loss with a
scalar form (``mse`` with any output, or a cross-entropy fused with its
output activation), an optimizer whose ``kernel_spec()`` names a compiled
rule (:class:`~numnet.optimizers.SGD`, :class:`~numnet.optimizers.Adam`,
:class:`~numnet.optimizers.AdamW`, with any schedule; momentum, Nesterov,
weight decay and ``l2`` included; not one that clips its gradients, which
needs a step's whole gradient), and ``prefer`` ``"auto"`` or ``"compiled"``.

``prefer="numpy"``, ``"buffered"`` or ``"compiled"`` forces a path
(``"compiled"`` raises ``ValueError`` saying why when it cannot; it also
skips rule 5's size limit); :func:`preferred_runner` sets the default for a
``with`` block, e.g. around ``fit`` in benchmarks or tests. No environment
variables are read.
"""

from __future__ import annotations

from .buffered import BufferedRunner
from .compiled import ExampleRunner, SmallBatchRunner
from .reference import NumpyRunner
from .selection import (
    RULES,
    RUNNERS,
    SMALL_BATCH_WORK,
    Rule,
    Runner,
    choose_runner,
    compiled_available,
    preferred_runner,
    select_runner,
)

__all__ = ["NumpyRunner", "BufferedRunner", "ExampleRunner", "SmallBatchRunner", "Runner",
           "RUNNERS", "RULES", "Rule", "choose_runner", "select_runner", "preferred_runner",
           "compiled_available", "SMALL_BATCH_WORK"]

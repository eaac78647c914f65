"""Compiled training loops (numba): whole epochs of small networks without Python.

Imported only by :mod:`numnet.engine.selection`, and only when numba is
installed (the import fails with ``ImportError`` otherwise and the engine uses
NumPy). One module per kernel: :mod:`.examples`, :mod:`.batches`, :mod:`.inference`,
:mod:`.elementwise`, and what they share in :mod:`.core`.

Two kernels do what :class:`numnet.engine.NumpyRunner` does for a range of
batches of one epoch, and return the same size-weighted loss sum:

* :func:`train_examples`, batch size 1 (the tutorial's per-example SGD): one
  sample forward, its loss, then backward layer by layer, each weight row
  updated as soon as its share of ``dA_prev`` has been taken with the old
  weights. No gradient buffer.
* :func:`train_batches`, mini-batches of small layers: forward, loss, the
  flat gradient as ``NumpyRunner`` builds it, then one optimizer pass. Its
  work buffers are unit-major (a unit's values for the whole batch are
  contiguous), so the inner loops run over the batch and vectorize.

:func:`forward_rows` is inference for a few rows: the whole forward pass in
one call, where NumPy would make two or three calls per layer
(:mod:`numnet.engine.inference`); :func:`finish_layer` adds a layer's bias and
applies its activation to a block of many rows in one pass, between BLAS's
products.

Smaller helpers serve :class:`numnet.engine.BufferedRunner` between its BLAS
products: :func:`bias_activate`, :func:`output_delta`,
:func:`backprop_activation` (one pass each instead of several ufunc calls)
and :func:`optimizer_step`.

The network is described by arrays, so one compiled function serves every
depth: ``sizes`` (layer sizes), ``w_off``/``b_off`` (where each ``W_i``, ``b_i``
starts in the flat parameter vector; ``b_off[i] < 0`` without bias), ``u_off``
(``[0, cumsum(sizes)]``: where each layer's units start in the work buffers
``Z``, ``A``, ``D``, pre-activation, activation and ``dL/dZ``; the input
layer's slot of ``A`` holds the samples) and ``acts`` (activation codes).
Losses and optimizer rules are codes too, positions in the registries
(:data:`LOSS_CODES`, :data:`RULE_CODES`; an optimizer names its rule in its
:meth:`~numnet.optimizers.Optimizer.kernel_spec`); the formulas themselves
come from the maths modules, through :mod:`.formulas`;
hyperparameters arrive as one float64 array ``hyper``: the spec's, then
``l2`` (see ``H_*``).

The arithmetic follows NumPy's path operation by operation: the same
formulas, the optimizer's updates in the same order, constants cast to the
network's dtype where NumPy casts a Python float (float32 stays float32;
only loss sums are float64). Results agree to rounding: sums inside the
matrix products run in another order than BLAS's, and Adam multiplies by
``1 / sqrt(1 - beta_2**t)`` where ``numnet.optimizers`` divides by its root.
Optimizer state (``velocity``, or Adam's ``m`` and ``v``) is the optimizer's
own flat arrays (``optimizer.state_vectors``), updated in place; the caller
counts the steps with ``optimizer.advance``.

Performance notes, measured: a numba call that takes arrays costs more than a
small layer's arithmetic, so row loops are written out where they are used
and helpers inside loops take scalars; loops over contiguous slices (views)
vectorize, loops over computed flat indices do not; and nothing here is
multi-threaded, because numba's threads fight BLAS's idle ones for the cores
(a parallel optimizer step made the 784-1024-1024-10 epoch 2.7x slower).
"""

from __future__ import annotations

from . import batches, elementwise, examples, inference
from .core import H_SIZE
from .formulas import ACTIVATION_CODES, FINGERPRINT, LOSS_CODES, LOSSES_COMPILED, RULE_CODES

__all__ = ["ACTIVATION_CODES", "LOSS_CODES", "LOSSES_COMPILED", "RULE_CODES", "H_SIZE",
           "train_examples", "train_batches", "optimizer_step", "bias_activate", "output_delta",
           "backprop_activation", "forward_rows", "finish_layer"]

train_examples = examples.build(FINGERPRINT)
train_batches = batches.build(FINGERPRINT)
optimizer_step, bias_activate, output_delta, backprop_activation = elementwise.build(FINGERPRINT)
forward_rows, finish_layer = inference.build(FINGERPRINT)

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
  readable :meth:`MLP._loss_and_flat_gradient` and ``optimizer.step``.
* :class:`BufferedRunner`: the same maths on buffers allocated once (the
  batch gathered with ``take(..., out=)``, matrix products with ``out=``,
  activations and derivatives in place, in the network's dtype), no ``dX``
  for the input layer, and with numba the elementwise work and the
  optimizer's update compiled. Plain SGD (no momentum, decay or ``l2``)
  updates each weight matrix inside its gradient's product, one BLAS
  ``gemm`` with ``beta = 1`` (:mod:`numnet._blas`). The path for large
  networks, where the time is BLAS's.
* :class:`ExampleRunner` (numba): batch size 1, whole epochs of per-example
  updates in one compiled loop.
* :class:`SmallBatchRunner` (numba): mini-batches of small layers, where a
  BLAS call costs more than its arithmetic, in one compiled loop.

Selection (:func:`select_runner` with ``prefer="auto"``), first match wins:

1. ``dropout > 0`` or ``sample_weight`` -> :class:`NumpyRunner` (the masks
   draw from ``rng``; only the reference weights samples).
2. numba importable, loss ``mse`` (any output) or a cross-entropy fused with
   its output activation, optimizer exactly :class:`~numnet.optimizers.SGD`,
   :class:`~numnet.optimizers.Adam` or :class:`~numnet.optimizers.AdamW`
   (any schedule; momentum, Nesterov, weight decay and ``l2`` included):

   * ``batch_size == 1`` -> :class:`ExampleRunner`, whatever the widths (it
     beats the others at batch size 1 from 1-3-1 to 784-1024-1024-10);
   * ``batch_size * max(layer sizes) <= SMALL_BATCH_WORK`` -> :class:`SmallBatchRunner`.

3. Anything else -> :class:`BufferedRunner` (any loss, any optimizer: the
   update is compiled for the three above when numba is there, else
   ``optimizer.step``).

``prefer="numpy"``, ``"buffered"`` or ``"compiled"`` forces a path
(``"compiled"`` raises ``ValueError`` saying why when it cannot);
:func:`preferred_runner` sets the default for a ``with`` block, e.g. around
``fit`` in benchmarks or tests. No environment variables are read.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from .activations import ELU_ALPHA, LEAKY_SLOPE
from .losses import LOSSES, Loss
from . import _blas
from .optimizers import SGD, Adam, AdamW

__all__ = ["NumpyRunner", "BufferedRunner", "ExampleRunner", "SmallBatchRunner",
           "select_runner", "preferred_runner", "compiled_available", "SMALL_BATCH_WORK"]

# batch_size * widest layer up to which the compiled mini-batch loop beats the
# buffered BLAS path. Measured (2 cores, float64, ns per example, compiled vs
# buffered): 2-5-1 at batch 32 (160): 45-99 vs 650-700; 8-16-1 at 32 (512): 2.6-4.7x
# faster; 16-32-4 at 32 (1024): 1.3-1.4x faster; 32-64-4 at 32 (2048) and
# 16-32-4 at 128 (4096): 0.6-0.9x; 64-128-10 at 64 (8192): 0.25-0.4x.
SMALL_BATCH_WORK = 1024

# parameter bytes above which BufferedRunner updates layer by layer (one compiled call
# each, right after the layer's gradient) rather than in one call at the end
_STEP_BY_LAYER_BYTES = 1 << 22

# training FLOPs per batch up to which a BufferedRunner lets fit hand over whole
# epochs (about half a millisecond a batch)
_CHEAP_BATCH_FLOPS = 1 << 25

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


def _kernels():
    """The compiled kernels module, or None without numba."""
    try:
        from . import _kernels
    except ImportError:
        return None
    return _kernels


def compiled_available() -> bool:
    """Whether numba is installed, so the compiled runners can be used."""
    return _kernels() is not None


# --- the reference ------------------------------------------------------------------

class NumpyRunner:
    """One batch at a time in NumPy, on a reused flat gradient buffer."""

    whole_epochs = False

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, dropout: float,
                 rng: np.random.Generator, sample_weight: np.ndarray | None = None) -> None:
        self.net, self.lossfn, self.optimizer = net, lossfn, optimizer
        self.l2, self.dropout, self.rng = l2, dropout, rng
        self.sample_weight = sample_weight      # (n,) for the samples fit passes, or None
        self.grad = np.empty_like(net.flat_parameters)
        self.params = [net.flat_parameters]

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on batches ``first..last-1`` of ``order``; return the size-weighted loss sum."""
        total = 0.0
        net, step = self.net, self.optimizer.step
        for b in range(first, last):
            idx = order[b * batch_size:(b + 1) * batch_size]
            weights = None if self.sample_weight is None else self.sample_weight[idx]
            value, grad = net._loss_and_flat_gradient(
                X[idx], Y[idx], self.lossfn, self.l2, self.dropout, self.rng, out=self.grad,
                sample_weight=weights)
            step(self.params, [grad])
            total += value * len(idx)
        return total


# --- what the compiled code supports -------------------------------------------------

def _loss_code(net, lossfn: Loss, kernels) -> int | None:
    """The kernels' code for this loss on this network, or None if they lack it."""
    if lossfn == LOSSES["mse"]:
        return kernels.LOSS_MSE
    fused = lossfn.fused_with == net.output_activation
    if fused and lossfn == LOSSES["binary_cross_entropy"]:
        return kernels.LOSS_BCE
    if fused and lossfn == LOSSES["categorical_cross_entropy"]:
        return kernels.LOSS_CCE
    return None


def _optimizer_code(optimizer, kernels) -> int | None:
    """The kernels' code for this optimizer (exact classes only), or None."""
    return {SGD: kernels.OPT_SGD, Adam: kernels.OPT_ADAM,
            AdamW: kernels.OPT_ADAMW}.get(type(optimizer))


def _hyperparameters(optimizer, l2: float) -> np.ndarray:
    """The kernels' float64 ``hyper`` vector (see ``_kernels.H_*``), read now.

    Read at every call: a schedule changes the rate between epochs, and
    ``load_state_dict`` may change anything.
    """
    if type(optimizer) is SGD:
        return np.array([optimizer.learning_rate, optimizer.momentum, float(optimizer.nesterov),
                         optimizer.weight_decay, 0.0, 0.0, 0.0, l2])
    return np.array([optimizer.learning_rate, 0.0, 0.0, optimizer.weight_decay,
                     optimizer.beta_1, optimizer.beta_2, optimizer.epsilon, l2])


def _optimizer_state(optimizer, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The optimizer's flat state arrays for ``params`` (created as its first step would).

    ``(velocity, empty)`` for SGD with momentum, ``(m, v)`` for Adam/AdamW,
    ``(empty, empty)`` for plain SGD. Fetched at every call: a
    ``load_state_dict`` between epochs replaces the arrays. Unlike
    ``optimizer.step`` this allocates no parameter-sized scratch buffers.
    """
    names = optimizer._state_names
    if names and not optimizer.state:
        optimizer.state = {name: [optimizer._new_state(name, params)] for name in names}
    elif names:
        optimizer._check_state_matches([params])   # also casts a loaded state's dtype
    empty = params[:0]
    arrays = [optimizer.state[name][0] for name in optimizer._state_names]
    arrays += [empty] * (2 - len(arrays))
    return arrays[0], arrays[1]


class _Layout:
    """The network as the kernels see it: sizes, offsets and activation codes."""

    def __init__(self, net, kernels) -> None:
        sizes = net.layer_sizes
        w_off, b_off, _ = zip(*net.layer_offsets())
        self.sizes = np.array(sizes, dtype=np.int64)
        self.w_off = np.array(w_off, dtype=np.int64)
        self.b_off = np.array(b_off, dtype=np.int64)
        self.u_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.units = int(self.u_off[-1])
        self.acts = np.array([kernels.ACTIVATION_CODES[a.name] for a in net.activation_fns],
                             dtype=np.int64)


def _as_kernel_input(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return X if (X.dtype == dtype and X.flags.c_contiguous) else \
        np.ascontiguousarray(X, dtype=dtype)


# --- compiled runners -----------------------------------------------------------------

class _CompiledRunner:
    """Shared set-up of the compiled runners: layout, codes and optimizer state."""

    whole_epochs = True

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, kernels) -> None:
        self.net, self.lossfn, self.optimizer, self.l2 = net, lossfn, optimizer, l2
        self.kernels = kernels
        self.layout = _Layout(net, kernels)
        self.loss_code = _loss_code(net, lossfn, kernels)
        self.opt_code = _optimizer_code(optimizer, kernels)
        self._inputs: tuple = (None, None)        # (caller's X, its contiguous copy)

    def _prepare(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray):
        dtype = self.net.dtype
        if self._inputs[0] is not X:              # fit passes the same arrays every time
            self._inputs = (X, _as_kernel_input(X, dtype))
        Y = _as_kernel_input(Y, dtype)
        if order.dtype != np.int64 or not order.flags.c_contiguous:
            order = np.ascontiguousarray(order, dtype=np.int64)
        params = self.net.flat_parameters
        s1, s2 = _optimizer_state(self.optimizer, params)
        hyper = _hyperparameters(self.optimizer, self.l2)
        return self._inputs[1], Y, order, params, hyper, s1, s2


class ExampleRunner(_CompiledRunner):
    """Batch size 1 in one compiled loop (:func:`numnet._kernels.train_examples`)."""

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, kernels) -> None:
        super().__init__(net, lossfn, optimizer, l2, kernels)
        units = self.layout.units
        self.Z, self.A, self.D = (np.empty(units, dtype=net.dtype) for _ in range(3))

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on samples ``first..last-1`` of ``order``; return their loss sum."""
        if batch_size != 1:
            raise ValueError(f"ExampleRunner trains with batch_size=1, got {batch_size}")
        if last <= first:
            return 0.0
        X, Y, order, params, hyper, s1, s2 = self._prepare(X, Y, order)
        lay, t0 = self.layout, self.optimizer.t
        total = self.kernels.train_examples(
            X, Y, order, first, last, params, lay.sizes, lay.w_off, lay.b_off, lay.u_off,
            lay.acts, self.loss_code, self.Z, self.A, self.D, self.opt_code, hyper, t0, s1, s2)
        self.optimizer.t = t0 + (last - first)
        return float(total)


class SmallBatchRunner(_CompiledRunner):
    """Mini-batches of small layers in one compiled loop (:func:`numnet._kernels.train_batches`)."""

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, kernels,
                 batch_size: int) -> None:
        super().__init__(net, lossfn, optimizer, l2, kernels)
        self.grad = np.empty_like(net.flat_parameters)
        self._allocate(batch_size)

    def _allocate(self, batch_size: int) -> None:
        self.batch_size = batch_size
        size = batch_size * self.layout.units
        self.Z, self.A, self.D = (np.empty(size, dtype=self.net.dtype) for _ in range(3))

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on batches ``first..last-1`` of ``order``; return the size-weighted loss sum."""
        if last <= first:
            return 0.0
        if batch_size != self.batch_size:
            self._allocate(batch_size)
        X, Y, order, params, hyper, s1, s2 = self._prepare(X, Y, order)
        lay, t0 = self.layout, self.optimizer.t
        total = self.kernels.train_batches(
            X, Y, order, first, last, batch_size, params, self.grad, lay.sizes, lay.w_off,
            lay.b_off, lay.u_off, lay.acts, self.loss_code, self.Z, self.A, self.D,
            self.opt_code, hyper, t0, s1, s2)
        self.optimizer.t = t0 + (last - first)
        return float(total)


# --- buffered NumPy ------------------------------------------------------------------

class _Scratch:
    """Work arrays of one batch size: ``T``, ``T2`` (floats), ``M`` (bool), ``col`` (n, 1)."""

    def __init__(self, batch_size: int, width: int, dtype: np.dtype) -> None:
        self.T = np.empty((batch_size, width), dtype=dtype)
        self.T2 = np.empty((batch_size, width), dtype=dtype)
        self.M = np.empty((batch_size, width), dtype=bool)
        self.col = np.empty((batch_size, 1), dtype=dtype)

    def take(self, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Contiguous ``(n, m)`` views (``(n, 1)`` for ``col``)."""
        size = n * m
        return (self.T.reshape(-1)[:size].reshape(n, m), self.T2.reshape(-1)[:size].reshape(n, m),
                self.M.reshape(-1)[:size].reshape(n, m), self.col[:n])


def _sigmoid_into(Z: np.ndarray, out: np.ndarray, T: np.ndarray, M: np.ndarray) -> None:
    """``out = sigmoid(Z)``, the arithmetic of :func:`numnet.activations.sigmoid`."""
    np.abs(Z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)                       # E = exp(-|Z|)
    np.add(out, 1.0, out=T)                    # 1 + E
    np.divide(out, T, out=out)                 # E / (1 + E) ...
    np.greater_equal(Z, 0, out=M)
    np.divide(1.0, T, out=out, where=M)        # ... and 1 / (1 + E) where Z >= 0


def _activate_into(name: str, Z: np.ndarray, A: np.ndarray, s: tuple) -> None:
    """``A = f(Z)`` in place, the arithmetic of :mod:`numnet.activations`."""
    T, T2, M, col = s
    if name == "sigmoid":
        _sigmoid_into(Z, A, T, M)
    elif name == "tanh":
        np.tanh(Z, out=A)
    elif name == "relu":
        np.maximum(Z, 0, out=A)
    elif name == "leaky_relu":
        np.multiply(Z, LEAKY_SLOPE, out=A)
        np.greater(Z, 0, out=M)
        np.copyto(A, Z, where=M)
    elif name == "elu":
        np.minimum(Z, 0, out=A)
        np.expm1(A, out=A)
        A *= ELU_ALPHA
        np.greater(Z, 0, out=M)
        np.copyto(A, Z, where=M)
    elif name == "softplus":
        np.maximum(Z, 0, out=A)
        np.abs(Z, out=T)
        np.negative(T, out=T)
        np.exp(T, out=T)
        np.log1p(T, out=T)
        A += T
    elif name == "softmax":
        np.max(Z, axis=-1, keepdims=True, out=col)
        np.subtract(Z, col, out=A)
        np.exp(A, out=A)
        np.sum(A, axis=-1, keepdims=True, out=col)
        A /= col
    else:
        raise ValueError(f"no in-place form of activation {name!r}")


def _backprop_into(name: str, Z: np.ndarray, A: np.ndarray, D: np.ndarray, s: tuple) -> None:
    """``D = dL/dA`` becomes ``dL/dZ`` in place, the arithmetic of :mod:`numnet.activations`."""
    T, T2, M, col = s
    if name == "sigmoid":
        np.subtract(1.0, A, out=T)
        T *= A
        D *= T
    elif name == "tanh":
        np.multiply(A, A, out=T)
        np.subtract(1.0, T, out=T)
        D *= T
    elif name == "relu":
        np.greater(Z, 0, out=M)
        D *= M
    elif name == "leaky_relu":
        T[...] = LEAKY_SLOPE
        np.greater(Z, 0, out=M)
        np.copyto(T, 1.0, where=M)
        D *= T
    elif name == "elu":
        np.add(A, ELU_ALPHA, out=T)
        np.greater(Z, 0, out=M)
        np.copyto(T, 1.0, where=M)
        D *= T
    elif name == "softplus":
        _sigmoid_into(Z, T, T2, M)
        D *= T
    elif name == "softmax":
        np.multiply(D, A, out=T)
        np.sum(T, axis=-1, keepdims=True, out=col)
        D -= col
        D *= A
    elif name != "identity":
        raise ValueError(f"no in-place derivative of activation {name!r}")


_IN_PLACE = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax")


class BufferedRunner:
    """NumPy on buffers allocated once per batch size; the path for large networks.

    Per batch: gather with ``np.take(..., out=)``, ``Z = A_prev @ W`` with
    ``out=``, bias and activation in place; the loss and output delta; back
    through the layers with ``out=`` products into a flat gradient buffer
    (no ``dX`` for the input layer); then the optimizer's update.

    With numba (``kernels``), the elementwise work between the products
    (bias and activation, loss and output delta, derivative and bias
    gradient) is one compiled pass each instead of several ufunc calls, and
    the optimizer's update is one compiled pass for SGD/Adam/AdamW (layer by
    layer for networks over 4 MiB, each right after its gradient); without
    it, in-place ufuncs and ``optimizer.step``. Losses other than mse and the
    fused cross-entropies go through their ``value``/``gradient`` functions.
    ``whole_epochs`` is true when a batch costs under ~33 MFLOP, so that ``fit``
    hands over whole epochs of small networks.
    """

    def __init__(self, net, lossfn: Loss, optimizer, l2: float, batch_size: int,
                 kernels=None) -> None:
        # fit may hand over a whole epoch when batches are cheap (no Python between them
        # then); large networks take batch by batch, so Ctrl-C and callbacks stay prompt
        self.whole_epochs = 6 * net.num_parameters * batch_size <= _CHEAP_BATCH_FLOPS
        unsupported = [a.name for a in net.activation_fns if a.name not in _IN_PLACE]
        if unsupported:
            raise ValueError(f"BufferedRunner has no in-place form of {unsupported}")
        self.net, self.lossfn, self.optimizer, self.l2 = net, lossfn, optimizer, l2
        self.fused = lossfn.fused_with == net.output_activation
        self.names = [a.name for a in net.activation_fns]
        self.kernels = kernels
        if kernels is not None:
            self.codes = [kernels.ACTIVATION_CODES[name] for name in self.names]
            self.loss_code = _loss_code(net, lossfn, kernels)
            self.opt_code = _optimizer_code(optimizer, kernels)
        else:
            self.codes, self.loss_code, self.opt_code = None, None, None
        self.params = [net.flat_parameters]
        self.grad = np.empty_like(net.flat_parameters)
        self.dW, self.db = net.unflatten(self.grad)
        # plain SGD can update each weight matrix inside its gradient's product
        self.blas_sgd = type(optimizer) is SGD and _blas.available(net.dtype)
        self._empty = net.flat_parameters[:0]
        # a large network's layers are updated one by one, while still in cache
        self.segments = None
        if net.flat_parameters.nbytes > _STEP_BY_LAYER_BYTES:
            self.segments = [(start, end) for start, _, end in net.layer_offsets()]
        self._l2_buffer = None
        self._allocate(batch_size)

    def _allocate(self, batch_size: int) -> None:
        net, dtype = self.net, self.net.dtype
        self.batch_size = batch_size
        self._cache = None
        self.Xb = np.empty((batch_size, net.num_inputs), dtype=dtype)
        self.Yb = np.empty((batch_size, net.num_outputs), dtype=dtype)
        self.Z = [np.empty((batch_size, m), dtype=dtype) for m in net.layer_sizes[1:]]
        # identity and relu write their output over Z (relu'(z) > 0 where relu(z) > 0)
        self.A = [Z if name in ("identity", "relu") else np.empty_like(Z)
                  for Z, name in zip(self.Z, self.names)]
        self.D = [np.empty_like(Z) for Z in self.Z]
        self.scratch = _Scratch(batch_size, max(net.layer_sizes[1:]), dtype)

    def _views(self, n: int) -> tuple:
        """The buffers cut to ``n`` samples, with the parameters' views and transposes.

        Cached for full batches; rebuilt when the network's parameter vector
        is another array.
        """
        net = self.net
        if self._cache is not None and self._cache[0] == n and \
                self._cache[1] is net.flat_parameters:
            return self._cache[2]
        weights = net.weights
        biases = net.biases if net.biases is not None else [self._empty] * len(weights)
        dbs = self.db if self.db is not None else [self._empty] * len(weights)
        Xb, Zs = self.Xb[:n], [Z[:n] for Z in self.Z]
        As, Ds = [A[:n] for A in self.A], [D[:n] for D in self.D]
        inputs_T = [Xb.T] + [A.T for A in As[:-1]]          # A_prev.T of each layer
        views = (Xb, self.Yb[:n], Zs, As, Ds, inputs_T, weights, [W.T for W in weights],
                 biases, dbs)
        if n == self.batch_size:
            self._cache = (n, net.flat_parameters, views)
        return views

    def run(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, first: int, last: int,
            batch_size: int) -> float:
        """Train on batches ``first..last-1`` of ``order``; return the size-weighted loss sum."""
        if batch_size != self.batch_size:
            self._allocate(batch_size)
        dtype = self.net.dtype
        X = X if X.dtype == dtype else X.astype(dtype)        # fit passes the net's dtype
        Y = Y if Y.dtype == dtype else Y.astype(dtype)
        total = 0.0
        for b in range(first, last):
            idx = order[b * batch_size:(b + 1) * batch_size]
            n = len(idx)
            views = self._views(n)
            X.take(idx, axis=0, out=views[0], mode="clip")
            Y.take(idx, axis=0, out=views[1], mode="clip")
            total += self._batch(n, views) * n
        return total

    def _batch(self, n: int, views: tuple) -> float:
        """Train on the batch gathered in the buffers; return its loss (before the update).

        With a compiled update, a large network's layers are each updated as
        soon as their gradient is complete (and ``dX`` has used the old
        weights), while still in cache; otherwise the update comes at the end.
        """
        X, Y, Zs, As, Ds, inputs_T, weights, weights_T, biases, dbs = views
        names, codes, fast = self.names, self.codes, self.kernels
        has_bias = self.db is not None
        last = len(weights) - 1
        # forward
        A_prev = X
        for i in range(last + 1):
            np.matmul(A_prev, weights[i], out=Zs[i])
            if fast is not None and names[i] != "identity":
                fast.bias_activate(Zs[i], biases[i], As[i], codes[i])
            else:
                if has_bias:
                    Zs[i] += biases[i]
                if names[i] != "identity":
                    _activate_into(names[i], Zs[i], As[i], self.scratch.take(n, Zs[i].shape[1]))
            A_prev = As[i]
        # loss, dL/dZ of the output layer and its bias gradient
        if fast is not None and self.loss_code is not None:
            value = fast.output_delta(Zs[last], As[last], Y, Ds[last], self.loss_code,
                                      codes[last], dbs[last])
        else:
            value = self._output(Zs[last], As[last], Y, Ds[last],
                                 self.scratch.take(n, Zs[last].shape[1]))
            if has_bias:
                np.sum(Ds[last], axis=0, out=dbs[last])
        if self.l2:
            value += 0.5 * self.l2 * sum(float(np.vdot(W, W)) for W in weights)
        lr = self._plain_sgd_rate()
        if lr is not None:
            self.optimizer.t += 1
            step, segments = None, None
        else:
            step, segments = self._begin_step(), self.segments
        # backward
        for i in range(last, -1, -1):
            if i > 0:
                np.matmul(Ds[i], weights_T[i], out=Ds[i - 1])
                if fast is not None:
                    fast.backprop_activation(Ds[i - 1], Zs[i - 1], As[i - 1], codes[i - 1],
                                             dbs[i - 1])
                else:
                    _backprop_into(names[i - 1], Zs[i - 1], As[i - 1], Ds[i - 1],
                                   self.scratch.take(n, Zs[i - 1].shape[1]))
                    if has_bias:
                        np.sum(Ds[i - 1], axis=0, out=dbs[i - 1])
            if lr is not None:        # W -= lr * A_prev.T @ dZ in one BLAS pass; b -= lr * db
                _blas.gemm_accumulate(inputs_T[i].T, Ds[i], weights[i], -lr)
                if has_bias:
                    biases[i] -= lr * dbs[i]
                continue
            np.matmul(inputs_T[i], Ds[i], out=self.dW[i])      # last: the step reads it next
            if self.l2:
                self._add_l2(weights[i], self.dW[i])
            if step is not None and segments is not None:
                step(*segments[i])
        if lr is None and step is None:
            self.optimizer.step(self.params, [self.grad])
        elif lr is None and segments is None:
            step(0, self.grad.size)
        return float(value)

    def _plain_sgd_rate(self) -> float | None:
        """The learning rate when this step is plain SGD that BLAS can fuse, else None.

        Read at every batch: ``load_state_dict`` may change the hyperparameters.
        """
        opt = self.optimizer
        if self.blas_sgd and not self.l2 and opt.momentum == 0 and opt.weight_decay == 0:
            return float(opt.learning_rate)
        return None

    def _add_l2(self, W: np.ndarray, dW: np.ndarray) -> None:
        """``dW += l2 * W``, through a reused buffer."""
        if self._l2_buffer is None:
            self._l2_buffer = np.empty(max(W.size for W in self.net.weights), dtype=W.dtype)
        tmp = self._l2_buffer[:W.size].reshape(W.shape)
        np.multiply(W, self.l2, out=tmp)
        dW += tmp

    def _begin_step(self):
        """Count the optimizer's step; return ``update(lo, hi)`` for a compiled update, or None."""
        if self.opt_code is None:
            return None
        opt, kernels = self.optimizer, self.kernels
        params, grad = self.net.flat_parameters, self.grad
        s1, s2 = _optimizer_state(opt, params)
        opt.t += 1
        t, code, hyper = opt.t, self.opt_code, _hyperparameters(opt, 0.0)

        def update(lo: int, hi: int) -> None:
            kernels.optimizer_step(params, grad, code, hyper, t, s1, s2, lo, hi)
        return update

    def _output(self, Z: np.ndarray, P: np.ndarray, Y: np.ndarray, D: np.ndarray,
                s: tuple) -> float:
        """The loss on ``(P, Y)``; ``D`` becomes the output layer's ``dL/dZ``."""
        lossfn, T = self.lossfn, s[0]
        name = self.names[-1]
        if self.fused and lossfn == LOSSES["categorical_cross_entropy"]:
            col = s[3]
            np.max(Z, axis=-1, keepdims=True, out=col)
            np.subtract(Z, col, out=T)                 # shifted
            np.exp(T, out=D)
            np.sum(D, axis=-1, keepdims=True, out=col)
            np.log(col, out=col)
            T -= col                                   # log_p
            T *= Y
            value = float(-np.sum(T) / Z.shape[0])
            np.subtract(P, Y, out=D)
            D *= 1.0 / P.shape[0]
            return value
        if self.fused and lossfn == LOSSES["binary_cross_entropy"]:
            np.maximum(Z, 0, out=T)
            np.multiply(Z, Y, out=D)
            T -= D
            np.abs(Z, out=D)
            np.negative(D, out=D)
            np.exp(D, out=D)
            np.log1p(D, out=D)
            T += D
            value = float(np.mean(T))
            np.subtract(P, Y, out=D)
            D *= 1.0 / P.size
            return value
        if lossfn == LOSSES["mse"]:
            np.subtract(Y, P, out=T)
            np.square(T, out=T)
            value = float(np.mean(T))
            np.subtract(P, Y, out=D)
            D *= 2.0 / P.size
        elif self.fused:
            value = lossfn.value_from_logits(Z, Y)
            D[...] = lossfn.delta(P, Y)
            return value
        else:
            value = lossfn.value(P, Y)
            D[...] = lossfn.gradient(P, Y)
        _backprop_into(name, Z, P, D, s)
        return value


# --- selection ---------------------------------------------------------------------

def _compiled_unsupported(net, lossfn: Loss, optimizer, dropout: float, kernels) -> str | None:
    """Why the compiled runners cannot train this configuration, or None if they can."""
    if kernels is None:
        return "numba is not installed"
    if dropout > 0:
        return "dropout"
    if _loss_code(net, lossfn, kernels) is None:
        return (f"loss {lossfn.name!r} with a {net.output_activation!r} output (supported: "
                f"mse, and cross-entropies fused with sigmoid/softmax)")
    if _optimizer_code(optimizer, kernels) is None:
        return f"optimizer {type(optimizer).__name__} (supported: SGD, Adam, AdamW)"
    unknown = [a.name for a in net.activation_fns if a.name not in kernels.ACTIVATION_CODES]
    if unknown:
        return f"activations {unknown}"
    return None


def select_runner(net, lossfn: Loss, optimizer, batch_size: int, l2: float, dropout: float,
                  rng: np.random.Generator, prefer: str | None = None,
                  sample_weight: np.ndarray | None = None):
    """The fastest runner that gives this configuration the reference's results.

    Parameters
    ----------
    net, lossfn, optimizer, batch_size, l2, dropout, rng
        As ``fit`` has them (``lossfn`` a :class:`~numnet.losses.Loss`).
    prefer : {"auto", "numpy", "buffered", "compiled"}, optional
        ``"auto"`` applies the rule in this module's docstring; the others force
        a path: ``"numpy"`` the reference, ``"buffered"`` :class:`BufferedRunner`
        (the reference with dropout), ``"compiled"`` :class:`ExampleRunner` for
        batch size 1 else :class:`SmallBatchRunner`, or ``ValueError`` when
        they cannot. Default: the :func:`preferred_runner` setting, ``"auto"``.
    sample_weight : ndarray of shape (n_samples,), optional
        Per-sample weights of the training set: only the reference runner
        weights samples, so it is chosen whatever ``prefer`` says.
    """
    if sample_weight is not None:
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng, sample_weight)
    prefer = _check_preference(_preference if prefer is None else prefer)
    if prefer == "numpy" or dropout > 0 and prefer != "compiled":
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng)
    kernels = _kernels()
    if prefer in ("auto", "compiled"):
        why_not = _compiled_unsupported(net, lossfn, optimizer, dropout, kernels)
        if why_not is None:
            if batch_size == 1:
                return ExampleRunner(net, lossfn, optimizer, l2, kernels)
            if prefer == "compiled" or batch_size * max(net.layer_sizes) <= SMALL_BATCH_WORK:
                return SmallBatchRunner(net, lossfn, optimizer, l2, kernels, batch_size)
        elif prefer == "compiled":
            raise ValueError(f"no compiled runner for this configuration: {why_not}")
    if any(a.name not in _IN_PLACE for a in net.activation_fns):
        return NumpyRunner(net, lossfn, optimizer, l2, dropout, rng)
    return BufferedRunner(net, lossfn, optimizer, l2, batch_size, kernels)

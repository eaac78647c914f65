"""The buffered runner: NumPy on buffers allocated once, the path for large networks.

The maths is the network's, in the in-place forms its activations and losses
carry (:mod:`numnet.activations`, :mod:`numnet.losses`); with numba, the
elementwise passes and the optimizer's update come from
:mod:`numnet.engine.kernels`. An update ``p -= lr * g``
(:meth:`~numnet.optimizers.Optimizer.linear_rate`) is made layer by layer as
soon as each gradient is complete, with the rate folded into ``dZ`` (the
smaller factor of the product), while the weights are still in cache.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import NamedTuple, TypeVar

import numpy as np

from numnet.activations import Activation, Workspace
from numnet.losses import Loss
from numnet.network import Network, fused_delta, fused_value
from numnet.optimizers import Optimizer

from .compiled import kernel_hyperparameters, kernel_state, loss_code, optimizer_code
from .threads import blas_threads, limit_blas

__all__ = ["BufferedRunner", "BatchViews", "has_in_place_form"]

# parameter bytes above which BufferedRunner updates layer by layer (one compiled call
# each, right after the layer's gradient) rather than in one call at the end
STEP_BY_LAYER_BYTES = 1 << 22

# training FLOPs per batch up to which a BufferedRunner lets fit hand over whole
# epochs (about half a millisecond a batch)
CHEAP_BATCH_FLOPS = 1 << 25


def has_in_place_form(act: Activation) -> bool:
    """Whether the buffered runner can compute this activation in place."""
    return act.forward_into is not None and act.backward_into is not None


F = TypeVar("F")


def _required(form: F | None) -> F:
    if form is None:                 # has_in_place_form was checked first
        raise ValueError("an activation lacks its in-place form")
    return form


class Scratch:
    """Work arrays of one batch size: ``T``, ``T2`` (floats), ``M`` (bool), ``col`` (n, 1)."""

    def __init__(self, batch_size: int, width: int, dtype: np.dtype) -> None:
        self.T = np.empty((batch_size, width), dtype=dtype)
        self.T2 = np.empty((batch_size, width), dtype=dtype)
        self.M = np.empty((batch_size, width), dtype=bool)
        self.col = np.empty((batch_size, 1), dtype=dtype)

    def take(self, n: int, m: int) -> Workspace:
        """Contiguous ``(n, m)`` views (``(n, 1)`` for ``col``)."""
        size = n * m
        return Workspace(self.T.reshape(-1)[:size].reshape(n, m),
                         self.T2.reshape(-1)[:size].reshape(n, m),
                         self.M.reshape(-1)[:size].reshape(n, m), self.col[:n])


class BatchViews(NamedTuple):
    """The buffers cut to a batch of ``n`` samples, with the parameters' views.

    Lists hold one array per layer ``i`` (``m`` its units); without biases,
    ``biases`` and ``dbiases`` hold empty arrays.
    """

    X: np.ndarray                   # (n, num_inputs): the batch's inputs, gathered here
    Y: np.ndarray                   # (n, num_outputs): its targets, gathered here
    Z: list[np.ndarray]             # (n, m): A_prev @ W + b
    A: list[np.ndarray]             # (n, m): f(Z) (Z itself for identity and relu)
    D: list[np.ndarray]             # (n, m): dL/dZ
    inputs_T: list[np.ndarray]      # (m_prev, n): A_prev.T, X.T for the first layer
    weights: list[np.ndarray]       # (m_prev, m): views of the flat parameters
    weights_T: list[np.ndarray]     # (m, m_prev): their transposes
    biases: list[np.ndarray]        # (m,): views of the flat parameters
    dbiases: list[np.ndarray]       # (m,): views of the flat gradient


class BufferedRunner:
    """Chosen when no other rule matches: large networks, or what the kernels lack.

    NumPy on buffers allocated once per batch size. Per batch: gather with
    ``np.take(..., out=)``, ``Z = A_prev @ W`` with ``out=``, bias and
    activation in place; the loss and output delta; back
    through the layers with ``out=`` products into a flat gradient buffer
    (no ``dX`` for the input layer); then the optimizer's update.

    With numba (``kernels``), the elementwise work between the products
    (bias and activation, loss and output delta, derivative and bias
    gradient) is one compiled pass each instead of several ufunc calls, and
    the update of an optimizer with a kernel spec is one compiled pass (layer
    by layer for networks over 4 MiB, each right after its gradient); without
    it, the activations' and losses' in-place forms and ``optimizer.step``.
    Losses without an in-place form go through their ``value``/``gradient``
    functions. An update that is exactly ``p -= lr * g`` goes inside each
    weight gradient's BLAS product instead.
    ``whole_epochs`` is true when a batch costs under ~33 MFLOP, so that ``fit``
    hands over whole epochs of small networks.
    """

    name = "buffered"

    def __init__(self, net: Network, lossfn: Loss, optimizer: Optimizer, l2: float,
                 batch_size: int, kernels: ModuleType | None = None) -> None:
        # fit may hand over a whole epoch when batches are cheap (no Python between them
        # then); large networks take batch by batch, so Ctrl-C and callbacks stay prompt
        self.whole_epochs = 6 * net.num_parameters * batch_size <= CHEAP_BATCH_FLOPS
        unsupported = [a.name for a in net.activation_fns if not has_in_place_form(a)]
        if unsupported:
            raise ValueError(f"BufferedRunner has no in-place form of {unsupported}")
        self.forward_into = [_required(a.forward_into) for a in net.activation_fns]
        self.backward_into = [_required(a.backward_into) for a in net.activation_fns]
        self.net, self.lossfn, self.optimizer, self.l2 = net, lossfn, optimizer, l2
        self.fused = lossfn.fused_with == net.output_activation
        self.acts = list(net.activation_fns)
        self.names = [a.name for a in self.acts]
        self.kernels = kernels
        self.codes: list[int] = []
        self.loss_code: int | None = None
        self.opt_code: int | None = None
        self._hyper: np.ndarray | None = None          # kernel_hyperparameters' buffer
        if kernels is not None:
            self.codes = [kernels.ACTIVATION_CODES[name] for name in self.names]
            self.loss_code = loss_code(net, lossfn, kernels)
            self.opt_code = optimizer_code(optimizer, kernels)
        self.params = [net.flat_parameters]
        self.grad = np.empty_like(net.flat_parameters)
        self.dW, self.db = net.unflatten(self.grad)
        self._empty = net.flat_parameters[:0]
        # a large network's layers are updated one by one, while still in cache
        self.segments: list[tuple[int, int]] | None = None
        if net.flat_parameters.nbytes > STEP_BY_LAYER_BYTES:
            self.segments = [(start, end) for start, _, end in net.layer_offsets()]
        self._l2_buffer: np.ndarray | None = None
        self._allocate(batch_size)

    def _allocate(self, batch_size: int) -> None:
        net, dtype = self.net, self.net.dtype
        self.batch_size = batch_size
        self.threads = blas_threads(net, batch_size)      # small products: one BLAS thread
        self._cache: tuple[int, np.ndarray, BatchViews] | None = None
        self.Xb = np.empty((batch_size, net.num_inputs), dtype=dtype)
        self.Yb = np.empty((batch_size, net.num_outputs), dtype=dtype)
        self.Z = [np.empty((batch_size, m), dtype=dtype) for m in net.layer_sizes[1:]]
        # identity and relu write their output over Z (relu'(z) > 0 where relu(z) > 0)
        self.A = [Z if name in ("identity", "relu") else np.empty_like(Z)
                  for Z, name in zip(self.Z, self.names, strict=True)]
        self.D = [np.empty_like(Z) for Z in self.Z]
        self.scratch = Scratch(batch_size, max(net.layer_sizes[1:]), dtype)

    def _views(self, n: int) -> BatchViews:
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
        views = BatchViews(X=Xb, Y=self.Yb[:n], Z=Zs, A=As, D=Ds, inputs_T=inputs_T,
                           weights=weights, weights_T=[W.T for W in weights], biases=biases,
                           dbiases=dbs)
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
        with limit_blas(self.threads):
            for b in range(first, last):
                idx = order[b * batch_size:(b + 1) * batch_size]
                n = len(idx)
                views = self._views(n)
                X.take(idx, axis=0, out=views.X, mode="clip")
                Y.take(idx, axis=0, out=views.Y, mode="clip")
                total += self._batch(n, views) * n
        return total

    def _batch(self, n: int, views: BatchViews) -> float:
        """Train on the batch gathered in the buffers; return its loss (before the update).

        With a compiled update, a large network's layers are each updated as
        soon as their gradient is complete (and ``dX`` has used the old
        weights), while still in cache; otherwise the update comes at the end.
        """
        self._forward(n, views)
        value = self._output_layer(n, views)
        if self.l2:
            value += 0.5 * self.l2 * sum(float(np.vdot(W, W)) for W in views.weights)
        lr = self._fused_rate()
        if lr is not None:
            self.optimizer.advance()
            self._backward(n, views, lr, None)
            return value
        step = self._begin_step()
        self._backward(n, views, None, step if self.segments is not None else None)
        if step is None:
            self.optimizer.step(self.params, [self.grad])
        elif self.segments is None:
            step(0, self.grad.size)
        return value

    def _forward(self, n: int, views: BatchViews) -> None:
        """``Z = A_prev @ W + b`` and ``A = f(Z)`` for every layer, into the buffers."""
        X, Zs, As, weights, biases = views.X, views.Z, views.A, views.weights, views.biases
        fast, codes, names = self.kernels, self.codes, self.names
        A_prev = X
        for i in range(len(weights)):
            np.matmul(A_prev, weights[i], out=Zs[i])
            if fast is not None and names[i] != "identity":
                fast.bias_activate(Zs[i], biases[i], As[i], codes[i])
            else:
                if self.db is not None:
                    Zs[i] += biases[i]
                if names[i] != "identity":
                    self.forward_into[i](Zs[i], As[i], self.scratch.take(n, Zs[i].shape[1]))
            A_prev = As[i]

    def _output_layer(self, n: int, views: BatchViews) -> float:
        """The loss; the output layer's ``dL/dZ`` and its bias gradient, into the buffers."""
        Y, Zs, As, Ds, dbs = views.Y, views.Z, views.A, views.D, views.dbiases
        fast, last = self.kernels, len(Zs) - 1
        if fast is not None and self.loss_code is not None:
            return float(fast.output_delta(Zs[last], As[last], Y, Ds[last], self.loss_code,
                                           self.codes[last], dbs[last]))
        value = self._output(Zs[last], As[last], Y, Ds[last],
                             self.scratch.take(n, Zs[last].shape[1]))
        if self.db is not None:
            np.sum(Ds[last], axis=0, out=dbs[last])
        return float(value)

    def _backward(self, n: int, views: BatchViews, lr: float | None,
                  step: Callable[[int, int], None] | None) -> None:
        """Gradients right to left; with ``lr``, each layer updated inside its product.

        ``step(lo, hi)``, when given, updates each layer's parameters as soon as
        its gradient is complete.
        """
        Zs, As, Ds, inputs_T = views.Z, views.A, views.D, views.inputs_T
        weights, weights_T = views.weights, views.weights_T
        biases, dbs = views.biases, views.dbiases
        fast, codes, has_bias = self.kernels, self.codes, self.db is not None
        for i in range(len(weights) - 1, -1, -1):
            if i > 0:
                np.matmul(Ds[i], weights_T[i], out=Ds[i - 1])
                if fast is not None:
                    fast.backprop_activation(Ds[i - 1], Zs[i - 1], As[i - 1], codes[i - 1],
                                             dbs[i - 1])
                else:
                    self.backward_into[i - 1](Zs[i - 1], As[i - 1], Ds[i - 1],
                                              self.scratch.take(n, Zs[i - 1].shape[1]))
                    if has_bias:
                        np.sum(Ds[i - 1], axis=0, out=dbs[i - 1])
            if lr is not None:        # W -= A_prev.T @ (lr * dZ); b -= lr * db
                np.multiply(Ds[i], -lr, out=Ds[i])          # dZ is spent: dX and db are made
                np.matmul(inputs_T[i], Ds[i], out=self.dW[i])
                weights[i] += self.dW[i]
                if has_bias:
                    biases[i] -= lr * dbs[i]
                continue
            np.matmul(inputs_T[i], Ds[i], out=self.dW[i])      # last: the step reads it next
            if self.l2:
                self._add_l2(weights[i], self.dW[i])
            if step is not None and self.segments is not None:
                step(*self.segments[i])

    def _fused_rate(self) -> float | None:
        """The optimizer's :meth:`~numnet.optimizers.Optimizer.linear_rate`, None with ``l2``.

        Read at every batch: ``load_state_dict`` may change the hyperparameters.
        """
        if self.l2:
            return None
        return self.optimizer.linear_rate()

    def _add_l2(self, W: np.ndarray, dW: np.ndarray) -> None:
        """``dW += l2 * W``, through a reused buffer."""
        if self._l2_buffer is None:
            self._l2_buffer = np.empty(max(W.size for W in self.net.weights), dtype=W.dtype)
        tmp = self._l2_buffer[:W.size].reshape(W.shape)
        np.multiply(W, self.l2, out=tmp)
        dW += tmp

    def _begin_step(self) -> Callable[[int, int], None] | None:
        """Count the optimizer's step; return ``update(lo, hi)`` for a compiled update, or None."""
        kernels = self.kernels
        if self.opt_code is None or kernels is None:
            return None
        opt = self.optimizer
        params, grad = self.net.flat_parameters, self.grad
        s1, s2 = kernel_state(opt, params)
        hyper = self._hyper = kernel_hyperparameters(opt, 0.0, self._hyper)
        t, code = opt.advance(), self.opt_code

        def update(lo: int, hi: int) -> None:
            kernels.optimizer_step(params, grad, code, hyper, t, s1, s2, lo, hi)
        return update

    def _output(self, Z: np.ndarray, P: np.ndarray, Y: np.ndarray, D: np.ndarray,
                work: Workspace) -> float:
        """The loss on ``(P, Y)``; ``D`` becomes the output layer's ``dL/dZ``."""
        lossfn = self.lossfn
        if self.fused:
            if lossfn.delta_into is not None:
                return lossfn.delta_into(Z, P, Y, D, work)
            D[...] = fused_delta(lossfn, P, Y)
            return fused_value(lossfn, Z, Y)
        if lossfn.gradient_into is not None:
            value = lossfn.gradient_into(P, Y, D, work)
        else:
            value = lossfn.value(P, Y)
            D[...] = lossfn.gradient(P, Y)
        self.backward_into[-1](Z, P, D, work)
        return value

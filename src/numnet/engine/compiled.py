"""The compiled runners: whole epochs of small networks in one numba call each.

:class:`ExampleRunner` (batch size 1) and :class:`SmallBatchRunner`
(mini-batches of small layers) hand the network, as arrays, to the kernels of
:mod:`numnet.engine.kernels`. The optimizer is reached through its public
interface: :meth:`~numnet.optimizers.Optimizer.kernel_spec` for the rule and
hyperparameters, :meth:`~numnet.optimizers.Optimizer.state_vectors` for its
state, :meth:`~numnet.optimizers.Optimizer.advance` to count the steps.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer
from numnet.optimizers.registry import KERNEL_RULES

__all__ = ["ExampleRunner", "SmallBatchRunner", "loss_code", "optimizer_code",
           "kernel_hyperparameters", "kernel_state"]


def loss_code(net: Network, lossfn: Loss, kernels: ModuleType) -> int | None:
    """The kernels' code for this loss on this network, or None if they lack it.

    The loss must be the registry's own, with a scalar form, and a fused loss
    must end a network whose output activation is the one it is fused with.
    """
    code = kernels.LOSS_CODES.get(lossfn.name)
    if code is None or kernels.LOSSES_COMPILED[code] != lossfn:
        return None
    if lossfn.fused_with is not None and lossfn.fused_with != net.output_activation:
        return None
    return code


def optimizer_code(optimizer: Optimizer, kernels: ModuleType) -> int | None:
    """The kernels' code for the optimizer's compiled rule, or None if it has none."""
    spec = optimizer.kernel_spec()
    if spec is None or KERNEL_RULES.get(spec.rule.name) is not spec.rule:
        return None
    return kernels.RULE_CODES[spec.rule.name]


def kernel_hyperparameters(optimizer: Optimizer, l2: float, out: np.ndarray | None = None
                           ) -> np.ndarray:
    """The kernels' float64 ``hyper`` vector: the optimizer's, read now, then ``l2``.

    Read at every call: a schedule changes the rate between epochs, and
    ``load_state_dict`` may change anything. Written into ``out`` when it has
    the length (a runner's buffer, reused call after call: a new array cost
    more than the tutorial's epoch of 100 examples spends in arithmetic).
    """
    spec = optimizer.kernel_spec()
    if spec is None:
        raise ValueError(f"{type(optimizer).__name__} has no compiled update")
    size = len(spec.hyper)
    hyper = out if out is not None and len(out) == size + 1 else np.empty(size + 1)
    hyper[:size] = spec.hyper
    hyper[size] = l2
    return hyper


def kernel_state(optimizer: Optimizer, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The optimizer's state as the kernels take it: two flat arrays, empty where unused.

    Fetched at every call: a ``load_state_dict`` between epochs replaces the arrays.
    """
    vectors = optimizer.state_vectors(params)
    if len(vectors) > 2:
        raise ValueError(f"{type(optimizer).__name__} keeps {len(vectors)} state vectors; "
                         f"the compiled update takes at most 2")
    empty = params[:0]
    padded = (*vectors, empty, empty)
    return padded[0], padded[1]


class Layout:
    """The network as the kernels see it: sizes, offsets and activation codes."""

    def __init__(self, net: Network, kernels: ModuleType) -> None:
        sizes = net.layer_sizes
        w_off, b_off, _ = zip(*net.layer_offsets(), strict=True)
        self.sizes = np.array(sizes, dtype=np.int64)
        self.w_off = np.array(w_off, dtype=np.int64)
        self.b_off = np.array(b_off, dtype=np.int64)
        self.u_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.units = int(self.u_off[-1])
        self.acts = np.array([kernels.ACTIVATION_CODES[a.name] for a in net.activation_fns],
                             dtype=np.int64)

    def packed(self) -> np.ndarray:
        """``[n_layers, sizes, w_off, b_off, u_off, acts]`` in one int64 array (one kernel
        argument instead of five, for :func:`numnet.engine.kernels.forward_rows`)."""
        return np.concatenate([[len(self.sizes) - 1], self.sizes, self.w_off, self.b_off,
                               self.u_off, self.acts]).astype(np.int64)


def _as_kernel_input(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if X.dtype == dtype and X.flags.c_contiguous:
        return X
    return np.ascontiguousarray(X, dtype=dtype)


class _CompiledRunner:
    """Shared set-up of the compiled runners: layout, codes and optimizer state."""

    whole_epochs = True

    def __init__(self, net: Network, lossfn: Loss, optimizer: Optimizer, l2: float,
                 kernels: ModuleType) -> None:
        self.net, self.lossfn, self.optimizer, self.l2 = net, lossfn, optimizer, l2
        self.kernels = kernels
        self.layout = Layout(net, kernels)
        self.loss_code = loss_code(net, lossfn, kernels)
        self.opt_code = optimizer_code(optimizer, kernels)
        self._inputs: tuple[Any, Any] = (None, None)   # (caller's X, its contiguous copy)
        self._hyper: np.ndarray | None = None           # kernel_hyperparameters' buffer

    def _prepare(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray) -> tuple:
        dtype = self.net.dtype
        if self._inputs[0] is not X:              # fit passes the same arrays every time
            self._inputs = (X, _as_kernel_input(X, dtype))
        Y = _as_kernel_input(Y, dtype)
        if order.dtype != np.int64 or not order.flags.c_contiguous:
            order = np.ascontiguousarray(order, dtype=np.int64)
        params = self.net.flat_parameters
        s1, s2 = kernel_state(self.optimizer, params)
        hyper = self._hyper = kernel_hyperparameters(self.optimizer, self.l2, self._hyper)
        return self._inputs[1], Y, order, params, hyper, s1, s2


class ExampleRunner(_CompiledRunner):
    """Chosen for batch size 1 when the kernels cover the loss, optimizer and activations.

    Whole epochs of per-example updates in one compiled loop
    (:func:`numnet.engine.kernels.train_examples`).
    """

    name = "compiled per-example"

    def __init__(self, net: Network, lossfn: Loss, optimizer: Optimizer, l2: float,
                 kernels: ModuleType) -> None:
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
        lay = self.layout
        t0 = self.optimizer.advance(last - first) - 1
        rate = self.optimizer.linear_rate() if self.l2 == 0 else None
        total = self.kernels.train_examples(
            X, Y, order, first, last, params, lay.sizes, lay.w_off, lay.b_off, lay.u_off,
            lay.acts, self.loss_code, self.Z, self.A, self.D, self.opt_code, hyper, t0, s1, s2,
            rate or 0.0)
        return float(total)


class SmallBatchRunner(_CompiledRunner):
    """Chosen when ``batch_size * widest layer <= SMALL_BATCH_WORK`` and the kernels cover it.

    Mini-batches of small layers, where a BLAS call costs more than its
    arithmetic, in one compiled loop (:func:`numnet.engine.kernels.train_batches`).
    """

    name = "compiled small-batch"

    def __init__(self, net: Network, lossfn: Loss, optimizer: Optimizer, l2: float,
                 kernels: ModuleType, batch_size: int) -> None:
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
        lay = self.layout
        t0 = self.optimizer.advance(last - first) - 1
        total = self.kernels.train_batches(
            X, Y, order, first, last, batch_size, params, self.grad, lay.sizes, lay.w_off,
            lay.b_off, lay.u_off, lay.acts, self.loss_code, self.Z, self.A, self.D,
            self.opt_code, hyper, t0, s1, s2)
        return float(total)

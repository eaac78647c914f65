"""The tutorial's three methods on one example, on buffers allocated once: its fast path.

``forward_propagate``, ``back_propagate`` and ``gradient_descent`` called by
hand on one 1-D example of a small network spend their time in NumPy's call
overhead, not in arithmetic. :class:`OneExample` holds per-layer buffers and
computes the same quantities as :meth:`numnet.network.Network.forward_train`
and ``backward_flat`` (to rounding; ``tests/test_first_contact.py`` holds
them equal). :class:`numnet.MLP`'s tutorial methods (:mod:`numnet.tutorial`) use it
for a float array of the network's dtype and length, and the general path
otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from numnet.activations import Activation, sigmoid_into
from numnet.network import Network

__all__ = ["OneExample"]


class _Layer(NamedTuple):
    """One layer's views and buffers; the passes unpack it in this order."""

    Wb: np.ndarray          # [W; b]: (n_in + 1, n_out) with biases, a view of the parameters
    W: np.ndarray           # (n_in, n_out), the same memory
    dWb: np.ndarray         # [dW; db]: shaped as Wb, a view of the derivatives
    A_prev: np.ndarray      # [A_prev, 1] as a column: (n_in + 1, 1)
    Z: np.ndarray           # (n_out,)
    A: np.ndarray           # (n_out,), the start of the next layer's input
    A_next: np.ndarray      # [A, 1]: (n_out + 1,)
    scratch: np.ndarray     # (n_out,)
    dZ: np.ndarray          # (n_out,)
    dA_prev: np.ndarray     # -dE/dA_prev: (n_in,)
    act: Activation
    name: str


class OneExample:
    """Buffers for the tutorial's methods on one 1-D example, allocated once per network.

    On one example of a small network the tutorial's three methods spend their
    time in NumPy call overhead, not arithmetic. This path reuses per-layer
    buffers (``out=``), skips the general validation (an example of the right
    length and dtype needs only a finiteness check) and computes the tutorial's
    quantities directly: the same numbers as the general path (to rounding).

    It uses the flat layout: a layer's ``W_i`` (row-major) is followed by its
    ``b_i``, so ``[W_i; b_i]`` is one ``(n_in + 1, n_out)`` matrix, and with
    each activation buffer ending in a constant 1, ``Z = [A, 1] @ [W; b]`` is
    one product, as is the derivative ``[dW; db] = [A, 1]^T dZ``.
    """

    def __init__(self, net: Network) -> None:
        dt = net.dtype
        extra = 1 if net.bias else 0
        self.flat = net.flat_parameters            # stale once the network's vector is replaced
        self.derivatives = np.zeros_like(self.flat)
        self.step = np.empty_like(self.flat)
        self.half, self.one = np.array(0.5, dt), np.array(1.0, dt)   # 0-d: cheap to apply
        self.rate = np.array(1.0, dt)
        # inputs[i] = [A_i, 1]: the layer's input with the bias's constant 1 at the end
        self.inputs = [np.ones(n + extra, dt) for n in net.layer_sizes]
        self.n_in = net.num_inputs
        self.layers: list[_Layer] = []
        for i, ((n_in, n_out), act, (w, _, end)) in enumerate(zip(
                net.shapes, net.activation_fns, net.layer_offsets(), strict=True)):
            self.layers.append(_Layer(
                Wb=self.flat[w:end].reshape(n_in + extra, n_out),
                W=self.flat[w:w + n_in * n_out].reshape(n_in, n_out),
                dWb=self.derivatives[w:end].reshape(n_in + extra, n_out),
                A_prev=self.inputs[i].reshape(-1, 1),
                Z=np.empty(n_out, dt), A=self.inputs[i + 1][:n_out], A_next=self.inputs[i + 1],
                scratch=np.empty(n_out, dt), dZ=np.empty(n_out, dt),
                dA_prev=np.empty(n_in, dt), act=act, name=act.name))
        # NumPy 2 runs a ufunc in place on a one-element array several times slower than
        # into another array, so no step below writes over one of its own operands.

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x: (num_inputs,)`` -> a new ``(num_outputs,)`` array; keeps the activations."""
        A = self.inputs[0]
        A[:self.n_in] = x
        half = self.half
        for Wb, _, _, _, Z, A_out, A_next, S, _, _, act, name in self.layers:
            A.dot(Wb, Z)                               # Z = A_prev @ W + b
            if name == "sigmoid":
                sigmoid_into(Z, A_out, half, S)
            elif name == "tanh":
                np.tanh(Z, A_out)
            else:
                A_out[...] = act.forward(Z)
            A = A_next
        return A_out.copy()

    def backward(self, error: np.ndarray) -> np.ndarray:
        """``error = target - output: (num_outputs,)`` -> ``-dE/dx: (num_inputs,)``.

        Fills :attr:`derivatives` with ``-dE/dW`` and ``-dE/db``, layer by layer.
        """
        delta = error                                 # -dE/dA of the current layer
        one, layers = self.one, self.layers
        for i in range(len(layers) - 1, -1, -1):
            _, W, dWb, A_prev, Z, A, _, S, T, dA_prev, act, name = layers[i]
            if name == "sigmoid":                      # dZ = delta * (A * (1 - A))
                np.subtract(one, A, S)
                np.multiply(A, S, T)
                dZ = np.multiply(delta, T, S)
            elif name == "identity":
                dZ = delta
            else:
                dZ = act.backward(Z, A, delta)
            np.multiply(A_prev, dZ, dWb)              # [dW; db] = [A_prev, 1]^T dZ
            delta = W.dot(dZ, dA_prev) if i else W.dot(dZ)     # -dE/dA_prev = W @ dZ
        return delta

    def descend(self, derivatives: np.ndarray, learning_rate: float) -> None:
        """``flat += derivatives * learning_rate`` through a buffer: the tutorial's step."""
        self.rate[...] = learning_rate
        self.flat += np.multiply(derivatives, self.rate, self.step)

    @property
    def x(self) -> np.ndarray:
        """The last input, ``(num_inputs,)``."""
        return self.inputs[0][:self.n_in]

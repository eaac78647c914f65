"""The baseline: a plain vectorised NumPy MLP, as you would write it by hand.

Mini-batch loop over a shuffled index; forward keeps each layer's activation,
backward computes ``dW = A_prev.T @ dZ``; SGD or Adam updates in place. No
preallocated buffers, no compiled code. With ``batch_size=1`` the same loop is
the per-example (tutorial) training loop.

Inference: the same class's forward pass (``A = f(A @ W + b)`` per layer, the
softmax last), with numnet's initial weights, in the workload's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from . import Predictor, Trainer


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _relu(z):
    return np.maximum(z, 0)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {"sigmoid": _sigmoid, "relu": _relu, "softmax": _softmax}


def _hidden_derivative(name: str, a):
    """f'(z) written in terms of the activation a = f(z)."""
    if name == "sigmoid":
        return a * (1 - a)
    return (a > 0).astype(a.dtype)


class SGD:
    """Plain SGD: ``p -= lr * g``."""

    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self, grads):
        for p, g in zip(self.params, grads, strict=True):
            p -= self.lr * g


class Adam:
    """Adam (Kingma and Ba), betas (0.9, 0.999), eps 1e-8."""

    def __init__(self, params, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= lr_t * m / (np.sqrt(v) + self.eps)


class NumpyMLP:
    """Weights ``W_i: (n_in, n_out)``, biases ``b_i: (n_out,)``; Glorot/He init."""

    def __init__(self, sizes, activation, output_activation, dtype, rng):
        self.activation, self.output_activation = activation, output_activation
        self.W, self.b = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            scale = np.sqrt(2.0 / n_in) if activation == "relu" else np.sqrt(2.0 / (n_in + n_out))
            self.W.append((rng.standard_normal((n_in, n_out)) * scale).astype(dtype))
            self.b.append(np.zeros(n_out, dtype=dtype))

    def params(self):
        return self.W + self.b

    def forward(self, X):
        """Activations of every layer, input first."""
        acts = [X]
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            f = ACTIVATIONS[self.output_activation if i == last else self.activation]
            acts.append(f(acts[-1] @ W + b))
        return acts

    def gradients(self, X, Y):
        """``dW + db`` (same order as :meth:`params`) of the batch-mean loss.

        MSE is ``0.5 * sum((p - y)**2) / n``; with a sigmoid output its delta
        is ``(p - y) * p * (1 - p) / n``. Softmax with cross-entropy has the
        fused delta ``(p - y) / n``.
        """
        acts = self.forward(X)
        out = acts[-1]
        delta = (out - Y) / X.shape[0]
        if self.output_activation == "sigmoid":
            delta *= out * (1 - out)
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for i in range(len(self.W) - 1, -1, -1):
            dW[i] = acts[i].T @ delta
            db[i] = delta.sum(axis=0)
            if i:
                delta = (delta @ self.W[i].T) * _hidden_derivative(self.activation, acts[i])
        return dW + db


def build(w, data) -> Trainer:
    """A :class:`Trainer` for the hand-written NumPy MLP, in ``w.dtype``."""
    X, Y = data["X"], data["Y"]
    rng = np.random.default_rng(0)
    net = NumpyMLP(w.layer_sizes, w.activation, w.output_activation, np.dtype(w.dtype), rng)
    opt = (SGD if w.optimizer == "sgd" else Adam)(net.params(), w.lr)
    n, B = X.shape[0], w.batch_size

    def train(epochs: int) -> None:
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, B):
                idx = order[start:start + B]
                opt.step(net.gradients(X[idx], Y[idx]))

    return Trainer(train=train, predict=lambda X_: net.forward(X_)[-1], dtype=w.dtype)


def build_predict(w, data) -> Predictor:
    """The hand-written forward pass with numnet's initial weights, in ``w.dtype``."""
    from .numnet_impl import initial_network

    net = NumpyMLP(w.layer_sizes, w.activation, w.output_activation, np.dtype(w.dtype),
                   np.random.default_rng(0))
    numnet_net = initial_network(w)
    net.W = [W.copy() for W in numnet_net.weights]
    net.b = [b.copy() for b in numnet_net.biases]

    def predict(X):
        A = X
        last = len(net.W) - 1
        for i, (W, b) in enumerate(zip(net.W, net.b, strict=True)):
            f = ACTIVATIONS[net.output_activation if i == last else net.activation]
            A = f(A @ W + b)
        return A

    return Predictor(predict=predict, dtype=w.dtype)

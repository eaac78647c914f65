"""The tutorial's own loop typed by hand: numnet's methods against a plain NumPy class.

``python -m benchmarks.tutorial_loop [--examples N] [--repeats R]`` (also run by
``make bench``) trains ``MLP(1, [3], 1)`` one example at a time the way the
tutorial teaches (``activate``, ``backActivate(target - output)``,
``gradientDescent(0.1)``) and the same loop on :class:`PlainMLP`, a class written
as the tutorial writes its own (a list of weight matrices, ``np.dot`` per layer,
the derivative ``y * (1 - y)``). It prints microseconds per example for each
(best of the repeats) and their ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


class PlainMLP:
    """The tutorial's class, as a learner types it (no biases, sigmoid, lists of arrays)."""

    def __init__(self, num_inputs: int, hidden_layers: list[int], num_outputs: int,
                 rng: np.random.Generator) -> None:
        layers = [num_inputs, *hidden_layers, num_outputs]
        self.weights = [rng.random((a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]
        self.activations = [np.zeros(n) for n in layers]
        self.derivatives = [np.zeros((a, b)) for a, b in zip(layers[:-1], layers[1:], strict=True)]

    def forward_propagate(self, inputs):
        activations = inputs
        self.activations[0] = activations
        for i, w in enumerate(self.weights):
            net_inputs = np.dot(activations, w)
            activations = 1.0 / (1 + np.exp(-net_inputs))
            self.activations[i + 1] = activations
        return activations

    def back_propagate(self, error):
        for i in reversed(range(len(self.derivatives))):
            activations = self.activations[i + 1]
            delta = error * activations * (1.0 - activations)
            delta_re = delta.reshape(delta.shape[0], -1).T
            current = self.activations[i].reshape(self.activations[i].shape[0], -1)
            self.derivatives[i] = np.dot(current, delta_re)
            error = np.dot(delta, self.weights[i].T)
        return error

    def gradient_descent(self, learning_rate=1.0):
        for i in range(len(self.weights)):
            self.weights[i] += self.derivatives[i] * learning_rate


def _time_loop(forward, backward, descend, X, y, repeats: int) -> float:
    """Best seconds per example over ``repeats`` passes of the tutorial's loop."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        for x, target in zip(X, y, strict=True):
            output = forward(x)
            error = target - output
            backward(error)
            descend(0.1)
        best = min(best, (time.perf_counter() - began) / len(X))
    return best


def measure(n_examples: int = 1000, repeats: int = 7) -> dict[str, float]:
    """µs per example of the hand-typed tutorial loop, for numnet and the plain class."""
    from numnet import MLP

    rng = np.random.default_rng(0)
    X = rng.random((n_examples, 1))
    y = 1.0 - X
    net = MLP(1, [3], 1, random_state=0)
    plain = PlainMLP(1, [3], 1, rng)
    numnet_s = _time_loop(net.activate, net.backActivate, net.gradientDescent, X, y, repeats)
    plain_s = _time_loop(plain.forward_propagate, plain.back_propagate, plain.gradient_descent,
                         X, y, repeats)
    return {"numnet_us": numnet_s * 1e6, "plain_us": plain_s * 1e6,
            "ratio": plain_s / numnet_s}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    r = measure(args.examples, args.repeats)
    print("tutorial loop by hand, MLP(1, [3], 1), one example at a time (best of "
          f"{args.repeats} x {args.examples} examples)")
    print(f"  numnet activate/backActivate/gradientDescent: {r['numnet_us']:7.2f} µs/example")
    print(f"  plain NumPy tutorial class:                   {r['plain_us']:7.2f} µs/example")
    print(f"  numnet speed vs plain class: {r['ratio']:.2f}x (above 1: numnet is faster)")


if __name__ == "__main__":
    main()

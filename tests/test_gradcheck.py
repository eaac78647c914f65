"""Every derivative, checked: backprop against central differences on random networks."""

import zlib

import numpy as np
import pytest

from numnet import MLP, activations, gradcheck
from numnet.activations import sigmoid

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"]
# (output activation, loss): every pair that makes sense
HEADS = [
    ("sigmoid", "mse"), ("identity", "mse"), ("identity", "mae"), ("identity", "huber"),
    ("tanh", "mse"), ("sigmoid", "binary_cross_entropy"), ("softmax", "categorical_cross_entropy"),
    ("softmax", "mse"), ("sigmoid", "huber"),
]


def random_problem(activation, output_activation, loss, bias, seed):
    """A random architecture (0-3 hidden layers, widths 1-16) with matching data."""
    rng = np.random.default_rng(seed)
    hidden = [int(w) for w in rng.integers(1, 17, size=rng.integers(0, 4))]
    n_in = int(rng.integers(1, 6))
    n_out = int(rng.integers(2, 5)) if output_activation == "softmax" else int(rng.integers(1, 4))
    net = MLP(n_in, hidden, n_out, activation=activation, output_activation=output_activation,
              bias=bias, random_state=rng)
    if bias:                                   # keep ReLU-family kinks away from Z == 0
        for b in net.biases:
            b[...] = 0.1 * rng.standard_normal(b.shape)
    X = rng.normal(size=(7, n_in))
    if loss == "categorical_cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, 7)]
    elif loss == "binary_cross_entropy":
        Y = (rng.random((7, n_out)) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(7, n_out))
    if loss in ("mae", "huber"):
        # mae has a kink at P - Y = 0, huber's second derivative jumps at |P - Y| = 1:
        # place the residuals away from both
        r = rng.choice([-1, 1], Y.shape) * rng.choice([rng.uniform(0.1, 0.8), rng.uniform(1.2, 2)],)
        Y = net.forward(X) - r
    return net, X, Y


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("head", HEADS, ids=lambda h: f"{h[0]}-{h[1]}")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_and_loss(activation, head, bias):
    output_activation, loss = head
    seed = zlib.crc32(f"{activation}-{output_activation}-{loss}-{bias}".encode())
    net, X, Y = random_problem(activation, output_activation, loss, bias, seed)
    report = gradcheck(net, X, Y, loss)
    # measured over these cases: worst 1.9e-7 (deep sigmoid nets, whose first-layer gradients
    # nearly vanish, so round-off in the differences dominates); a wrong derivative gives ~1
    assert report.passed, f"{net!r}\n{report}"
    assert report.max_error < 1e-6


def test_l2_penalty_gradient(rng):
    net = MLP(3, [4], 2, activation="tanh", output_activation="identity", random_state=rng)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert gradcheck(net, X, Y, "mse", l2=0.3).passed


def test_float32_network_is_checked_in_float64(rng):
    net = MLP(2, [3], 1, dtype="float32", random_state=rng)
    report = gradcheck(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    assert report.passed
    assert net.dtype == np.float32            # the network itself is untouched


def test_a_weight_derivative_without_the_layer_input_is_caught(rng, monkeypatch):
    """dW as the delta alone (the layer's input A_prev left out) must fail the check."""
    import numnet.network as network

    def delta_alone(dZ, A_prev, W):
        dA_prev, dW, db = original(dZ, A_prev, W)
        return dA_prev, np.ones_like(W) * dZ.sum(axis=0), db     # drops A_prev from dW

    original = network.dense_backward
    monkeypatch.setattr(network, "dense_backward", delta_alone)
    net = MLP(2, [3], 1, random_state=rng)
    report = gradcheck(net, rng.normal(size=(5, 2)), rng.normal(size=(5, 1)))
    assert not report.passed
    assert "FAIL" in str(report)


def test_the_sigmoid_applied_twice_is_caught(rng):
    """sigmoid(y) * (1 - sigmoid(y)) of the activation y, for sigmoid'(z) = y * (1 - y).

    The mistake of a change once proposed to the tutorial's ``_sigmoid_derivative``
    (never merged): the sigmoid's derivative written for ``z`` but called on ``y``.
    register's own check refuses it; registered unchecked, gradcheck fails it, while
    the same network with numnet's sigmoid passes.
    """
    def twice(Z, A):
        return sigmoid(A) * (1.0 - sigmoid(A))

    with pytest.raises(ValueError, match="does not match its forward pass"):
        activations.register("sigmoid_twice", sigmoid, twice)
    activations.register("sigmoid_twice", sigmoid, twice, check=False)
    X, Y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 1))
    wrong = MLP(2, [3], 1, activation="sigmoid_twice", random_state=0)
    right = MLP(2, [3], 1, activation="sigmoid", random_state=0)
    np.testing.assert_array_equal(wrong.forward(X), right.forward(X))  # only the derivative differs
    report = gradcheck(wrong, X, Y)
    assert not report and report.max_error > 0.01
    assert all(status == "FAIL" for status in
               (line.split()[-1] for line in str(report).splitlines()[1:-1]))
    assert gradcheck(right, X, Y).max_error < 1e-6


def test_report_and_subsampling(rng):
    net = MLP(20, [30], 3, random_state=rng)
    X, Y = rng.normal(size=(4, 20)), rng.normal(size=(4, 3))
    report = gradcheck(net, X, Y, max_per_param=10)
    assert report.checked == {"W0": 10, "b0": 10, "W1": 10, "b1": 3}
    assert "passed" in str(report) and bool(report)


def test_bad_arguments(rng):
    net = MLP(2, [3], 1, random_state=rng)
    with pytest.raises(ValueError, match="eps"):
        gradcheck(net, np.zeros((2, 2)), np.zeros((2, 1)), eps=0)
    with pytest.raises(ValueError, match="feature"):
        gradcheck(net, np.zeros((2, 3)), np.zeros((2, 1)))

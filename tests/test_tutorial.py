"""The tutorial's API runs unchanged against numnet, with true gradients."""

from random import Random

import numpy as np
import pytest

import numnet
from numnet import MLP, TrainingWarning, datasets, mse


def test_the_tutorials_own_loop_runs_and_learns():
    """The tutorial's main program, as its readers wrote it (random data, per-example loop)."""
    random = Random(0).random                       # the tutorial uses `from random import random`
    items = np.array([[random() / 2 for _ in range(2)] for _ in range(1000)])
    targets = np.array([[i[0] + i[1]] for i in items])

    mlp = MLP(2, [5], 1, random_state=0)
    errors = []
    for _epoch in range(10):
        sum_errors = 0.0
        for j, input in enumerate(items):
            target = targets[j]
            output = mlp.forward_propagate(input)
            error = target - output
            mlp.back_propagate(error)
            mlp.gradient_descent(learning_rate=0.1)
            sum_errors += mse(target, output)
        errors.append(sum_errors / len(items))
    assert errors[-1] < errors[0] / 3               # measured: 0.0296 -> 0.0023 (13x)

    input, target = np.array([0.3, 0.1]), np.array([0.4])
    output = mlp.forward_propagate(input)
    assert output.shape == (1,)
    assert abs(output[0] - target[0]) < 0.1


def test_camel_case_names_are_the_same_methods(rng):
    a = MLP(2, [3], 1, random_state=1)
    b = a.copy()
    x, t = np.array([0.2, 0.7]), np.array([0.9])
    ea = t - a.activate(x)
    a.backActivate(ea)
    a.gradientDescent(0.5)
    eb = t - b.forward_propagate(x)
    b.back_propagate(eb)
    b.gradient_descent(0.5)
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)


def test_derivatives_are_true_gradients(rng):
    """back_propagate(target - output) stores -dE/dW for E = 0.5 * sum((t - o)^2)."""
    net = MLP(3, [4, 2], 2, random_state=rng)
    X, T = rng.random((5, 3)), rng.random((5, 2))
    net.back_propagate(T - net.forward_propagate(X))
    # E = 0.5 * sum (t - o)^2 = 0.5 * n * m * mse  =>  dE/dW = 0.5 * n * m * d(mse)/dW
    _, grads = net.loss_and_gradients(X, T, "mse")
    for derivative, grad in zip(net.derivatives, grads[::2], strict=True):
        np.testing.assert_allclose(derivative, -0.5 * 5 * 2 * grad, rtol=1e-10)


def test_back_propagate_returns_the_error_at_the_input(rng):
    net = MLP(2, [3], 1, random_state=rng)
    x, t = np.array([0.3, 0.6]), np.array([0.2])
    err_in = net.back_propagate(t - net.forward_propagate(x))
    eps = 1e-6
    def E(v):
        return 0.5 * np.sum((t - net.forward(v)) ** 2)

    numeric = [(E(x + eps * e) - E(x - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(err_in, -np.array(numeric), rtol=1e-6)


def test_train_prints_the_tutorials_lines_and_learns(capsys):
    X, y = datasets.one_minus_x(200, random_state=0)
    net = MLP(1, [3], 1, random_state=0)
    last = net.train(X, y, 20, 0.5)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 22 and lines[-1] == "Training complete!"
    assert lines[0].startswith("Epoch: 1\tError: ") and lines[19].startswith("Epoch: 20\tError: ")
    first = float(lines[0].split("Error: ")[1])
    assert last == pytest.approx(float(lines[19].split("Error: ")[1]), abs=5e-5)
    assert last < first / 5                         # measured: 0.069 -> 0.0026
    # the baseline: the error of always answering the mean, the targets' variance
    base, now = (float(part.split(": ")[1].split()[0]) for part in lines[20].split("; "))
    assert lines[20].startswith("Baseline: ")
    assert base == pytest.approx(float(np.var(y)), abs=5e-5)
    assert now == pytest.approx(float(np.mean((net.forward(X).ravel() - np.ravel(y)) ** 2)),
                                abs=5e-5)


def test_train_says_when_the_network_learned_nothing(capsys):
    X, y = datasets.one_minus_x(100, random_state=0)
    net = MLP(1, [64] * 6, 1, random_state=0)        # saturated sigmoids: it learns nothing
    with pytest.warns(TrainingWarning):
        net.train(X, y, 3, 0.5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("The network learned nothing")
    assert lines[-1] == "Training complete!"


def test_train_is_the_tutorials_loop(capsys):
    """train() gives the same weights as the hand-written per-example loop."""
    X, y = datasets.sum_of_two(50, random_state=1)
    a = MLP(2, [4], 1, random_state=3)
    b = a.copy()
    a.train(X, y, 3, 0.2)
    for _ in range(3):
        for x, t in zip(X, y, strict=True):
            b.back_propagate(t - b.forward_propagate(x))
            b.gradient_descent(0.2)
    np.testing.assert_allclose(a.flat_parameters, b.flat_parameters, rtol=1e-12, atol=1e-14)


def test_the_tutorials_exact_network():
    net = MLP(2, [5], 1, bias=False, init="uniform", random_state=0)
    assert net.biases is None and net.num_parameters == 2 * 5 + 5 * 1
    assert all(((W >= 0) & (W < 1)).all() for W in net.weights)
    assert net.activation == net.output_activation == "sigmoid"


def test_misuse_is_explained():
    net = MLP(2, [3], 1, random_state=0)
    with pytest.raises(RuntimeError, match="forward_propagate"):
        net.back_propagate([0.1])
    with pytest.raises(RuntimeError, match="back_propagate"):
        net.gradient_descent(0.1)
    net.forward_propagate([0.1, 0.2])
    with pytest.raises(ValueError, match="error has 2 value"):
        net.back_propagate([0.1, 0.2])
    with pytest.raises(ValueError, match="learning_rate"):
        net.train(np.zeros((2, 2)), np.zeros((2, 1)), 1, -0.1)


def test_mse_is_exported():
    assert numnet.mse([1, 1], [0, 1]) == pytest.approx(0.5)

"""fit says why the tutorial's deep network learns nothing: one output for every input, and
gradients that vanish on their way back; a healthy network hears nothing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import numnet
from numnet import MLP, datasets, fit


def test_the_deep_tutorial_network_warns_with_the_cause_and_the_fix():
    X, y = datasets.one_minus_x(200, random_state=0)
    net = MLP(1, [1024] * 5, 1, dtype="float32", random_state=0)      # the tutorial's, + biases
    with pytest.warns(numnet.TrainingWarning) as caught:
        fit(net, X, y, batch_size=1, epochs=1, learning_rate=0.1, verbose=False)
    [message] = [str(w.message) for w in caught]
    assert "the network gives the same output for every input" in message
    assert "gradients vanish through 5 sigmoid layers" in message
    assert ("try activation='relu', output_activation='sigmoid' (ReLU layers take He "
            "initialisation by default), or fewer layers") in message
    assert "optimizer='adam'" not in message    # measured: at its default rate it pins outputs
    assert np.ptp(net.forward(X)) < 1e-3 * np.std(y)                  # as it says


def test_the_fix_it_names_trains_the_deep_network_and_relu_alone_does_not():
    """The output activation is part of the advice: with activation="relu" alone the
    output is ReLU too, and here it gives 0 for every input from the start."""
    X, y = datasets.one_minus_x(200, random_state=0)
    constant = float(np.var(y))
    fixed = MLP(1, [1024] * 5, 1, activation="relu", output_activation="sigmoid",
                dtype="float32", random_state=0)
    fit(fixed, X, y, batch_size=1, epochs=1, learning_rate=0.1, verbose=False, random_state=0)
    # measured: 0.020 against the constant prediction's 0.091
    assert np.mean((fixed.forward(X) - y) ** 2) < 0.5 * constant
    relu_out = MLP(1, [1024] * 5, 1, activation="relu", dtype="float32", random_state=0)
    assert not np.any(relu_out.forward(X))


@pytest.mark.parametrize("data, hidden", [("sum_of_two", [5]), ("one_minus_x", [3])])
def test_a_healthy_network_hears_nothing(data, hidden):
    X, y = datasets.get_dataset(data, n_samples=300, random_state=0)
    net = MLP(X.shape[1], hidden, 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(net, X, y, batch_size=1, epochs=10, learning_rate=0.1, verbose=False,
            random_state=0)

"""Units saturated before training: fit names the weights when they are the cause (the
tutorial's deep network: uniform weights on [0, 1), no biases), the features when they are,
and what it advises works."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from numnet import MLP, TrainingWarning, datasets, fit
from numnet._fitting.diagnosis import probe, weights_cause
from numnet.baselines import baseline_loss
from numnet.losses import get_loss

TUTORIAL = dict(bias=False, init="uniform", random_state=0)


def _warning(net, X, y, **options):
    """fit's TrainingWarning (its text, or None) and the History."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingWarning)
        history = fit(net, X, y, verbose=False, random_state=0, **options)
    said = [str(w.message) for w in caught if issubclass(w.category, TrainingWarning)]
    assert len(said) <= 1
    return (said[0] if said else None), history


def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.fixture(scope="module")
def one_minus_x():
    return datasets.one_minus_x(32, random_state=0)


def test_the_tutorials_deep_network_is_told_its_weights_saturate_it(one_minus_x):
    X, y = one_minus_x                                   # the inputs are in [0, 1) already
    net = MLP(1, [1024] * 5, 1, **TUTORIAL)
    message, _ = _warning(net, X, y, learning_rate=0.05, batch_size=1, epochs=1)
    assert message is not None
    assert "standardise them" not in message and "scale of" not in message
    assert "the weights saturate the units, not the features" in message
    assert ("on the features standardised, 100% of hidden layer 2's units stay saturated: it "
            "adds up its 1024 inputs (all positive) with weights all positive (mean 0.5)"
            ) in message
    assert ("init='uniform' draws weights on [0, 1), all positive: leave init at its default "
            "('glorot_uniform' here: centred, standard deviation 0.031 for this layer)"
            ) in message
    assert ("with 5 sigmoid hidden layers the gradients may then vanish: activation='relu', "
            "output_activation='sigmoid', bias=True (ReLU layers take He initialisation by "
            "default, and need biases to shift their outputs) avoids that") in message


def test_standardising_the_tutorials_features_changes_nothing(one_minus_x):
    """What the warning says instead of "standardise them": it would not help."""
    X, y = one_minus_x
    Xs = _standardised(X)
    net = MLP(1, [1024] * 5, 1, **TUTORIAL)
    _, gradients = net.loss_and_gradients(Xs, y)
    assert max(float(np.abs(g).max()) for g in gradients) == 0.0
    message, history = _warning(net, Xs, y, learning_rate=0.05, batch_size=1, epochs=1)
    assert message is not None and "the weights saturate the units" in message
    assert net.forward(Xs).min() == 1.0                  # every output still 1.0


def test_the_advice_frees_the_units(one_minus_x):
    X, y = one_minus_x
    centred = MLP(1, [1024] * 5, 1, bias=False, random_state=0)     # init left at its default
    assert not probe(centred, X, y, get_loss("mse")).is_saturated
    assert max(float(np.abs(g).max()) for g in centred.loss_and_gradients(X, y)[1]) > 0
    message, _ = _warning(centred, X, y, learning_rate=0.05, batch_size=1, epochs=1)
    assert message is not None and "saturat" not in message
    assert "the gradients vanish through 5 sigmoid layers" in message   # as the advice warns


def test_relu_layers_with_biases_learn_what_the_tutorials_deep_network_could_not():
    """The advice's second part, on the tutorial's 64 examples (as docs/tutorial.md)."""
    X, y = datasets.one_minus_x(64, random_state=0)
    X_test, y_test = datasets.one_minus_x(1000, random_state=1)
    net = MLP(1, [1024] * 5, 1, activation="relu", output_activation="sigmoid", bias=True,
              random_state=0)
    message, _ = _warning(net, X, y, learning_rate=0.05, batch_size=1, epochs=2, shuffle=False)
    assert message is None
    # measured 0.035, the constant prediction's 0.084 (0.065-0.075 without biases)
    assert np.mean((net.forward(X_test) - y_test) ** 2) < 0.6 * baseline_loss(y, "mse", y_test)


def test_features_on_a_large_scale_are_still_named_and_the_weights_are_not():
    X, y = datasets.sum_of_two(300, random_state=0)
    net = MLP(2, [16], 1, random_state=0)                # the default init: centred
    message, _ = _warning(net, X * 1e3, y, epochs=5)
    assert message is not None
    assert "the features are on a scale of ~1e3 (largest |x| 500): standardise them" in message
    assert "weights" not in message
    assert weights_cause(net, X * 1e3) is None            # standardised, nothing saturates
    # the advice works: on the standardised features the same network learns, silently
    message, _ = _warning(MLP(2, [16], 1, random_state=0), _standardised(X * 1e3), y, epochs=5)
    assert message is None


def test_large_features_and_uniform_weights_are_both_named():
    X, y = datasets.sum_of_two(300, random_state=0)
    net = MLP(2, [256] * 3, 1, **TUTORIAL)
    message, _ = _warning(net, X * 1e3, y, epochs=5)
    assert message is not None
    scale, weights = message.split("; and the weights saturate the units too: ")
    assert "the features are on a scale of ~1e3" in scale
    assert weights.startswith("on the features standardised, 100% of hidden layer 2's units "
                              "stay saturated")
    assert "leave init at its default ('glorot_uniform' here" in weights


def test_relu_layers_on_uniform_weights_pin_the_output_and_he_is_advised():
    X, y = datasets.sum_of_two(300, random_state=0)
    net = MLP(2, [256] * 3, 1, activation="relu", output_activation="sigmoid", init="uniform",
              random_state=0)
    message, _ = _warning(net, X, y, epochs=5)
    assert message is not None and "standardise them" not in message
    assert "the output layer's rows stay saturated" in message
    assert "leave init at its default ('he_uniform' here" in message
    assert "gradients may then vanish" not in message     # ReLU layers: no such clause
    # the advice works: the default (He) initialisation learns, below the constant's loss
    fixed = MLP(2, [256] * 3, 1, activation="relu", output_activation="sigmoid", random_state=0)
    message, history = _warning(fixed, X, y, epochs=5)
    assert message is None
    assert history.loss[-1] < np.var(y)                   # measured 0.028 against 0.037


def test_the_state_before_training_is_probed_from_its_copy_and_the_weights_are_kept(one_minus_x):
    """fit keeps the parameters from before training (``begin``) and probes them only when
    the loss says nothing was learned: the message reports that state, and the trained
    weights are back in place afterwards."""
    from numnet._fitting.diagnosis import begin, learned_nothing
    from numnet.optimizers import SGD

    X, y = one_minus_x
    Y = np.asarray(y, dtype=float).reshape(len(y), 1)
    mse = get_loss("mse")
    net = MLP(1, [1024] * 5, 1, **TUTORIAL)
    before = probe(net, X, Y, mse, 1)
    started = begin(net, X, Y, mse, 1)
    assert started.probe is None                # mse is read from the outputs: no probe yet
    assert started.loss == pytest.approx(before.loss, rel=1e-12)
    _warning(net, X, y, learning_rate=0.05, batch_size=1, epochs=1)   # fit's own says the same
    trained = net.flat_parameters.copy()
    message = learned_nothing(started, net, X, Y, mse, SGD(0.05), 1)
    assert message is not None and "the weights saturate the units, not the features" in message
    assert f"went from {before.loss:.4g} before training" in message
    np.testing.assert_array_equal(net.flat_parameters, trained)

"""Sample weights in the losses, loss_and_gradients and fit: weights are repetitions."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import MLP, fit, optimizers
from numnet.losses import LOSSES, normalize_weights, weighted_value

_FUSED = {"binary_cross_entropy": ("sigmoid", 2), "categorical_cross_entropy": ("softmax", 3)}


def _problem(loss: str, rng):
    output, n_out = _FUSED.get(loss, ("identity", 2))
    X = rng.standard_normal((12, 3))
    if loss == "categorical_cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, 12)]
    elif loss == "binary_cross_entropy":
        Y = (rng.random((12, n_out)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal((12, n_out))
    net = MLP(3, [5], n_out, activation="tanh", output_activation=output, random_state=0)
    return net, X, Y


@pytest.mark.parametrize("loss", list(LOSSES))
def test_sample_values_average_to_the_loss(loss):
    rng = np.random.default_rng(0)
    lossfn = LOSSES[loss]
    net, X, Y = _problem(loss, rng)
    P, cache = net.forward_train(X)
    np.testing.assert_allclose(lossfn.sample_values(P, Y).mean(), lossfn.value(P, Y), rtol=1e-12)
    ones = np.ones(len(X))
    if lossfn.fused_with:
        Z = cache[-1].Z
        np.testing.assert_allclose(weighted_value(lossfn, P, Y, ones, Z),
                                   lossfn.value_from_logits(Z, Y), rtol=1e-12)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_integer_weights_are_repeated_samples(loss):
    rng = np.random.default_rng(0)
    net, X, Y = _problem(loss, rng)
    w = rng.integers(0, 4, len(X)).astype(float)
    rep = np.repeat(np.arange(len(X)), w.astype(int))
    value, grads = net.loss_and_gradients(X, Y, loss, l2=0.1, sample_weight=w)
    value_rep, grads_rep = net.loss_and_gradients(X[rep], Y[rep], loss, l2=0.1)
    assert value == pytest.approx(value_rep, rel=1e-12)
    for g, g_rep in zip(grads, grads_rep, strict=True):
        np.testing.assert_allclose(g, g_rep, rtol=1e-10, atol=1e-14)


def test_weights_scale_freely_and_zeros_are_left_out():
    np.testing.assert_array_equal(normalize_weights(np.zeros(3)), np.zeros(3))
    rng = np.random.default_rng(1)
    net, X, Y = _problem("mse", rng)
    w = rng.random(len(X))
    w[:4] = 0.0
    a = net.loss_and_gradients(X, Y, "mse", sample_weight=w)
    b = net.loss_and_gradients(X, Y, "mse", sample_weight=7.5 * w)
    c = net.loss_and_gradients(X[4:], Y[4:], "mse", sample_weight=w[4:])
    for other in (b, c):
        assert a[0] == pytest.approx(other[0], rel=1e-12)
        np.testing.assert_allclose(a[1][0], other[1][0], rtol=1e-10)


def test_fit_with_weights_trains_as_on_repeated_samples():
    # full-batch gradient descent: each step sees the whole (weighted or repeated) set
    rng = np.random.default_rng(2)
    net, X, Y = _problem("categorical_cross_entropy", rng)
    w = rng.integers(1, 4, len(X)).astype(float)
    rep = np.repeat(np.arange(len(X)), w.astype(int))
    twin = net.copy()
    h = fit(net, X, Y, optimizer=optimizers.SGD(0.5), epochs=5, batch_size=None,
            sample_weight=w, verbose=False, random_state=0)
    h_rep = fit(twin, X[rep], Y[rep], optimizer=optimizers.SGD(0.5), epochs=5, batch_size=None,
                verbose=False, random_state=0)
    np.testing.assert_allclose(h.loss, h_rep.loss, rtol=1e-10)
    np.testing.assert_allclose(net.flat_parameters, twin.flat_parameters, rtol=1e-10)


def test_fit_checks_weights_and_splits_them_with_the_data():
    rng = np.random.default_rng(3)
    net, X, Y = _problem("mse", rng)
    with pytest.raises(ValueError, match=r"shape \(12,\)"):
        fit(net, X, Y, sample_weight=np.ones(5), verbose=False)
    with pytest.raises(ValueError, match="NaN"):
        fit(net, X, Y, sample_weight=np.full(12, np.nan), verbose=False)
    h = fit(net, X, Y, sample_weight=np.ones(12), validation_split=0.25, epochs=2,
            verbose=False, random_state=0)
    assert len(h.val_loss) == 2

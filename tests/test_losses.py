"""Losses: known values, gradients by central differences, fused deltas, stability."""

import warnings

import numpy as np
import pytest

from numnet.activations import get_activation
from numnet.losses import LOSSES, get_loss, mse


def numeric_gradient(f, P, eps=1e-6):
    G = np.empty_like(P)
    for idx in np.ndindex(P.shape):
        Pp, Pm = P.copy(), P.copy()
        Pp[idx] += eps
        Pm[idx] -= eps
        G[idx] = (f(Pp) - f(Pm)) / (2 * eps)
    return G


def _pair(name, rng):
    if name == "categorical_cross_entropy":
        P = get_activation("softmax").forward(rng.normal(size=(5, 3)))
        Y = np.eye(3)[rng.integers(0, 3, 5)]
    elif name == "binary_cross_entropy":
        P = rng.uniform(0.05, 0.95, size=(5, 3))
        Y = (rng.random((5, 3)) > 0.5).astype(float)
    else:
        P, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    return P, Y


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradient_matches_central_differences(name, rng):
    loss = get_loss(name)
    P, Y = _pair(name, rng)
    np.testing.assert_allclose(loss.gradient(P, Y), numeric_gradient(lambda p: loss.value(p, Y), P),
                               rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_fused_delta_is_chain_rule(name, rng):
    loss = get_loss(name)
    act = get_activation(loss.fused_with)
    Z = rng.normal(size=(5, 3))
    Y = _pair(name, rng)[1]
    P = act.forward(Z)
    chain = act.backward(Z, P, loss.gradient(P, Y))
    np.testing.assert_allclose(loss.delta(P, Y), chain, rtol=1e-8, atol=1e-12)
    assert loss.value_from_logits(Z, Y) == pytest.approx(loss.value(P, Y), rel=1e-10)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_cross_entropy_from_extreme_logits_is_finite(name):
    loss = get_loss(name)
    Z = np.array([[1000.0, -1000.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.value_from_logits(Z, Y)
    assert np.isfinite(value) and value > 100       # badly wrong, and says so


def test_known_values():
    assert mse([1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.25)          # the tutorial's error
    assert get_loss("mae").value(np.array([[1.0, -1.0]]), np.zeros((1, 2))) == pytest.approx(1.0)
    # huber: 0.5 r^2 inside delta=1, r - 0.5 outside
    huber = get_loss("huber").value(np.array([[0.5, 3.0]]), np.zeros((1, 2)))
    assert huber == pytest.approx((0.125 + 2.5) / 2)
    P = np.array([[0.25, 0.75]])
    assert get_loss("cce").value(P, np.array([[0.0, 1.0]])) == pytest.approx(-np.log(0.75))


def test_float32_gradients_stay_float32(rng):
    for name in LOSSES:
        P, Y = (a.astype(np.float32) for a in _pair(name, rng))
        assert get_loss(name).gradient(P, Y).dtype == np.float32


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*mse"):
        get_loss("hinge")

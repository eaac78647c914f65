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


# --- the public functions: (y_true, y_pred), as scikit-learn ----------------------------

def test_public_losses_take_y_true_first_as_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    from numnet import losses

    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    assert losses.mse(t, p) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-12)
    assert losses.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12)
    labels = rng.integers(0, 2, 40)
    proba = rng.uniform(0.05, 0.95, 40)
    assert losses.binary_cross_entropy(labels, proba) == pytest.approx(
        skm.log_loss(labels, proba), rel=1e-12)
    classes = rng.integers(0, 3, 30)
    P = get_activation("softmax").forward(rng.normal(size=(30, 3)))
    assert losses.categorical_cross_entropy(np.eye(3)[classes], P) == pytest.approx(
        skm.log_loss(classes, P), rel=1e-12)
    # huber is symmetric; its figure as the "huber" loss computes it
    assert losses.huber(t, p) == pytest.approx(get_loss("huber").value(p, t), rel=1e-12)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_cross_entropy_with_swapped_arguments_warns(name):
    from numnet import losses

    fn = getattr(losses, name)
    Y = np.eye(3)[[0, 2, 1, 1]]
    P = get_activation("softmax").forward(np.random.default_rng(0).normal(size=(4, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        right = fn(Y, P)                                # the documented order: no warning
    with pytest.warns(FutureWarning, match=r"look swapped; the order is \(y_true, y_pred\)"):
        wrong = fn(P, Y)
    assert right < wrong                                 # the figure is computed as told


def test_one_mse_and_one_mae_wherever_users_look():
    import numnet
    from numnet import losses, metrics, tutorial

    assert numnet.mse is losses.mse is metrics.mean_squared_error is tutorial.mse
    assert metrics.mean_absolute_error is losses.mae
    # the tutorial's shapes: scalars, lists, a column against a flat vector
    assert numnet.mse(1.0, 0.5) == pytest.approx(0.25)
    assert numnet.mse([[1.0], [0.0]], [1.0, 1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="y_true has shape \\(3,\\) but y_pred has \\(2,\\)"):
        numnet.mse([1.0, 2.0, 3.0], [1.0, 2.0])

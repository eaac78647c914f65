"""The Poisson loss and its exp output: values, gradients by central differences, fused deltas.

``losses.LOSSES["poisson"]`` is half the Poisson deviance, fused with the
exponential output :data:`numnet.activations.EXP` (a log link), as
scikit-learn's ``MLPRegressor(loss="poisson")``. Tolerances are
tests/test_losses.py's and tests/test_activations.py's (the same central
differences); float32 forms agree to 1e-5 as in tests/test_forms.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from numnet import MLP, activations, fit, gradcheck
from numnet.activations import ACTIVATIONS, EXP, Workspace
from numnet.engine import preferred_runner
from numnet.losses import LOSSES, get_loss

POISSON = get_loss("poisson")


def numeric_gradient(f, P, eps=1e-6):
    G = np.empty_like(P)
    for idx in np.ndindex(P.shape):
        Pp, Pm = P.copy(), P.copy()
        Pp[idx] += eps
        Pm[idx] -= eps
        G[idx] = (f(Pp) - f(Pm)) / (2 * eps)
    return G


def _counts(rng, shape=(5, 3)):
    """Positive means ``P`` and counts ``Y`` (zeros included), as Poisson regression has them."""
    P = rng.uniform(0.2, 4.0, size=shape)
    Y = rng.poisson(P).astype(float)
    Y[0, 0] = 0.0
    return P, Y


def test_registered_and_fused_with_exp():
    assert LOSSES["poisson"] is POISSON and POISSON.fused_with == EXP.name == "exp"
    # registered by name, as an output-only activation (tests/test_exp_output.py)
    assert ACTIVATIONS["exp"] is EXP and EXP.output_only


def test_gradient_matches_central_differences(rng):
    P, Y = _counts(rng)
    np.testing.assert_allclose(POISSON.gradient(P, Y),
                               numeric_gradient(lambda p: POISSON.value(p, Y), P),
                               rtol=1e-5, atol=1e-9)


def test_fused_delta_is_chain_rule_through_exp(rng):
    Z = rng.normal(size=(5, 3))
    P = EXP.forward(Z)
    Y = rng.poisson(P).astype(float)
    chain = EXP.backward(Z, P, POISSON.gradient(P, Y))
    np.testing.assert_allclose(POISSON.delta(P, Y), chain, rtol=1e-8, atol=1e-12)
    assert POISSON.value_from_logits(Z, Y) == pytest.approx(POISSON.value(P, Y), rel=1e-10)
    # and the fused value is differentiated by the delta, through Z
    np.testing.assert_allclose(POISSON.delta(P, Y),
                               numeric_gradient(lambda z: POISSON.value_from_logits(z, Y), Z),
                               rtol=1e-5, atol=1e-9)


def test_sample_values_average_to_the_loss(rng):
    P, Y = _counts(rng)
    Z = np.log(P)
    assert POISSON.sample_values(P, Y).shape == (5,)
    assert POISSON.sample_values(P, Y).mean() == pytest.approx(POISSON.value(P, Y), rel=1e-12)
    assert POISSON.sample_values_from_logits(Z, Y).mean() == pytest.approx(
        POISSON.value_from_logits(Z, Y), rel=1e-12)


def test_known_values():
    # y log(y / p) - y + p: 0 at p == y, 2 log 2 - 1 for y = 2, p = 1, p for y = 0
    assert POISSON.value(np.array([[3.0]]), np.array([[3.0]])) == pytest.approx(0.0, abs=1e-15)
    assert POISSON.value(np.array([[1.0]]), np.array([[2.0]])) == pytest.approx(
        2 * np.log(2) - 1)
    assert POISSON.value(np.array([[0.5]]), np.array([[0.0]])) == pytest.approx(0.5)


def test_is_half_of_scikit_learns_poisson_deviance(rng):
    metrics = pytest.importorskip("sklearn.metrics")
    P, Y = _counts(rng, shape=(40, 1))
    assert POISSON.value(P, Y) == pytest.approx(
        metrics.mean_poisson_deviance(Y.ravel(), P.ravel()) / 2, rel=1e-12)


def test_large_logits_give_inf_without_warnings():
    Z = np.array([[-1000.0, 0.0, 1000.0]])
    Y = np.array([[1.0, 1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = EXP.forward(Z)
        value = POISSON.value_from_logits(Z, Y)
    assert A[0, 0] == 0.0 and A[0, 1] == 1.0 and A[0, 2] == np.inf
    assert value == np.inf                       # not a number the network could train on


def test_float32_stays_float32(rng):
    P, Y = (a.astype(np.float32) for a in _counts(rng))
    assert POISSON.gradient(P, Y).dtype == np.float32
    assert POISSON.delta(P, Y).dtype == np.float32
    Z = rng.normal(size=(3, 4)).astype(np.float32)
    A = EXP.forward(Z)
    assert A.dtype == np.float32 and EXP.backward(Z, A, np.ones_like(Z)).dtype == np.float32


# --- exp: the activation's forms -----------------------------------------------------

def test_exp_derivative_matches_central_differences(rng):
    Z = rng.normal(size=(4, 5)) * 2
    dA = rng.normal(size=Z.shape)
    numeric = numeric_gradient(lambda z: np.sum(dA * EXP.forward(z)), Z)
    np.testing.assert_allclose(EXP.backward(Z, EXP.forward(Z), dA), numeric, rtol=1e-6,
                               atol=1e-8)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exp_in_place_and_scalar_forms_match_the_pair(dtype):
    tolerance = {"float64": 1e-12, "float32": 1e-5}[dtype]
    rng = np.random.default_rng(0)
    Z = (rng.standard_normal((4, 7)) * 4).astype(dtype)
    dA = rng.standard_normal(Z.shape).astype(dtype)
    A, D = np.empty_like(Z), dA.copy()
    work = Workspace(np.empty_like(Z), np.empty_like(Z), np.empty(Z.shape, bool),
                     np.empty((Z.shape[0], 1), Z.dtype))
    EXP.forward_into(Z, A, work)
    EXP.backward_into(Z, A, D, work)
    assert A.dtype == D.dtype == Z.dtype
    np.testing.assert_allclose(A, EXP.forward(Z), rtol=tolerance)
    np.testing.assert_allclose(D, EXP.backward(Z, A, dA), rtol=tolerance)
    cast = np.dtype(dtype).type
    # the scalar form is written but not given to the kernels (see numnet.activations.EXP)
    assert EXP.scalar is None
    a = np.array([activations._exp_scalar(z, cast) for z in Z.ravel()]).reshape(Z.shape)
    d = np.array([activations._exp_scalar_derivative(z, y, cast)
                  for z, y in zip(Z.ravel(), A.ravel(), strict=True)])
    np.testing.assert_allclose(a, A, rtol=tolerance)
    np.testing.assert_allclose(d.reshape(Z.shape) * dA, D, rtol=tolerance)


# --- in a network --------------------------------------------------------------------

def _network_and_counts():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    Y = rng.poisson(np.exp(0.5 * X[:, :2] - 0.2)).astype(float)
    return MLP(3, [4], 2, activation="tanh", output_activation=EXP, random_state=0), X, Y


def test_network_gradients_by_central_differences():
    net, X, Y = _network_and_counts()
    assert net.output_activation == "exp"
    report = gradcheck(net, X, Y, loss="poisson", l2=0.1)
    assert report, str(report)


@pytest.mark.parametrize("prefer", ["numpy", "buffered"])
def test_every_runner_trains_as_the_reference(prefer):
    reference, X, Y = _network_and_counts()
    twin = reference.copy()
    with preferred_runner("numpy"):
        expected = fit(reference, X, Y, loss="poisson", optimizer="adam", learning_rate=0.01,
                       epochs=3, batch_size=8, verbose=False, random_state=0)
    with preferred_runner(prefer):
        history = fit(twin, X, Y, loss="poisson", optimizer="adam", learning_rate=0.01,
                      epochs=3, batch_size=8, verbose=False, random_state=0)
    assert history.runner == {"numpy": "reference", "buffered": "buffered"}[prefer]
    np.testing.assert_allclose(history.loss, expected.loss, rtol=1e-10)
    np.testing.assert_allclose(twin.flat_parameters, reference.flat_parameters, rtol=1e-10,
                               atol=1e-13)
    assert expected.loss[-1] < expected.loss[0]
